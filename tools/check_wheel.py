"""Build the release artifacts and prove the wheel runs on its own.

    python -m tools.check_wheel [--keep] [--python PYTHON]

Builds the sdist and, from it, the wheel (``python -m build``) into a temporary
directory, installs the wheel into a new venv there (dependencies from the
package index; pip's own cache is reused), then, from that venv only:
``nubis version``, ``nubis-manage db sync <service>`` for every service with a
database (SQLite under the temporary state dir), ``nubis-status upgrade check``
(exit 0 on the synced databases), and ``nubis all-in-one`` on
free loopback ports, where every API must answer ``/healthcheck``, the admin
must get a token, and each API must accept it. The all-in-one is stopped by its
pid with SIGTERM and must exit cleanly. Exit status 0 only when every step
passed; the temporary directory is removed unless ``--keep``.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator

from nubis import services
from tools import ports

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# An authenticated read on each API: proves auth_token, policy and the DB work in the installed copy.
AUTHENTICATED_READ = {
    "identity": "/v3/projects",
    "image": "/v2/images",
    "placement": "/resource_providers",
    "compute-api": "/v2.1/flavors",
    "network": "/v2.0/networks",
}


class StepFailed(RuntimeError):
    pass


# What ends the check as a failure (a step's own, a tool that failed or hung, a missing file).
FAILURES = (RuntimeError, subprocess.SubprocessError, OSError)


class Checker:
    """Runs named steps in order, printing each with its time; the first failure ends the run."""

    def __init__(self) -> None:
        self.passed: list[str] = []
        self.began = time.monotonic()

    def step(self, name: str, action: Callable[[], str | None]) -> None:
        print(f"--> {name}", flush=True)
        started = time.monotonic()
        try:
            detail = action()
        except FAILURES as exc:
            print(f"    FAILED after {time.monotonic() - started:.1f}s: {exc}", flush=True)
            raise
        print(f"    ok in {time.monotonic() - started:.1f}s{': ' + detail if detail else ''}", flush=True)
        self.passed.append(name)


def _installed_env() -> dict[str, str]:
    """This environment without PYTHONPATH, so the venv's commands import only what the wheel installed."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}


def _run(cmd: list[str], log: str, cwd: str | None = None, timeout: float = 600) -> str:
    """Run ``cmd`` and return its standard output; with ``cwd`` (outside the source tree) it runs as the
    installed copy would, without PYTHONPATH. Both streams go to ``log``, printed on failure."""
    env = _installed_env() if cwd else None
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env, timeout=timeout, check=False)
    with open(log, "w") as f:
        f.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        sys.stdout.write((proc.stdout + proc.stderr)[-6000:])
        raise StepFailed(f"{' '.join(cmd[:3])} ... exited {proc.returncode} (log: {log})")
    return proc.stdout


