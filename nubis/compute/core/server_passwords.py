"""A server's encrypted admin password as its guest posted it to the metadata service.

Nova keeps it for ``GET/DELETE /servers/{id}/os-server-password`` (API reference "Servers Password"): the guest
agent (cloud-init, cloudbase-init) encrypts a generated password with the server's public key and posts it
once to ``/openstack/latest/password``; the owner reads it back and decrypts it with the private key. Nubis
never sees the plain password.
"""

from __future__ import annotations

from sqlalchemy import orm

from nubis.common import exceptions
from nubis.common.db.engine import Database
from nubis.compute.db.models import Instance

# Nova's metadata handler refuses a posted password over 256 bytes (four 255-character system metadata
# chunks hold at most 1020; the guest agents post far less).
MAX_LENGTH = 256


class ServerPasswords:
    """Reads, clears and (once) sets the ``password`` of an instance row."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def show(self, uuid: str) -> str:
        """The stored (encrypted, base64) password, or "" when the guest posted none or it was cleared.

        Raises NotFound for an unknown or deleted instance. Visibility is the caller's check (the handler
        reads the server through the servers core first).
        """
        with self.db.reader() as s:
            return self._row(s, uuid).password or ""

    def clear(self, uuid: str) -> None:
        """Forget the password (the guest's own password is not changed); the guest may post a new one."""
        with self.db.writer() as s:
            self._row(s, uuid).password = None

    def set_once(self, uuid: str, password: str) -> None:
        """Record what the guest posted. Raises BadRequest over MAX_LENGTH, Conflict when one is already
        stored (Nova's rule: a password is posted once, until the owner clears it), NotFound for no instance."""
        if len(password.encode()) > MAX_LENGTH:
            raise exceptions.BadRequest(f"The password is {len(password.encode())} bytes; at most {MAX_LENGTH} "
                                        "are accepted.")
        with self.db.writer() as s:
            row = self._row(s, uuid)
            if row.password:
                raise exceptions.Conflict("A password was already posted for this instance; its owner must "
                                          "clear it (DELETE /servers/{id}/os-server-password) first.")
            row.password = password

    @staticmethod
    def _row(s: orm.Session, uuid: str) -> Instance:
        row = s.get(Instance, uuid)
        if row is None or row.deleted:
            raise exceptions.NotFound(f"Instance {uuid} could not be found.")
        return row
