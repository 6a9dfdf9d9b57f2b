"""Which request context is current where: requests, work done on the service's behalf, threads, periodic rounds."""

from __future__ import annotations

import threading

from nubis.common import context

RID = "req-12345678-1234-1234-1234-123456789abc"


def _in_new_thread(fn):  # type: ignore[no-untyped-def]
    """``fn()`` run in a fresh thread (an empty context store of its own); its result."""
    out = []
    thread = threading.Thread(target=lambda: out.append(fn()))
    thread.start()
    thread.join()
    return out[0]


def test_scope_puts_back_what_was_current() -> None:
    def run():  # type: ignore[no-untyped-def]
        with context.scope():
            inside = context.RequestContext(request_id=RID)
        after = context.current()
        outer = context.RequestContext(request_id="req-outer")
        with context.scope():
            context.RequestContext(request_id=RID)
            nested = context.current()
        return inside, after, outer, nested, context.current()

    inside, after, outer, nested, restored = _in_new_thread(run)
    assert inside.request_id == RID
    assert after is None  # a pooled thread keeps no stale id
    assert nested is not None and nested.request_id == RID
    assert restored is outer


def test_admin_context_inside_a_request_keeps_its_ids_and_the_current_context() -> None:
    def run():  # type: ignore[no-untyped-def]
        caller = context.RequestContext(user_id="u1", request_id=RID, global_request_id="req-global")
        admin = context.admin_context()
        return caller, admin, context.current()

    caller, admin, current = _in_new_thread(run)
    assert (admin.request_id, admin.global_request_id) == (RID, "req-global")
    assert admin.is_admin and current is caller


def test_admin_context_outside_a_request_has_a_new_id_and_changes_nothing() -> None:
    def run():  # type: ignore[no-untyped-def]
        return context.admin_context(), context.admin_context(), context.current()

    first, second, current = _in_new_thread(run)
    assert first.request_id != second.request_id
    assert current is None


def test_each_periodic_round_is_current_under_a_new_id() -> None:
    def run():  # type: ignore[no-untyped-def]
        rounds = []
        for _ in range(2):
            ctx = context.start_task()
            rounds.append((ctx.request_id, context.current()))
            # Work a round does on the service's behalf stays under the round's id.
            assert context.admin_context().request_id == ctx.request_id
        return rounds

    (first_id, first_current), (second_id, second_current) = _in_new_thread(run)
    assert first_id != second_id
    assert first_current is not None and first_current.request_id == first_id
    assert second_current is not None and second_current.request_id == second_id


def test_spawned_thread_carries_the_spawning_request() -> None:
    def run():  # type: ignore[no-untyped-def]
        seen = []
        caller = context.RequestContext(user_id="u1", request_id=RID)
        context.spawn(lambda: seen.append(context.current())).join()
        context.clear_current()
        context.spawn(lambda: seen.append(context.current())).join()
        return caller, seen

    caller, (during, without) = _in_new_thread(run)
    assert during is caller
    assert without is None
