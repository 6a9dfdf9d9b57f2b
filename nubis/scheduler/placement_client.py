"""The scheduler's calls to placement: candidates for a flavor, and claiming or releasing them."""

from __future__ import annotations

import random
import time
from typing import Any

from keystoneauth1 import adapter as ks_adapter

from nubis.common import exceptions
from nubis.scheduler.request_spec import RequestSpec

MICROVERSION = "1.39"


class PlacementError(Exception):
    pass


def resources_for(spec: RequestSpec) -> dict[str, int]:
    flavor = spec.flavor
    cpu_class = "PCPU" if flavor.extra_specs.get("hw:cpu_policy") == "dedicated" else "VCPU"
    wanted = {cpu_class: flavor.vcpus, "MEMORY_MB": flavor.memory_mb, "DISK_GB": flavor.disk_gb}
    for key, value in flavor.extra_specs.items():
        # resources:VCPU=0 switches a class off; resources:CUSTOM_X=1 adds one.
        if key.startswith("resources:"):
            wanted[key.split(":", 1)[1]] = int(value)
    return {rc: n for rc, n in wanted.items() if n > 0}


def query_for(spec: RequestSpec, limit: int) -> list[tuple[str, str]]:
    params = [("resources", ",".join(f"{rc}:{n}" for rc, n in sorted(resources_for(spec).items()))),
              ("limit", str(limit))]
    required = []
    for key, value in spec.flavor.extra_specs.items():
        if key.startswith("trait:"):
            trait = key.split(":", 1)[1]
            if value == "required":
                required.append(trait)
            elif value == "forbidden":
                required.append("!" + trait)
    if required:
        params.append(("required", ",".join(sorted(required))))
    return params


class PlacementClient:
    def __init__(self, http: ks_adapter.Adapter) -> None:
        self.http = http

    def candidates(self, spec: RequestSpec, limit: int) -> dict[str, Any]:
        resp = self.http.get("/allocation_candidates", params=query_for(spec, limit), raise_exc=False,
                             microversion=MICROVERSION)
        if resp.status_code == 400:
            detail = resp.json()["errors"][0]["detail"]
            raise exceptions.BadRequest(f"placement refused the request: {detail}")
        if resp.status_code != 200:
            raise PlacementError(f"placement answered {resp.status_code}: {resp.text[:300]}")
        return resp.json()  # type: ignore[no-any-return]

    def claim(self, consumer: str, allocation_request: dict[str, Any], project_id: str, user_id: str,
              attempts: int = 5) -> bool:
        """True when placement took the allocation; False when the resources went to someone else.

        A claim that only lost a race for the provider's generation (others claimed on the same
        host at the same moment, which says nothing about room) is tried again, with a growing,
        random pause so the racers spread out.
        """
        body = {"allocations": allocation_request["allocations"], "project_id": project_id or "unknown",
                "user_id": user_id or "unknown", "consumer_generation": None, "consumer_type": "INSTANCE"}
        for attempt in range(attempts):
            resp = self.http.put(f"/allocations/{consumer}", json=body, raise_exc=False, microversion=MICROVERSION)
            if resp.status_code == 204:
                return True
            if resp.status_code != 409:
                raise PlacementError(f"placement answered {resp.status_code} to a claim: {resp.text[:300]}")
            if "placement.concurrent_update" not in resp.text or attempt == attempts - 1:
                return False
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        return False

    def release(self, consumer: str, attempts: int = 5) -> None:
        for attempt in range(attempts):
            resp = self.http.delete(f"/allocations/{consumer}", raise_exc=False, microversion=MICROVERSION)
            if resp.status_code in (204, 404):
                return
            if resp.status_code != 409 or "placement.concurrent_update" not in resp.text:
                break
            time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))  # lost a race with other claims: again
        raise PlacementError(f"placement answered {resp.status_code} to a release: {resp.text[:300]}")
