"""The service's file storage: content-addressed files (sha256) in one folder, written safely.

A file is stored as ``<root>/objects/<sha256 hex>``. :meth:`FileStore.put` writes the bytes to a
temporary name in that same folder (``.tmp-<pid>-<random>``), hashing them as they go, fsyncs the
file, then either renames it to its hash (atomic on one file system) and fsyncs the folder, or,
when a file of that hash is there already, drops the temporary copy: the same bytes are stored
once. A crash leaves at most a temporary file, never a half-written file under a hash name.

Nothing here counts references: what is referenced is decided by a *scan* of the service's
documents (images, and uploads still running), given to :meth:`FileStore.collect` as the set of
hashes to keep. :meth:`FileStore.recover` also removes the temporary files of processes that
are gone (their pid is in the name).

>>> import tempfile
>>> store = FileStore(tempfile.mkdtemp())
>>> first = store.put(b"GeoTIFF bytes")
>>> first.sha256[:12], first.size, store.put(b"GeoTIFF bytes").sha256 == first.sha256
('93c26b79ea66', 13, True)
>>> len(store.collect(keep=set())), store.hashes()
(1, [])
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import os
import re
import secrets
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from catalogql.errors import CatalogqlError, TooLarge

__all__ = ["CHUNK", "FileStore", "StoredFile", "Writer", "process_alive"]

CHUNK = 1 << 20
"""Bytes read and written at a time."""

_HASH_NAME = re.compile(r"[0-9a-f]{64}")
_TEMP_NAME = re.compile(r"\.tmp-(\d+)-[0-9a-f]+")

Writer = Callable[[int, bytes], None]
"""Writes all of a chunk to a file descriptor (``os.write`` until done); tests replace it to
inject faults such as ``OSError(ENOSPC)``."""


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A stored file: its hash, size and path.

    >>> StoredFile("ab" * 32, 3, Path("/x")).size
    3
    """

    sha256: str
    size: int
    path: Path


