"""A bounded pipeline for image data: fixed buffers filled in place, each handed to every stage at once.

An upload costs a read, an MD5, a SHA-512 (os_hash_algo) and a write per
byte. Done one after the other on the request thread they add up; hashlib
and file writes let go of the GIL on large buffers, so each stage gets a
thread of its own and they overlap with each other and with the next read.
Memory stays flat: ``depth`` buffers of ``size`` bytes are allocated once
and refilled (``readinto``, no per-chunk ``bytes`` to allocate, fault in and
free), and a buffer is refilled only when every stage is done with it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor

# Four 1 MiB buffers: enough for the reader to stay one buffer ahead of the
# slowest stage; 4 MiB a transfer whatever the image's size.
BUFFER_SIZE = 1024 * 1024
DEPTH = 4

Fill = Callable[[memoryview], int]
"""Fills the start of a buffer; returns the bytes it put there, 0 at the end of the data."""

Stage = Callable[[memoryview], object]
"""Consumes one filled piece (a hash update, a write); must not keep the view after returning."""


def run(fill: Fill, stages: Sequence[Stage], on_piece: Stage | None = None,
        depth: int = DEPTH, size: int = BUFFER_SIZE) -> int:
    """Pump ``fill`` into every stage until it returns 0; return the bytes pumped.

    ``on_piece`` runs on the calling thread before the stages see a piece
    (size limits, format checks: an exception there stops the pipeline
    before that piece reaches a stage). Each stage runs in one thread of its
    own, so it sees the pieces in order. The first exception from ``fill``,
    ``on_piece`` or a stage is raised after every stage thread has stopped,
    so the caller can clean up (remove a partial file) knowing nothing still
    writes to it.
    """
    if depth < 2 or size <= 0:
        raise ValueError(f"a pipeline needs at least 2 buffers of at least 1 byte, not {depth} of {size}")
    failed = threading.Event()

    def guarded(stage: Stage, piece: memoryview) -> object:
        if failed.is_set():  # a stage failed: the data is doomed, spend nothing more on it
            return None
        try:
            return stage(piece)
        except BaseException:
            failed.set()
            raise

    buffers = [memoryview(bytearray(size)) for _ in range(depth)]
    in_flight: list[list[Future[object]]] = [[] for _ in range(depth)]
    workers = [ThreadPoolExecutor(1, thread_name_prefix="image-pipeline") for _ in stages]
    total, slot = 0, 0
    try:
        while True:
            if failed.is_set():  # raise the failure now, not when its buffer comes round again
                _raise_first(in_flight)
            for done in in_flight[slot]:  # the buffer is free once every stage has had it
                done.result()
            n = fill(buffers[slot])
            if n == 0:
                break
            piece = buffers[slot][:n]
            total += n
            if on_piece is not None:
                on_piece(piece)
            in_flight[slot] = [worker.submit(guarded, stage, piece) for worker, stage in zip(workers, stages, strict=True)]
            slot = (slot + 1) % depth
        _raise_first(in_flight)
    finally:
        for worker in workers:
            worker.shutdown(wait=True, cancel_futures=True)
    return total


def _raise_first(in_flight: list[list[Future[object]]]) -> None:
    """Wait for every piece in flight; raise the first stage failure among them."""
    for futures in in_flight:
        for done in futures:
            done.result()
