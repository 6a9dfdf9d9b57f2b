"""The kill tests' own arithmetic: recovery time, in-flight requests, and the consistency verdicts."""

from __future__ import annotations

from typing import Any

from tests.e2e.ha import consistency, load
from tests.e2e.ha.load import Record


def _r(op: str, start: float, end: float, ok: bool = True) -> Record:
    return Record(op, start, end, 200 if ok else 503, ok, "" if ok else "down")


def test_recovery_and_in_flight() -> None:
    records = [_r("a", 0, 1), _r("a", 9.5, 10.5, ok=False), _r("b", 11, 12, ok=False), _r("a", 12, 13),
               _r("c", 14, 14.2)]
    assert load.recovery_seconds(records, 10.0) == 2.0  # the last failure ended at 12
    assert load.recovery_seconds([_r("a", 11, 12)], 10.0) == 0.0
    assert [r.op for r in load.in_flight(records, 10.0)] == ["a"]
    assert load.by_op(records)["a"] == {"sent": 3, "failed": 1}
    assert load.summarize_failures(records) == [("a", "503", 1), ("b", "503", 1)]
    assert [(w["t"], w["failed"]) for w in load.windows(records, 5.0)] == [(0.0, 0), (10.0, 2)]


class _Snap(consistency.Snapshot):
    def __init__(self, servers: list[dict[str, Any]], allocs: dict[str, dict[str, Any]], ports: list[dict[str, Any]],
                 usages: dict[str, int]) -> None:
        self.servers = servers
        self.providers = [{"uuid": "rp", "name": "host1"}]
        self.allocations = allocs
        self.rp_allocations = {"rp": {c: a["rp"] for c, a in allocs.items() if a}}
        self.rp_usages = {"rp": usages}
        self.ports = ports
        self.images = [{"id": "i1", "name": "x", "status": "saving"}]


FLAVOR = {"vcpus": 1, "ram": 64, "disk": 1, "ephemeral": 0, "swap": 0}
CLAIM = {"rp": {"resources": {"VCPU": 1, "MEMORY_MB": 64, "DISK_GB": 1}}}


def _server(sid: str, status: str = "ACTIVE", task: str | None = None, fault: bool = False) -> dict[str, Any]:
    s: dict[str, Any] = {"id": sid, "status": status, "OS-EXT-STS:task_state": task, "flavor": FLAVOR, "tenant_id": "p"}
    if fault:
        s["fault"] = {"message": "boom"}
    return s


def test_consistency_verdicts() -> None:
    servers = [_server("s1"), _server("s2", "BUILD", "spawning"), _server("s3", "ERROR"), _server("s4", "ERROR", fault=True)]
    snap = _Snap(servers, {"s1": CLAIM, "s2": CLAIM, "s3": {}, "s4": {}, "gone": CLAIM},
                 [{"id": "p1", "network_id": "n", "mac_address": "m1", "fixed_ips": [{"ip_address": "10.0.0.5"}]},
                  {"id": "p2", "network_id": "n", "mac_address": "m1", "fixed_ips": [{"ip_address": "10.0.0.5"}],
                   "device_owner": "compute:nova", "device_id": "gone"}],
                 {"VCPU": 3, "MEMORY_MB": 192, "DISK_GB": 3})
    settled = {c.name: c.passed for c in consistency.check_servers_settled(snap, ["s1", "s2", "s3", "s4", "lost"], [])}
    assert settled == {"servers settled (ACTIVE or ERROR, no task state)": False,
                       "servers in ERROR carry a fault": False, "accepted servers not lost": False}
    assert not consistency.check_deleted_gone(snap, ["gone"]).passed
    placement = {c.name: c.passed for c in consistency.check_placement(snap)}
    # s1 and s2 hold their flavor; the rp's usage (3 claims) counts the orphan "gone" too.
    assert placement == {"each server holds its flavor in placement": True,
                         "provider usage equals the sum of its servers' flavors": False,
                         "no allocations without a server": False}
    assert [c.passed for c in consistency.check_ports(snap)] == [False, False, False]
    assert not consistency.check_images(snap).passed
    clean = _Snap([_server("s1"), _server("s4", "ERROR", fault=True)], {"s1": CLAIM, "s4": {}}, [],
                  {"VCPU": 1, "MEMORY_MB": 64, "DISK_GB": 1})
    clean.images = []
    assert all(c.passed for c in [*consistency.check_servers_settled(clean, ["s1", "s4"], ["d"]),
                                  consistency.check_deleted_gone(clean, ["d"]), *consistency.check_placement(clean),
                                  *consistency.check_ports(clean), consistency.check_images(clean)])
