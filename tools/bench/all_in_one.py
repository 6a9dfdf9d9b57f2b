"""All-in-one cold start (fresh state dir → every /healthcheck 200) and idle RSS.

    python -m tools.bench.all_in_one [--runs N] [--virt fake]
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time

import requests

from nubis import services
from tools import ports
from tools.bench import figures

NUBIS = os.path.join(os.path.dirname(sys.executable), "nubis")


def _rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def cold_start(virt: str) -> tuple[float, float]:
    """Seconds from exec to all healthchecks answering 200, and RSS (MiB) after 5 s idle."""
    offset = ports.free_service_offset()
    apis = [s for s in map(services.load, services.available()) if s.port and s.build_api]
    with tempfile.TemporaryDirectory() as state:
        started = time.monotonic()
        proc = subprocess.Popen(
            [NUBIS, "all-in-one", "--state-dir", state, "--virt", virt, "--port-offset", str(offset)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        try:
            pending = {s.name: f"http://127.0.0.1:{s.port + offset}/healthcheck" for s in apis}
            while pending:
                if proc.poll() is not None:
                    raise RuntimeError(f"all-in-one exited with {proc.returncode}")
                for name, url in list(pending.items()):
                    try:
                        if requests.get(url, timeout=1).status_code == 200:
                            del pending[name]
                    except requests.RequestException:
                        pass
                time.sleep(0.02)
            elapsed = time.monotonic() - started
            time.sleep(5)
            rss = _rss_mib(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=60)
    return elapsed, rss


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--virt", default="fake")
    args = parser.parse_args(argv)
    results = [cold_start(args.virt) for _ in range(args.runs)]
    starts = [r[0] for r in results]
    rss = [r[1] for r in results]
    print(f"services: {', '.join(services.available())}")
    print(f"cold start to healthy: median {statistics.median(starts):.2f}s "
          f"(min {min(starts):.2f}s, max {max(starts):.2f}s, {args.runs} runs, fresh state dir each)")
    print(f"idle RSS after start: median {statistics.median(rss):.0f} MiB")
    figures.record("all-in-one", "cold start to healthy", statistics.median(starts), "s", runs=args.runs,
                   services=len(services.available()))
    figures.record("all-in-one", "idle RSS", statistics.median(rss), "MiB", runs=args.runs)


if __name__ == "__main__":
    main(sys.argv[1:])
