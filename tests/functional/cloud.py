"""A whole Nubis cloud in the test process, reached through the real clients.

``running_cloud(tmp_path, ["identity", "image"])`` starts the chosen services
the way ``nubis all-in-one`` does (same code), on free ports, bootstrapped with
an admin; ``Cloud`` then hands out openstacksdk connections, ``OS_*``
environments for the ``openstack`` CLI, and fresh non-admin users.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

from nubis.cmd import all_in_one
from nubis.volume.manager.exports import NbdExports
from tests import fixtures

OPENSTACK_CLI = os.path.join(os.path.dirname(sys.executable), "openstack")


@dataclasses.dataclass
class Credentials:
    username: str
    password: str
    project_name: str
    user_id: str = ""
    project_id: str = ""


class Cloud:
    def __init__(self, aio: all_in_one.AllInOne) -> None:
        self.aio = aio
        assert aio.secrets is not None
        self.admin = Credentials("admin", aio.secrets.admin_password, "admin")
        self._auth_url = aio.auth_url

    @classmethod
    def from_openrc(cls, path: str) -> Cloud:
        """A cloud someone else runs (devstack), reached with the admin credentials of its openrc."""
        values = {}
        for line in open(path).read().splitlines():
            key, _, value = line.removeprefix("export ").partition("=")
            values[key.strip()] = value.strip().strip("'\"")
        cloud = cls.__new__(cls)
        cloud.admin = Credentials(values["OS_USERNAME"], values["OS_PASSWORD"], values["OS_PROJECT_NAME"])
        cloud._auth_url = values["OS_AUTH_URL"]
        return cloud

    @property
    def auth_url(self) -> str:
        return self._auth_url

    def url(self, service: str) -> str:
        return self.aio.url(service)

    def env(self, creds: Credentials | None = None) -> dict[str, str]:
        """``OS_*`` variables for the ``openstack`` CLI (nothing else from the outer env)."""
        creds = creds or self.admin
        env = {k: v for k, v in os.environ.items() if not k.startswith("OS_")}
        env.update({
            "OS_AUTH_URL": self.auth_url,
            "OS_IDENTITY_API_VERSION": "3",
            "OS_USERNAME": creds.username,
            "OS_PASSWORD": creds.password,
            "OS_PROJECT_NAME": creds.project_name,
            "OS_USER_DOMAIN_ID": "default",
            "OS_PROJECT_DOMAIN_ID": "default",
            "OS_REGION_NAME": "RegionOne",
            "OS_INTERFACE": "public",
        })
        return env

    def connection(self, creds: Credentials | None = None) -> Any:
        """An openstacksdk Connection."""
        import openstack

        creds = creds or self.admin
        return openstack.connect(
            auth_url=self.auth_url, username=creds.username, password=creds.password,
            project_name=creds.project_name, user_domain_id="default", project_domain_id="default",
            region_name="RegionOne", interface="public", identity_api_version="3",
        )

    def openstack(self, *args: str, creds: Credentials | None = None, check: bool = True,
                  json_output: bool = True) -> Any:
        """Run the ``openstack`` CLI; parsed ``-f json`` output (or the completed process)."""
        import json

        cmd = [OPENSTACK_CLI, *args]
        if json_output:
            cmd += ["-f", "json"]
        proc = subprocess.run(cmd, env=self.env(creds), capture_output=True, text=True, timeout=120)
        if check and proc.returncode != 0:
            raise AssertionError(f"openstack {' '.join(args)} failed ({proc.returncode}):\n{proc.stderr}")
        if not check or not json_output:
            return proc
        return json.loads(proc.stdout) if proc.stdout.strip() else None

    def new_user(self, roles: Sequence[str] = ("member",), prefix: str = "demo",
                 project_id: str | None = None) -> Credentials:
        """A new user with ``roles`` on a new project (or on ``project_id``), made through the identity API."""
        suffix = uuid.uuid4().hex[:8]
        conn = self.connection()
        project = (conn.identity.get_project(project_id) if project_id else
                   conn.identity.create_project(name=f"{prefix}-project-{suffix}", domain_id="default"))
        password = uuid.uuid4().hex
        user = conn.identity.create_user(name=f"{prefix}-{suffix}", password=password, domain_id="default",
                                         default_project_id=project.id)
        for role_name in roles:
            role = conn.identity.find_role(role_name)
            conn.identity.assign_project_role_to_user(project, user, role)
        return Credentials(user.name, password, project.name, user.id, project.id)


@contextlib.contextmanager
def running_cloud(tmp_path: Any, services: Sequence[str], virt: str = "fake",
                  extra_config: dict[str, dict[str, str]] | None = None) -> Iterator[Cloud]:
    """Start ``services`` (identity is always included) on free ports; stop them after."""
    names = list(dict.fromkeys(["identity", *services]))
    aio = all_in_one.AllInOne(all_in_one.Options(
        state_dir=str(tmp_path), virt=virt, services=names,
        ports={name: fixtures.free_port() for name in names},
        extra_config=extra_config or {}, setup_logging=False,
    ))
    aio.start()
    try:
        yield Cloud(aio)
    finally:
        aio.stop()
        _stop_exports(str(tmp_path))


def _stop_exports(state_dir: str) -> None:
    """Stop the NBD exports a test left behind (one that failed half-way, with volumes still attached): their
    daemons outlive the volume manager by design (guests stay connected across its restarts), not the test."""
    directory = os.path.join(state_dir, "volumes")
    if os.path.isdir(directory):
        exports = NbdExports(directory, "127.0.0.1", 0, 0)
        for volume_id in exports.exported():
            exports.remove(volume_id)


@contextlib.contextmanager
def running_cloud_on(backend: str, tmp_path: Any, services: Sequence[str],
                     extra_config: dict[str, dict[str, str]] | None = None) -> Iterator[Cloud]:
    """``running_cloud`` on a scratch database of ``backend`` (and RabbitMQ when the environment names it)."""
    with fixtures.backend_config(backend, str(tmp_path)) as backend_sections, \
            running_cloud(tmp_path, services, extra_config={**(extra_config or {}), **backend_sections}) as c:
        yield c
