"""``nubis-manage quota capacity-report``: the projects' quotas against the cloud's capacity."""

from __future__ import annotations

import argparse
import json
from typing import Any

from nubis.common.runtime import Runtime
from nubis.monitoring import capacity
from nubis.monitoring import conf as monitoring_conf
from nubis.monitoring.reader import CloudReader


def add_commands(sub: Any) -> None:
    quota = sub.add_parser("quota", help="Quotas.").add_subparsers(dest="quota_command", required=True)
    report = quota.add_parser("capacity-report", help="Sum of the projects' quotas against the cloud's capacity "
                              "per resource; warns (exit status 3) where the quotas exceed it.")
    report.add_argument("--format", choices=["table", "json"], default="table")
    report.set_defaults(func=capacity_report)


def capacity_report(runtime: Runtime, args: argparse.Namespace) -> int:
    """Read the cloud through its APIs (``[service_credentials]``) and print the report.

    Exit status: 0 when every quota sum is within ``[capacity] quota_capacity_ratio`` of capacity, 3 when some
    resource breaks it, 1 when the compute, identity or placement API could not be read.
    """
    conf = runtime.conf
    if "capacity" not in conf:
        monitoring_conf.register_opts(conf)
    snap = CloudReader(conf).read()
    missing = [name for name in ("nova", "identity", "placement") if not snap.up.get(name)]
    if missing or "quotas" in snap.errors:
        failed = [*missing, *(["quotas"] if "quotas" in snap.errors else [])]
        print("Cannot make the report: " + "; ".join(f"{k}: {snap.errors.get(k, 'not configured')}"
                                                      for k in failed))
        return 1
    lines = capacity.report(snap, conf.capacity.quota_capacity_ratio)
    if args.format == "json":
        print(json.dumps({"projects": len(snap.quotas), "resources": [ln.to_dict() for ln in lines]}, indent=2))
    else:
        print(f"Quotas of {len(snap.quotas)} project(s) against capacity:")
        print(capacity.render_table(lines))
    return 3 if any(ln.warning for ln in lines) else 0
