"""Where media files live: one small interface, a directory by default.

A site on several hosts points ``MEDIA_ROOT`` at a volume they share (NFS, a cloud
file share); every host then serves the same files. Names are content hashes, so a file
is written once and never changes.
"""

from __future__ import annotations

import errno
import os
import tempfile
from pathlib import Path
from typing import Protocol


class StorageFull(OSError):
    """The storage has no room for the file."""


class Storage(Protocol):
    """What the app needs of media storage."""

    def save(self, name: str, data: bytes) -> None: ...

    def path(self, name: str) -> Path | None: ...

    def delete(self, name: str) -> None: ...


class DirectoryStorage:
    """Files in a directory (``MEDIA_ROOT``): written to a temporary name, then renamed,
    so a reader never sees half a file and a full disk leaves nothing behind."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _target(self, name: str) -> Path:
        if "/" in name or "\\" in name or name.startswith(".") or not name:
            raise ValueError(f"not a media name: {name!r}")
        return self.root / name

    def save(self, name: str, data: bytes) -> None:
        target = self._target(name)
        if target.exists():
            return  # same name, same content
        self.root.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=self.root, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.replace(temporary, target)
        except OSError as error:
            Path(temporary).unlink(missing_ok=True)
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFull(error.errno, "No room left for media") from error
            raise

    def path(self, name: str) -> Path | None:
        try:
            target = self._target(name)
        except ValueError:
            return None
        return target if target.is_file() else None

    def delete(self, name: str) -> None:
        self._target(name).unlink(missing_ok=True)
