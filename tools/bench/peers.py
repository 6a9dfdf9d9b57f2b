"""Nubis against the reference services from PyPI, side by side: ratios, not absolute figures.

    python -m tools.bench peers            (or python -m tools.bench.peers [--rounds 3] [--only placement,image])

Keystone, Placement and Glance (versions pinned in ``tools/bench/peers-constraints.txt``) are
installed into their own venvs under ``.bench-peers/`` (gitignored), each started standalone on
SQLite, loopback only, under gunicorn with the worker count its Nubis counterpart runs with. Nubis
and the reference get the same load from the same generator, alternately, ``--rounds`` times; the
ratio of each round is kept, and the report gives the median ratio with its spread (min-max over
rounds). On a shared host absolute figures move 2-4x between runs; a ratio measured in alternating
rounds moves far less. Only processes this module started are stopped, by pid. A reference that
cannot be installed or started is recorded with the reason and the others still run.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
import sqlalchemy as sa

from tools.bench import _service
from tools.bench import identity as nubis_identity
from tools.bench import image as nubis_image
from tools.bench import placement as nubis_placement

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
VENVS = os.path.join(ROOT, ".bench-peers")
CONSTRAINTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers-constraints.txt")
PACKAGES = {"keystone": ["keystone", "pymemcache"], "placement": ["openstack-placement"], "glance": ["glance"]}
# The references' Python: BENCH_PEERS_PYTHON, else pyenv's 3.12 where there is one, else this one.
PYTHON = os.environ.get("BENCH_PEERS_PYTHON") or next(
    (p for p in sorted(glob.glob("/root/.pyenv/versions/3.12*/bin/python")) if os.access(p, os.X_OK)), sys.executable)
# Glance's context middleware takes the caller from these headers when no authtoken runs before it
# (the same caller Nubis's noauth gets from the same headers).
IMAGE_HEADERS = {**nubis_image.HEADERS, "X-Identity-Status": "Confirmed"}
MARK_START, MARK_END = "<!-- peers:start -->", "<!-- peers:end -->"
# What a reader must know to read the table right (seen when these figures were first taken).
NOTES = [
    "Claims: the reference Placement on SQLite answers most concurrent claims with 500 (its SQLite writes "
    "collide: 37 of 40 claims at c=10 in a check run), so the claims ratio compares Nubis with a reference "
    "that fails; it is not a like-for-like throughput figure (a MariaDB run would be; not done here).",
    "Image upload: Nubis still makes the image durable before marking it active (fdatasync of the data, "
    "fsync of the directory after the rename) and Glance's filesystem store does not; Nubis starts writeback "
    "every 8 MiB while the data arrives, so its final fdatasync waits for the last window only.",
    "Image RSS: VmHWM of the whole server after each upload (it only grows, so the larger size's figure is the "
    "peak over both); the reference's is gunicorn's master plus its worker, Nubis's its one process. "
    "A 10 GiB round (--image-mib 256,1024,10240) was not run for this table: about 4 minutes a side and "
    "round on this host; the disk had the space.",
    "Image CPU: the server's user + system CPU (all its processes, from /proc) per GiB uploaded. On this "
    "shared host (run queue 5-11 on 2 cores during the run) upload throughput is mostly the CPU share each "
    "server gets; the CPU it spends per GiB (MD5, SHA-512, copies) is the steadier measure of the work done.",
    "Token validate CPU: the server's user + system CPU (all its processes, from /proc) over a c=1 wrk run, "
    "divided by the requests served: the whole request (HTTP, the caller's token, the subject's), not only "
    "the Fernet decryption.",
    "Peak RSS: the reference's figure is gunicorn's master plus its worker; Nubis's is its one process "
    "(1 worker, threads).",
]

Measure = Callable[[str], float]


def venv(name: str) -> str:
    """The reference's venv, created and installed (pinned) on first use; returns its bin directory."""
    path = os.path.join(VENVS, PACKAGES[name][0])
    bindir = os.path.join(path, "bin")
    if not os.path.exists(os.path.join(bindir, "gunicorn")):
        subprocess.run([PYTHON, "-m", "venv", path], check=True)
        subprocess.run([os.path.join(bindir, "pip"), "install", "-q", "-c", CONSTRAINTS, "gunicorn",
                        *PACKAGES[name]], check=True)
    return bindir


