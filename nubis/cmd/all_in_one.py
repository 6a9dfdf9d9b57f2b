"""``nubis all-in-one``: every service in one process, on embedded defaults.

SQLite files, the in-process transport, a memory cache and the filesystem
image store, all under one state directory. The first start writes secrets,
bootstraps the admin and the catalog, and leaves ``openrc`` and
``clouds.yaml`` there; later starts reuse all of it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import os
import secrets
import socket
import sys
import time
from collections.abc import Sequence

import requests

from nubis import services
from nubis.api import server
from nubis.cmd import cloud_bootstrap, common, private_state
from nubis.common import config, log
from nubis.common.db import migration
from nubis.common.runtime import Runtime

LOG = logging.getLogger(__name__)

SERVICE_USER = cloud_bootstrap.SERVICE_USER
GENERATED_CONF = "all-in-one.conf"  # rewritten at every start
USER_CONF = "nubis.conf"  # the operator's own overrides, never touched


@dataclasses.dataclass
class Options:
    state_dir: str
    virt: str = "fake"
    host: str = "127.0.0.1"  # where the APIs listen and what the catalog says
    ports: dict[str, int] = dataclasses.field(default_factory=dict)  # service -> port; defaults otherwise
    services: Sequence[str] | None = None  # default: every service in this build
    extra_config: dict[str, dict[str, str]] = dataclasses.field(default_factory=dict)
    setup_logging: bool = True  # tests keep pytest's log capture instead


def _new_password() -> str:
    """24 random characters with a lower- and upper-case letter and a digit in them, so the generated
    passwords pass the usual ``[security_compliance] password_regex`` an operator may set."""
    while True:
        candidate = secrets.token_urlsafe(18)
        if any(c.isdigit() for c in candidate) and any(c.islower() for c in candidate) and \
                any(c.isupper() for c in candidate):
            return candidate


@dataclasses.dataclass
class Secrets:
    admin_password: str
    service_password: str
    metadata_secret: str

    @classmethod
    def load_or_create(cls, path: str) -> Secrets:
        if os.path.exists(path):
            with open(path) as f:
                return cls(**json.load(f))
        made = cls(*(_new_password() for _ in range(3)))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as f:
            json.dump(dataclasses.asdict(made), f)
        return made


class AllInOne:
    """The whole cloud in this process. ``start()``, then ``stop()``."""

    def __init__(self, options: Options) -> None:
        self.options = options
        self.state_dir = os.path.abspath(options.state_dir)
        names = list(options.services) if options.services is not None else services.available()
        self.services = [services.load(name) for name in names]
        self.running: list[services.Stoppable] = []
        self.runtime: Runtime | None = None
        self.secrets: Secrets | None = None
        self.started_in: float | None = None

    # -- addresses -------------------------------------------------------

    def port(self, service: services.ServiceDefinition) -> int:
        return self.options.ports.get(service.name, service.port or 0)

    def url(self, name: str) -> str:
        service = next(s for s in self.services if s.name == name)
        return f"http://{self.options.host}:{self.port(service)}"

    def public_endpoint(self, service: services.ServiceDefinition) -> str:
        """What links of ``service`` name: the operator's ``public_endpoint``, else the catalog's URL."""
        assert self.runtime is not None
        configured = self.runtime.conf[common.listen_group(service)].public_endpoint
        return configured or self.url(service.name)

    @property
    def auth_url(self) -> str:
        return self.url("identity") + "/v3"

    # -- config ----------------------------------------------------------

    def _generated_config(self) -> dict[str, dict[str, str]]:
        assert self.secrets is not None
        sections: dict[str, dict[str, str]] = {
            "DEFAULT": {"state_path": self.state_dir, "transport_url": "inproc://",
                        "log_dir": os.path.join(self.state_dir, "logs"), "log_file": "nubis.log"},
            "database": {"connection": "sqlite:///{state_path}/{service}.sqlite"},
            "cache": {"enabled": "true", "backend": "oslo_cache.dict"},
        }
        if any(s.name == "identity" for s in self.services):
            creds = {
                "auth_type": "password",
                "auth_url": self.auth_url,
                "username": SERVICE_USER,
                "password": self.secrets.service_password,
                "project_name": "service",
                "user_domain_id": "default",
                "project_domain_id": "default",
            }
            sections["keystone_authtoken"] = {"www_authenticate_uri": self.auth_url, **creds}
            sections["service_credentials"] = {**creds, "interface": "public"}
        else:
            sections["api"] = {"auth_strategy": "noauth"}
            overrides = ",".join(
                f"{services.CATALOG[s.name][0]}:{self.url(s.name)}{services.CATALOG[s.name][2]}"
                for s in self.services if s.name in services.CATALOG
            )
            sections["service_credentials"] = {"endpoint_overrides": overrides}
        sections["compute"] = {"virt_driver": self.options.virt}
        sections["metadata"] = {"shared_secret": self.secrets.metadata_secret}
        # Fake guests have no taps to wire; real ones get the Linux data plane (as root).
        # The all-in-one is the only host, so it runs the routers too.
        sections["network_agent"] = {"dataplane": "noop" if self.options.virt == "fake" else "auto", "l3": "true"}
        if any(s.name == "metadata" for s in self.services):
            sections["network_agent"]["metadata_url"] = self.url("metadata")
        for service in self.services:
            if service.port is not None:
                sections.setdefault(common.listen_group(service), {}).update({
                    "bind_host": self.options.host, "bind_port": str(self.port(service)),
                })
        self._console_proxy_config(sections)
        for group, values in self.options.extra_config.items():
            sections.setdefault(group, {}).update(values)
        return sections

    def _console_proxy_config(self, sections: dict[str, dict[str, str]]) -> None:
        """The console proxies listen on the all-in-one's address and port; the URLs the API hands out name them."""
        host = self.options.host
        for service in self.services:
            port = self.port(service)
            if service.name == "novncproxy":
                sections["vnc"] = {"novncproxy_host": host, "novncproxy_port": str(port),
                                   "novncproxy_base_url": f"http://{host}:{port}/vnc_auto.html"}
            elif service.name == "spicehtml5proxy":
                sections["spice"] = {"html5proxy_host": host, "html5proxy_port": str(port),
                                     "html5proxy_base_url": f"http://{host}:{port}/spice_auto.html"}
            elif service.name == "serialproxy":
                sections["serial_console"] = {"serialproxy_host": host, "serialproxy_port": str(port),
                                              "base_url": f"ws://{host}:{port}/"}

    def _write_config(self) -> list[str]:
        path = os.path.join(self.state_dir, GENERATED_CONF)
        lines = ["# Written by 'nubis all-in-one' at every start; put your own settings in nubis.conf.\n"]
        for group, values in self._generated_config().items():
            lines.append(f"\n[{group}]\n")
            lines.extend(f"{key} = {value}\n" for key, value in values.items())
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.writelines(lines)
        files = [path]
        user = os.path.join(self.state_dir, USER_CONF)
        if os.path.exists(user):
            files.append(user)
        return files

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Start every service; if one fails, stop those already running and re-raise."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        began = time.monotonic()
        os.umask(private_state.UMASK)  # everything made from here on is the owner's only
        os.makedirs(os.path.join(self.state_dir, "logs"), mode=0o700, exist_ok=True)
        self.secrets = Secrets.load_or_create(os.path.join(self.state_dir, "secrets.json"))
        conf = common.build_conf(self.services)
        config.parse_args(conf, [], default_config_files=self._write_config())
        # And what an earlier version left readable to others is not any more.
        private_state.make_private(self.state_dir, private_state.hypervisor_paths(conf))
        if self.options.setup_logging:
            log.setup(conf)
        # Settings in the file for services not in this build are ignored:
        # oslo.config reads only registered options.
        self.runtime = runtime = Runtime(conf)
        for service in self.services:
            if service.migration_repo is not None:
                repo = service.migration_repo()
                migration.upgrade(runtime.database(repo.service), repo)
        apis = [s for s in self.services if s.build_api is not None]
        # Identity first: bootstrap needs its schema, the others need its tokens.
        apis.sort(key=lambda s: s.name != "identity")
        for service in apis:
            build_api = service.build_api
            if build_api is None:  # filtered out above; this tells the type checker
                continue
            http = server.HttpServer(service.name, self.options.host, self.port(service),
                                     build_api(runtime), threads=16, shutdown_timeout=5,
                                     limits=server.ClientLimits.from_conf(runtime.conf),
                                     public_endpoint=self.public_endpoint(service))
            http.start()
            self.running.append(http)
            if service.name == "identity":
                self._bootstrap()
        for service in self.services:
            if service.start is not None:
                self.running.extend(service.start(runtime))
        self.wait_healthy()
        self._write_client_files()
        self.started_in = time.monotonic() - began

    def _bootstrap(self) -> None:
        assert self.runtime is not None and self.secrets is not None
        names = [s.name for s in self.services]
        ports = {s.name: self.port(s) for s in self.services if s.build_api is not None}
        cloud_bootstrap.bootstrap_cloud(
            self.runtime, self.secrets.admin_password, self.secrets.service_password,
            cloud_bootstrap.catalog_endpoints(self.options.host, ports, names),
        )

    def wait_healthy(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        for service in self.services:
            if service.build_api is None:
                continue
            url = self.url(service.name) + "/healthcheck"
            while True:
                try:
                    if requests.get(url, timeout=2).status_code == 200:
                        break
                except requests.RequestException:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service.name} did not become healthy at {url}")
                time.sleep(0.05)

    def _write_client_files(self) -> None:
        if not any(s.name == "identity" for s in self.services):
            return
        assert self.secrets is not None and self.runtime is not None
        region = self.runtime.conf.region_name
        openrc = (
            "# Source this file to use the openstack CLI against the Nubis all-in-one.\n"
            f"export OS_AUTH_URL={self.auth_url}\n"
            "export OS_IDENTITY_API_VERSION=3\n"
            "export OS_USERNAME=admin\n"
            f"export OS_PASSWORD={self.secrets.admin_password}\n"
            "export OS_PROJECT_NAME=admin\n"
            "export OS_USER_DOMAIN_ID=default\n"
            "export OS_PROJECT_DOMAIN_ID=default\n"
            f"export OS_REGION_NAME={region}\n"
            "export OS_INTERFACE=public\n"
        )
        clouds = (
            "clouds:\n"
            "  nubis:\n"
            "    auth:\n"
            f"      auth_url: {self.auth_url}\n"
            "      username: admin\n"
            f"      password: {self.secrets.admin_password}\n"
            "      project_name: admin\n"
            "      user_domain_id: default\n"
            "      project_domain_id: default\n"
            f"    region_name: {region}\n"
            "    interface: public\n"
            "    identity_api_version: 3\n"
        )
        for name, text in (("openrc", openrc), ("clouds.yaml", clouds)):
            fd = os.open(os.path.join(self.state_dir, name), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as f:
                f.write(text)

    def stop(self) -> None:
        # The compute API first: no new work comes in while the services finish (or set aside) theirs,
        # which still needs the other APIs (tokens, placement, ports, images); those go last.
        front = [item for item in self.running if getattr(item, "name", None) == "compute-api"]
        for item in [*front, *(i for i in reversed(self.running) if i not in front)]:
            try:
                item.stop()
            except Exception:  # noqa: BLE001 - stop the rest regardless
                LOG.exception("Error stopping %s", item)
        self.running.clear()
        if self.runtime is not None:
            self.runtime.close()


def run(options: Options) -> int:
    aio = AllInOne(options)

    def start() -> list[services.Stoppable]:
        aio.start()
        print(banner(aio), flush=True)
        return [aio]

    server.run_in_process(start, graceful_timeout=lambda: float(
        aio.runtime.conf.graceful_shutdown_timeout) if aio.runtime is not None else 0)
    return 0


def _openstack_cli() -> str:
    """The openstack CLI installed beside Nubis (run.sh puts it there), else whatever is on PATH."""
    beside = os.path.join(os.path.dirname(sys.executable), "openstack")
    return beside if os.path.exists(beside) else "openstack"


def banner(aio: AllInOne) -> str:
    lines = [f"Nubis all-in-one is up in {aio.started_in:.2f}s on {socket.gethostname()}."]
    for service in aio.services:
        if service.build_api is not None:
            lines.append(f"  {service.name:<12} {aio.url(service.name)}")
    lines += [
        f"State, logs and credentials: {aio.state_dir}",
        "Use it with the openstack CLI:",
        f"  source {aio.state_dir}/openrc && {_openstack_cli()} catalog list",
        f"  (or: export OS_CLIENT_CONFIG_FILE={aio.state_dir}/clouds.yaml OS_CLOUD=nubis)",
        "Stop with Ctrl-C (or SIGTERM); the next start reuses this state.",
    ]
    return "\n".join(lines)
