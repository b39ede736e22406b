"""One locate index per machine: built once per set of grid shapes, mapped by every process.

An index (gis.pointindex.PolygonIndex) is plain numpy arrays, so it is written once to a directory
and memory-mapped by every web worker and by the batch process: their pages are the page cache's,
counted once however many processes map them (docs/scale.md#one-index-per-machine).

- **Named by content.** The directory's name is a digest of the index's layout, its parameters and
  every grid's WKB in code order. Workers that loaded the same registry (whatever their feed
  position) name the same directory, so whichever gets there first builds it and the others map it.
- **Published atomically.** The builder holds a lock file while it writes to a temporary directory,
  then renames it into place: a reader sees a whole index or none. Others wanting the same index
  wait on the lock (in their background refresh, never in a request) and then map it.
- **Old ones go.** After publishing, directories not used for ``STALE_SECONDS`` are removed. A
  process still mapping a removed index keeps its pages (the files live on until unmapped); a
  registry marks the index it serves as used on every look at the feed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import shapely

from gis.pointindex import FORMAT, PolygonIndex

logger = logging.getLogger(__name__)

STALE_SECONDS = 15 * 60
_PREFIX = "index-"


def default_directory() -> Path:
    """Memory-backed when the machine has /dev/shm (the pages are RAM either way once mapped)."""
    shm = Path("/dev/shm")
    base = shm if shm.is_dir() and os.access(shm, os.W_OK) else Path(tempfile.gettempdir())
    return base / f"gridgov-locate-{os.getuid()}"


def index_key(wkbs: Sequence[bytes], edge_distance_m: float) -> str:
    digest = hashlib.sha256(f"{FORMAT}|{edge_distance_m!r}|{len(wkbs)}".encode())
    for wkb in wkbs:
        digest.update(len(wkb).to_bytes(8, "little"))
        digest.update(wkb)
    return digest.hexdigest()[:32]


class IndexStore:
    """The directory of a machine's published indexes."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or default_directory()

    def index(self, wkbs: Sequence[bytes], *, edge_distance_m: float) -> PolygonIndex:
        """The index of polygons ``wkbs`` (in this order), mapped from the store; built and
        published first if no process has yet."""
        # The owner's alone: an index others could write would answer for them.
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        key = index_key(wkbs, edge_distance_m)
        path = self.directory / f"{_PREFIX}{key}"
        found = _open(path)
        if found is not None:
            return found
        with _locked(self.directory / f".{key}.lock"):
            found = _open(path)  # published while we waited for the lock
            if found is None:
                started = time.monotonic()
                built = PolygonIndex(shapely.from_wkb(list(wkbs)), edge_distance_m=edge_distance_m)
                tmp = self.directory / f".{key}.{os.getpid()}.tmp"
                shutil.rmtree(tmp, ignore_errors=True)
                built.save(tmp)
                os.rename(tmp, path)
                logger.info(
                    "locate index %s: %d grids, %.0f MB, built in %.1f s",
                    key, built.n, built.nbytes / 1e6, time.monotonic() - started,
                )  # fmt: skip
                del built
                found = _open(path)
                if found is None:
                    raise RuntimeError(f"{path}: published but cannot be opened")
        self.prune(keep=path)
        return found

    def prune(self, *, keep: Path) -> None:
        cutoff = time.time() - STALE_SECONDS
        for entry in self.directory.iterdir():
            if entry == keep:
                continue
            try:
                if entry.stat().st_mtime >= cutoff:
                    continue
                if entry.is_dir():
                    shutil.rmtree(entry, ignore_errors=True)
                else:
                    entry.unlink(missing_ok=True)
            except FileNotFoundError:
                continue  # another process pruned it first


def touch(index: PolygonIndex | None) -> None:
    """Mark a mapped index as in use, so no process prunes it."""
    if index is not None and index.path is not None:
        # Pruned anyway: this process keeps its mapping; the next load republishes.
        with contextlib.suppress(FileNotFoundError):
            os.utime(index.path)


def _open(path: Path) -> PolygonIndex | None:
    try:
        index = PolygonIndex.open(path)
    except (FileNotFoundError, ValueError, KeyError, OSError):  # e.g. being pruned
        return None
    touch(index)
    return index


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