@contextmanager
def gunicorn(bindir: str, module: str, env: dict[str, str], workers: int, log: str) -> Iterator[tuple[str, int]]:
    """``module`` under gunicorn on a free loopback port; yields (base URL, pid) once it answers."""
    port = _service.free_port()
    # Everything in gunicorn.conf.py, nothing on the command line: Keystone's oslo.config parses sys.argv.
    rundir = tempfile.mkdtemp(prefix="gunicorn-", dir=os.path.dirname(log))
    with open(os.path.join(rundir, "gunicorn.conf.py"), "w") as f:
        f.write(f"wsgi_app = {module!r}\nbind = '127.0.0.1:{port}'\nworkers = {workers}\nthreads = 8\n"
                "timeout = 600\n")
    with open(log, "ab") as out:
        proc = subprocess.Popen([os.path.join(bindir, "gunicorn")], cwd=rundir, env={**os.environ, **env},
                                stdout=out, stderr=out)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            if proc.poll() is not None:
                raise RuntimeError(f"{module} exited with {proc.returncode}; see {log}")
            try:
                requests.get(base + "/", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.2)
        else:
            raise RuntimeError(f"{module} did not answer; see {log}")
        yield base, proc.pid
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def tree_peak_rss_mib(pid: int) -> float:
    """Peak RSS (VmHWM) of ``pid`` plus its direct children (gunicorn's workers), in MiB."""
    total = _service.peak_rss_mib(pid)
    for child in _children(pid):
        try:
            total += _service.peak_rss_mib(child)
        except (OSError, RuntimeError):
            pass
    return total


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except OSError:
        return []


# -- placement ---------------------------------------------------------------------------------------

def load_reference_placement(url: str, count: int) -> None:
    """Providers straight into the reference's schema, as tools.bench.placement loads Nubis's."""
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    meta.reflect(engine, only=["resource_providers", "inventories", "resource_classes"])
    rps, invs = meta.tables["resource_providers"], meta.tables["inventories"]
    with engine.begin() as conn:
        now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)
        conn.execute(sa.insert(rps), [{"uuid": str(uuid.uuid4()), "name": f"compute-{i:05d}", "generation": 1,
                                       "created_at": now} for i in range(count)])
        conn.execute(sa.update(rps).values(root_provider_id=rps.c.id))
        ids = list(conn.scalars(sa.select(rps.c.id)))
        # os-resource-classes' standard ids: VCPU 0, MEMORY_MB 1, DISK_GB 2.
        conn.execute(sa.insert(invs), [
            {"resource_provider_id": rp, "resource_class_id": rc, "total": total, "reserved": 0, "min_unit": 1,
             "max_unit": total, "step_size": 1, "allocation_ratio": 1.0, "created_at": now}
            for rp in ids for rc, total in ((0, 64), (1, 262144), (2, 2000))])
    engine.dispose()


@contextmanager
def reference_placement(state: str, providers: int) -> Iterator[tuple[str, int]]:
    bindir = venv("placement")
    confdir = os.path.join(state, "placement-etc")
    os.makedirs(confdir, exist_ok=True)
    url = f"sqlite:///{state}/placement-ref.sqlite"
    with open(os.path.join(confdir, "placement.conf"), "w") as f:
        f.write(f"[api]\nauth_strategy = noauth2\n[placement_database]\nconnection = {url}\n"
                "sync_on_startup = false\n")
    env = {"OS_PLACEMENT_CONFIG_DIR": confdir}
    subprocess.run([os.path.join(bindir, "placement-manage"), "--config-dir", confdir, "db", "sync"], check=True,
                   capture_output=True, env={**os.environ, **env})
    load_reference_placement(url, providers)
    with gunicorn(bindir, "placement.wsgi.api:application", env, 1, os.path.join(state, "placement-ref.log")) as up:
        yield up


