"""The cloud under test: admin credentials, and the all-in-one this runner may start for it."""

from __future__ import annotations

import dataclasses
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable

import requests
import yaml

from nubis import services
from tools import ports

# What the runner-started all-in-one enables beyond its defaults: Keystone's security
# compliance, with the numbers tempest's [identity] user_lockout_* options expect.
SECURITY_COMPLIANCE = {"lockout_failure_attempts": "2", "lockout_duration": "5", "unique_last_password_count": "2"}


@dataclasses.dataclass
class Credentials:
    auth_url: str
    username: str
    password: str
    project_name: str
    user_domain_name: str = "Default"
    project_domain_name: str = "Default"
    region: str = "RegionOne"
    user_domain_id: str | None = None
    project_domain_id: str | None = None

    def sdk_args(self) -> dict[str, str]:
        args = {"auth_url": self.auth_url, "username": self.username, "password": self.password,
                "project_name": self.project_name, "region_name": self.region}
        args |= {"user_domain_id": self.user_domain_id} if self.user_domain_id else \
            {"user_domain_name": self.user_domain_name}
        args |= {"project_domain_id": self.project_domain_id} if self.project_domain_id else \
            {"project_domain_name": self.project_domain_name}
        return args


def _credentials(get: Callable[[str], str | None]) -> Credentials:
    """Credentials from clouds.yaml-style keys (auth_url, user_domain_id, ...); raises KeyError for a
    missing required one."""
    def need(key: str) -> str:
        value = get(key)
        if not value:
            raise KeyError(f"the admin credentials have no {key}")
        return value

    return Credentials(
        auth_url=need("auth_url"), username=need("username"), password=need("password"),
        project_name=need("project_name"), region=get("region_name") or "RegionOne",
        user_domain_name=get("user_domain_name") or "Default", user_domain_id=get("user_domain_id"),
        project_domain_name=get("project_domain_name") or "Default", project_domain_id=get("project_domain_id"),
    )


def from_clouds_yaml(path: str, cloud: str) -> Credentials:
    """Admin credentials of ``cloud`` in a clouds.yaml (password auth, identity v3)."""
    with open(path) as f:
        entry = yaml.safe_load(f)["clouds"][cloud]
    return _credentials(lambda key: entry["auth"].get(key) or entry.get(key))


def from_openrc(path: str) -> Credentials:
    """Admin credentials from an openrc of ``export OS_*=value`` lines (no shell is run)."""
    env: dict[str, str] = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"\s*(?:export\s+)?(OS_[A-Z_]+)=(.*)$", line)
            if m:
                env[m.group(1)] = m.group(2).strip().strip("'\"")
    return _credentials(lambda key: env.get("OS_" + key.upper()))


class AllInOne:
    """``nubis all-in-one`` on the fake driver, on free loopback ports, as a child process."""

    def __init__(self, state_dir: str) -> None:
        self.state_dir = state_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.apis = {s.name: s.port for s in services.load_all() if s.port is not None and s.build_api is not None}
        self.offset = 0

    def start(self, timeout: float = 120) -> Credentials:
        """Start it and wait until every API answers /healthcheck. Raises RuntimeError if it does not."""
        os.makedirs(self.state_dir, mode=0o700, exist_ok=True)
        with open(os.path.join(self.state_dir, "nubis.conf"), "w") as f:
            f.write("[security_compliance]\n" + "".join(f"{k} = {v}\n" for k, v in SECURITY_COMPLIANCE.items()))
        self.offset = ports.free_offset(list(self.apis.values()))
        log = open(os.path.join(self.state_dir, "all-in-one.out"), "wb")  # noqa: SIM115 - the child's
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "nubis.cmd.nubis", "all-in-one", "--state-dir", self.state_dir,
             "--virt", "fake", "--bind", "127.0.0.1", "--port-offset", str(self.offset)],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        pending = dict(self.apis)
        while pending:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the all-in-one exited with {self.proc.returncode} "
                                   f"(see {self.state_dir}/all-in-one.out)")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the all-in-one was not healthy within {timeout:.0f}s: {sorted(pending)}")
            for name, port in list(pending.items()):
                try:
                    if requests.get(f"http://127.0.0.1:{port + self.offset}/healthcheck", timeout=2).ok:
                        del pending[name]
                except requests.RequestException:
                    pass
            time.sleep(0.2)
        clouds = os.path.join(self.state_dir, "clouds.yaml")
        while not os.path.exists(clouds):  # written just after the last API turns healthy
            if time.monotonic() > deadline:
                raise RuntimeError(f"the all-in-one wrote no {clouds}")
            time.sleep(0.1)
        return from_clouds_yaml(clouds, "nubis")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
