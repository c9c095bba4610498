"""The files of another tool's bundle, read safely from a folder or an archive (.tar, .tar.gz, .tar.xz).

Names are relative to the folder the user named (an archive's single top folder stripped, as for
our own tarballs), so a finding's evidence path names the file inside the foreign bundle. The
limits of analyzer/bundle.py apply: no member outside the bundle, no link followed out of it, no
device, sizes and counts capped, compression bombs refused.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import lzma
import os
import posixpath
import re
import shutil
import tempfile
from pathlib import Path
from typing import IO

from ..bundle import (
    GZIP_RATIO_AFTER,
    MAX_GZIP_RATIO,
    MAX_TEXT_BYTES,
    MAX_TOTAL_BYTES,
    _DirOpener,
    _Opener,
    _Span,
    _TarOpener,
)
from ..errors import InputError

XZ_MAGIC = b"\xfd7zXZ\x00"
XZ_CHUNK = 1024 * 1024
#: a chain of links longer than this is a loop or an attack
MAX_LINK_HOPS = 8


def _unxz(path: Path) -> Path:
    """A private temp file holding the decompressed tar of a .tar.xz, within the bundle limits; the
    caller unlinks it once opened."""
    fd, name = tempfile.mkstemp(prefix="kubetriage-", suffix=".tar")
    out = os.fdopen(fd, "wb")
    decompressor = lzma.LZMADecompressor()
    read = written = 0
    try:
        with path.open("rb") as handle:
            while not decompressor.eof:
                if decompressor.needs_input:
                    data = handle.read(XZ_CHUNK)
                    if not data:
                        raise InputError("truncated xz: the archive ends early (incomplete download?)")
                    read += len(data)
                else:
                    data = b""
                chunk = decompressor.decompress(data, XZ_CHUNK)
                written += len(chunk)
                if written > MAX_TOTAL_BYTES:
                    raise InputError(f"archive expands past {MAX_TOTAL_BYTES} bytes: refusing to read it")
                if written > GZIP_RATIO_AFTER and written > MAX_GZIP_RATIO * read:
                    raise InputError(f"archive expands more than {MAX_GZIP_RATIO} times (an xz bomb?): "
                                     "refusing to read it")
                out.write(chunk)
    except (lzma.LZMAError, OSError, InputError) as exc:
        out.close()
        os.unlink(name)
        raise InputError(f"{path}: not a readable xz archive ({exc})") from None
    out.close()
    return Path(name)


class Files:
    """What adapters read: named regular files (relative names), shared by a bundle's pseudo-nodes."""

    source: Path
    names: list[str]
    #: each link's resolved target inside the bundle, None when refused
    links: dict[str, str | None]
    warnings: list[str]
    _users: int = 0

    #: parts an adapter cut out of a file (one host's lines of a merged journal), in a spool
    _spool: IO[bytes] | None = None
    _spans: dict[str, tuple[int, int]]

    def open(self, name: str) -> IO[bytes]:
        span = self._spans.get(name) if self._spool is not None else None
        if span is None or self._spool is None:
            return self._open(name)
        return io.BufferedReader(_Span(self._spool.fileno(), *span))

    def size(self, name: str) -> int:
        span = self._spans.get(name) if self._spool is not None else None
        return span[1] if span is not None else self._size(name)

    def _open(self, name: str) -> IO[bytes]:
        raise NotImplementedError

    def _size(self, name: str) -> int:
        raise NotImplementedError

    def close(self) -> None:
        """Release what the files are read from."""
        if self._spool is not None:
            self._spool.close()

    def add_part(self, name: str, source: IO[bytes]) -> None:
        """A new member `name` holding what `source` holds (read to its end)."""
        if self._spool is None:
            self._spool, self._spans = tempfile.TemporaryFile(prefix="kubetriage-"), {}
        start = self._spool.seek(0, io.SEEK_END)
        shutil.copyfileobj(source, self._spool, 1024 * 1024)
        self._spool.flush()
        self._spans[name] = (start, self._spool.tell() - start)
        self.names.append(name)
        for cached in ("_set", "folders"):
            self.__dict__.pop(cached, None)

    @functools.cached_property
    def _set(self) -> set[str]:
        return set(self.names)

    @functools.cached_property
    def folders(self) -> set[str]:
        """Every folder holding a file, at any depth ('' for the top)."""
        out = {""}
        for name in self.names:
            parts = name.split("/")[:-1]
            out.update("/".join(parts[:i]) for i in range(1, len(parts) + 1))
        return out

    def has(self, name: str) -> bool:
        return name in self._set

    def under(self, folder: str) -> list[str]:
        """Regular files below a folder (relative names)."""
        prefix = folder.rstrip("/") + "/" if folder else ""
        return [n for n in self.names if n.startswith(prefix)]

    def head(self, name: str, size: int = 64 * 1024) -> str:
        with self.open(name) as handle:
            return handle.read(size).decode("utf-8", "replace")

    def read_text(self, name: str, limit: int = MAX_TEXT_BYTES) -> str:
        with self.open(name) as handle:
            return handle.read(limit).decode("utf-8", "replace")

    def acquire(self) -> None:
        self._users += 1

    def release(self) -> None:
        self._users -= 1
        if self._users <= 0:
            self.close()


