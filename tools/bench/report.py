"""Run every benchmark and write one report: ``benchmarks/results.json``, ``BENCHMARKS.md`` and plots.

    python -m tools.bench.report [--only identity,network] [--out .]

Each benchmark runs as ``python -m tools.bench.<name>`` would, with the
arguments below (shorter runs than their defaults where the figure allows);
what they record (``tools.bench.figures``) becomes the JSON and the tables.
A benchmark that cannot run here (no root for libvirt, no wrk) is listed
with the reason instead of a figure. Latency against concurrency is drawn
as PNGs next to the report when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import datetime
import importlib
import json
import os
import platform
import shutil
import subprocess
import time
import traceback
from collections.abc import Sequence
from typing import Any

from tools.bench import figures

MARIADB = "mysql+pymysql://root@127.0.0.1"
# name -> (arguments, what it needs)
RUNS: dict[str, tuple[list[str], str]] = {
    "all_in_one": (["--runs", "3"], ""),
    "identity": (["--duration", "5"], "wrk"),
    "image": (["--size-mib", "512"], ""),
    "placement": (["--providers", "1000,10000", "--db", MARIADB, "--requests", "20"], ""),
    "scheduler": (["--hosts", "1000", "--boots", "30"], ""),
    "compute": (["--boots", "20", "--concurrent", "50", "--cycles-seconds", "15"], ""),
    "network": (["--db", MARIADB, "--seconds", "10"], ""),
    "libvirt_boot": (["--boots", "3", "--concurrent", "5"], "root"),
    "exporter": (["--instances", "1000", "--hosts", "16", "--projects", "20", "--scrapes", "5"], ""),
    "metering": (["--events", "2000", "--db", MARIADB], ""),
    "consoles": (["--tries", "5", "--open", "20"], ""),
    "volume": (["--image-mib", "1024", "--attaches", "10", "--io-mib", "512"], "qemu"),
    # A running NUBIS_HA=1 devstack, named by $NUBIS_STATE (doc/ha.md).
    "ha": (["--servers", "30"], "ha"),
}


def machine() -> dict[str, Any]:
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")),
               platform.processor())
    mem_kib = next(int(line.split()[1]) for line in open("/proc/meminfo") if line.startswith("MemTotal"))
    release = dict(line.strip().split("=", 1) for line in open("/etc/os-release") if "=" in line)
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gib": round(mem_kib / 1024 / 1024, 1),
            "kernel": platform.release(), "os": release.get("PRETTY_NAME", "").strip('"'),
            "python": platform.python_version()}


def _missing(need: str) -> str | None:
    if need == "wrk" and shutil.which("wrk") is None:
        return "wrk is not installed (apt-get install wrk)"
    if need == "root" and os.geteuid() != 0:
        return "needs root, libvirt and qemu"
    if need == "qemu" and not (shutil.which("qemu-img") and shutil.which("qemu-storage-daemon")):
        return "qemu-img and qemu-storage-daemon are not installed (apt-get install qemu-utils qemu-system-common)"
    if need == "ha" and not os.path.exists(os.path.join(os.environ.get("NUBIS_STATE", ""), "topology.json")):
        return "needs a running HA devstack: NUBIS_STATE=<its state dir> (sudo NUBIS_HA=1 devstack/stack.sh)"
    return None


def run_all(names: Sequence[str]) -> tuple[list[dict[str, Any]], dict[str, str]]:
    skipped: dict[str, str] = {}
    for name in names:
        args, need = RUNS[name]
        reason = _missing(need)
        if reason:
            skipped[name] = reason
            continue
        print(f"== {name} {' '.join(args)}", flush=True)
        started = time.monotonic()
        try:
            importlib.import_module(f"tools.bench.{name}").main(list(args))
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - one failing benchmark must not lose the rest
            traceback.print_exc()
            skipped[name] = f"failed: {exc}"
        print(f"== {name} took {time.monotonic() - started:.0f}s", flush=True)
    return [vars(f) for f in figures.RECORDED], skipped


def _conditions(c: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in c.items())


def markdown(results: dict[str, Any], plots: Sequence[str]) -> str:
    m = results["machine"]
    lines = ["# Benchmarks", "",
             f"Measured {results['date']} on {m['cpu']} ({m['cores']} cores, {m['memory_gib']} GiB), "
             f"{m['os']}, kernel {m['kernel']}, Python {m['python']}. The load generators share the same cores. "
             "Regenerate with `python -m tools.bench.report`; the numbers are in `benchmarks/results.json`.", ""]
    if results.get("kept_from"):
        kept = results["kept_from"]
        lines += [f"This run measured {', '.join(results['run_now'])}; the other figures are from "
                  f"{kept['date']} (commit {kept['commit']}), kept by `--merge`.", ""]
    by_bench: dict[str, list[dict[str, Any]]] = {}
    for f in results["figures"]:
        by_bench.setdefault(f["bench"], []).append(f)
    for bench, rows in by_bench.items():
        lines += [f"## {bench}", "", "| figure | value | conditions |", "|---|---|---|"]
        lines += [f"| {r['name']} | {r['value']:g} {r['unit']} | {_conditions(r['conditions'])} |" for r in rows]
        lines.append("")
    if results["skipped"]:
        lines += ["## Not measured in this run", ""]
        lines += [f"- {name}: {why}" for name, why in results["skipped"].items()]
        lines.append("")
    lines += [f"![{os.path.basename(p)}]({p})" for p in plots]
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], out: str) -> list[str]:
    """Token validate/issue throughput and latency against concurrency, if matplotlib is here."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return []
    made = []
    for metric, unit in (("rps", "req/s"), ("p50", "ms")):
        series = {}
        for kind in ("validate", "issue"):
            points = sorted((f["conditions"]["concurrency"], f["value"]) for f in results["figures"]
                            if f["bench"] == "identity" and f["name"] == f"token {kind} {metric}")
            if points:
                series[kind] = points
        if not series:
            continue
        fig, ax = plt.subplots(figsize=(5, 3.2))
        for kind, points in series.items():
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", label=f"token {kind}")
        ax.set_xscale("log")
        ax.set_xlabel("concurrency")
        ax.set_ylabel(unit)
        ax.set_title(f"identity: {metric} against concurrency")
        ax.legend()
        fig.tight_layout()
        path = os.path.join("benchmarks", f"identity-{metric}.png")
        fig.savefig(os.path.join(out, path), dpi=100)
        plt.close(fig)
        made.append(path)
    return made


