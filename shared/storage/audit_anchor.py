"""What keeps the read audit honest against someone with every right on its database (a DBA, a
stolen superuser password): the chain's key, which the database never holds, and signed
checkpoints of the chain's head, appended to a file outside the database.

Without the key a chain recomputed after records were removed or changed no longer verifies,
even with the right algorithm; without the checkpoints, records cut from the end of the chain
would leave a shorter chain that still verifies. The key comes from the settings
(``PARCOURS_AUDIT_KEY`` or ``PARCOURS_AUDIT_KEY_FILE``); only the embedded mode, which is the
development set-up, makes one of its own beside its data."""

import hashlib
import hmac
import json
import logging
import os
import secrets
import stat
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from shared.runtime.settings import Settings
from shared.storage.files import private_file

log = logging.getLogger(__name__)

MIN_KEY_BYTES = 32
Kind = Literal["head", "legacy"]


class AuditSetupError(RuntimeError):
    """The audit is missing or writable beyond appending: the platform must not start."""


class AuditKeyError(AuditSetupError):
    """The audit's key is missing, too short, or unreadable."""


class CheckpointError(ValueError):
    """A line of the checkpoint file is not one the platform wrote with this key."""

    def __init__(self, line: int, why: str) -> None:
        super().__init__(f"line {line}: {why}")
        self.line = line


@dataclass(frozen=True)
class Checkpoint:
    """The chain's record ``seq`` had hash ``hash`` at ``at``, in the chain whose first record
    has hash ``origin``. A ``legacy`` checkpoint says the records up to ``seq`` predate the key
    (chained with plain SHA-256): it is written once, when the key is first used on them."""

    kind: Kind
    seq: int
    hash: str
    origin: str
    at: str

    def fields(self) -> list[object]:
        return [self.kind, self.seq, self.hash, self.origin, self.at]


class AuditAnchor:
    def __init__(self, key: bytes, checkpoints: Path, every: int = 1000) -> None:
        if len(key) < MIN_KEY_BYTES:
            raise AuditKeyError(f"the read audit's key must be at least {MIN_KEY_BYTES} bytes")
        # One key, two uses kept apart: a checkpoint's signature can never pass for a record's.
        self._chain_key = hmac.digest(key, b"parcours read audit: chain", "sha256")
        self._file_key = hmac.digest(key, b"parcours read audit: checkpoints", "sha256")
        self.path, self.every = checkpoints, every

    @classmethod
    def from_settings(cls, settings: Settings) -> "AuditAnchor":
        path = settings.audit_checkpoint_path or settings.data_dir / "audit-checkpoints.jsonl"
        return cls(_key(settings), path, settings.audit_checkpoint_every)

    def chain_hash(self, canonical: bytes) -> str:
        return hmac.new(self._chain_key, canonical, hashlib.sha256).hexdigest()

    def has_checkpoints(self) -> bool:
        return self.path.exists() and self.path.stat().st_size > 0

    def write(self, kind: Kind, seq: int, digest: str, origin: str) -> Checkpoint:
        mark = Checkpoint(kind, seq, digest, origin, datetime.now(UTC).isoformat())
        line = json.dumps({**vars(mark), "mac": self._mac(mark)}, separators=(",", ":"))
        private_file(self.path)
        # One append of one line: processes sharing the file never interleave within a line.
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (line + "\n").encode())
            os.fsync(fd)
        finally:
            os.close(fd)
        return mark

    def read(self) -> list[Checkpoint]:
        """Every checkpoint of the file, or ``CheckpointError`` for the first line that is not
        one we signed (none when there is no file yet)."""
        if not self.path.exists():
            return []
        marks = []
        for number, line in enumerate(self.path.read_text().splitlines(), start=1):
            if not line.strip():
                continue
            try:
                found = json.loads(line)
                mark = Checkpoint(kind=found["kind"], seq=int(found["seq"]),
                                  hash=str(found["hash"]), origin=str(found["origin"]),
                                  at=str(found["at"]))
                mac = str(found["mac"])
            except (ValueError, KeyError, TypeError):
                raise CheckpointError(number, "unreadable") from None
            if mark.kind not in ("head", "legacy"):
                raise CheckpointError(number, f"unknown kind {mark.kind!r}")
            if not hmac.compare_digest(mac, self._mac(mark)):
                raise CheckpointError(number, "not signed with the audit's key")
            marks.append(mark)
        return marks

    def _mac(self, mark: Checkpoint) -> str:
        canonical = json.dumps(mark.fields(), separators=(",", ":")).encode()
        return hmac.new(self._file_key, canonical, hashlib.sha256).hexdigest()


def _key(settings: Settings) -> bytes:
    if settings.audit_key and settings.audit_key_file:
        raise AuditKeyError("set PARCOURS_AUDIT_KEY or PARCOURS_AUDIT_KEY_FILE, not both")
    if settings.audit_key:
        return _checked(settings.audit_key.get_secret_value().encode(), "PARCOURS_AUDIT_KEY")
    if settings.audit_key_file:
        path = settings.audit_key_file
        try:
            key = path.read_bytes().strip()
        except OSError as error:
            raise AuditKeyError(
                f"PARCOURS_AUDIT_KEY_FILE ({path}) cannot be read: {error.strerror}") from None
        if stat.S_IMODE(path.stat().st_mode) & 0o077:
            log.warning("the read audit's key file %s is readable by others: chmod 600", path)
        return _checked(key, f"PARCOURS_AUDIT_KEY_FILE ({path})")
    if settings.mode == "distributed":
        raise AuditKeyError(
            "the read audit needs its key in the distributed mode: set PARCOURS_AUDIT_KEY_FILE "
            f"(a file of at least {MIN_KEY_BYTES} random bytes, readable by the platform's user "
            "and never by the database; e.g. `openssl rand -hex 32`) or PARCOURS_AUDIT_KEY.")
    return development_key(settings.data_dir / "audit-key")


def _checked(key: bytes, where: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise AuditKeyError(f"{where} is too short: the read audit's key must be at least "
                            f"{MIN_KEY_BYTES} bytes (e.g. `openssl rand -hex 32`)")
    return key


def development_key(path: Path) -> bytes:
    """The embedded mode's key, made on first use beside the data: whoever holds the data
    directory holds it too, which is the development set-up's trade, not production's."""
    if path.exists():
        return _checked(path.read_bytes().strip(), str(path))
    private_file(path)
    path.write_text(secrets.token_hex(MIN_KEY_BYTES) + "\n")
    return path.read_bytes().strip()
