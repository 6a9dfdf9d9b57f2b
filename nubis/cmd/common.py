"""Start-up steps every Nubis command shares."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from oslo_config import cfg

from nubis import services
from nubis.api import deploy
from nubis.common import cache, clients, config, log, rpc
from nubis.common.db import migration, phases
from nubis.common.runtime import Runtime

LOG = logging.getLogger(__name__)


def listen_group(service: services.ServiceDefinition) -> str:
    return service.name.replace("-", "_")


def listen_opts(service: services.ServiceDefinition) -> list[cfg.Opt]:
    return [
        cfg.HostAddressOpt("bind_host", default="0.0.0.0", help=f"Address the {service.name} API listens on."),
        cfg.PortOpt("bind_port", default=service.port, help=f"Port of the {service.name} API."),
        cfg.IntOpt("workers", default=1, min=1, help="Worker processes serving the API."),
        cfg.IntOpt("threads", default=16, min=1, help="Threads per worker process."),
        cfg.URIOpt("public_endpoint", schemes=["http", "https"],
                   help=f"URL clients reach the {service.name} API at (as in the catalog, without the version "
                   "path: scheme://host:port[/prefix]). Links and Location headers name it, never the "
                   "request's Host header. Default: http://<bind_host, or this machine's name>:<bind_port>; "
                   "the all-in-one uses the URL it registers in the catalog."),
    ]


def build_conf(service_list: Sequence[services.ServiceDefinition]) -> cfg.ConfigOpts:
    """A ConfigOpts with everything these services and the common layers register."""
    conf = config.new_conf()
    log.register_opts(conf)
    rpc.register_opts(conf)
    deploy.register_opts(conf)
    cache.register_opts(conf)
    clients.register_opts(conf)
    for service in service_list:
        service.register(conf)
        if service.build_api is not None:
            conf.register_opts(listen_opts(service), group=listen_group(service))
    return conf


def check_schema(runtime: Runtime, service: services.ServiceDefinition) -> None:
    """Refuse to serve on a database whose schema is not at this code's head."""
    if service.migration_repo is None:
        return
    repo = service.migration_repo()
    db = runtime.database(repo.service)
    db.wait_until_reachable(runtime.conf.database.max_retries, runtime.conf.database.retry_interval)
    state, todo = phases.schema_state(db, repo)
    if not phases.can_serve(state):
        have = migration.current(db, repo)
        raise SystemExit(
            f"The {repo.service} database ({db.safe_url}) is at {sorted(have) or 'no revision'} but this "
            f"code needs {[r.revision for r in todo if r.phase != phases.CONTRACT][-1]}: run "
            f"'nubis-manage db expand {repo.service}' (or 'db sync' on a new deployment)."
        )
    if state == phases.NEWER:
        # A later release expanded the schema while this one still runs (a rolling upgrade).
        LOG.warning("The %s database is at %s, newer than this code knows: serving on it (expand/contract)",
                    repo.service, sorted(migration.current(db, repo)))
