"""Building the ConfigOpts object every process passes around.

Nothing in Nubis reads configuration at import time: a process builds one
``ConfigOpts`` here, registers the options of the pieces it runs, and hands
the object down explicitly (placement's style, which keeps services
embeddable in one all-in-one process and in tests).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Iterable, Sequence

from oslo_config import cfg

from nubis import version

DEFAULT_OPTS = [
    cfg.StrOpt(
        "host",
        default=socket.gethostname(),
        sample_default="<hostname>",
        help="Name of this host as other services and the RPC topics see it.",
    ),
    cfg.StrOpt(
        "state_path",
        default=os.path.expanduser("~/.nubis"),
        sample_default="~/.nubis",
        help="Directory for local state: SQLite files, image store, keys, logs.",
    ),
    cfg.IntOpt(
        "graceful_shutdown_timeout",
        default=60,
        min=0,
        help="Seconds a process may take, after SIGTERM/SIGINT, to finish or set aside its work "
        "(new work is refused meanwhile) before it exits anyway (0: wait for as long as it takes). "
        "Work set aside is taken up again at the next start.",
    ),
    cfg.StrOpt(
        "region_name",
        default="RegionOne",
        help="Region this deployment's regional services belong to.",
    ),
]

DATABASE_OPTS = [
    cfg.StrOpt(
        "connection",
        default="sqlite:///{state_path}/{service}.sqlite",
        secret=True,
        help="SQLAlchemy URL template for every service database. '{service}' is "
        "replaced by the service name (identity, image, placement, compute, network) "
        "and '{state_path}' by [DEFAULT] state_path, so one line serves all "
        "services, e.g. mysql+pymysql://nubis:secret@db/nubis_{service}.",
    ),
    cfg.DictOpt(
        "service_connections",
        default={},
        secret=True,
        help="Per-service URL overrides, e.g. identity:postgresql://...",
    ),
    cfg.IntOpt(
        "max_retries",
        default=10,
        min=-1,
        help="How often to retry connecting at start (-1: forever) before giving up.",
    ),
    cfg.IntOpt(
        "retry_interval",
        default=2,
        min=1,
        help="Initial seconds between connection attempts at start (doubles, max 30).",
    ),
    cfg.IntOpt("max_pool_size", default=10, help="Connections kept per process."),
    cfg.IntOpt("max_overflow", default=20, help="Connections allowed past the pool."),
    cfg.IntOpt(
        "deadlock_retries",
        default=5,
        min=0,
        help="How often a write transaction that hit a deadlock or lock wait is retried.",
    ),
]


def register_common(conf: cfg.ConfigOpts) -> None:
    """Register the options every Nubis process understands."""
    conf.register_opts(DEFAULT_OPTS)
    conf.register_opts(DATABASE_OPTS, group="database")


def new_conf() -> cfg.ConfigOpts:
    """A fresh ConfigOpts with the common options registered."""
    conf = cfg.ConfigOpts()
    register_common(conf)
    return conf


def parse_args(
    conf: cfg.ConfigOpts,
    argv: Sequence[str],
    default_config_files: Iterable[str] | None = None,
) -> cfg.ConfigOpts:
    """Parse the command line and any config files into ``conf``.

    With no ``--config-file`` the defaults alone must give a working process,
    so missing files are not an error.
    """
    if default_config_files is None:
        default_config_files = [
            p for p in ("/etc/nubis/nubis.conf",) if os.path.exists(p)
        ]
    conf(
        list(argv),
        project="nubis",
        version=version.VERSION,
        default_config_files=list(default_config_files),
    )
    return conf


def database_url(conf: cfg.ConfigOpts, service: str) -> str:
    """The SQLAlchemy URL for one service's database."""
    override = conf.database.service_connections.get(service)
    template: str = override or conf.database.connection
    return template.format(service=service, state_path=conf.state_path)


def sqlite_file(url: str) -> str | None:
    """The file a ``sqlite:///PATH`` URL names; None for any other database."""
    prefix = "sqlite:///"
    return url[len(prefix):] if url.startswith(prefix) else None


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    return [("DEFAULT", DEFAULT_OPTS), ("database", DATABASE_OPTS)]