def _write_all(fd: int, chunk: bytes) -> None:
    view = memoryview(chunk)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def process_alive(pid: int) -> bool:
    """Whether a process of this pid runs on this machine (a zombie counts as gone).

    >>> process_alive(os.getpid())
    True
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a killed child not yet reaped is a zombie: gone for our purposes
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
            return stat.read().rpartition(")")[2].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class FileStore:
    """Content-addressed files under a folder (see the module docstring).

    Attributes:
        root: The folder (created if missing).
        objects: Where the files are (``root/objects``).
        writer: How chunks are written (:data:`Writer`).
        before_rename: Called with the temporary path once the bytes are written and fsynced,
            before the rename (a test hook: a crash test sleeps there).
    """

    def __init__(
        self,
        root: str | Path,
        *,
        writer: Writer = _write_all,
        before_rename: Callable[[Path], None] | None = None,
    ) -> None:
        self.root = Path(root)
        self.objects = self.root / "objects"
        self.objects.mkdir(parents=True, exist_ok=True)
        self.writer = writer
        self.before_rename = before_rename

    def path(self, sha256: str) -> Path:
        """Where the file of this hash is (whether or not it exists).

        >>> import tempfile
        >>> FileStore(tempfile.mkdtemp()).path("00" * 32).name == "00" * 32
        True
        """
        if not _HASH_NAME.fullmatch(sha256):
            raise ValueError(f"not a sha256 hex digest: {sha256!r}")
        return self.objects / sha256

    def exists(self, sha256: str) -> bool:
        """Whether a file of this hash is stored.

        >>> import tempfile
        >>> FileStore(tempfile.mkdtemp()).exists("00" * 32)
        False
        """
        return self.path(sha256).is_file()

    def put(
        self,
        source: bytes | bytearray | memoryview | str | Path | BinaryIO,
        *,
        max_size: int | None = None,
        on_hashed: Callable[[str], None] | None = None,
    ) -> StoredFile:
        """Store bytes (given, read from a path, or from a binary file object).

        Args:
            source: The bytes, a path, or a file object opened for binary reading.
            max_size: Refuse (:class:`~catalogql.errors.TooLarge`) more bytes than this.
            on_hashed: Called with the hash once the bytes are written and fsynced under the
                temporary name, before the rename: the caller records the reference there, so
                that a collection running meanwhile keeps the file.

        Returns:
            The stored file.

        Raises:
            CatalogqlError: The disk is full (code ``storage.full``); the temporary file is
                removed.
            TooLarge: More than ``max_size`` bytes.
            OSError: Reading the source or writing failed otherwise; the temporary file is
                removed.

        >>> import tempfile
        >>> FileStore(tempfile.mkdtemp()).put(b"").sha256 == hashlib.sha256(b"").hexdigest()
        True
        """
        temp = self.temporary()
        digest = hashlib.sha256()
        size = 0
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            try:
                for chunk in _chunks(source):
                    size += len(chunk)
                    if max_size is not None and size > max_size:
                        raise TooLarge(
                            f"the file is larger than {max_size} bytes",
                            hint="upload a smaller file, or raise the storage's size limit",
                        )
                    digest.update(chunk)
                    self.writer(fd, chunk)
                os.fsync(fd)
            finally:
                os.close(fd)
            sha = digest.hexdigest()
            if on_hashed is not None:
                on_hashed(sha)
            if self.before_rename is not None:
                self.before_rename(temp)
            final = self.objects / sha
            if final.is_file() and final.stat().st_size == size:
                temp.unlink()
            else:
                os.replace(temp, final)
            _fsync_dir(self.objects)
            return StoredFile(sha, size, final)
        except OSError as error:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            if error.errno in (errno.ENOSPC, errno.EDQUOT):
                raise CatalogqlError(
                    f"the file storage at {self.root} is full ({error.strerror}); "
                    "nothing was stored",
                    hint="free space in the storage folder (catalogql gc removes unreferenced "
                    "files), then upload again",
                    code="storage.full",
                ) from error
            raise
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                temp.unlink()
            raise

    def temporary(self) -> Path:
        """A new temporary path in the store, named as :meth:`put` names its own.

        For a caller that spools bytes before :meth:`put` (the HTTP upload): the file is the
        caller's to remove, and :meth:`recover` removes it once its process is gone (a crash).

        >>> import tempfile
        >>> FileStore(tempfile.mkdtemp()).temporary().name.startswith(".tmp-")
        True
        """
        return self.objects / f".tmp-{os.getpid()}-{secrets.token_hex(8)}"

    def hashes(self) -> list[str]:
        """Every stored file's hash, sorted.

        >>> import tempfile
        >>> FileStore(tempfile.mkdtemp()).hashes()
        []
        """
        return sorted(p.name for p in self.objects.iterdir() if _HASH_NAME.fullmatch(p.name))

    def temporary_files(self) -> list[Path]:
        """Every temporary file (of live processes or not), sorted.

        >>> import tempfile
        >>> FileStore(tempfile.mkdtemp()).temporary_files()
        []
        """
        return sorted(p for p in self.objects.iterdir() if _TEMP_NAME.fullmatch(p.name))

    def remove(self, sha256: str) -> bool:
        """Remove a stored file; whether it was there.

        >>> import tempfile
        >>> FileStore(tempfile.mkdtemp()).remove("00" * 32)
        False
        """
        try:
            self.path(sha256).unlink()
        except FileNotFoundError:
            return False
        return True

    @contextlib.contextmanager
    def sharing(self) -> Iterator[None]:
        """Hold the storage's lock shared (an upload, from storing its file to its commit).

        :meth:`collect` takes it alone, so it never runs while an upload has stored a file that
        nothing references yet. The lock is an ``flock`` on ``root/.lock``: a process that dies
        releases it.

        >>> import tempfile
        >>> with FileStore(tempfile.mkdtemp()).sharing():
        ...     pass
        """
        with self._locked(fcntl.LOCK_SH):
            yield

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, mode)
            yield
        finally:
            os.close(fd)  # releases the lock

    def recover(self) -> list[Path]:
        """Remove the temporary files of processes that are gone; the paths removed.

        >>> import tempfile
        >>> store = FileStore(tempfile.mkdtemp())
        >>> _ = (store.objects / ".tmp-999999999-00").write_bytes(b"half")
        >>> [p.name for p in store.recover()]
        ['.tmp-999999999-00']
        """
        removed: list[Path] = []
        for temp in self.temporary_files():
            match = _TEMP_NAME.fullmatch(temp.name)
            if match is not None and not process_alive(int(match.group(1))):
                with contextlib.suppress(FileNotFoundError):
                    temp.unlink()
                    removed.append(temp)
        return removed

    def collect(self, keep: Iterable[str] | Callable[[], Iterable[str]]) -> list[str]:
        """Remove every stored file whose hash is not in ``keep``; the hashes removed.

        Runs with the storage's lock held alone (no upload between storing and committing), and
        runs :meth:`recover` first. ``keep``: the hashes every image and pending or running
        upload references, or a function giving them, called once the lock is held (see
        :meth:`catalogql.service.Service.gc`).

        >>> import tempfile
        >>> store = FileStore(tempfile.mkdtemp())
        >>> kept, dropped = store.put(b"a").sha256, store.put(b"b").sha256
        >>> store.collect({kept}) == [dropped], store.hashes() == [kept]
        (True, True)
        """
        with self._locked(fcntl.LOCK_EX):
            self.recover()
            wanted = set(keep() if callable(keep) else keep)
            removed = [sha for sha in self.hashes() if sha not in wanted]
            for sha in removed:
                self.remove(sha)
            if removed:
                _fsync_dir(self.objects)
        return removed

    def __repr__(self) -> str:
        return f"<FileStore at {self.root}>"


def _chunks(source: bytes | bytearray | memoryview | str | Path | BinaryIO) -> Iterable[bytes]:
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for start in range(0, len(data), CHUNK):
            yield data[start : start + CHUNK]
        return
    if isinstance(source, str | Path):
        with open(source, "rb") as file:
            while chunk := file.read(CHUNK):
                yield chunk
        return
    while chunk := source.read(CHUNK):
        if not isinstance(chunk, bytes | bytearray):
            raise TypeError(
                f"the file object gave {type(chunk).__name__}, not bytes: open it in binary mode"
            )
        yield bytes(chunk)
