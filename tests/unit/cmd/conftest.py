"""Commands run in-process set up logging for themselves (oslo.log): put it back after each test."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    manager = logging.Logger.manager
    saved = {name: (lg.level, list(lg.handlers), lg.propagate, lg.disabled)
             for name, lg in manager.loggerDict.items() if isinstance(lg, logging.Logger)}
    root = logging.getLogger()
    root_saved = (root.level, list(root.handlers))
    disabled = logging.root.manager.disable
    yield
    logging.disable(disabled)
    root.setLevel(root_saved[0])
    for handler in root.handlers[:]:
        if handler not in root_saved[1]:
            root.removeHandler(handler)
    for handler in root_saved[1]:
        if handler not in root.handlers:
            root.addHandler(handler)
    for name, lg in list(manager.loggerDict.items()):
        if not isinstance(lg, logging.Logger):
            continue
        if name in saved:
            lg.level, lg.handlers, lg.propagate, lg.disabled = saved[name][0], saved[name][1], *saved[name][2:]
        else:
            lg.setLevel(logging.NOTSET)
            lg.handlers = []
            lg.propagate = True
            lg.disabled = False
    manager._clear_cache()  # levels were set directly: drop the loggers' cached answers