class Tree(Files):
    """A foreign bundle's regular files, and its symbolic links resolved inside it (or refused)."""

    def __init__(self, source: Path) -> None:
        self.source = source
        if source.is_dir():
            self._opener: _Opener = _DirOpener(source)
            self.names = self._opener.names()
            self.links = self._dir_links(source.resolve())
        else:
            with source.open("rb") as handle:
                magic = handle.read(6)
            if magic == XZ_MAGIC:
                plain = _unxz(source)
                try:
                    tar = _TarOpener(plain)
                finally:
                    plain.unlink()  # the opener holds it open and has copied its members
            else:
                tar = _TarOpener(source)
            self._opener = tar
            self.names = tar.names()
            self.links = self._resolve_all(tar.links)
        # links are reported here, resolved or refused, not as the opener's "non-regular" members; the
        # archive's top folder has an entry of its own (`tar -c folder`), which is no escape
        self.warnings = [w for w in self._opener.warnings if "non-regular" not in w
                         and not re.fullmatch(r"ignored unsafe archive member '[^/']+/?'", w)]
        self.warnings += [f"ignored link {n[:200]!r}: it leads outside the bundle, nowhere, or in a loop"
                          for n, target in self.links.items() if target is None]

    def _dir_links(self, root: Path) -> dict[str, str | None]:
        raw: dict[str, str] = {}
        for folder, dirs, files in os.walk(root):
            for name in files + dirs:
                path = Path(folder, name)
                if path.is_symlink():
                    raw[path.relative_to(root).as_posix()] = os.readlink(path)
        return self._resolve_all(raw)

    def _resolve_all(self, raw: dict[str, str]) -> dict[str, str | None]:
        """Each link's final regular file inside the bundle, or None (outside, dangling, a loop)."""
        out: dict[str, str | None] = {}
        files = set(self.names)
        for name in raw:
            current: str | None = name
            for _ in range(MAX_LINK_HOPS):
                if current is None or current not in raw:
                    break
                target = raw[current]
                joined = posixpath.normpath(posixpath.join(posixpath.dirname(current), target))
                current = None if target.startswith("/") or joined.startswith("..") else joined
            else:
                current = None
            out[name] = current if current in files else None
        return out

    def _open(self, name: str) -> IO[bytes]:
        return self._opener.open(name)

    def _size(self, name: str) -> int:
        if isinstance(self._opener, _TarOpener):
            return self._opener.spans.get(name, (0, 0))[1]
        return (self.source / name).stat().st_size

    def newest_mtime(self) -> dt.datetime | None:
        """The newest member time an archive records (when its tool wrote the files); None for a
        folder, whose file times are those of whoever copied or unpacked it."""
        if not isinstance(self._opener, _TarOpener):
            return None
        stamps = [info.mtime for info in self._opener.members.values() if info.mtime > 0]
        return dt.datetime.fromtimestamp(max(stamps), dt.timezone.utc) if stamps else None

    def close(self) -> None:
        super().close()
        self._opener.close()
