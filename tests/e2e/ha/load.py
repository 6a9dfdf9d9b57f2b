"""A bounded mixed load on the cloud: N worker threads at a capped total rate, every request recorded.

The op mix is what a cloud's users do all day: token issue and validate, image list, port create and
delete, server boot (not waiting for ACTIVE) and delete of servers booted earlier. No request is
retried: a refused connection, a timeout or a 5xx counts as one failure of that op. The records are
what the kill matrix measures: failures per time window, per op, the recovery time after a kill, and
which requests failed and why.

    setup = prepare(admin)                      # load user/project, flavor, image, network
    gen = LoadGenerator(setup, rate=25, workers=8); gen.start(); ...; gen.stop()
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import json
import queue
import random
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

import requests

from tests.e2e.ha.cloud import TIMEOUT_S, Cloud, password_auth

MAX_RATE = 30.0  # req/s: the test machine is shared; the load must stay a load, not a stress test
# Password logins are bcrypt-bound (cost 12: ~0.25 s of CPU each) and identity sheds them with 503 past
# its hashing queue, so they are a small share of the mix (~1.5/s at 25 req/s).
DEFAULT_MIX: dict[str, int] = {"token_issue": 1, "token_validate": 8, "image_list": 5, "port_cycle": 3,
                               "server_boot": 1, "server_delete": 1}
LOAD_PREFIX = "ha-load"


@dataclasses.dataclass
class Record:
    """One HTTP request the load sent: when, which op, and how it ended."""

    op: str
    start: float  # time.time()
    end: float
    status: int | None  # None: no answer (exception)
    ok: bool
    error: str = ""  # exception class or the start of a failing answer's body
    resource_id: str = ""  # the server or port the request created or deleted


@dataclasses.dataclass
class LoadSetup:
    """What the load needs, made once by ``prepare``."""

    auth_url: str
    user: str
    password: str
    project: str
    project_id: str
    flavor_id: str
    image_id: str
    network_id: str


def prepare(admin: Cloud, prefix: str = LOAD_PREFIX) -> LoadSetup:
    """Make (or reuse) the load's project and user, a tiny flavor, a small image and a network.

    Quotas of the load project are lifted so a failure is never a quota refusal.
    """
    password = "ha-load-" + uuid.uuid4().hex[:12]
    projects = admin.get("identity", f"/projects?name={prefix}")["projects"]
    project_id = projects[0]["id"] if projects else admin.post(
        "identity", "/projects", {"project": {"name": prefix, "domain_id": "default"}})["project"]["id"]
    users = admin.get("identity", f"/users?name={prefix}")["users"]
    if users:
        user_id = users[0]["id"]
        admin.call("PATCH", "identity", f"/users/{user_id}", json={"user": {"password": password}})
    else:
        user_id = admin.post("identity", "/users", {"user": {
            "name": prefix, "password": password, "domain_id": "default",
            "default_project_id": project_id}})["user"]["id"]
    roles = {r["name"]: r["id"] for r in admin.get("identity", "/roles")["roles"]}
    role_id = roles.get("member") or roles["_member_"]
    admin.call("PUT", "identity", f"/projects/{project_id}/users/{user_id}/roles/{role_id}", expect=(200, 201, 204))
    admin.call("PUT", "compute", f"/os-quota-sets/{project_id}", json={"quota_set": {
        "instances": -1, "cores": -1, "ram": -1}})
    admin.call("PUT", "network", f"/quotas/{project_id}", json={"quota": {"port": -1}})

    flavors = [f for f in admin.get("compute", "/flavors")["flavors"] if f["name"] == f"{prefix}-tiny"]
    flavor_id = flavors[0]["id"] if flavors else admin.post("compute", "/flavors", {"flavor": {
        "name": f"{prefix}-tiny", "vcpus": 1, "ram": 64, "disk": 1}})["flavor"]["id"]

    images = admin.get("image", f"/images?name={prefix}-image")["images"]
    active = [i for i in images if i["status"] == "active"]
    if active:
        image_id = active[0]["id"]
    else:
        image_id = admin.post("image", "/images", {"name": f"{prefix}-image", "disk_format": "raw",
                                                   "container_format": "bare", "visibility": "public"})["id"]
        admin.call("PUT", "image", f"/images/{image_id}/file", expect=(204,), data=b"\0" * 65536,
                   headers={"Content-Type": "application/octet-stream"})

    nets = admin.get("network", f"/networks?name={prefix}-net")["networks"]
    if nets:
        network_id = nets[0]["id"]
    else:
        network_id = admin.post("network", "/networks", {"network": {
            "name": f"{prefix}-net", "shared": True}})["network"]["id"]
        admin.post("network", "/subnets", {"subnet": {
            "network_id": network_id, "name": f"{prefix}-subnet", "ip_version": 4, "cidr": "10.253.0.0/20"}})
    return LoadSetup(admin.auth_url, prefix, password, prefix, project_id, flavor_id, image_id, network_id)


def cleanup_servers(admin: Cloud, project_id: str, timeout: float = 180.0) -> int:
    """Delete every server of the load's project (earlier runs' too) and wait until they are gone.

    Returns how many were left when the bound passed (0: all gone). Without this, the servers of
    runs before fill the (fake) host until boots fail with NoValidHost.
    """
    def listed() -> list[dict[str, Any]]:
        servers: list[dict[str, Any]] = admin.get(
            "compute", f"/servers?all_tenants=1&project_id={project_id}")["servers"]
        return servers
    for server in listed():
        admin.call("DELETE", "compute", f"/servers/{server['id']}", expect=(204, 404, 409))
    deadline = time.monotonic() + timeout
    while (left := len(listed())) and time.monotonic() < deadline:
        time.sleep(2)
    return left


class LoadGenerator:
    """Worker threads taking tickets from a paced dispatcher; every request becomes a ``Record``.

    Tickets come at ``rate`` per second (capped at MAX_RATE). When every worker is busy (the cloud
    slowed down) tickets are dropped rather than queued without bound, and counted in ``dropped``:
    the load offered stays bounded, which is the point.
    """

    def __init__(self, setup: LoadSetup, rate: float = 25.0, workers: int = 8,
                 mix: dict[str, int] | None = None, max_servers: int = 12, seed: int = 0) -> None:
        self.setup = setup
        self.rate = min(rate, MAX_RATE)
        self.workers = workers
        self.mix = dict(mix or DEFAULT_MIX)
        self.max_servers = max_servers
        self.records: list[Record] = []
        self.accepted_servers: list[str] = []  # ids from 202 answers to boots, in order
        self.deleted_servers: list[str] = []  # ids whose delete was accepted
        # ids whose delete got no 204 (a timeout, a 5xx): the delete may still have taken effect
        self.delete_unconfirmed: list[str] = []
        self.dropped = 0
        self.boots_paused = threading.Event()  # set: server boots and deletes are skipped (checks run)
        self._server_ops = 0  # server boots and deletes in flight
        self._live: collections.deque[tuple[float, str]] = collections.deque()  # (accepted at, id)
        self._lock = threading.Lock()
        self._tickets: queue.Queue[str | None] = queue.Queue(maxsize=workers * 2)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._random = random.Random(seed)
        self._names = itertools.count()
        self._endpoints: dict[str, str] = {}
        self._token = ""
        self._local = threading.local()  # .record: the last record this worker made

    # -- running ---------------------------------------------------------------------------------

    def start(self) -> None:
        """Log in once (the catalog), start the workers and the dispatcher."""
        login = Cloud.login(self.setup.auth_url, self._auth_body())
        self._endpoints = {t: login.url(t, "") for t in ("identity", "compute", "network", "image")}
        # One token shared by the workers (issued here, not recorded): the token_issue op measures
        # logins, and a worker whose own login failed must not turn every later ticket into a login.
        self._token = login.token
        self._threads = [threading.Thread(target=self._worker, name=f"load-{i}", daemon=True)
                         for i in range(self.workers)]
        self._threads.append(threading.Thread(target=self._dispatch, name="load-dispatch", daemon=True))
        for t in self._threads:
            t.start()

    def stop(self) -> None:
        """Stop dispatching, let the workers finish the request in hand, and join them."""
        self._stop.set()
        for _ in range(self.workers):
            try:
                self._tickets.put(None, timeout=TIMEOUT_S)
            except queue.Full:
                pass
        for t in self._threads:
            t.join(timeout=TIMEOUT_S + 5)

    def pause_servers(self, timeout: float = TIMEOUT_S + 5) -> None:
        """Stop booting and deleting servers, and wait until those in flight have their answers.

        The consistency checks then see the accepted and deleted lists complete.
        """
        self.boots_paused.set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if not self._server_ops:
                    return
            time.sleep(0.05)

    def resume_servers(self) -> None:
        """Boot and delete servers again."""
        self.boots_paused.clear()

    def snapshot(self) -> list[Record]:
        """A copy of the records so far."""
        with self._lock:
            return list(self.records)

    def _dispatch(self) -> None:
        ops, weights = list(self.mix), list(self.mix.values())
        interval = 1.0 / self.rate
        due = time.monotonic()
        while not self._stop.is_set():
            due += interval
            pause = due - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            op = self._random.choices(ops, weights)[0]
            try:
                self._tickets.put_nowait(op)
            except queue.Full:
                with self._lock:
                    self.dropped += 1

    def _worker(self) -> None:
        http = requests.Session()
        while True:
            op = self._tickets.get()
            if op is None:
                return
            token = self._token
            if not token:  # a client without a token logs in first: this ticket is that login
                self._token = self._issue(http) or ""
                continue
            server_op = op.startswith("server_")
            if server_op:
                with self._lock:
                    self._server_ops += 1
            try:
                getattr(self, f"_op_{op}")(http, token)
            except _Reissue:  # the shared token was refused: a later ticket logs in again
                with self._lock:
                    if self._token == token:
                        self._token = ""
            finally:
                if server_op:
                    with self._lock:
                        self._server_ops -= 1

    # -- recording -------------------------------------------------------------------------------

    def _request(self, http: requests.Session, op: str, method: str, url: str, ok: Iterable[int],
                 token: str = "", resource_id: str = "", **kwargs: Any) -> requests.Response | None:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["X-Auth-Token"] = token
        start = time.time()
        try:
            resp = http.request(method, url, headers=headers, timeout=TIMEOUT_S, **kwargs)
        except requests.RequestException as exc:
            self._add(Record(op, start, time.time(), None, False, f"{type(exc).__name__}: {str(exc)[:200]}",
                             resource_id))
            return None
        good = resp.status_code in ok
        self._add(Record(op, start, time.time(), resp.status_code, good, "" if good else resp.text[:300],
                         resource_id))
        if resp.status_code == 401:
            raise _Reissue()
        return resp if good else None

    def _add(self, record: Record) -> None:
        self._local.record = record
        with self._lock:
            self.records.append(record)

    def _auth_body(self) -> dict[str, Any]:
        return password_auth(self.setup.user, self.setup.password, self.setup.project)

    def _issue(self, http: requests.Session) -> str | None:
        resp = self._request(http, "token_issue", "POST", self._endpoints["identity"] + "/auth/tokens", (201,),
                             json=self._auth_body())
        return resp.headers["X-Subject-Token"] if resp is not None else None

    # -- the ops ---------------------------------------------------------------------------------

    def _op_token_issue(self, http: requests.Session, token: str) -> None:
        self._issue(http)

    def _op_token_validate(self, http: requests.Session, token: str) -> None:
        self._request(http, "token_validate", "GET", self._endpoints["identity"] + "/auth/tokens", (200,),
                      token=token, headers={"X-Subject-Token": token})

    def _op_image_list(self, http: requests.Session, token: str) -> None:
        self._request(http, "image_list", "GET", self._endpoints["image"] + "/images?limit=20", (200,), token=token)

    def _op_port_cycle(self, http: requests.Session, token: str) -> None:
        resp = self._request(http, "port_create", "POST", self._endpoints["network"] + "/ports", (201,), token=token,
                             json={"port": {"network_id": self.setup.network_id,
                                            "name": f"{LOAD_PREFIX}-port-{next(self._names)}"}})
        if resp is None:
            return
        port_id = resp.json()["port"]["id"]
        self._request(http, "port_delete", "DELETE", self._endpoints["network"] + f"/ports/{port_id}", (204,),
                      token=token, resource_id=port_id)

    def _op_server_boot(self, http: requests.Session, token: str) -> None:
        if self.boots_paused.is_set():
            return
        with self._lock:
            full = len(self._live) >= self.max_servers
        if full:  # keep the number of servers bounded: this boot becomes a delete
            self._op_server_delete(http, token)
            return
        body = {"server": {"name": f"{LOAD_PREFIX}-vm-{next(self._names)}", "flavorRef": self.setup.flavor_id,
                           "imageRef": self.setup.image_id, "networks": [{"uuid": self.setup.network_id}]}}
        resp = self._request(http, "server_boot", "POST", self._endpoints["compute"] + "/servers", (202,),
                             token=token, json=body)
        if resp is not None:
            server_id = resp.json()["server"]["id"]
            with self._lock:
                self._local.record.resource_id = server_id
                self.accepted_servers.append(server_id)
                self._live.append((time.time(), server_id))

    def _op_server_delete(self, http: requests.Session, token: str) -> None:
        if self.boots_paused.is_set():
            return
        with self._lock:
            # The oldest server booted at least 5 s ago, so most deletes meet a built server.
            if not self._live or self._live[0][0] > time.time() - 5:
                return
            _, server_id = self._live.popleft()
            # A delete sent again after its first answer was lost: 404 says the first one did its work.
            again = server_id in self.delete_unconfirmed
        resp = self._request(http, "server_delete", "DELETE", self._endpoints["compute"] + f"/servers/{server_id}",
                             (204, 404) if again else (204,), token=token, resource_id=server_id)
        with self._lock:
            if resp is not None:
                self.deleted_servers.append(server_id)
            else:  # maybe not deleted: it stays one of ours to delete later
                self.delete_unconfirmed.append(server_id)
                self._live.append((time.time(), server_id))


class _Reissue(Exception):
    """The token was refused (401): the worker issues a new one before its next op."""


# -- summaries ---------------------------------------------------------------------------------


def by_op(records: Iterable[Record]) -> dict[str, dict[str, int]]:
    """Requests sent and failed per op."""
    out: dict[str, dict[str, int]] = {}
    for r in records:
        row = out.setdefault(r.op, {"sent": 0, "failed": 0})
        row["sent"] += 1
        row["failed"] += 0 if r.ok else 1
    return out


def windows(records: Iterable[Record], width: float = 1.0) -> list[dict[str, float]]:
    """Requests ended and failed per window of ``width`` seconds (by end time), oldest first."""
    counts: dict[int, list[int]] = {}
    for r in records:
        row = counts.setdefault(int(r.end // width), [0, 0])
        row[0] += 1
        row[1] += 0 if r.ok else 1
    return [{"t": k * width, "sent": v[0], "failed": v[1]} for k, v in sorted(counts.items())]


def rate(records: list[Record]) -> float:
    """Requests per second over the span the records cover."""
    if len(records) < 2:
        return 0.0
    span = max(r.end for r in records) - min(r.start for r in records)
    return len(records) / span if span > 0 else 0.0


def in_flight(records: Iterable[Record], instant: float) -> list[Record]:
    """The requests that had started but not ended at ``instant``."""
    return [r for r in records if r.start < instant < r.end]


def recovery_seconds(records: Iterable[Record], since: float) -> float:
    """Seconds from ``since`` (a kill) to the end of the last failed request after it; 0 when none failed."""
    last = max((r.end for r in records if not r.ok and r.end >= since), default=since)
    return last - since


def failures(records: Iterable[Record]) -> list[dict[str, Any]]:
    """The failed requests: op, status (or None), error, when, and the resource they were about."""
    return [{"op": r.op, "status": r.status, "error": r.error, "start": r.start, "end": r.end,
             "resource_id": r.resource_id} for r in records if not r.ok]


def summarize_failures(records: Iterable[Record]) -> list[tuple[str, str, int]]:
    """(op, status or exception class, count) of the failed requests, most frequent first."""
    counter: collections.Counter[tuple[str, str]] = collections.Counter()
    for r in records:
        if not r.ok:
            what = str(r.status) if r.status is not None else r.error.split(":", 1)[0]
            counter[(r.op, what)] += 1
    return [(op, what, n) for (op, what), n in counter.most_common()]


def dump(records: Iterable[Record]) -> str:
    """The records as JSON lines (for a post-mortem of a run)."""
    return "\n".join(json.dumps(dataclasses.asdict(r)) for r in records)
