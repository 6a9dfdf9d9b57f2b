"""The image cache under concurrent boots, and with bad downloads."""

from __future__ import annotations

import hashlib
import os
import threading
import time

import pytest

from nubis.compute.virt.libvirt import imagecache

DATA = os.urandom(256 * 1024)
SHA512 = hashlib.sha512(DATA).hexdigest()


def test_concurrent_boots_download_once(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = imagecache.ImageCache(str(tmp_path))
    calls = []

    def download(f) -> None:  # type: ignore[no-untyped-def]
        calls.append(threading.get_ident())
        for i in range(0, len(DATA), 4096):
            f.write(DATA[i:i + 4096])
            time.sleep(0.0005)  # slow enough that the others arrive meanwhile

    paths: list[str] = []
    threads = [threading.Thread(target=lambda: paths.append(cache.fetch("img", "sha512", SHA512, download)))
               for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1
    assert len(set(paths)) == 1 and len(paths) == 8
    with open(paths[0], "rb") as f:
        assert f.read() == DATA
    assert sorted(os.listdir(tmp_path)) == [os.path.basename(paths[0])]  # no temp or lock files left


def test_corrupt_download_leaves_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = imagecache.ImageCache(str(tmp_path))
    with pytest.raises(imagecache.ImageVerificationFailed) as info:
        cache.fetch("img", "sha512", SHA512, lambda f: f.write(DATA[:-1] + b"x"))
    assert "img" in str(info.value)
    assert os.listdir(tmp_path) == []
    # A later good download still works.
    assert os.path.exists(cache.fetch("img", "sha512", SHA512, lambda f: f.write(DATA)))


def test_failed_download_leaves_nothing(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = imagecache.ImageCache(str(tmp_path))

    def broken(f) -> None:  # type: ignore[no-untyped-def]
        f.write(DATA[:100])
        raise ConnectionError("image service went away")

    with pytest.raises(ConnectionError):
        cache.fetch("img", "sha512", SHA512, broken)
    assert os.listdir(tmp_path) == []


def test_changed_image_is_a_new_entry(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = imagecache.ImageCache(str(tmp_path))
    other = b"other" * 1000
    a = cache.fetch("img", "sha512", SHA512, lambda f: f.write(DATA))
    b = cache.fetch("img", "sha512", hashlib.sha512(other).hexdigest(), lambda f: f.write(other))
    assert a != b and os.path.exists(a) and os.path.exists(b)


def test_remove_unused(tmp_path) -> None:  # type: ignore[no-untyped-def]
    cache = imagecache.ImageCache(str(tmp_path))
    keep = cache.fetch("a", "sha512", SHA512, lambda f: f.write(DATA))
    other = b"x" * 10
    drop = cache.fetch("b", "sha512", hashlib.sha512(other).hexdigest(), lambda f: f.write(other))
    old = time.time() - 3600
    os.utime(keep, (old, old))
    os.utime(drop, (old, old))
    assert cache.remove_unused({keep}, max_age_s=60) == [drop]
    assert os.path.exists(keep)
