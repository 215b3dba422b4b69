"""Files that hold health data or keys: readable by the platform's own user only.

The embedded mode keeps the journal, the views and the development key under ``var/``; with the
usual umask they would be world-readable (0755 / 0644), and anyone with a shell on the machine
could copy every person's file."""

import os
from pathlib import Path

DIRECTORY_MODE = 0o700
FILE_MODE = 0o600


def private_directory(path: Path) -> Path:
    path.mkdir(mode=DIRECTORY_MODE, parents=True, exist_ok=True)
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
