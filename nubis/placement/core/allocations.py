"""Consumers' allocations: claims checked against capacity and made atomic by provider generations.

A claim reads each touched provider's generation, checks capacity, writes,
then compare-and-swaps every touched generation. Two claims racing for the
last resources of a host both pass the capacity check, but only one CAS
succeeds; the loser's transaction rolls back and is retried from the top,
where it sees the winner's allocation.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import sqlalchemy as sa
import tenacity
from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db import retry
from nubis.common.db.engine import Database
from nubis.common.retrying import log_retry
from nubis.placement.core import inventories, names, providers
from nubis.placement.db.models import Allocation, Consumer, ResourceProvider

LOG = logging.getLogger(__name__)

T = TypeVar("T")
CLAIM_ATTEMPTS = 10
# Spread the racers out: each retry waits longer (2 ms up to 10 ms, 20 ms, ... 320 ms), at random.
CLAIM_WAIT = tenacity.wait_random_exponential(multiplier=0.01, min=0.002, max=0.32)


@dataclasses.dataclass(frozen=True)
class ConsumerAllocations:
    consumer_uuid: str
    resources: dict[str, dict[str, int]]  # provider uuid -> resource class -> amount
    project_id: str
    user_id: str
    consumer_generation: int | None = None  # None: new consumer expected
    check_generation: bool = True  # microversion >= 1.28
    consumer_type: str | None = None


def _lost_race(error: BaseException) -> bool:
    """A generation conflict, or InnoDB killing one of two claims locking the same provider rows (a deadlock):
    both mean another claim got there first, and the claim should be read and checked again."""
    if isinstance(error, ConsumerGenerationConflict):
        return False
    if isinstance(error, exceptions.Conflict):
        return error.error_type == "placement.concurrent_update"
    return retry.is_retryable(error)


def retry_on_generation_conflict(db: Database, work: Callable[[orm.Session], T]) -> T:
    """Run ``work`` in a write transaction, again (up to ``CLAIM_ATTEMPTS`` in all) when it lost a race.

    Raises the last ``Conflict`` (placement.concurrent_update) when every attempt lost; a deadlock on the
    last attempt becomes that same 409.
    """

    def attempt() -> T:
        with db.writer() as session:
            return work(session)

    claiming = tenacity.Retrying(
        retry=tenacity.retry_if_exception(_lost_race),
        stop=tenacity.stop_after_attempt(CLAIM_ATTEMPTS),
        wait=CLAIM_WAIT,
        before_sleep=log_retry(LOG, "allocation write lost a race with another claim"),
        reraise=True,
    )
    try:
        return claiming(attempt)
    except sa.exc.DBAPIError as exc:
        if retry.lost_to_another(exc):
            raise providers.concurrent_update("the claimed providers") from None
        raise


class ConsumerGenerationConflict(exceptions.Conflict):
    """The request named a consumer generation that is not the stored one.

    Rendered like a provider generation conflict (409 placement.concurrent_update), but not retried here:
    the request carries its generation, so running it again can only fail again (Placement does the same).
    """


def _consumer_conflict(consumer: str, detail: str) -> exceptions.Conflict:
    return ConsumerGenerationConflict(f"consumer generation conflict for {consumer}: {detail}",
                                      error_type="placement.concurrent_update")


def replace(session: orm.Session, requests: list[ConsumerAllocations]) -> None:
    """Replace the allocations of each consumer in ``requests`` (one transaction)."""
    touched: dict[int, ResourceProvider] = {}
    for req in requests:
        consumer = session.get(Consumer, req.consumer_uuid)
        if req.check_generation:
            if consumer is None and req.consumer_generation is not None:
                raise _consumer_conflict(req.consumer_uuid, "consumer_generation given for a new consumer "
                                                            "(expected null).")
            if consumer is not None and req.consumer_generation != consumer.generation:
                raise _consumer_conflict(req.consumer_uuid, f"expected generation {consumer.generation}, "
                                                            f"got {req.consumer_generation}.")
        old = session.scalars(sa.select(Allocation).where(Allocation.consumer_uuid == req.consumer_uuid)).all()
        for alloc in old:
            rp = session.get(ResourceProvider, alloc.resource_provider_id)
            if rp is not None:
                touched[rp.id] = rp
            session.delete(alloc)
        session.flush()
        if not req.resources:
            if consumer is not None:
                session.delete(consumer)
            continue
        if consumer is None:
            consumer = Consumer(uuid=req.consumer_uuid, project_id=req.project_id, user_id=req.user_id,
                                consumer_type=req.consumer_type, generation=0)
            session.add(consumer)
            try:
                session.flush()
            except sa.exc.IntegrityError:
                # Another request (a client's retry of this very claim, say) created it since it was read: a
                # lost race, run again, which reads it (then a request that expected a new consumer gets the
                # consumer generation conflict; one that names no generation simply replaces its allocations).
                raise exceptions.Conflict(f"consumer {req.consumer_uuid} was created by another request "
                                          "meanwhile; read it again and retry.",
                                          error_type="placement.concurrent_update") from None
        else:
            consumer.project_id, consumer.user_id = req.project_id, req.user_id
            consumer.consumer_type = req.consumer_type or consumer.consumer_type
            consumer.generation += 1
        for rp_uuid, amounts in req.resources.items():
            try:
                rp = providers.get(session, rp_uuid)
            except exceptions.NotFound:
                raise exceptions.BadRequest(f"Allocation for resource provider '{rp_uuid}' that does not exist.") from None
            touched[rp.id] = rp
            names.require_resource_classes(session, amounts)
            for rc, amount in amounts.items():
                session.add(Allocation(resource_provider_id=rp.id, consumer_uuid=req.consumer_uuid,
                                       resource_class=rc, used=amount))
    session.flush()
    for rp in touched.values():
        _check_capacity(session, rp)
    for rp in touched.values():
        providers.bump_generation(session, rp)


def _check_capacity(session: orm.Session, rp: ResourceProvider) -> None:
    invs = inventories.of_provider(session, rp)
    mine = session.execute(
        sa.select(Allocation.resource_class, Allocation.used).where(Allocation.resource_provider_id == rp.id))
    used: dict[str, int] = {}
    for rc, amount in mine:
        used[rc] = used.get(rc, 0) + amount
    for rc, total_used in used.items():
        inv = invs.get(rc)
        if inv is None:
            raise exceptions.Conflict(f"Unable to allocate inventory: resource provider {rp.uuid} has no "
                                      f"inventory of {rc}.", error_type="placement.undefined_code")
        if total_used > inventories.capacity(inv):
            raise exceptions.Conflict(
                f"Unable to allocate inventory: Unable to create allocation for '{rc}' on resource provider "
                f"'{rp.uuid}'. The requested amount would exceed the capacity "
                f"({total_used} > {inventories.capacity(inv)}).", error_type="placement.undefined_code")
    # Per-allocation unit rules apply to what this request added; checking every row is simpler and equivalent
    # for rows that passed before.
    rows = session.execute(sa.select(Allocation.resource_class, Allocation.used).where(
        Allocation.resource_provider_id == rp.id))
    for rc, amount in rows:
        inv = invs[rc]
        if amount < inv.min_unit or amount > inv.max_unit or amount % inv.step_size:
            raise exceptions.BadRequest(
                f"Unable to allocate inventory: {amount} {rc} on {rp.uuid} is outside min_unit {inv.min_unit}, "
                f"max_unit {inv.max_unit} or step_size {inv.step_size}.")


def of_consumer(session: orm.Session, consumer_uuid: str) -> tuple[Consumer | None, dict[str, dict[str, Any]]]:
    rows = session.execute(
        sa.select(ResourceProvider.uuid, ResourceProvider.generation, Allocation.resource_class, Allocation.used)
        .join(ResourceProvider, ResourceProvider.id == Allocation.resource_provider_id)
        .where(Allocation.consumer_uuid == consumer_uuid))
    out: dict[str, dict[str, Any]] = {}
    for rp_uuid, generation, rc, used in rows:
        entry = out.setdefault(rp_uuid, {"generation": generation, "resources": {}})
        entry["resources"][rc] = used
    return session.get(Consumer, consumer_uuid), out


def of_provider(session: orm.Session, rp: ResourceProvider) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for consumer, rc, used in session.execute(sa.select(
            Allocation.consumer_uuid, Allocation.resource_class, Allocation.used).where(
            Allocation.resource_provider_id == rp.id)):
        out.setdefault(consumer, {"resources": {}})["resources"][rc] = used
    return out


def project_usages(session: orm.Session, project_id: str, user_id: str | None,
                   consumer_type: str | None = None) -> dict[str, int]:
    q = (sa.select(Allocation.resource_class, sa.func.sum(Allocation.used))
         .join(Consumer, Consumer.uuid == Allocation.consumer_uuid)
         .where(Consumer.project_id == project_id).group_by(Allocation.resource_class))
    if user_id:
        q = q.where(Consumer.user_id == user_id)
    if consumer_type and consumer_type != "all":
        q = q.where(Consumer.consumer_type == consumer_type)
    return {rc: int(n) for rc, n in session.execute(q)}
