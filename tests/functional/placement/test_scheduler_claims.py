"""The scheduler's placement client against a real placement: claims that lose a race are sent again."""

from __future__ import annotations

import logging
import threading
import uuid

import pytest

from nubis.common.clients.placement import PlacementClient
from tests.functional.cloud import Cloud
from tests.functional.placement.conftest import placement_client
from tests.functional.placement.test_placement_api import _provider


def _retries(caplog: pytest.LogCaptureFixture, consumer: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if consumer in r.getMessage() and "attempt" in r.getMessage()]


def test_claim_that_lost_a_race_is_sent_again_until_it_lands(cloud: Cloud, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="nubis.common.clients.placement")
    rp = _provider(cloud, {"VCPU": {"total": 4}, "MEMORY_MB": {"total": 4096}})
    client = PlacementClient(placement_client(cloud))
    consumer = str(uuid.uuid4())
    request = {"allocations": {rp: {"resources": {"VCPU": 1, "MEMORY_MB": 512}}}}
    assert client.claim(consumer, request, "p", "u")
    # Another claim for the same consumer is placement's 409 placement.concurrent_update until the first is
    # released (as when a reschedule claims while the previous host's claim is still being dropped).
    releaser = threading.Timer(0.3, client.release, args=(consumer,))
    releaser.start()
    try:
        assert client.claim(consumer, request, "p", "u", attempts=50)
    finally:
        releaser.join()
    lines = _retries(caplog, consumer)
    assert lines and "attempt 1 failed" in lines[0] and "409" in lines[0]
    got = placement_client(cloud).get(f"/allocations/{consumer}").json()
    assert got["allocations"][rp]["resources"] == {"VCPU": 1, "MEMORY_MB": 512}
    client.release(consumer)


def test_claim_without_room_is_not_retried(cloud: Cloud, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="nubis.common.clients.placement")
    rp = _provider(cloud, {"VCPU": {"total": 1}, "MEMORY_MB": {"total": 1024}})
    client = PlacementClient(placement_client(cloud))
    consumer = str(uuid.uuid4())
    assert not client.claim(consumer, {"allocations": {rp: {"resources": {"VCPU": 2}}}}, "p", "u")
    assert _retries(caplog, consumer) == []
    client.release(consumer)  # nothing to release: fine
