"""Open bundles (tarballs or unpacked folders) safely and find their items by manifest id.

Nothing in a bundle is trusted: member names are checked, only regular files are read, sizes and
counts are capped, and the manifest is validated field by field before use.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path, PurePosixPath
from typing import IO, Any

from . import gz
from .errors import InputError
from .parsers.yamlsafe import JSONLimitError, load_json

SUPPORTED_FORMAT = 1
MAX_MEMBERS = 50_000
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
#: default cap for reading one item fully into memory (parsers of small files)
MAX_TEXT_BYTES = 64 * 1024 * 1024
#: deflate tops out near 1000:1 on zeros; real bundles (logs, YAML) stay well under 50:1
MAX_GZIP_RATIO = 200
GZIP_RATIO_AFTER = 32 * 1024 * 1024
GZIP_CHUNK = 256 * 1024


@dataclass(frozen=True)
class ItemRecord:
    """One manifest record: something the collector read, ran or skipped."""

    id: str
    kind: str
    source: str
    path: str | None
    size: int
    sha256: str | None
    exit_code: int | None
    started_at: str
    duration_s: float
    timed_out: bool
    truncated: bool
    redactions: int
    error: str | None
    skipped: str | None
    stderr_path: str | None = None
    stderr_sha256: str | None = None

    @property
    def collected(self) -> bool:
        return self.path is not None


@dataclass(frozen=True)
class NodeIdentity:
    hostname: str
    os: str = ""
    kernel: str = ""
    ips: tuple[str, ...] = ()


@dataclass
class Manifest:
    """The validated manifest of one node's bundle."""

    format_version: int
    collector_version: str
    node: NodeIdentity
    collected_at: dt.datetime
    clock: dict[str, Any]
    options: dict[str, Any]
    complete: bool
    redactions_total: int
    items: list[ItemRecord] = field(default_factory=list)


def parse_time(value: object, what: str) -> dt.datetime:
    """Parse an ISO-8601 UTC timestamp ('Z' or offset) into an aware datetime."""
    if not isinstance(value, str):
        raise InputError(f"manifest: {what} is not a timestamp")
    try:
        moment = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"manifest: {what} {value[:40]!r} is not an ISO timestamp") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _get(obj: dict[str, Any], key: str, kind: type | tuple[type, ...], default: Any = None) -> Any:
    value = obj.get(key, default)
    if value is not None and not isinstance(value, kind):
        raise InputError(f"manifest: field {key!r} has the wrong type")
    return value


def _int(value: object, what: str) -> int:
    if value is None:
        return 0
    if not isinstance(value, int):
        raise InputError(f"manifest: field {what!r} has the wrong type")
    return value


def _item(raw: object) -> ItemRecord:
    if not isinstance(raw, dict):
        raise InputError("manifest: an item is not an object")
    source = raw.get("source")
    return ItemRecord(
        id=str(_get(raw, "id", str) or ""),
        kind=str(_get(raw, "kind", str) or ""),
        source=" ".join(map(str, source)) if isinstance(source, list) else str(source or ""),
        path=_get(raw, "path", str),
        size=int(_get(raw, "size", int, 0) or 0),
        sha256=_get(raw, "sha256", str),
        exit_code=_get(raw, "exit_code", int),
        started_at=str(_get(raw, "started_at", str) or ""),
        duration_s=float(_get(raw, "duration_s", (int, float), 0.0) or 0.0),
        timed_out=bool(_get(raw, "timed_out", bool, False)),
        truncated=bool(_get(raw, "truncated", bool, False)),
        redactions=int(_get(raw, "redactions", int, 0) or 0),
        error=_get(raw, "error", str),
        skipped=_get(raw, "skipped", str),
        stderr_path=_get(raw, "stderr_path", str),
        stderr_sha256=_get(raw, "stderr_sha256", str),
    )


