"""What every tenacity retry in Nubis shares: one debug line per retry, naming the attempt."""

from __future__ import annotations

import logging
from collections.abc import Callable

import tenacity


def log_retry(log: logging.Logger, what: str, level: int = logging.DEBUG) -> Callable[[tenacity.RetryCallState], None]:
    """A ``before_sleep`` callback: logs ``what``, the attempt that failed, why, and the pause before the next."""

    def before_sleep(state: tenacity.RetryCallState) -> None:
        outcome = state.outcome
        # Retried on an exception, or on a result (e.g. an HTTP answer) that asked for another try.
        why = None if outcome is None else outcome.exception() or outcome.result()
        pause = state.next_action.sleep if state.next_action is not None else 0.0
        log.log(level, "%s: attempt %d failed (%s); retrying in %.3fs", what, state.attempt_number, why, pause)

    return before_sleep
