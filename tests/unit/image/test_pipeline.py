"""The image data pipeline: digests right, buffers bounded, failures clean up."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import threading

import pytest

from nubis.image import store as image_store
from nubis.image.core import data, pipeline

SIZE = 64 * 1024  # small buffers: many rounds through the ring in a test-sized body


def _body(n: int) -> bytes:
    return os.urandom(n)


def test_digests_and_file_match_the_body(tmp_path: object) -> None:
    body = _body(7 * SIZE + 123)  # not a whole number of buffers
    md5, sha = hashlib.md5(), hashlib.sha512()
    fs = image_store.FilesystemStore(str(tmp_path))
    with fs.writer("img") as write:
        total = pipeline.run(data.stream_filler(io.BytesIO(body), len(body)), (md5.update, sha.update, write),
                             size=SIZE)
    assert total == len(body)
    assert md5.hexdigest() == hashlib.md5(body).hexdigest()
    assert sha.hexdigest() == hashlib.sha512(body).hexdigest()
    assert b"".join(fs.open("img")) == body
    assert os.listdir(str(tmp_path)) == ["img"]  # no partial file left


def test_each_stage_sees_the_pieces_in_order() -> None:
    body = _body(20 * SIZE)
    seen: list[bytes] = []
    pipeline.run(data.chunk_filler([body[:SIZE // 3], body[SIZE // 3:]]), (lambda p: seen.append(bytes(p)),),
                 size=SIZE)
    assert b"".join(seen) == body


def test_memory_is_the_fixed_ring_whatever_the_size() -> None:
    buffers: set[int] = set()
    fill = data.stream_filler(io.BytesIO(_body(50 * SIZE)), 50 * SIZE)

    def spying_fill(buffer: memoryview) -> int:
        buffers.add(id(buffer.obj))
        return fill(buffer)

    pipeline.run(spying_fill, (hashlib.md5().update,), depth=3, size=SIZE)
    assert len(buffers) == 3


def test_a_short_body_raises_and_leaves_no_file(tmp_path: object) -> None:
    body = _body(3 * SIZE)
    fs = image_store.FilesystemStore(str(tmp_path))
    with pytest.raises(data.UploadAborted, match=f"{SIZE} bytes short"), fs.writer("img") as write:
        pipeline.run(data.stream_filler(io.BytesIO(body), len(body) + SIZE), (write,), size=SIZE)
    assert os.listdir(str(tmp_path)) == []


def test_a_failing_write_stops_every_stage_and_leaves_no_file(tmp_path: object) -> None:
    fs = image_store.FilesystemStore(str(tmp_path))
    calls = {"write": 0, "hash": 0}
    lock = threading.Lock()

    def hash_stage(piece: memoryview) -> None:
        with lock:
            calls["hash"] += 1

    with pytest.raises(image_store.StoreFull), fs.writer("img") as write:
        def full_disk(piece: memoryview) -> None:
            calls["write"] += 1
            if calls["write"] == 3:
                raise OSError(errno.ENOSPC, "No space left on device")
            write(piece)

        pipeline.run(data.stream_filler(io.BytesIO(_body(40 * SIZE)), 40 * SIZE), (hash_stage, full_disk),
                     depth=2, size=SIZE)
    assert os.listdir(str(tmp_path)) == []
    assert calls["write"] == 3  # nothing written after the failure
    assert calls["hash"] < 40  # the reader stopped within the ring's depth, not at the end of the body


def test_a_refusal_on_the_reading_thread_keeps_the_piece_from_the_stages() -> None:
    written: list[int] = []

    def refuse_second(piece: memoryview) -> None:
        if refuse_second.count == 1:  # type: ignore[attr-defined]
            raise ValueError("over the limit")
        refuse_second.count += 1  # type: ignore[attr-defined]

    refuse_second.count = 0  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="over the limit"):
        pipeline.run(data.chunk_filler([_body(4 * SIZE)]), (lambda p: written.append(len(p)),),
                     on_piece=refuse_second, size=SIZE)
    assert written == [SIZE]


def test_a_chunked_body_read_to_its_end() -> None:
    body = _body(5 * SIZE + 1)
    md5 = hashlib.md5()
    assert pipeline.run(data.stream_filler(io.BytesIO(body), None), (md5.update,), size=SIZE) == len(body)
    assert md5.hexdigest() == hashlib.md5(body).hexdigest()


def test_a_pipeline_needs_two_buffers() -> None:
    with pytest.raises(ValueError, match="at least 2 buffers"):
        pipeline.run(data.chunk_filler([]), (), depth=1)