def parse_manifest(data: bytes) -> Manifest:
    """Validate and load manifest.json bytes."""
    try:
        raw = load_json(data.decode("utf-8", "replace"))
    except JSONLimitError:
        raise InputError("manifest.json nests too deeply") from None
    except json.JSONDecodeError as exc:
        raise InputError(f"manifest.json is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
    except ValueError as exc:  # a number too long to convert
        raise InputError(f"manifest.json is not valid JSON ({exc})") from None
    if not isinstance(raw, dict):
        raise InputError("manifest.json is not a JSON object")
    version = raw.get("format_version")
    if not isinstance(version, int):
        raise InputError("manifest.json has no format_version: not a kubetriage bundle")
    if version > SUPPORTED_FORMAT:
        raise InputError(f"bundle format {version} is newer than this analyzer supports "
                         f"({SUPPORTED_FORMAT}); upgrade kubetriage")
    node = _get(raw, "node", dict, {}) or {}
    items = _get(raw, "items", list, []) or []
    redactions = _get(raw, "redactions", dict, {}) or {}
    ips: list[Any] = node["ips"] if isinstance(node.get("ips"), list) else []
    return Manifest(
        format_version=version,
        collector_version=str(raw.get("collector_version", "")),
        node=NodeIdentity(hostname=str(node.get("hostname") or "unknown-node")[:253],
                          os=str(node.get("os") or ""), kernel=str(node.get("kernel") or ""),
                          ips=tuple(str(i) for i in ips)),
        collected_at=parse_time(raw.get("collected_at"), "collected_at"),
        clock=_get(raw, "clock", dict, {}) or {},
        options=_get(raw, "options", dict, {}) or {},
        complete=bool(raw.get("complete", True)),
        redactions_total=_int(redactions.get("total"), "redactions.total"),
        items=[_item(i) for i in items],
    )


def _safe_member_name(name: str) -> str | None:
    """Return the name relative to the bundle's top folder, or None when it is unsafe."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        return None
    return str(PurePosixPath(*path.parts[1:]))


def _one_record_per_file(items: list[ItemRecord], warnings: list[str]) -> list[ItemRecord]:
    """Records as they are, except that a stored file belongs to the first record naming it: a
    manifest of 60,000 records pointing at one member would otherwise have it parsed 60,000 times."""
    claimed: set[str] = set()
    reused: Counter[str] = Counter()
    out: list[ItemRecord] = []
    for item in items:
        taken = [p for p in (item.path, item.stderr_path) if p and p in claimed]
        if taken:
            reused.update(taken)
            item = replace(item, path=None if item.path in taken else item.path,
                           stderr_path=None if item.stderr_path in taken else item.stderr_path,
                           skipped=item.skipped or "its file belongs to an earlier record")
        claimed.update(p for p in (item.path, item.stderr_path) if p)
        out.append(item)
    warnings.extend(f"manifest: {count} more record(s) name {path[:200]!r}, already an earlier record's "
                    "file: ignored (each file is read once)" for path, count in reused.items())
    return out


class Bundle:
    """One node's bundle, read from a .tar.gz (without unpacking) or from an unpacked folder."""

    def __init__(self, source: Path, manifest: Manifest, opener: _Opener) -> None:
        self.source = source
        self._opener = opener
        self.warnings: list[str] = list(opener.warnings)
        manifest.items = _one_record_per_file(manifest.items, self.warnings)
        self.manifest = manifest
        self._sha256 = {path: sha for i in manifest.items
                        for path, sha in ((i.path, i.sha256), (i.stderr_path, i.stderr_sha256))
                        if path and sha}

    @property
    def node(self) -> str:
        return self.manifest.node.hostname

    def items(self, item_id: str) -> list[ItemRecord]:
        """Every record with this id (a glob item has one per file), collected or not."""
        return [i for i in self.manifest.items if i.id == item_id]

    def collected(self, item_id: str) -> list[ItemRecord]:
        return [i for i in self.items(item_id) if i.collected]

    def open(self, path: str) -> IO[bytes]:
        """A binary stream of one item's content; raises InputError when it is missing or unsafe."""
        return self._opener.open(path)

    def member_names(self) -> list[str]:
        """Every safe regular file in the bundle (relative to its top folder), manifest.json included."""
        return self._opener.names()

    def other_copies(self, path: str) -> list[IO[bytes]]:
        """Streams of the later copies of a member a tarball holds more than once (`open` reads the
        first, and so does everything else; only the secret scan looks at these)."""
        return self._opener.other_copies(path)

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        with self.open(path) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            self.warnings.append(f"{path}: larger than {limit} bytes, read only the first {limit}")
            data = data[:limit]
        elif self._sha256.get(path, "").lower() not in ("", hashlib.sha256(data).hexdigest()):
            self.warnings.append(f"{path}: content does not match the manifest's SHA-256 "
                                 "(modified or corrupted after collection)")
        return data

    def read_text(self, path: str, limit: int = MAX_TEXT_BYTES) -> str:
        return self.read_bytes(path, limit).decode("utf-8", "replace")

    def close(self) -> None:
        self._opener.close()


class _Opener:
    """Where bundle content comes from: a tarball or a folder."""

    warnings: list[str]

    def open(self, path: str) -> IO[bytes]:
        raise NotImplementedError

    def names(self) -> list[str]:
        raise NotImplementedError

    def other_copies(self, path: str) -> list[IO[bytes]]:
        """A folder holds each name once."""
        return []

    def close(self) -> None:
        """Release the underlying file, if any."""


class _GzipStream(io.RawIOBase):
    """The decompressed bytes of a gzip file, seekable for tarfile, refusing bombs and truncation.

    tarfile's own gzip reader skips members by decompressing them: a small file declaring huge
    members would cost minutes. Here every decompressed byte counts against a total and a ratio.
    """

    def __init__(self, path: Path, limit: int) -> None:
        self._raw = path.open("rb")
        self._limit = limit
        self._restart()

    def _restart(self) -> None:
        self._raw.seek(0)
        self._z = gz.decompressobj()
        self._pending = b""
        self._buf = bytearray()
        self._pos = 0
        self._out = 0
        self._in = 0
        self._eof = False

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def _read_raw(self) -> bytes:
        data = self._raw.read(GZIP_CHUNK)
        self._in += len(data)
        return data

    def _inflate(self) -> bytes:
        """The next decompressed chunk; b"" at the end of the stream."""
        while not self._eof:
            data = self._pending or self._read_raw()
            if not data:
                raise InputError("truncated gzip: the archive ends early (incomplete download?)")
            out: bytes = self._z.decompress(data, GZIP_CHUNK)
            self._pending = self._z.unconsumed_tail
            if self._z.eof:
                rest = self._z.unused_data or self._read_raw()
                if rest[:2] == b"\x1f\x8b":  # concatenated gzip members, as `cat a.gz b.gz` makes
                    self._z = gz.decompressobj()
                    self._pending = rest
                else:
                    self._eof = True
            self._out += len(out)
            if self._out > self._limit:
                raise InputError(f"archive expands past {self._limit} bytes: refusing to read it")
            if self._out > GZIP_RATIO_AFTER and self._out > MAX_GZIP_RATIO * self._in:
                raise InputError(f"archive expands more than {MAX_GZIP_RATIO} times (a gzip bomb?): "
                                 "refusing to read it")
            if out:
                return out
        return b""

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        while len(self._buf) < len(view):
            chunk = self._inflate()
            if not chunk:
                break
            self._buf += chunk
        n = min(len(view), len(self._buf))
        with memoryview(self._buf) as pending:  # one copy, straight into the caller's buffer
            view[:n] = pending[:n]
        del self._buf[:n]
        self._pos += n
        return n

    def check_end(self) -> None:
        """Read to the end so gzip's CRC and length trailer are checked (a flipped byte fails here).

        Indexing already decompressed everything up to the tar end marker: the rest is padding.
        """
        while self._inflate():
            pass
        self._pos = self._out
        self._buf.clear()

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        target = offset if whence == io.SEEK_SET else self._pos + offset
        if whence not in (io.SEEK_SET, io.SEEK_CUR) or target < 0:
            raise io.UnsupportedOperation("only forward and absolute seeks")
        if target < self._pos:
            self._restart()
        while self._pos < target:
            step = min(target - self._pos, len(self._buf)) if self._buf else 0
            if step:
                del self._buf[:step]
                self._pos += step
                continue
            chunk = self._inflate()
            if not chunk:
                break
            self._buf += chunk
        return self._pos

    def close(self) -> None:
        self._raw.close()
        super().close()


class _TarOpener(_Opener):
    def __init__(self, path: Path) -> None:
        self.warnings = []
        self.stream: _GzipStream | None = None
        # One anonymous temp file (unlinked at once: nothing left on disk, no member names used)
        # holds every member's bytes, copied during the single decompression pass that indexes them.
        self.spool = tempfile.TemporaryFile(prefix="kubetriage-")
        self.spans: dict[str, tuple[int, int]] = {}
        #: later copies of members the archive holds more than once
        self.copies: dict[str, list[tuple[int, int]]] = {}
        #: symbolic links (never read here; other tools' bundles resolve them: analyzer/foreign)
        self.links: dict[str, str] = {}
        try:
            with path.open("rb") as handle:
                gzipped = handle.read(2) == b"\x1f\x8b"
            if gzipped:
                # headers and padding come on top of the members' bytes
                self.stream = _GzipStream(path, MAX_TOTAL_BYTES + MAX_MEMBERS * 2048)
                self.tar = tarfile.open(fileobj=self.stream, mode="r:")
            else:
                self.tar = tarfile.open(path, "r:")
            members = self._index()
            if self.stream is not None:
                self.stream.check_end()
        except InputError as exc:
            self.close()
            raise InputError(f"{path}: not a kubetriage bundle: {exc}") from None
        except (tarfile.TarError, EOFError, OSError, ValueError) + gz.ERRORS as exc:
            self.close()
            reason = str(exc).splitlines()[0].rstrip(":") if str(exc) else type(exc).__name__
            raise InputError(
                f"{path}: not a kubetriage bundle: not a readable tar archive ({reason})") from exc
        self.members = members

    def _index(self) -> dict[str, tarfile.TarInfo]:
        members: dict[str, tarfile.TarInfo] = {}
        total = 0
        for count, info in enumerate(self.tar, start=1):
            if count > MAX_MEMBERS:
                raise InputError(f"archive has more than {MAX_MEMBERS} members: refusing to read it")
            total += max(info.size, 0)
            if total > MAX_TOTAL_BYTES:
                raise InputError(f"archive expands past {MAX_TOTAL_BYTES} bytes: refusing to read it")
            rel = _safe_member_name(info.name)
            if rel is None:
                self.warnings.append(f"ignored unsafe archive member {info.name[:200]!r}")
                continue
            if not info.isreg():
                if info.issym():
                    self.links[rel] = info.linkname
                self.warnings.append(f"ignored non-regular archive member {info.name[:200]!r}")
                continue
            if info.size > MAX_MEMBER_BYTES:
                self.warnings.append(f"ignored oversized archive member {info.name[:200]!r}")
                continue
            span = self._spool(info)
            if rel in members:  # tar -x would keep the last copy; we read the first, and say so
                self.copies.setdefault(rel, []).append(span)
                continue
            members[rel] = info
            self.spans[rel] = span
        self.spool.flush()  # readers use pread on the descriptor, past Python's buffer
        self.warnings.extend(f"archive member {rel[:200]!r} appears {len(spans) + 1} times: only the first "
                             "copy is analyzed and verified" for rel, spans in self.copies.items())
        return members

    def _spool(self, info: tarfile.TarInfo) -> tuple[int, int]:
        start = self.spool.seek(0, os.SEEK_END)
        source = self.tar.extractfile(info)
        if source is not None:
            shutil.copyfileobj(source, self.spool, 1024 * 1024)
        return start, self.spool.tell() - start

    def _reader(self, span: tuple[int, int]) -> IO[bytes]:
        return io.BufferedReader(_Span(self.spool.fileno(), *span), 1024 * 1024)

    def open(self, path: str) -> IO[bytes]:
        span = self.spans.get(path)
        if span is None:
            raise InputError(f"bundle has no member {path!r}")
        return self._reader(span)

    def other_copies(self, path: str) -> list[IO[bytes]]:
        return [self._reader(span) for span in self.copies.get(path, [])]

    def names(self) -> list[str]:
        return list(self.members)

    def close(self) -> None:
        if hasattr(self, "tar"):
            self.tar.close()
        if self.stream is not None:
            self.stream.close()
        self.spool.close()


class _Span(io.RawIOBase):
    """Read-only view of [start, start+size) of a file descriptor; each reader keeps its own offset."""

    def __init__(self, fd: int, start: int, size: int) -> None:
        self.fd, self.start, self.size, self.pos = fd, start, size, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        want = min(len(buffer), self.size - self.pos)
        if want <= 0:
            return 0
        data = os.pread(self.fd, want, self.start + self.pos)
        buffer[:len(data)] = data
        self.pos += len(data)
        return len(data)


class _DirOpener(_Opener):
    def __init__(self, root: Path) -> None:
        self.warnings = []
        self.root = root.resolve()

    def open(self, path: str) -> IO[bytes]:
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            raise InputError(f"bundle has no readable file {path!r} inside {self.root}")
        return target.open("rb")

    def names(self) -> list[str]:
        """Regular files only: a symlink is listed as a warning, never followed."""
        out: list[str] = []
        for folder, dirs, files in os.walk(self.root):
            for name in sorted(files) + [d for d in dirs if Path(folder, d).is_symlink()]:
                path = Path(folder, name)
                rel = path.relative_to(self.root).as_posix()
                if path.is_symlink() or not path.is_file():
                    self.warnings.append(f"ignored non-regular file {rel!r}")
                else:
                    out.append(rel)
        return sorted(out)


def open_bundle(path: Path) -> Bundle:
    """Open one bundle from a tarball or an unpacked folder (with manifest.json, or one top folder)."""
    if path.is_dir():
        top = path
        if not (top / "manifest.json").is_file():
            subdirs = [p for p in path.iterdir() if (p / "manifest.json").is_file()]
            if len(subdirs) != 1:
                raise InputError(f"{path}: no manifest.json: not a kubetriage bundle folder")
            top = subdirs[0]
        opener: _Opener = _DirOpener(top)
    else:
        opener = _TarOpener(path)
    try:
        with opener.open("manifest.json") as handle:
            data = handle.read(MAX_MANIFEST_BYTES + 1)
    except InputError:
        opener.close()
        raise InputError(f"{path}: no manifest.json: not a kubetriage bundle") from None
    if len(data) > MAX_MANIFEST_BYTES:
        opener.close()
        raise InputError(f"{path}: manifest.json is larger than {MAX_MANIFEST_BYTES} bytes")
    try:
        manifest = parse_manifest(data)
    except InputError as exc:
        opener.close()
        raise InputError(f"{path}: {exc}") from None
    return Bundle(path, manifest, opener)


def _is_tarball(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith((".tar.gz", ".tgz", ".tar", ".tar.xz", ".txz"))


def discover(paths: list[Path]) -> Iterator[Path]:
    """Expand the user's paths into bundle paths: a folder of bundles yields each bundle in it."""
    for path in paths:
        if not path.exists():
            raise InputError(f"{path}: no such file or folder")
        if path.is_dir() and not (path / "manifest.json").is_file():
            inner = sorted(p for p in path.iterdir()
                           if (p.is_file() and _is_tarball(p)) or (p / "manifest.json").is_file())
            if inner:
                yield from inner
                continue
        yield path


#: a folder of loose files is read up to this many files
MAX_LOOSE_FILES = 500


def _loose_files(folder: Path) -> list[Path]:
    """The regular files of a folder of loose evidence (no bundle in it), symlinks not followed."""
    found: list[Path] = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found += [Path(root, n) for n in sorted(names)
                  if not n.startswith(".") and not Path(root, n).is_symlink() and Path(root, n).is_file()]
        if len(found) > MAX_LOOSE_FILES:
            raise InputError(f"{folder}: more than {MAX_LOOSE_FILES} files; not a folder of loose evidence")
    return found


def open_bundles(paths: list[Path], as_type: str | None = None, node: str | None = None,
                 stdin: bytes | None = None) -> list[Bundle]:
    """Open every bundle the paths name; every other file (and stdin's bytes, for the path `-`, and the
    files of a folder holding no bundle) is loose evidence of one node, `node` (analyzer/evidence/
    reader.py; `as_type` overrides the detected types). InputError on the first input that cannot be
    read."""
    from .evidence.reader import LooseFile, open_loose  # the reader builds on this module
    from .foreign import open_foreign  # another tool's bundle: one pseudo-bundle per node

    bundles: list[Bundle] = []
    loose: list[LooseFile] = []
    try:
        for path in paths:
            if str(path) == "-":
                loose.append(LooseFile("stdin", None, stdin or b""))
                continue
            for found in discover([path]):
                foreign = open_foreign(found)
                if foreign:
                    bundles.extend(foreign)
                elif found.is_dir() and not (found / "manifest.json").is_file() and not any(
                        (p / "manifest.json").is_file() for p in found.iterdir()):
                    loose += [LooseFile(str(f.relative_to(found)), f) for f in _loose_files(found)]
                elif found.is_file() and not _is_tarball(found):
                    loose.append(LooseFile(found.name, found))
                else:
                    bundles.append(open_bundle(found))
        if loose:
            bundles.append(open_loose(loose, as_type, node))
        if not bundles:
            raise InputError(f"{', '.join(map(str, paths))}: no bundle and no file to read")
    except InputError:
        for bundle in bundles:
            bundle.close()
        raise
    return bundles
