"""``nubis-manage usage ...``: usage and cost for an external invoicing system, and an audit on demand."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from typing import Any

from nubis.common import exceptions
from nubis.common.runtime import Runtime

CSV_FIELDS = ["period_start", "period_end", "project_id", "meter", "flavor", "unit", "quantity", "price", "cost",
              "currency"]


def add_commands(sub: Any) -> None:
    usage = sub.add_parser("usage", help="Metered usage and its cost.").add_subparsers(dest="usage_command",
                                                                                       required=True)
    export = usage.add_parser("export", help="Every project's usage and cost over a period (CSV or JSON).")
    export.add_argument("--period", help="A calendar month, YYYY-MM (UTC).")
    export.add_argument("--start", help="Start, ISO 8601 UTC on the hour (instead of --period).")
    export.add_argument("--end", help="End, ISO 8601 UTC on the hour (instead of --period).")
    export.add_argument("--project", help="Only this project.")
    export.add_argument("--format", choices=["csv", "json"], default="csv")
    export.add_argument("--output", help="Write here instead of standard output.")
    export.set_defaults(func=_export)
    audit = usage.add_parser("audit", help="Compare the ledger with the services now and correct it.")
    audit.set_defaults(func=_audit)


def _core(runtime: Runtime) -> Any:
    from nubis.metering import service

    return service.build_core(runtime)


def write_export(reports: list[dict[str, Any]], fmt: str, out: Any) -> None:
    """``reports`` (``Billing.report``) as one CSV row per usage line (a project's total is the sum of its rows'
    costs), or as the JSON document ``{"usages": reports}``."""
    if fmt == "json":
        json.dump({"usages": reports}, out, indent=2)
        out.write("\n")
        return
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for report in reports:
        for line in report["lines"]:
            writer.writerow({"period_start": report["start"], "period_end": report["end"],
                             "project_id": report["project_id"], "meter": line["meter"],
                             "flavor": line["flavor"] or "", "unit": line["unit"], "quantity": line["quantity"],
                             "price": line["price"], "cost": line["cost"], "currency": report["currency"]})


def _export(runtime: Runtime, args: argparse.Namespace) -> int:
    core = _core(runtime)
    try:
        period = core.period(args.period, args.start, args.end)
    except exceptions.BadRequest as exc:
        print(f"usage export: {exc}", file=sys.stderr)
        return 2
    reports = core.usage(period, args.project)
    if args.output:
        with open(args.output, "w", newline="") as f:
            write_export(reports, args.format, f)
    else:
        write_export(reports, args.format, sys.stdout)
    return 0


def _audit(runtime: Runtime, args: argparse.Namespace) -> int:
    result = _core(runtime).audit()
    print(f"opened {result.opened}, changed {result.changed}, closed {result.closed}")
    return 0
