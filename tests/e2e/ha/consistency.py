"""The checks after a kill: nothing the load was told was accepted is lost, stuck or counted twice.

Each check returns a ``CheckResult`` (name, passed, detail). ``run_all`` repeats them until all pass
or a bound passes (builds, deletes and their clean-ups finish asynchronously), and returns the last
results: a check that still fails at the bound is a real inconsistency.
"""

from __future__ import annotations

import collections
import dataclasses
import math
import time
from collections.abc import Callable, Iterable
from typing import Any

from tests.e2e.ha.cloud import Cloud

UNSETTLED_IMAGE_STATES = ("queued", "saving", "importing", "uploading")


@dataclasses.dataclass
class CheckResult:
    """One named consistency check and what it found."""

    name: str
    passed: bool
    detail: str = ""


def flavor_resources(flavor: dict[str, Any]) -> dict[str, int]:
    """The placement resources a server of this (embedded, microversion >= 2.47) flavor claims."""
    disk = int(flavor.get("disk", 0)) + int(flavor.get("ephemeral", 0)) + math.ceil(int(flavor.get("swap") or 0) / 1024)
    out = {"VCPU": int(flavor["vcpus"]), "MEMORY_MB": int(flavor["ram"]), "DISK_GB": disk}
    return {k: v for k, v in out.items() if v}


def _add(total: dict[str, int], more: dict[str, int]) -> None:
    for k, v in more.items():
        total[k] = total.get(k, 0) + v


def _nonzero(usages: dict[str, int]) -> dict[str, int]:
    return {k: v for k, v in usages.items() if v}


class Snapshot:
    """What the checks read, once per round: servers, allocations, providers, ports, images."""

    def __init__(self, admin: Cloud) -> None:
        self.servers: list[dict[str, Any]] = admin.get("compute", "/servers/detail?all_tenants=1")["servers"]
        self.providers: list[dict[str, Any]] = admin.get("placement", "/resource_providers")["resource_providers"]
        self.rp_usages = {rp["uuid"]: admin.get("placement", f"/resource_providers/{rp['uuid']}/usages")["usages"]
                          for rp in self.providers}
        self.rp_allocations = {
            rp["uuid"]: admin.get("placement", f"/resource_providers/{rp['uuid']}/allocations")["allocations"]
            for rp in self.providers}
        self.allocations = {s["id"]: admin.get("placement", f"/allocations/{s['id']}")["allocations"]
                            for s in self.servers}
        self.ports: list[dict[str, Any]] = admin.get("network", "/ports")["ports"]
        self.images: list[dict[str, Any]] = admin.get("image", "/images?limit=1000")["images"]


def check_servers_settled(snap: Snapshot, accepted: Iterable[str], deleted: Iterable[str],
                          unconfirmed: Iterable[str] = ()) -> list[CheckResult]:
    """Every accepted boot is ACTIVE or ERROR with a fault, none in BUILD or with a task state; none lost.

    A server missing from the list is lost unless its delete was accepted, or was sent and got no
    answer or an error (``unconfirmed``: a delete that timed out on the client may still be done).
    """
    by_id = {s["id"]: s for s in snap.servers}
    gone = set(deleted) | set(unconfirmed)
    stuck, faultless, lost = [], [], []
    for server_id in accepted:
        s = by_id.get(server_id)
        if s is None:
            if server_id not in gone:
                lost.append(server_id)
            continue
        task = s.get("OS-EXT-STS:task_state")
        if s["status"] not in ("ACTIVE", "ERROR") or task:
            stuck.append(f"{server_id} {s['status']}/{task}")
        elif s["status"] == "ERROR" and not s.get("fault"):
            faultless.append(server_id)
    return [CheckResult("servers settled (ACTIVE or ERROR, no task state)", not stuck, "; ".join(stuck[:10])),
            CheckResult("servers in ERROR carry a fault", not faultless, " ".join(faultless[:10])),
            CheckResult("accepted servers not lost", not lost, " ".join(lost[:10]))]