def _peers_section(out: str) -> tuple[Any, str]:
    """The side-by-side results (JSON, Markdown block) a previous ``tools.bench.peers`` run wrote, if any."""
    from tools.bench.peers import MARK_END, MARK_START

    peers_json: Any = None
    try:
        with open(os.path.join(out, "benchmarks", "results.json")) as f:
            peers_json = json.load(f).get("peers")
        with open(os.path.join(out, "BENCHMARKS.md")) as f:
            text = f.read()
    except (OSError, ValueError):
        return peers_json, ""
    if MARK_START not in text or MARK_END not in text:
        return peers_json, ""
    return peers_json, text[text.index(MARK_START):text.index(MARK_END) + len(MARK_END)]


def _merged(out: str, names: Sequence[str], found: list[dict[str, Any]],
            skipped: dict[str, str]) -> tuple[list[dict[str, Any]], dict[str, str], dict[str, Any]]:
    """The previous ``results.json``'s figures and reasons for the benchmarks not run now (in their order), then
    this run's; and where the kept ones come from (``{"date", "commit"}``, empty without a previous report)."""
    try:
        with open(os.path.join(out, "benchmarks", "results.json")) as f:
            previous = json.load(f)
    except (OSError, ValueError):
        return found, skipped, {}
    rerun = set(names) | {f["bench"] for f in found}
    kept = [f for f in previous.get("figures", []) if f["bench"] not in rerun]
    reasons = {k: v for k, v in previous.get("skipped", {}).items() if k not in rerun and k in RUNS}
    # A report merged before keeps naming the run its oldest figures come from, and what was run since.
    source = previous.get("kept_from") or {"date": previous.get("date"), "commit": previous.get("commit")}
    since = [n for n in previous.get("run_now", []) if n not in names] if previous.get("kept_from") else []
    return kept + found, {**reasons, **skipped}, {**source, "run_since": since}


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--only", default=",".join(RUNS), help="comma-separated benchmark names")
    parser.add_argument("--out", default=".", help="where BENCHMARKS.md and benchmarks/ go")
    parser.add_argument("--merge", action="store_true",
                        help="keep the previous report's figures of the benchmarks not run now")
    args = parser.parse_args(argv)
    names = [n for n in args.only.split(",") if n]
    unknown = set(names) - set(RUNS)
    if unknown:
        raise SystemExit(f"unknown benchmarks {sorted(unknown)}; known: {', '.join(RUNS)}")
    found, skipped = run_all(names)
    kept_from: dict[str, Any] = {}
    if args.merge:
        found, skipped, kept_from = _merged(args.out, names, found, skipped)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    results = {"date": datetime.date.today().isoformat(), "commit": commit, "machine": machine(),
               "figures": found, "skipped": skipped}
    if kept_from:
        since = kept_from.pop("run_since")
        results.update(kept_from=kept_from, run_now=[*since, *names])
    os.makedirs(os.path.join(args.out, "benchmarks"), exist_ok=True)
    peers_json, peers_md = _peers_section(args.out)  # tools.bench.peers' side-by-side section is kept
    if peers_json is not None:
        results["peers"] = peers_json
    with open(os.path.join(args.out, "benchmarks", "results.json"), "w") as f:
        json.dump(results, f, indent=2)
    plots = plot(results, args.out)
    if args.merge and not plots:  # no matplotlib here: the plots drawn before still stand
        plots = [p for p in ("benchmarks/identity-rps.png", "benchmarks/identity-p50.png")
                 if os.path.exists(os.path.join(args.out, p))]
    with open(os.path.join(args.out, "BENCHMARKS.md"), "w") as f:
        f.write(markdown(results, plots) + (f"\n{peers_md}\n" if peers_md else ""))
    print(f"wrote {os.path.join(args.out, 'BENCHMARKS.md')} ({len(found)} figures, {len(skipped)} not measured)")


if __name__ == "__main__":
    import sys

    main(sys.argv[1:])
