"""Running one service as its own process: ``nubis-identity --config-file ...``."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from nubis import services
from nubis.api import endpoint, server
from nubis.cmd import common, private_state
from nubis.common.runtime import Runtime

LOG = logging.getLogger(__name__)


def run(name: str, argv: Sequence[str] | None = None) -> int:
    service = services.load(name)
    conf = common.build_conf([service])
    from nubis.common import config, log

    config.parse_args(conf, sys.argv[1:] if argv is None else argv)
    private_state.protect(conf)
    log.setup(conf)

    def start() -> list[services.Stoppable]:
        # Built in each worker, after the fork: DB pools and broker connections
        # must belong to the process that uses them.
        runtime = Runtime(conf)
        common.check_schema(runtime, service)
        running: list[services.Stoppable] = []
        if service.start is not None:
            running.extend(service.start(runtime))
        if service.build_api is not None:
            opts = conf[common.listen_group(service)]
            http = server.HttpServer(
                service.name, opts.bind_host, opts.bind_port, service.build_api(runtime),
                threads=opts.threads, reuse_port=opts.workers > 1, limits=server.ClientLimits.from_conf(conf),
                public_endpoint=opts.public_endpoint or endpoint.default_endpoint(opts.bind_host, opts.bind_port),
            )
            http.start()
            running.append(http)
        return running

    workers = conf[common.listen_group(service)].workers if service.build_api is not None else 1
    return server.run_workers(start, workers, lambda: float(conf.graceful_shutdown_timeout))


def _main(name: str) -> None:
    sys.exit(run(name))


def identity() -> None:
    _main("identity")


def image() -> None:
    _main("image")


def placement() -> None:
    _main("placement")


def scheduler() -> None:
    _main("scheduler")


def compute_api() -> None:
    _main("compute-api")


def conductor() -> None:
    _main("conductor")


def compute() -> None:
    _main("compute")


def network() -> None:
    _main("network")


def network_agent() -> None:
    _main("network-agent")


def metadata() -> None:
    _main("metadata")


def metering() -> None:
    _main("metering")


def novncproxy() -> None:
    _main("novncproxy")


def spicehtml5proxy() -> None:
    _main("spicehtml5proxy")


def serialproxy() -> None:
    _main("serialproxy")


def volume() -> None:
    _main("volume")


def volume_manager() -> None:
    _main("volume-manager")