@contextmanager
def nubis_placement_server(state: str, providers: int) -> Iterator[tuple[str, int]]:
    url = f"sqlite:///{state}/placement-nubis.sqlite"
    nubis_placement.load_providers(url, providers)
    with nubis_placement.placement_server(url, state) as base:
        yield base, 0


def placement_measures(limit_requests: int, unlimited_requests: int, claim_seconds: float) -> dict[str, Measure]:
    def p50(path: str, n: int) -> Measure:
        return lambda base: nubis_placement.latencies(base, path, n)[0]

    return {
        "allocation candidates 10k providers limit=1000 p50 ms":
            p50(nubis_placement.REQUEST + "&limit=1000", limit_requests),
        "allocation candidates 10k providers unlimited p50 ms": p50(nubis_placement.REQUEST, unlimited_requests),
        "claims c=10 /s": lambda base: nubis_placement.claims_per_second(base, 10, claim_seconds)[0],
    }


# -- image -------------------------------------------------------------------------------------------

@contextmanager
def reference_glance(state: str) -> Iterator[tuple[str, int]]:
    bindir = venv("glance")
    confdir = os.path.join(state, "glance-etc")
    os.makedirs(confdir, exist_ok=True)
    store = os.path.join(state, "glance-images")
    paste = os.path.join(VENVS, "glance", "etc", "glance", "glance-api-paste.ini")
    with open(paste) as f:  # header-given caller instead of the anonymous admin, which may not create images
        ini = f.read().replace("unauthenticated-context rootapp", "context rootapp")
    with open(os.path.join(confdir, "glance-api-paste.ini"), "w") as f:
        f.write(ini)
    url = f"sqlite:///{state}/glance-ref.sqlite"
    with open(os.path.join(confdir, "glance-api.conf"), "w") as f:
        f.write(f"[DEFAULT]\nenabled_backends = fs:file\n[database]\nconnection = {url}\n"
                f"[glance_store]\ndefault_backend = fs\n[fs]\nfilesystem_store_datadir = {store}\n"
                f"[paste_deploy]\nconfig_file = {confdir}/glance-api-paste.ini\n"
                f"[os_glance_staging_store]\nfilesystem_store_datadir = {state}/glance-staging\n"
                f"[os_glance_tasks_store]\nfilesystem_store_datadir = {state}/glance-tasks\n")
    env = {"OS_GLANCE_CONFIG_DIR": confdir}
    subprocess.run([os.path.join(bindir, "glance-manage"), "--config-dir", confdir, "db", "sync"], check=True,
                   capture_output=True, env={**os.environ, **env})
    with gunicorn(bindir, "glance.wsgi.api:application", env, 1, os.path.join(state, "glance-ref.log")) as up:
        yield up


@contextmanager
def nubis_image_server(state: str) -> Iterator[tuple[str, int]]:
    port = _service.free_port()
    conf = os.path.join(state, "nubis-image.conf")
    with open(conf, "w") as f:
        f.write(f"[DEFAULT]\nstate_path = {state}\n[database]\nconnection = sqlite:///{state}/image.sqlite\n"
                f"[api]\nauth_strategy = noauth\n[image]\nbind_host = 127.0.0.1\nbind_port = {port}\n")
    subprocess.run([os.path.join(_service.BIN, "nubis-manage"), "--config-file", conf, "db", "sync", "image"],
                   check=True, capture_output=True)
    with _service.running_process("nubis-image", conf, port) as up:
        yield up


