"""Every option Nubis registers, for oslo-config-generator (entry point ``oslo.config.opts``).

The libraries' own options (oslo.log, oslo.messaging, ...) come from their namespaces
(etc/nubis/nubis-config-generator.conf)."""

from __future__ import annotations

from oslo_config import cfg

from nubis import services
from nubis.api import deploy
from nubis.common import clients, config, rpc
from nubis.monitoring import conf as monitoring_conf


def list_opts() -> list[tuple[str, list[cfg.Opt]]]:
    groups: dict[str, list[cfg.Opt]] = {}
    sources = [config.list_opts(), rpc.list_opts(), deploy.list_opts(), clients.list_opts(),
               monitoring_conf.list_opts()]
    for svc in services.load_all():
        sources.append(svc.list_opts())
    for source in sources:
        for group, opts in source:
            bucket = groups.setdefault(group, [])
            bucket.extend(o for o in opts if o not in bucket)
    return sorted(groups.items(), key=lambda item: (item[0] != "DEFAULT", item[0]))
