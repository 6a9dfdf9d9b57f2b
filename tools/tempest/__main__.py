"""``python -m tools.tempest``: run pinned Tempest against Nubis and summarize it per service.

    python -m tools.tempest run                          # identity, image, compute, network (admin too)
    python -m tools.tempest run --service identity       # one or more (repeat --service)
    python -m tools.tempest run --filter 'tempest\\.api\\.image\\.v2\\.test_images'
    python -m tools.tempest run --interop 2020.06        # the interop guideline's required tests (CI runs these)
    python -m tools.tempest run --clouds-yaml clouds.yaml --cloud mycloud   # an existing cloud
    python -m tools.tempest run --openrc admin-openrc                       # likewise
    python -m tools.tempest summary                      # the last run's table again

Without a cloud given, it starts ``nubis all-in-one`` (fake driver, free loopback ports,
a fresh state dir under the work dir) and stops it afterwards. Exit status: 0 when no
test failed, 1 when some did, 2 when the run itself could not happen.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import subprocess
import sys
import threading
import time

import openstack

from tools.tempest import cloud, conf, discover, interop, prepare, results, venv

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DEFAULT_SERVICES = ("identity", "image", "compute", "network")


def _selection(args: argparse.Namespace) -> str:
    if args.filter:
        return str(args.filter)
    if args.interop:
        return interop.regex(args.interop)
    chosen = args.service or list(DEFAULT_SERVICES)
    return r"^tempest\.api\.(" + "|".join(chosen) + r")\."


def _credentials(args: argparse.Namespace, work: str) -> tuple[cloud.Credentials, cloud.AllInOne | None]:
    if args.clouds_yaml:
        return cloud.from_clouds_yaml(args.clouds_yaml, args.cloud), None
    if args.openrc:
        return cloud.from_openrc(args.openrc), None
    state = os.path.join(work, "cloud")
    shutil.rmtree(state, ignore_errors=True)  # a fresh cloud for every run
    aio = cloud.AllInOne(state)
    started = time.monotonic()
    creds = aio.start()
    print(f"all-in-one up in {time.monotonic() - started:.0f}s at {creds.auth_url} (state: {state})", flush=True)
    return creds, aio


def _heartbeat(venv_dir: str, stream: str, stop: threading.Event) -> None:
    """Every minute: how many tests have ended so far, and how many failed."""
    began = time.monotonic()
    while not stop.wait(60):
        try:
            ended = results.load(venv_dir, stream)
        except RuntimeError:
            ended = []
        failed = sum(o.status in results.FAILED for o in ended)
        print(f"  {time.monotonic() - began:.0f}s: {len(ended)} tests ended, {failed} failed", flush=True)


def run(args: argparse.Namespace) -> int:
    work = os.path.abspath(args.workdir)
    workspace = os.path.join(work, "workspace")
    os.makedirs(os.path.join(workspace, "etc"), exist_ok=True)
    # stestr keeps every run; only this run's stream is read, so the old ones are dropped.
    shutil.rmtree(os.path.join(workspace, ".stestr"), ignore_errors=True)
    tempest = venv.ensure(args.venv)
    creds, aio = _credentials(args, work)
    try:
        conn = openstack.connect(load_yaml_config=False, load_envvars=False, **creds.sdk_args())
        prepared = prepare.prepare(conn)
        settings = discover.discover(conn, prepared, security_compliance=True if aio or args.security_compliance else None,
                                     dashboard_url=args.dashboard_url, validation=args.validation)
        config_file = os.path.join(workspace, "etc", "tempest.conf")
        with open(config_file, "w") as f:
            f.write(conf.render(creds, settings, os.path.join(work, "tempest.log")))
        off = [s for s in settings if s.value == "false"]
        print(f"tempest.conf: {config_file}; flags set false ({len(off)}):", flush=True)
        for s in off:
            print(f"  [{s.group}] {s.option}: {s.why}", flush=True)
        regex = _selection(args)
        print(f"running tempest {venv.TEMPEST_VERSION}: --regex '{regex}' --concurrency {args.concurrency}",
              flush=True)
        stream = os.path.join(work, "results.subunit")
        stop = threading.Event()
        threading.Thread(target=_heartbeat, args=(args.venv, stream, stop), daemon=True).start()
        began = time.monotonic()
        # The subunit stream is written as tests end, so even an interrupted run leaves its results.
        with open(stream, "wb") as out, open(os.path.join(work, "tempest-run.log"), "w") as err:
            try:
                code = subprocess.run([tempest, "run", "--subunit", "--config-file", config_file, "--regex", regex,
                                       "--concurrency", str(args.concurrency)],
                                      cwd=workspace, stdout=out, stderr=err, check=False).returncode
            except KeyboardInterrupt:  # Ctrl-C reached tempest too; report what ended before it
                code = None
                print("interrupted: reporting the tests that ended", flush=True)
        stop.set()
        duration = time.monotonic() - began
    finally:
        if aio is not None:
            aio.stop()
    return _report(args, work, workspace, regex, duration, code, settings)


def _report(args: argparse.Namespace, work: str, workspace: str, regex: str, duration: float | None,
            code: int | None, settings: list[discover.Setting] | None) -> int:
    try:
        outcomes = results.load(args.venv, os.path.join(work, "results.subunit"))
        selected = results.listed(args.venv, workspace, regex)
    except RuntimeError as exc:
        print(f"no results to read: {exc} (tempest's output: {work}/tempest-run.log)", file=sys.stderr)
        return 2
    table = results.summarize(outcomes, selected)
    print(results.render(table, outcomes), flush=True)
    if duration is not None:
        print(f"tempest ran {duration:.0f}s (exit {code}); results: {work}/results.subunit, "
              f"log: {work}/tempest.log", flush=True)
    summary = {
        "tempest": venv.TEMPEST_VERSION,
        "selection": regex,
        "concurrency": args.concurrency,
        "duration_s": round(duration, 1) if duration is not None else None,
        "services": table,
        "failures": [{"id": o.test_id, "service": o.service, "last_line": o.last_line}
                     for o in outcomes if o.status in results.FAILED],
        "skip_reasons": results.skip_reasons(outcomes),
        "flags_false": [dataclasses.asdict(s) for s in settings or [] if s.value == "false"],
    }
    path = args.json or os.path.join(work, "summary.json")
    with open(path, "w") as f:
        json.dump(summary, f, indent=2)
    print(f"summary: {path}", flush=True)
    failed = sum(row["failed"] for row in table.values())
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.tempest", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workdir", default=os.path.join(ROOT, ".tempest"),
                        help="Workspace, logs, summary, the all-in-one's state (default: .tempest).")
    parser.add_argument("--venv", default=os.path.join(ROOT, ".tempest-venv"), help="Tempest's own venv.")
    parser.add_argument("--json", help="Where to write the JSON summary (default: <workdir>/summary.json).")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="Prepare the cloud, write tempest.conf, run, summarize.")
    r.add_argument("--service", action="append", choices=["identity", "image", "compute", "network", "volume",
                                                            "object_storage"],
                   help=f"Run tempest.api.<service> (repeatable; default: {', '.join(DEFAULT_SERVICES)}).")
    r.add_argument("--filter", help="A tempest --regex of its own instead of --service.")
    r.add_argument("--interop", choices=interop.available(),
                   help="Only the tests an OpenStack interop guideline requires (OpenStack Powered Compute).")
    r.add_argument("--concurrency", type=int, default=2)
    r.add_argument("--clouds-yaml", help="An existing cloud: its clouds.yaml (admin credentials) ...")
    r.add_argument("--cloud", default="nubis", help="... and the cloud's name in it.")
    r.add_argument("--openrc", help="An existing cloud: an admin openrc (export OS_...=... lines).")
    r.add_argument("--security-compliance", action="store_true",
                   help="The existing cloud's [security_compliance] matches tempest's [identity] user_lockout_*.")
    r.add_argument("--dashboard-url", help="The cloud's Horizon, if it has one.")
    r.add_argument("--validation", action="store_true", help="Guests are reachable over SSH (real hypervisor).")
    sub.add_parser("summary", help="Print the last run's table again (and rewrite the JSON summary).")
    args = parser.parse_args(argv)
    args.venv = os.path.abspath(args.venv)  # tempest and stestr run from inside the workspace
    if args.command == "summary":
        work = os.path.abspath(args.workdir)
        with open(args.json or os.path.join(work, "summary.json")) as f:
            last = json.load(f)
        args.concurrency = last["concurrency"]
        return _report(args, work, os.path.join(work, "workspace"), last["selection"], last["duration_s"], None, None)
    try:
        return run(args)
    except (RuntimeError, OSError, KeyError, openstack.exceptions.SDKException) as exc:
        print(f"tempest run could not happen: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
