"""Job files under ``MMED_JOBS_DIR``: ``<id>/upload`` and ``<id>/frames.ndjson``.

Nothing here is served by path: the routes read a job's files only through its id, which is
checked against ``ID_PATTERN`` (no separators, no dots), after the owner check.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import time
from pathlib import Path
from typing import BinaryIO

ID_PATTERN = r"^[A-Za-z0-9_-]{22}$"
_ID = re.compile(ID_PATTERN)
COPY_CHUNK = 1 << 20


class DiskFull(Exception):
    """Accepting this upload would take the jobs directory past ``MMED_JOBS_MAX_BYTES``."""


def new_id() -> str:
    """128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(16)


class JobFiles:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        root.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(OSError):  # a mounted volume's root may not be ours to chmod
            os.chmod(root, 0o700)

    def dir(self, job_id: str) -> Path:
        if not _ID.match(job_id):
            raise ValueError(f"not a job id: {job_id!r}")
        return self.root / job_id

    def upload(self, job_id: str) -> Path:
        return self.dir(job_id) / "upload"

    def frames(self, job_id: str) -> Path:
        return self.dir(job_id) / "frames.ndjson"

    def used_bytes(self) -> int:
        """Bytes under the root (every job's files and the embedded database)."""
        total = 0
        for dirpath, _, names in os.walk(self.root):
            for name in names:
                try:
                    total += os.lstat(os.path.join(dirpath, name)).st_size
                except OSError:
                    continue  # removed meanwhile
        return total

    def store_upload(self, job_id: str, src: BinaryIO) -> int:
        """Copy the spooled upload into the job's directory; DiskFull (nothing left behind)
        when it would pass the limit. Returns its size."""
        used = self.used_bytes()
        src.seek(0, os.SEEK_END)
        size = src.tell()
        src.seek(0)
        if used + size > self.max_bytes:
            raise DiskFull(f"{used + size} bytes > {self.max_bytes}")
        target = self.dir(job_id)
        target.mkdir(mode=0o700)
        try:
            with open(self.upload(job_id), "xb") as out:
                shutil.copyfileobj(src, out, COPY_CHUNK)
                out.flush()
                os.fsync(out.fileno())
        except BaseException:
            self.remove(job_id)
            raise
        return size

    def remove(self, job_id: str) -> None:
        shutil.rmtree(self.dir(job_id), ignore_errors=True)

    def orphans(self, known: set[str], older_than_s: float) -> list[str]:
        """Job directories with no row (a submit that died between copy and insert)."""
        cutoff = time.time() - older_than_s
        found = []
        for entry in os.scandir(self.root):
            if entry.is_dir() and _ID.match(entry.name) and entry.name not in known:
                try:
                    if entry.stat().st_mtime < cutoff:
                        found.append(entry.name)
                except OSError:
                    continue
        return found
