"""The scheduler's calls to placement: candidates for a flavor, and claiming or releasing them."""

from __future__ import annotations

import logging
import random
from typing import Any

import tenacity
from keystoneauth1 import adapter as ks_adapter

from nubis.common import exceptions
from nubis.common.retrying import log_retry
from nubis.scheduler.request_spec import RequestSpec

LOG = logging.getLogger(__name__)

MICROVERSION = "1.39"


def _race_wait(state: tenacity.RetryCallState) -> float:
    """Growing, random pauses (10-50 ms after the first loss, 20-100 ms after the second, ...): racers spread out."""
    return random.uniform(0.01, 0.05) * state.attempt_number


def _lost_race(resp: Any) -> bool:
    """Placement's 409 for a generation race (someone else claimed at the same moment), not for a lack of room."""
    return resp.status_code == 409 and "placement.concurrent_update" in resp.text


def _racing(attempts: int, what: str) -> tenacity.Retrying:
    """Send again while placement answers a lost race, ``attempts`` times in all; the last answer is returned."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_result(_lost_race),
        stop=tenacity.stop_after_attempt(attempts),
        wait=_race_wait,
        before_sleep=log_retry(LOG, what),
        retry_error_callback=lambda state: state.outcome.result() if state.outcome is not None else None,
    )


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
        resp = _racing(attempts, f"claim of {consumer} lost a generation race")(
            self.http.put, f"/allocations/{consumer}", json=body, raise_exc=False, microversion=MICROVERSION)
        if resp.status_code == 204:
            return True
        if resp.status_code != 409:
            raise PlacementError(f"placement answered {resp.status_code} to a claim: {resp.text[:300]}")
        return False

    def release(self, consumer: str, attempts: int = 5) -> None:
        """Drop every allocation of ``consumer`` (none is fine); raises PlacementError when placement refuses.

        A release that lost a generation race with claims on the same providers is sent again, as claims are.
        """
        resp = _racing(attempts, f"release of {consumer} lost a generation race")(
            self.http.delete, f"/allocations/{consumer}", raise_exc=False, microversion=MICROVERSION)
        if resp.status_code in (204, 404):
            return
        raise PlacementError(f"placement answered {resp.status_code} to a release: {resp.text[:300]}")