def image_measures(sources: dict[int, str], pid: int) -> dict[str, Measure]:
    """An upload per size (MiB -> source file), smallest first, each followed by the server's CPU per GiB for it
    and its peak RSS so far."""
    def upload(source: str, size_mib: int) -> Measure:
        def run(base: str) -> float:
            image = requests.post(f"{base}/v2/images", headers=IMAGE_HEADERS, timeout=30, json={
                "name": "bench", "disk_format": "raw", "container_format": "bare"})
            image.raise_for_status()
            image_id = image.json()["id"]

            def put() -> None:
                resp = requests.put(f"{base}/v2/images/{image_id}/file", data=nubis_image.read_chunks(source),
                                    headers={**IMAGE_HEADERS, "Content-Type": "application/octet-stream"},
                                    timeout=3600)
                resp.raise_for_status()

            before = tree_cpu_seconds(pid)
            seconds = nubis_image.timed(put)
            cpu[size_mib] = (tree_cpu_seconds(pid) - before) / size_mib * 1024
            got = requests.get(f"{base}/v2/images/{image_id}", headers=IMAGE_HEADERS, timeout=30).json()
            if got.get("status") != "active" or got.get("size") != size_mib * nubis_image.CHUNK:
                raise RuntimeError(f"upload did not complete: {got.get('status')}, {got.get('size')} bytes")
            requests.delete(f"{base}/v2/images/{image_id}", headers=IMAGE_HEADERS, timeout=60)
            return size_mib / seconds
        return run

    measures: dict[str, Measure] = {}
    cpu: dict[int, float] = {}  # server CPU seconds per GiB, by upload size
    for size_mib in sorted(sources):
        measures[f"image upload {_size_label(size_mib)} MiB/s"] = upload(sources[size_mib], size_mib)
        # On a shared host throughput is the CPU share a server gets; its CPU per GiB moves far less.
        measures[f"server CPU per GiB uploaded ({_size_label(size_mib)}) s"] = (
            lambda base, size=size_mib: cpu[size])
        # VmHWM only grows: after the largest upload it is the peak over all of them.
        measures[f"peak RSS after {_size_label(size_mib)} upload MiB"] = lambda base: tree_peak_rss_mib(pid)
    return measures


def _size_label(size_mib: int) -> str:
    return f"{size_mib // 1024} GiB" if size_mib % 1024 == 0 else f"{size_mib} MiB"


# -- identity ----------------------------------------------------------------------------------------

@contextmanager
def reference_keystone(state: str, memcached: str, workers: int) -> Iterator[tuple[str, int, str]]:
    bindir = venv("keystone")
    confdir = os.path.join(state, "keystone-etc")
    os.makedirs(confdir, exist_ok=True)
    password = os.urandom(12).hex()
    with open(os.path.join(confdir, "keystone.conf"), "w") as f:
        f.write(f"[database]\nconnection = sqlite:///{state}/keystone.sqlite\n"
                f"[cache]\nenabled = true\nbackend = dogpile.cache.pymemcache\nmemcache_servers = {memcached}\n"
                f"[fernet_tokens]\nkey_repository = {state}/fernet-keys\n"
                f"[fernet_receipts]\nkey_repository = {state}/fernet-receipts\n"
                f"[credential]\nkey_repository = {state}/credential-keys\n")
    env = {"OS_KEYSTONE_CONFIG_DIR": confdir}
    manage = [os.path.join(bindir, "keystone-manage"), "--config-dir", confdir]
    for step in (["db_sync"], ["fernet_setup", "--keystone-user", "root", "--keystone-group", "root"],
                 ["credential_setup", "--keystone-user", "root", "--keystone-group", "root"],
                 ["bootstrap", "--bootstrap-password", password]):
        subprocess.run([*manage, *step], check=True, capture_output=True, env={**os.environ, **env})
    with gunicorn(bindir, "keystone.wsgi.api:application", env, workers,
                  os.path.join(state, "keystone-ref.log")) as (base, pid):
        yield base, pid, password


