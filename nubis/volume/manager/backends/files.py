"""One directory of a storage host's files, each named ``<kind>-<id>``: the volume files of the file backend,
the backup store's backups. Paths are made only from ids, and a location handed back (from the database) is
acted on only if it lies in the directory."""

from __future__ import annotations

import os

from nubis.volume.manager.backends.base import BackendError


class FileDirectory:
    """The files of ``directory``; ``what`` names them in errors ("a backup of this store")."""

    def __init__(self, directory: str, what: str) -> None:
        self.directory = directory
        self.what = what

    def path(self, kind: str, ident: str) -> str:
        """``<directory>/<kind>-<ident>``; BackendError for an id that could leave the directory."""
        if not ident or "/" in ident or ident.startswith("."):
            raise BackendError(f"Invalid {kind} id {ident!r}.")
        return os.path.join(self.directory, f"{kind}-{ident}")

    def inside(self, location: str) -> str:
        """``location`` resolved, if it is one of this directory's files; BackendError otherwise."""
        path = os.path.realpath(location)
        if os.path.dirname(path) != os.path.realpath(self.directory):
            raise BackendError(f"{location} is not {self.what} ({self.directory}).")
        return path

    @staticmethod
    def remove(path: str) -> None:
        """Unlink ``path``; a file already gone is fine."""
        try:
            os.unlink(path)
        except FileNotFoundError:
            pass
