"""Files that hold health data or keys: readable by the platform's own user only.

The embedded mode keeps the journal, the views and the development key under ``var/``; with the
usual umask they would be world-readable (0755 / 0644), and anyone with a shell on the machine
could copy every person's file."""

import logging
import os
import stat
from pathlib import Path

log = logging.getLogger(__name__)

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
    found = path.stat()
    shared = (path.resolve() in (Path("/"), Path.home()) or found.st_mode & stat.S_ISVTX
              or found.st_uid != os.getuid())
    if shared:  # /tmp, /, a home or someone else's folder: never close it to others
        if stat.S_IMODE(found.st_mode) & 0o077:
            log.warning("%s is shared: keep the data in a folder of its own (0700)", path)
        return path
    os.chmod(path, DIRECTORY_MODE)  # also when it was made earlier, more open
    return path


def private_file(path: Path) -> Path:
    """Creates the file (empty) in a private directory, 0600, before any library opens it:
    SQLite gives its -wal and -shm files the database file's own permissions."""
    private_directory(path.parent)
    path.touch(mode=FILE_MODE, exist_ok=True)
    for found in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if found.exists():
            os.chmod(found, FILE_MODE)
    return path