def identity_measures(password: str, duration: int, pids: list[int]) -> dict[str, Measure]:
    def tokens(base: str) -> tuple[str, str]:
        body = nubis_identity.password_body(password)
        admin = requests.post(base + "/v3/auth/tokens", json=body, timeout=60).headers["X-Subject-Token"]
        return admin, requests.post(base + "/v3/auth/tokens", json=body, timeout=60).headers["X-Subject-Token"]

    def validate(c: int) -> Measure:
        def run(base: str) -> float:
            admin, subject = tokens(base)
            nubis_identity.bench_validate(base, admin, subject, c, 1)  # warm the cache
            return nubis_identity.bench_validate(base, admin, subject, c, duration)["rps"]
        return run

    def validate_cpu(base: str) -> float:
        """Server CPU (all its processes, user + system) per validate at c=1, in microseconds."""
        admin, subject = tokens(base)
        nubis_identity.bench_validate(base, admin, subject, 1, 1)  # warm the cache
        before = tree_cpu_seconds(pids[-1])
        rps = nubis_identity.bench_validate(base, admin, subject, 1, duration)["rps"]
        return (tree_cpu_seconds(pids[-1]) - before) / (rps * duration) * 1e6

    measures = {f"token validate c={c} req/s": validate(c) for c in (1, 10, 50)}
    measures["server CPU per token validate c=1 us"] = validate_cpu
    # bcrypt 12 on shared cores: a few per second, so longer runs than the validations.
    def issue(c: int) -> Measure:
        # Answered with a token, not shed (a 503 under overload is quick and would count as a request).
        return lambda base: nubis_identity.bench_issue(base, password, c, 2 * duration)["ok_rps"]

    measures.update({f"token issue c={c} tokens/s": issue(c) for c in (1, 10, 50)})
    return measures


