"""The Fernet key repository: staged key ``0``, primary = highest number, secondaries between.

Rotation promotes the staged key to primary, writes a new staged key, and
drops the oldest secondaries beyond ``max_active_keys``. Tokens made with
any key still in the repository keep validating, so a rotation (done on one
node and copied to the others) never logs anyone out.
"""

from __future__ import annotations

import os
import threading

from cryptography.fernet import Fernet, MultiFernet


class KeyRepositoryError(RuntimeError):
    pass


def _write_key(path: str) -> None:
    tmp = path + ".tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(Fernet.generate_key())
        f.flush()
        os.fsync(f.fileno())
    os.rename(tmp, path)


def _key_numbers(repo: str) -> list[int]:
    return sorted(int(name) for name in os.listdir(repo) if name.isdigit())


def setup(repo: str) -> bool:
    """Create the repository with a staged and a primary key; False if it already exists."""
    os.makedirs(repo, mode=0o700, exist_ok=True)
    if _key_numbers(repo):
        return False
    _write_key(os.path.join(repo, "0"))
    rotate(repo, max_active_keys=3)
    return True


def rotate(repo: str, max_active_keys: int) -> int:
    """Promote the staged key; returns the new primary's number."""
    numbers = _key_numbers(repo)
    if 0 not in numbers:
        raise KeyRepositoryError(f"{repo} has no staged key 0: run 'nubis-manage fernet-setup' first")
    new_primary = max(numbers) + 1
    os.rename(os.path.join(repo, "0"), os.path.join(repo, str(new_primary)))
    _write_key(os.path.join(repo, "0"))
    keep = max(max_active_keys, 2)
    secondaries = [n for n in _key_numbers(repo) if n not in (0, new_primary)]
    excess = len(secondaries) - (keep - 2)
    for number in secondaries[: max(excess, 0)]:
        os.unlink(os.path.join(repo, str(number)))
    return new_primary


class KeyRing:
    """The repository's keys as a MultiFernet (primary first), reloaded when the directory changes."""

    def __init__(self, repo: str) -> None:
        self.repo = repo
        self._lock = threading.Lock()
        self._stamp: tuple[float, tuple[int, ...]] | None = None
        self._fernet: MultiFernet | None = None

    def fingerprint(self) -> str:
        """Names the current key set; changes whenever a rotation adds or removes a key."""
        self.fernet()
        assert self._stamp is not None
        return ".".join(str(n) for n in self._stamp[1])

    def fernet(self) -> MultiFernet:
        try:
            stamp = (os.stat(self.repo).st_mtime, tuple(_key_numbers(self.repo)))
        except FileNotFoundError:
            raise KeyRepositoryError(
                f"the Fernet key repository {self.repo} does not exist: run 'nubis-manage fernet-setup'"
            ) from None
        with self._lock:
            if stamp != self._stamp or self._fernet is None:
                numbers = [n for n in stamp[1]]
                if len(numbers) < 2:
                    raise KeyRepositoryError(f"{self.repo} needs a staged and a primary key: run fernet-setup")
                ordered = [numbers[-1], *reversed(numbers[:-1])]  # primary, newest secondaries, staged last
                keys = []
                for n in ordered:
                    with open(os.path.join(self.repo, str(n)), "rb") as f:
                        keys.append(Fernet(f.read().strip()))
                self._fernet = MultiFernet(keys)
                self._stamp = stamp
            return self._fernet
