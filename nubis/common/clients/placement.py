"""The one placement client: every Nubis call to the Placement API goes through ``PlacementClient``.

API reference: https://docs.openstack.org/api-ref/placement/ (microversion ``MICROVERSION``, sent on every
call). The caller makes the keystoneauth adapter (``nubis.common.clients.service_adapter(conf, "placement")``,
the service's own credentials) and keeps it; this module only speaks placement's HTTP.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Sequence
from typing import Any

import tenacity
from keystoneauth1 import adapter as ks_adapter

from nubis.common import exceptions
from nubis.common.clients.errors import PlacementError
from nubis.common.retrying import log_retry

LOG = logging.getLogger(__name__)

# The placement microversion every Nubis caller speaks (consumer generations and types, 1.28/1.38).
MICROVERSION = "1.39"

__all__ = ["MICROVERSION", "PlacementClient", "PlacementError"]


def _race_wait(state: tenacity.RetryCallState) -> float:
    """Growing, random pauses (10-50 ms after the first loss, 20-100 ms after the second, ...): racers spread out."""
    return random.uniform(0.01, 0.05) * state.attempt_number


def _lost_race(resp: Any) -> bool:
    """Placement's 409 for a generation race (someone else wrote at the same moment), not for a lack of room."""
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


class PlacementClient:
    """Typed calls to placement over ``http`` (a keystoneauth adapter for service type ``placement``)."""

    def __init__(self, http: ks_adapter.Adapter) -> None:
        self.http = http

    # -- allocation candidates (api-ref: "Allocation candidates") ------------------------------------------
    def allocation_candidates(self, params: Sequence[tuple[str, str]]) -> dict[str, Any]:
        """``GET /allocation_candidates`` with ``params`` (``resources``, ``required``, ``limit``, ...).

        Returns the body (``allocation_requests``, ``provider_summaries``). Raises ``exceptions.BadRequest``
        with placement's detail when it refuses the query (400), ``PlacementError`` for any other failure.
        """
        resp = self.http.get("/allocation_candidates", params=list(params), raise_exc=False,
                             microversion=MICROVERSION)
        if resp.status_code == 400:
            detail = resp.json()["errors"][0]["detail"]
            raise exceptions.BadRequest(f"placement refused the request: {detail}")
        if resp.status_code != 200:
            raise PlacementError(f"placement answered {resp.status_code}: {resp.text[:300]}", resp.status_code)
        return resp.json()  # type: ignore[no-any-return]

    # -- allocations (api-ref: "Allocations") --------------------------------------------------------------
    def allocations(self, consumer: str) -> dict[str, Any]:
        """``GET /allocations/{consumer}``: ``allocations`` by provider, ``consumer_generation``, owner ids
        (an unknown consumer has empty ``allocations``). keystoneauth's ``HttpError`` on a failure."""
        return self.http.get(f"/allocations/{consumer}", microversion=MICROVERSION).json()  # type: ignore[no-any-return]

    def provider_consumers(self, provider: str) -> list[str]:
        """``GET /resource_providers/{uuid}/allocations``: the consumers holding allocations on ``provider``
        (none for an unknown provider); ``PlacementError`` when placement refuses."""
        resp = self.http.get(f"/resource_providers/{provider}/allocations", raise_exc=False,
                             microversion=MICROVERSION)
        if resp.status_code == 404:
            return []
        if resp.status_code != 200:
            raise PlacementError.from_response("a provider's allocations", resp)
        return sorted(resp.json().get("allocations") or {})

    def claim(self, consumer: str, allocation_request: dict[str, Any], project_id: str, user_id: str,
              attempts: int = 5) -> bool:
        """``PUT /allocations/{consumer}`` for a new consumer: True when placement took the allocation, False
        when the resources went to someone else; ``PlacementError`` when placement refuses otherwise.

        A claim that only lost a race for the provider's generation (others claimed on the same host at the
        same moment, which says nothing about room) is tried again, with a growing, random pause so the
        racers spread out.
        """
        body = {"allocations": allocation_request["allocations"], "project_id": project_id or "unknown",
                "user_id": user_id or "unknown", "consumer_generation": None, "consumer_type": "INSTANCE"}
        resp = _racing(attempts, f"claim of {consumer} lost a generation race")(
            self.http.put, f"/allocations/{consumer}", json=body, raise_exc=False, microversion=MICROVERSION)
        if resp.status_code == 204:
            return True
        if resp.status_code != 409:
            raise PlacementError.from_response("a claim", resp)
        return False

    def release(self, consumer: str, attempts: int = 5) -> None:
        """``DELETE /allocations/{consumer}``: drop every allocation of ``consumer`` (none is fine); raises
        ``PlacementError`` when placement refuses. A release that lost a generation race with claims on the
        same providers is sent again, as claims are."""
        resp = _racing(attempts, f"release of {consumer} lost a generation race")(
            self.http.delete, f"/allocations/{consumer}", raise_exc=False, microversion=MICROVERSION)
        if resp.status_code in (204, 404):
            return
        raise PlacementError.from_response("a release", resp)

    def reallocate(self, consumer: str, provider: str, resources: dict[str, int], attempts: int = 3) -> bool:
        """``PUT /allocations/{consumer}``: make ``consumer`` hold ``resources`` (class -> amount) on
        ``provider`` instead of what it holds now.

        Placement replaces the old allocation and checks capacity in one transaction, so a same-host resize
        only needs room for the difference. False when the host has no room for it (or the consumer kept
        changing ``attempts`` times); ``PlacementError`` when placement refuses otherwise.
        """
        for _ in range(attempts):
            current = self.allocations(consumer)
            body = {"allocations": {provider: {"resources": resources}},
                    "project_id": current.get("project_id") or "unknown",
                    "user_id": current.get("user_id") or "unknown",
                    "consumer_generation": current.get("consumer_generation"), "consumer_type": "INSTANCE"}
            resp = self.http.put(f"/allocations/{consumer}", json=body, raise_exc=False, microversion=MICROVERSION)
            if resp.status_code == 204:
                return True
            if resp.status_code != 409:
                raise PlacementError(f"placement answered {resp.status_code}: {resp.text[:300]}", resp.status_code)
            if "concurrent_update" not in resp.text:
                return False  # not enough room
        return False

    def hand_over(self, giver: str, taker: str, consumer_type: str, attempts: int = 3) -> None:
        """``POST /allocations``: move everything ``giver`` holds to ``taker`` (whose ``consumer_type`` it
        sets), replacing what ``taker`` held, in one transaction; ``PlacementError`` when placement refuses
        or the consumers kept changing.

        A move parks the source host's resources on the migration's uuid this way, so the instance's own uuid
        is free to claim the destination; a revert hands them back to the instance, which frees the
        destination at the same time.
        """
        for _ in range(attempts):
            given, taken = self.allocations(giver), self.allocations(taker)
            if not given.get("allocations"):
                return
            owner = {"project_id": given["project_id"], "user_id": given["user_id"]}
            body = {giver: {"allocations": {}, "consumer_generation": given.get("consumer_generation"),
                            "consumer_type": given.get("consumer_type") or "INSTANCE", **owner},
                    taker: {"allocations": {rp: {"resources": a["resources"]}
                                            for rp, a in given["allocations"].items()},
                            "consumer_generation": taken.get("consumer_generation"),
                            "consumer_type": consumer_type, **owner}}
            resp = self.http.post("/allocations", json=body, raise_exc=False, microversion=MICROVERSION)
            if resp.status_code == 204:
                return
            if resp.status_code != 409 or "concurrent_update" not in resp.text:
                raise PlacementError(f"placement refused to move {giver}'s allocation: {resp.status_code} "
                                     f"{resp.text[:300]}", resp.status_code)
        raise PlacementError(f"could not move {giver}'s allocation: it kept changing")

    # -- resource providers and inventories (api-ref: "Resource providers", "Resource provider inventories")
    def ensure_provider(self, rp_uuid: str, name: str, inventory: dict[str, dict[str, Any]],
                        attempts: int = 3) -> str:
        """Create provider ``rp_uuid`` called ``name`` if needed (``POST /resource_providers``) and set its
        inventory (``PUT /resource_providers/{uuid}/inventories``, class -> ``total``, ``reserved``,
        ``allocation_ratio``, ...); returns ``rp_uuid``. ``PlacementError`` when placement refuses, or when
        the provider's generation kept changing ``attempts`` times."""
        for _ in range(attempts):
            resp = self.http.get(f"/resource_providers/{rp_uuid}", raise_exc=False, microversion=MICROVERSION)
            if resp.status_code == 404:
                made = self.http.post("/resource_providers", json={"name": name, "uuid": rp_uuid}, raise_exc=False,
                                      microversion=MICROVERSION)
                if made.status_code not in (200, 201, 409):
                    raise PlacementError(f"placement refused provider {name}: {made.status_code} {made.text[:300]}",
                                         made.status_code)
                continue
            if resp.status_code != 200:
                raise PlacementError(f"placement answered {resp.status_code} for provider {name}", resp.status_code)
            generation = resp.json()["generation"]
            put = self.http.put(f"/resource_providers/{rp_uuid}/inventories", raise_exc=False,
                                microversion=MICROVERSION,
                                json={"resource_provider_generation": generation, "inventories": inventory})
            if put.status_code == 200:
                return rp_uuid
            if put.status_code != 409:
                raise PlacementError(f"placement refused the inventory of {name}: {put.status_code} "
                                     f"{put.text[:300]}", put.status_code)
        raise PlacementError(f"could not set the inventory of {name}: it kept changing under us")