def tree_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of ``pid`` and its children (workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for p in (pid, *_children(pid)):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
        except (OSError, IndexError, ValueError):
            pass
    return total


# -- rounds and the report -----------------------------------------------------------------------------

LOWER_IS_BETTER = ("ms", "us", " s")


def alternate(nubis: Callable[[], Any], reference: Callable[[], Any], rounds: int,
              measures: Callable[[Any], dict[str, Measure]], results: dict[str, Any]) -> None:
    """``rounds`` times: start Nubis, measure, stop; start the reference, measure, stop. Ratios per round."""
    for r in range(rounds):
        for side, start in (("nubis", nubis), ("reference", reference)):
            with start() as up:
                base, pid = up[0], up[1]
                taken = measures(up)
                for name, measure in taken.items():
                    value = measure(base)
                    results.setdefault(name, {"nubis": [], "reference": []})[side].append(round(value, 3))
                    print(f"  round {r + 1} {side:9s} {name}: {value:.1f}", flush=True)
                if pid and not any(name.startswith("peak RSS") for name in taken):
                    rss = tree_peak_rss_mib(pid)
                    results.setdefault("peak RSS MiB", {"nubis": [], "reference": []})[side].append(round(rss, 1))


def ratios(values: dict[str, list[float]], name: str) -> dict[str, float]:
    """Nubis's advantage per round (>1 is Nubis ahead): median and spread."""
    per_round = []
    for ours, theirs in zip(values["nubis"], values["reference"], strict=False):
        lower_better = name.endswith(LOWER_IS_BETTER) or name.startswith("peak RSS")
        denominator = ours if lower_better else theirs
        # A reference that served nothing in a round (0 tokens/s) leaves Nubis infinitely ahead in it.
        per_round.append(float("inf") if denominator == 0 else (theirs / ours if lower_better else ours / theirs))
    if not per_round:
        return {}
    return {"median": round(statistics.median(per_round), 2), "min": round(min(per_round), 2),
            "max": round(max(per_round), 2), "rounds": len(per_round)}


def write_report(report: dict[str, Any], out: str) -> None:
    results_path = os.path.join(out, "benchmarks", "results.json")
    data: dict[str, Any] = {}
    if os.path.exists(results_path):
        with open(results_path) as f:
            data = json.load(f)
    data["peers"] = report
    with open(results_path, "w") as f:
        json.dump(data, f, indent=2)
        f.write("\n")
    lines = [MARK_START, "## Side by side with the reference services", "",
             f"Measured {report['when']} on {report['host']}; {report['conditions']}", "",
             "| service | work | reference | Nubis | ratio (median, min-max) | rounds |", "|---|---|---|---|---|---|"]
    for service, section in report["services"].items():
        if "error" in section:
            lines.append(f"| {service} | (not run: {section['error']}) | | | | |")
            continue
        for name, values in section["figures"].items():
            r = ratios(values, name)
            if not r:
                continue
            lines.append(f"| {service} | {name} | {statistics.median(values['reference']):.1f} | "
                         f"{statistics.median(values['nubis']):.1f} | **{r['median']}×** "
                         f"({r['min']}–{r['max']}) | {r['rounds']} |")
    lines += ["", "Ratios are Nubis's advantage (reference time / Nubis time, Nubis rate / reference rate, "
              "reference RSS / Nubis RSS): above 1 Nubis is ahead. Generated by `python -m tools.bench peers`.",
              "", *(f"- {note}" for note in report.get("notes", [])),
              *(f"- {service}: figures from the run of {section['when']} (not rerun with the others)"
                for service, section in report["services"].items() if section.get("when", report["when"])[:13]
                != report["when"][:13]), MARK_END]
    plot = plot_ratios(report, out)
    if plot:
        lines.insert(-1, f"\n![Nubis's advantage over the reference, per figure]({plot})")
    md_path = os.path.join(out, "BENCHMARKS.md")
    text = open(md_path).read() if os.path.exists(md_path) else "# Benchmarks\n"
    if MARK_START in text:
        text = text[:text.index(MARK_START)] + "\n".join(lines) + text[text.index(MARK_END) + len(MARK_END):]
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(lines) + "\n"
    with open(md_path, "w") as f:
        f.write(text)


def plot_ratios(report: dict[str, Any], out: str) -> str | None:
    """``benchmarks/peers-ratios.png``: each figure's median ratio with its min-max, if matplotlib is here."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    rows = [(f"{service}: {name}", r) for service, section in report["services"].items()
            for name, values in section.get("figures", {}).items() if (r := ratios(values, name))]
    if not rows:
        return None
    fig, ax = plt.subplots(figsize=(8, 0.4 * len(rows) + 1.2))
    ys = range(len(rows))
    medians = [r["median"] for _, r in rows]
    ax.barh(ys, medians, color=["tab:green" if m >= 1 else "tab:red" for m in medians],
            xerr=[[m - r["min"] for m, (_, r) in zip(medians, rows, strict=True)],
                  [r["max"] - m for m, (_, r) in zip(medians, rows, strict=True)]], capsize=3)
    ax.set_yticks(list(ys), [label for label, _ in rows], fontsize=8)
    ax.invert_yaxis()
    ax.axvline(1, color="black", linewidth=1)
    ax.set_xscale("log")
    ax.set_xlabel("Nubis's advantage over the reference (x, log scale; median and min-max over rounds)")
    fig.tight_layout()
    path = os.path.join("benchmarks", "peers-ratios.png")
    fig.savefig(os.path.join(out, path), dpi=100)
    plt.close(fig)
    return path


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="tools.bench.peers", description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--only", default="placement,image,identity")
    parser.add_argument("--providers", type=int, default=10000)
    parser.add_argument("--image-mib", default="256,1024",
                        help="upload sizes in MiB, comma-separated (10240 for the 10 GiB figure: needs 2x that free "
                        "on /var/tmp and a few minutes a round)")
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--memcached", default="127.0.0.1:11211")
    parser.add_argument("--out", default=ROOT)
    args = parser.parse_args(argv)
    # Services not run this time keep their figures from the run that measured them (with its date).
    services: dict[str, Any] = {name: {**section, "when": section.get("when", previous["when"])}
                                for previous in [_previous_report(args.out)] if previous
                                for name, section in previous["services"].items()}
    for service in args.only.split(","):
        print(f"== {service}", flush=True)
        figures_: dict[str, Any] = {}
        try:
            with tempfile.TemporaryDirectory(dir="/var/tmp") as state:
                run_service(service, state, args, figures_)
            services[service] = {"figures": figures_, "when": _now()}
        except Exception as exc:  # a reference that will not install or start: say why, keep the rest
            traceback.print_exc()
            services[service] = {"error": f"{type(exc).__name__}: {str(exc)[:300]}", "figures": figures_,
                                 "when": _now()}
        write_report(_report(args, services), args.out)  # after each service: a cut-short run keeps what it has


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _previous_report(out: str) -> dict[str, Any] | None:
    try:
        with open(os.path.join(out, "benchmarks", "results.json")) as f:
            report = json.load(f).get("peers")
    except (OSError, ValueError):
        return None
    return report if isinstance(report, dict) and "services" in report else None


def _report(args: argparse.Namespace, services: dict[str, Any]) -> dict[str, Any]:
    with open(CONSTRAINTS) as f:
        versions = [line for line in f.read().split("\n") if line and not line.startswith("#")]
    return {"when": _now(),
            "host": f"{os.cpu_count()} cores shared with other work",
            "conditions": (f"{args.rounds} alternating rounds; SQLite; loopback; placement 1 worker, "
                           f"{args.providers} providers; image 1 worker, "
                           f"{', '.join(_size_label(m) for m in _sizes(args.image_mib))} chunked uploads; "
                           f"identity 2 workers, memcached, wrk {args.duration}s per figure; references under "
                           "gunicorn (same worker count, 8 threads)."),
            "versions": versions, "services": services, "notes": NOTES}


def _sizes(text: str) -> list[int]:
    return sorted(int(x) for x in text.split(","))


def run_service(service: str, state: str, args: argparse.Namespace, out: dict[str, Any]) -> None:
    if service == "placement":
        n = args.providers
        alternate(lambda: nubis_placement_server(tempfile.mkdtemp(dir=state), n),
                  lambda: reference_placement(tempfile.mkdtemp(dir=state), n), args.rounds,
                  lambda up: placement_measures(10, 3, 5), out)
    elif service == "image":
        sources = {}
        for size_mib in _sizes(args.image_mib):
            sources[size_mib] = os.path.join(state, f"source-{size_mib}.img")
            nubis_image.make_source(sources[size_mib], size_mib * nubis_image.CHUNK)
        alternate(lambda: nubis_image_server(tempfile.mkdtemp(dir=state)),
                  lambda: reference_glance(tempfile.mkdtemp(dir=state)), args.rounds,
                  lambda up: image_measures(sources, up[1]), out)
    elif service == "identity":
        if shutil.which("wrk") is None:
            raise RuntimeError("wrk is not installed (apt-get install wrk)")
        passwords: dict[str, str] = {}
        pids: list[int] = []  # the running server's, last

        @contextmanager
        def nubis() -> Iterator[tuple[str, int]]:
            with nubis_identity.identity_server(f"sqlite:///{tempfile.mkdtemp(dir=state)}/identity.sqlite",
                                                args.memcached, 2, pids) as (base, pw):
                passwords["current"] = pw
                yield base, pids[-1]

        @contextmanager
        def reference() -> Iterator[tuple[str, int]]:
            with reference_keystone(tempfile.mkdtemp(dir=state), args.memcached, 2) as (base, pid, pw):
                passwords["current"] = pw
                pids.append(pid)
                yield base, pid

        alternate(nubis, reference, args.rounds, lambda up: identity_measures(passwords["current"], args.duration, pids),
                  out)
    else:
        raise SystemExit(f"unknown service {service}")


if __name__ == "__main__":
    main(sys.argv[1:])
