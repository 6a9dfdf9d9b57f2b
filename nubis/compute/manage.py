"""``nubis-manage`` commands of the compute service: ``host evacuate-plan``."""

from __future__ import annotations

import argparse
import json
from typing import Any

from nubis.common import context
from nubis.common.runtime import Runtime


def add_commands(sub: Any) -> None:
    host = sub.add_parser("host", help="Compute hosts.").add_subparsers(dest="host_command", required=True)
    evacuate = host.add_parser("evacuate-plan", help="Where each instance on HOST would go if HOST were evacuated "
                               "(a dry run through the scheduler: nothing is claimed or moved).")
    evacuate.add_argument("host", help="The compute host's name, as os-services shows it.")
    evacuate.add_argument("--format", choices=["table", "json"], default="table")
    evacuate.set_defaults(func=evacuate_plan)


def evacuate_plan(runtime: Runtime, args: argparse.Namespace) -> int:
    """Print the plan; exit status 1 when the host is unknown, 2 when some instance has nowhere to go."""
    from nubis.compute.core import evacuate_plan as plan_mod
    from nubis.scheduler.rpcapi import SchedulerAPI

    scheduler = SchedulerAPI(runtime.messaging, runtime.conf.compute.rpc_timeout)
    try:
        moves = plan_mod.plan(context.admin_context(), runtime.database("compute"), scheduler, args.host)
    except LookupError as exc:
        print(exc)
        return 1
    if args.format == "json":
        print(json.dumps({"host": args.host, "instances": [m.to_dict() for m in moves]}, indent=2))
    else:
        print(f"Evacuation plan for {args.host}: {len(moves)} instance(s)")
        for m in moves:
            print(f"{m.instance_uuid}  {m.name:20}  {m.vcpus} vCPU {m.memory_mb} MiB {m.disk_gb} GiB  -> "
                  f"{m.destination or 'NOWHERE'}  ({m.reason})")
    return 2 if any(m.destination is None for m in moves) else 0