def check_deleted_gone(snap: Snapshot, deleted: Iterable[str]) -> CheckResult:
    """Servers whose delete was accepted are no longer listed and hold no allocations."""
    listed = {s["id"]: s for s in snap.servers}
    allocated = {c for allocs in snap.rp_allocations.values() for c in allocs}
    left = [f"{i} listed as {listed[i]['status']}" for i in deleted if i in listed]
    left += [f"{i} still has allocations" for i in deleted if i in allocated]
    return CheckResult("deleted servers gone (not listed, no allocations)", not left, "; ".join(left[:10]))


def check_placement(snap: Snapshot) -> list[CheckResult]:
    """Placement usage equals the servers' flavors: per provider, per project, per server; no orphans.

    A server in ERROR may hold no allocation (its build failed before or after the claim was undone);
    it is then counted nowhere. Every other server must hold exactly its flavor.
    """
    live = {s["id"]: s for s in snap.servers}
    expected_rp: dict[str, dict[str, int]] = collections.defaultdict(dict)
    expected_project: dict[str, dict[str, int]] = collections.defaultdict(dict)
    wrong_server = []
    for s in snap.servers:
        allocs = snap.allocations.get(s["id"], {})
        want = flavor_resources(s["flavor"])
        got: dict[str, int] = {}
        for rp_uuid, alloc in allocs.items():
            _add(got, alloc["resources"])
            _add(expected_rp[rp_uuid], want if len(allocs) == 1 else alloc["resources"])
        if allocs:
            _add(expected_project[s["tenant_id"]], want)
        if s["status"] == "ERROR" and not allocs:
            continue
        if _nonzero(got) != want:
            wrong_server.append(f"{s['id']} ({s['status']}) holds {got}, flavor {want}")
    wrong_rp, orphans = [], []
    for rp in snap.providers:
        used = _nonzero(snap.rp_usages[rp["uuid"]])
        if used != _nonzero(expected_rp.get(rp["uuid"], {})):
            wrong_rp.append(f"{rp['name']} uses {used}, servers' flavors {dict(expected_rp.get(rp['uuid'], {}))}")
        orphans += [f"{c} on {rp['name']}" for c in snap.rp_allocations[rp["uuid"]] if c not in live]
    return [CheckResult("each server holds its flavor in placement", not wrong_server, "; ".join(wrong_server[:10])),
            CheckResult("provider usage equals the sum of its servers' flavors", not wrong_rp, "; ".join(wrong_rp)),
            CheckResult("no allocations without a server", not orphans, "; ".join(orphans[:10]))]


def check_project_usages(admin: Cloud, snap: Snapshot) -> CheckResult:
    """GET /usages?project_id=P equals the flavors of P's servers that hold allocations."""
    expected: dict[str, dict[str, int]] = collections.defaultdict(dict)
    for s in snap.servers:
        if snap.allocations.get(s["id"]):
            _add(expected[s["tenant_id"]], flavor_resources(s["flavor"]))
    projects = set(expected) | {s["tenant_id"] for s in snap.servers}
    wrong = []
    for project in sorted(projects):
        used = _nonzero(admin.get("placement", f"/usages?project_id={project}")["usages"])
        if used != expected.get(project, {}):
            wrong.append(f"project {project} uses {used}, servers' flavors {expected.get(project, {})}")
    return CheckResult("project usage equals the sum of its servers' flavors", not wrong, "; ".join(wrong))


