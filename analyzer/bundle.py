"""Open bundles (tarballs or unpacked folders) safely and find their items by manifest id.

Nothing in a bundle is trusted: member names are checked, only regular files are read, sizes and
counts are capped, and the manifest is validated field by field before use.
"""

from __future__ import annotations

import datetime as dt
import json
import tarfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO, Any

from .errors import InputError

SUPPORTED_FORMAT = 1
MAX_MEMBERS = 50_000
MAX_MEMBER_BYTES = 512 * 1024 * 1024
MAX_TOTAL_BYTES = 4 * 1024 * 1024 * 1024
MAX_MANIFEST_BYTES = 32 * 1024 * 1024
#: default cap for reading one item fully into memory (parsers of small files)
MAX_TEXT_BYTES = 64 * 1024 * 1024


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
    )


def parse_manifest(data: bytes) -> Manifest:
    """Validate and load manifest.json bytes."""
    try:
        raw = json.loads(data.decode("utf-8", "replace"))
    except json.JSONDecodeError as exc:
        raise InputError(f"manifest.json is not valid JSON ({exc.msg} at line {exc.lineno})") from exc
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
        redactions_total=int(redactions.get("total", 0) or 0),
        items=[_item(i) for i in items],
    )


def _safe_member_name(name: str) -> str | None:
    """Return the name relative to the bundle's top folder, or None when it is unsafe."""
    path = PurePosixPath(name)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        return None
    return str(PurePosixPath(*path.parts[1:]))


class Bundle:
    """One node's bundle, read from a .tar.gz (without unpacking) or from an unpacked folder."""

    def __init__(self, source: Path, manifest: Manifest, opener: _Opener) -> None:
        self.source = source
        self.manifest = manifest
        self._opener = opener
        self.warnings: list[str] = list(opener.warnings)

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

    def read_bytes(self, path: str, limit: int = MAX_TEXT_BYTES) -> bytes:
        with self.open(path) as handle:
            data = handle.read(limit + 1)
        if len(data) > limit:
            self.warnings.append(f"{path}: larger than {limit} bytes, read only the first {limit}")
            data = data[:limit]
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

    def close(self) -> None:
        """Release the underlying file, if any."""


class _TarOpener(_Opener):
    def __init__(self, path: Path) -> None:
        self.warnings = []
        try:
            self.tar = tarfile.open(path, "r:*")
            members = self._index()
        except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
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
            rel = _safe_member_name(info.name)
            if rel is None:
                self.warnings.append(f"ignored unsafe archive member {info.name[:200]!r}")
                continue
            if not info.isreg():
                self.warnings.append(f"ignored non-regular archive member {info.name[:200]!r}")
                continue
            if info.size > MAX_MEMBER_BYTES:
                self.warnings.append(f"ignored oversized archive member {info.name[:200]!r}")
                continue
            total += info.size
            if total > MAX_TOTAL_BYTES:
                raise InputError(f"archive expands past {MAX_TOTAL_BYTES} bytes: refusing to read it")
            members[rel] = info
        return members

    def open(self, path: str) -> IO[bytes]:
        info = self.members.get(path)
        if info is None:
            raise InputError(f"bundle has no member {path!r}")
        handle = self.tar.extractfile(info)
        if handle is None:
            raise InputError(f"bundle member {path!r} is not a regular file")
        return handle

    def close(self) -> None:
        self.tar.close()


class _DirOpener(_Opener):
    def __init__(self, root: Path) -> None:
        self.warnings = []
        self.root = root.resolve()

    def open(self, path: str) -> IO[bytes]:
        target = (self.root / path).resolve()
        if not target.is_relative_to(self.root) or not target.is_file():
            raise InputError(f"bundle has no readable file {path!r} inside {self.root}")
        return target.open("rb")


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
    return name.endswith((".tar.gz", ".tgz", ".tar"))


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


def open_bundles(paths: list[Path]) -> list[Bundle]:
    """Open every bundle the paths name; InputError on the first that cannot be read."""
    bundles: list[Bundle] = []
    try:
        for path in discover(paths):
            bundles.append(open_bundle(path))
    except InputError:
        for bundle in bundles:
            bundle.close()
        raise
    return bundles