def _http(method: str, url: str, body: dict | None = None, headers: dict[str, str] | None = None,
          ) -> tuple[int, dict[str, str], bytes]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={
        "Content-Type": "application/json", "Accept": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 - loopback URLs we built
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


class WheelCheck:
    def __init__(self, work: str, python: str) -> None:
        self.work = work
        self.python = python
        self.dist = os.path.join(work, "dist")
        self.venv = os.path.join(work, "venv")
        self.state = os.path.join(work, "state")
        self.logs = os.path.join(work, "logs")
        os.makedirs(self.logs)
        self.wheel = ""
        self.apis = {s.name: s.port for s in services.load_all() if s.port is not None and s.build_api is not None}
        # Services with a database (``db sync`` takes these names) and the databases they use
        # (``db version`` prints these; compute-api and conductor share one).
        self.with_db = [s.name for s in services.load_all() if s.migration_repo is not None]
        self.databases = sorted({s.migration_repo().service for s in services.load_all() if s.migration_repo})
        self.offset = 0
        self.proc: subprocess.Popen[bytes] | None = None

    def bin(self, name: str) -> str:
        return os.path.join(self.venv, "bin", name)

    def log(self, name: str) -> str:
        return os.path.join(self.logs, name)

    # -- steps -----------------------------------------------------------------

    def build(self) -> str:
        # Without --sdist/--wheel, build makes the sdist and then the wheel from it: both are checked.
        _run([sys.executable, "-m", "build", "--outdir", self.dist, ROOT], self.log("build.log"))
        wheels = glob.glob(os.path.join(self.dist, "*.whl"))
        sdists = glob.glob(os.path.join(self.dist, "*.tar.gz"))
        if len(wheels) != 1 or len(sdists) != 1:
            raise StepFailed(f"expected one wheel and one sdist, got {os.listdir(self.dist)}")
        self.wheel = wheels[0]
        return ", ".join(os.path.basename(p) for p in sdists + wheels)

    def install(self) -> str:
        _run([self.python, "-m", "venv", self.venv], self.log("venv.log"), cwd=self.work)
        _run([self.bin("pip"), "install", "--disable-pip-version-check", self.wheel], self.log("pip.log"),
             cwd=self.work)
        return f"into {self.venv}"

    def version(self) -> str:
        said = _run([self.bin("nubis"), "version"], self.log("version.log"), cwd=self.work).strip()
        where = _run([self.bin("python"), "-c", "import nubis; print(nubis.__file__)"], self.log("where.log"),
                     cwd=self.work).strip()
        if not where.startswith(self.venv + os.sep):
            raise StepFailed(f"the venv imports nubis from {where}, not from the installed wheel")
        expected = os.path.basename(self.wheel).split("-")[1]
        if said != expected:
            raise StepFailed(f"'nubis version' says {said!r}, the wheel is {expected!r}")
        return said

    def _manage(self, *args: str) -> str:
        conf = os.path.join(self.work, "manage.conf")
        if not os.path.exists(conf):
            with open(conf, "w") as f:
                f.write(f"[DEFAULT]\nstate_path = {self.state}\n\n"
                        "[database]\nconnection = sqlite:///{state_path}/{service}.sqlite\n")
        return _run([self.bin("nubis-manage"), "--config-file", conf, *args],
                    self.log("manage-" + "-".join(args) + ".log"), cwd=self.work)

    def db_sync(self) -> str:
        before = self._manage("db", "version")
        heads = {}
        for line in before.strip().splitlines():
            name, _, rest = line.partition(": ")
            if not rest.startswith("empty (code head: "):
                raise StepFailed(f"unexpected 'db version' line before any sync: {line!r}")
            heads[name] = rest[len("empty (code head: "):-1]
        if sorted(heads) != self.databases:
            raise StepFailed(f"the installed copy has databases {sorted(heads)}, the source {self.databases}")
        # One service by name (the form in the upgrade guide), then every service at once.
        if "identity" in self.with_db:
            self._manage("db", "sync", "identity")
        self._manage("db", "sync")
        after = set(self._manage("db", "version").strip().splitlines())
        expected = {f"{n}: {head} (code head: {head})" for n, head in heads.items()}
        if after != expected:
            raise StepFailed(f"not every database is at its head after sync: {sorted(after - expected)}")
        return f"{', '.join(self.with_db)} at head: " + ", ".join(f"{n}@{heads[n]}" for n in self.databases)

    def upgrade_check(self) -> str:
        """``nubis-status upgrade check`` from the installed copy: all Success on freshly synced databases."""
        conf = os.path.join(self.work, "manage.conf")
        out = _run([self.bin("nubis-status"), "--config-file", conf, "upgrade", "check", "--json"],
                   self.log("status-upgrade-check.log"), cwd=self.work)
        results = {r["check"]: r["result"] for r in json.loads(out)}
        if set(results.values()) != {"Success"}:
            raise StepFailed(f"upgrade check not all Success: {results}")
        return ", ".join(results)

    def start(self) -> str:
        self.offset = ports.free_offset(list(self.apis.values()))
        out = open(self.log("all-in-one.log"), "wb")  # noqa: SIM115 - the child writes it until stop
        self.proc = subprocess.Popen(
            [self.bin("nubis"), "all-in-one", "--state-dir", self.state, "--bind", "127.0.0.1",
             "--port-offset", str(self.offset)],
            stdout=out, stderr=subprocess.STDOUT, cwd=self.work, env=_installed_env(), start_new_session=True,
        )
        out.close()
        deadline = time.monotonic() + 120
        pending = dict(self.apis)
        while pending:
            if self.proc.poll() is not None:
                self._show("all-in-one.log")
                raise StepFailed(f"all-in-one exited with {self.proc.returncode} before it was healthy")
            if time.monotonic() > deadline:
                self._show("all-in-one.log")
                raise StepFailed(f"no healthy /healthcheck within 120 s from {sorted(pending)}")
            for name, port in list(pending.items()):
                with contextlib.suppress(OSError):
                    if _http("GET", f"http://127.0.0.1:{port + self.offset}/healthcheck")[0] == 200:
                        del pending[name]
            time.sleep(0.2)
        return f"pid {self.proc.pid}, port offset {self.offset}, healthy: {', '.join(self.apis)}"

    def token(self) -> str:
        with open(os.path.join(self.state, "secrets.json")) as f:
            password = json.load(f)["admin_password"]
        url = f"http://127.0.0.1:{self.apis['identity'] + self.offset}/v3/auth/tokens"
        status, headers, body = _http("POST", url, {"auth": {
            "identity": {"methods": ["password"], "password": {"user": {
                "name": "admin", "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": "admin", "domain": {"id": "default"}}}}})
        token = headers.get("X-Subject-Token") or headers.get("x-subject-token")
        if status != 201 or not token:
            raise StepFailed(f"token request answered {status}: {body[:300]!r}")
        catalog = {e["type"] for e in json.loads(body)["token"]["catalog"]}
        reads = []
        for name, path in AUTHENTICATED_READ.items():
            if name not in self.apis:
                continue
            status, _, body = _http("GET", f"http://127.0.0.1:{self.apis[name] + self.offset}{path}",
                                    headers={"X-Auth-Token": token})
            if status != 200:
                raise StepFailed(f"GET {name} {path} with the token answered {status}: {body[:300]!r}")
            reads.append(f"{name} {path}")
        return f"catalog: {', '.join(sorted(catalog))}; 200 from {', '.join(reads)}"

    def stop(self) -> str:
        if self.proc is None:
            return "not running"
        self.proc.send_signal(signal.SIGTERM)
        try:
            code = self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise StepFailed("all-in-one still running 60 s after SIGTERM (killed)") from None
        finally:
            pid, self.proc = self.proc.pid, None
        if code != 0:
            self._show("all-in-one.log")
            raise StepFailed(f"all-in-one exited with {code} on SIGTERM")
        return f"pid {pid} exited 0"

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def _show(self, name: str) -> None:
        with open(self.log(name), errors="replace") as f:
            sys.stdout.write(f.read()[-6000:])


@contextlib.contextmanager
def _workdir(keep: bool) -> Iterator[str]:
    work = tempfile.mkdtemp(prefix="nubis-wheel-")
    try:
        yield work
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", action="store_true", help="Keep the temporary directory (artifacts, logs).")
    parser.add_argument("--python", default=shutil.which("python3") or sys.executable,
                        help="Interpreter for the clean venv (default: python3 on PATH).")
    args = parser.parse_args(argv)
    checker = Checker()
    with _workdir(args.keep) as work:
        check = WheelCheck(work, args.python)
        try:
            checker.step("build sdist and wheel", check.build)
            checker.step("install the wheel into a clean venv", check.install)
            checker.step("nubis version", check.version)
            checker.step("nubis-manage db sync, every service", check.db_sync)
            checker.step("nubis-status upgrade check", check.upgrade_check)
            checker.step("nubis all-in-one: every /healthcheck", check.start)
            checker.step("token issued and accepted by every API", check.token)
            checker.step("stop the all-in-one by pid (SIGTERM)", check.stop)
        except FAILURES:
            print(f"wheel check FAILED after {time.monotonic() - checker.began:.0f}s "
                  f"({len(checker.passed)} steps passed)", flush=True)
            return 1
        finally:
            check.cleanup()
    print(f"wheel check passed: {len(checker.passed)} steps in {time.monotonic() - checker.began:.0f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