def check_ports(snap: Snapshot) -> list[CheckResult]:
    """No IP address on two ports of one network, no MAC address twice, no port of a deleted server."""
    ips: dict[tuple[str, str], list[str]] = collections.defaultdict(list)
    macs: dict[str, list[str]] = collections.defaultdict(list)
    for p in snap.ports:
        macs[p["mac_address"]].append(p["id"])
        for ip in p.get("fixed_ips", []):
            ips[(p["network_id"], ip["ip_address"])].append(p["id"])
    dup_ip = [f"{ip} on {ports}" for (_, ip), ports in ips.items() if len(ports) > 1]
    dup_mac = [f"{mac} on {ports}" for mac, ports in macs.items() if len(ports) > 1]
    live = {s["id"] for s in snap.servers}
    stray = [f"{p['id']} of server {p['device_id']}" for p in snap.ports
             if p.get("device_owner", "").startswith("compute:") and p.get("device_id") not in live]
    return [CheckResult("no IP address on two ports of a network", not dup_ip, "; ".join(dup_ip[:10])),
            CheckResult("no MAC address on two ports", not dup_mac, "; ".join(dup_mac[:10])),
            CheckResult("no port left by a deleted server", not stray, "; ".join(stray[:10]))]


def check_images(snap: Snapshot) -> CheckResult:
    """No image left queued/saving/importing (an upload killed midway must end with a clear status)."""
    stuck = [f"{i['id']} ({i.get('name')}) {i['status']}" for i in snap.images if i["status"] in UNSETTLED_IMAGE_STATES]
    return CheckResult("no image stuck queued or saving", not stuck, "; ".join(stuck[:10]))


def evaluate(admin: Cloud, accepted: Iterable[str], deleted: Iterable[str],
             unconfirmed: Iterable[str] = ()) -> list[CheckResult]:
    """One round of every check against the cloud as it is now (``unconfirmed``: deletes sent, not answered 204)."""
    accepted, deleted = list(accepted), list(deleted)
    snap = Snapshot(admin)
    return [*check_servers_settled(snap, accepted, deleted, unconfirmed), check_deleted_gone(snap, deleted),
            *check_placement(snap), check_project_usages(admin, snap), *check_ports(snap), check_images(snap)]


# A delete that failed on its host rests the server in ERROR with this in its fault (compute agent).
FAILED_DELETE = "Delete of instance"


def delete_failed_deletes_again(admin: Cloud, deleted: Iterable[str]) -> list[str]:
    """What the fault of a failed delete tells its user to do: delete again each of ``deleted`` that rests
    in ERROR with a failed-delete fault. Returns their ids."""
    wanted = set(deleted)
    again = [s["id"] for s in admin.get("compute", "/servers/detail?all_tenants=1")["servers"]
             if s["id"] in wanted and s["status"] == "ERROR"
             and FAILED_DELETE in (s.get("fault") or {}).get("message", "")]
    for server_id in again:
        admin.call("DELETE", "compute", f"/servers/{server_id}", expect=(204, 404))
    return again


def run_all(admin: Cloud, accepted: Iterable[str], deleted: Iterable[str], timeout: float = 120.0,
            interval: float = 3.0, log: Callable[[str], None] | None = None,
            unconfirmed: Iterable[str] = ()) -> list[CheckResult]:
    """Repeat ``evaluate`` until every check passes or ``timeout`` seconds pass; the last results.

    A round that cannot read the cloud (an API still recovering) counts as one failed check and is
    tried again.
    """
    accepted, deleted, unconfirmed = list(accepted), list(deleted), list(unconfirmed)
    deadline = time.monotonic() + timeout
    while True:
        try:
            again = delete_failed_deletes_again(admin, deleted)
            if again and log is not None:
                log(f"deleted again after a failed delete: {', '.join(again)}")
            results = evaluate(admin, accepted, deleted, unconfirmed)
        except Exception as exc:  # noqa: BLE001 - any failure to read is reported as a check result
            results = [CheckResult("the cloud answers the checks", False, f"{type(exc).__name__}: {exc}")]
        if all(r.passed for r in results) or time.monotonic() >= deadline:
            return results
        if log is not None:
            log("checks pending: " + "; ".join(f"{r.name}: {r.detail[:120]}" for r in results if not r.passed))
        time.sleep(interval)
