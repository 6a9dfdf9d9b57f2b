"""``nubis``: the umbrella command (``nubis all-in-one``, ``nubis version``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from nubis import version


def default_state_dir() -> str:
    return "/var/lib/nubis" if os.geteuid() == 0 else os.path.expanduser("~/.nubis")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="nubis", description="Nubis private cloud.")
    sub = parser.add_subparsers(dest="command", required=True)
    aio = sub.add_parser("all-in-one", help="Run every service in one process on embedded defaults.")
    aio.add_argument("--state-dir", default=default_state_dir(), help="Where state, logs and credentials live.")
    aio.add_argument("--virt", choices=["fake", "libvirt"], default="fake", help="Hypervisor driver.")
    aio.add_argument("--bind", default="127.0.0.1", help="Address the APIs listen on and advertise.")
    aio.add_argument("--port-offset", type=int, default=0,
                     help="Add this to every default port (run a second cloud beside the first).")
    sub.add_parser("version", help="Print the version.")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "version":
        print(version.VERSION)
        return 0
    from nubis import services
    from nubis.cmd import all_in_one

    ports = {}
    if args.port_offset:
        for name in services.available():
            port = services.load(name).port
            if port is not None:
                ports[name] = port + args.port_offset
    return all_in_one.run(all_in_one.Options(state_dir=args.state_dir, virt=args.virt, host=args.bind, ports=ports))


if __name__ == "__main__":
    sys.exit(main())
