"""Other tools' bundles (kubectl cluster-info dump, troubleshoot, sosreport, must-gather, Rancher's log
collector) read as pseudo-bundles: one adapter per format maps its files onto our item ids.

An adapter only *locates*: it says which of its files holds which evidence type (an item id of
docs/bundle-format.md), on which node, and when the bundle was collected (from the bundle itself,
never the analyst's clock). The parsers and fact builders then read the files unchanged; the item's
path is the file's path inside the foreign bundle, so every finding cites it. docs/foreign-bundles.md
lists the formats and their mappings.
"""

from __future__ import annotations

import datetime as dt
import lzma
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Protocol

from .. import gz
from ..bundle import Bundle, ItemRecord, Manifest, NodeIdentity, _is_tarball, _Opener
from ..errors import InputError
from .tree import XZ_MAGIC, Files, Tree

#: evidence types only other tools' bundles hold (rules may need them like collector item ids)
FOREIGN_ITEMS = {"ocp.clusteroperators": "OpenShift ClusterOperators (must-gather)"}
#: how deep below the named folder an adapter looks for its layout (must-gather nests two folders)
MAX_ROOT_DEPTH = 3


@dataclass
class NodeEvidence:
    """One node's (or the cluster's) files, each as (item id, path in the bundle, what it is)."""

    name: str
    items: list[tuple[str, str, str]] = field(default_factory=list)

    def add(self, item_id: str, path: str, source: str = "") -> None:
        self.items.append((item_id, path, source or path))


@dataclass
class Located:
    """What an adapter found: the nodes' evidence and the bundle's own collection time."""

    format: str
    collected_at: dt.datetime
    #: where the collection time came from, for the report's notices
    time_source: str
    nodes: list[NodeEvidence]
    notices: list[str] = field(default_factory=list)


class Adapter(Protocol):
    """One foreign format: where its layout starts in a bundle, and what its files are."""

    name: str

    def matches(self, files: Files, root: str) -> bool:
        """Whether this format's layout starts in that folder (relative, '' for the top)."""

    def locate(self, files: Files, root: str) -> Located:
        """Map the bundle's files onto item ids; InputError when it has no usable collection time."""


class _SharedOpener(_Opener):
    """One pseudo-bundle's view of the foreign bundle's files, shared with the other nodes' views."""

    def __init__(self, files: Files, warnings: list[str]) -> None:
        self.files = files
        self.warnings = warnings
        files.acquire()

    def open(self, path: str) -> IO[bytes]:
        return self.files.open(path)

    def names(self) -> list[str]:
        return list(self.files.names)

    def close(self) -> None:
        self.files.release()


def _adapters() -> list[Adapter]:
    from .clusterinfo import ClusterInfoDump
    from .mustgather import MustGather
    from .rancher import RancherLogs
    from .sosreport import SosReport
    from .troubleshoot import Troubleshoot

    return [MustGather(), SosReport(), RancherLogs(), Troubleshoot(), ClusterInfoDump()]


def _found(files: Files) -> list[tuple[Adapter, str]]:
    """Each foreign bundle in the files: its format and its folder, searched up to MAX_ROOT_DEPTH deep,
    shallowest first (a folder of several sosreports holds several), never one inside another."""
    roots = sorted((f for f in files.folders if f.count("/") + bool(f) <= MAX_ROOT_DEPTH),
                   key=lambda r: (r.count("/") + bool(r), r))
    found: list[tuple[Adapter, str]] = []
    for root in roots:
        if any(not r or root.startswith(r + "/") for _, r in found):
            continue
        adapter = next((a for a in _adapters() if a.matches(files, root)), None)
        if adapter is not None:
            found.append((adapter, root))
    return found


def join(root: str, name: str) -> str:
    return f"{root}/{name}" if root else name


def _is_ours(path: Path) -> bool:
    """A kubetriage bundle: manifest.json in the folder (or its single bundle folder), or as the first
    member of the archive."""
    if path.is_dir():
        return (path / "manifest.json").is_file() or any((p / "manifest.json").is_file()
                                                         for p in path.iterdir() if p.is_dir())
    first = _first_member(path)
    return first is None or first.endswith("/manifest.json")


def _first_member(path: Path) -> str | None:
    """The name in an archive's first tar header (only that is decompressed); None when unreadable,
    and then the bundle reader says why."""
    with path.open("rb") as handle:
        head = handle.read(64 * 1024)
    try:
        if head[:2] == b"\x1f\x8b":
            block = gz.decompressobj().decompress(head, tarfile.BLOCKSIZE)
        elif head[:6] == XZ_MAGIC:
            block = lzma.LZMADecompressor().decompress(head, tarfile.BLOCKSIZE)
        else:
            block = head[:tarfile.BLOCKSIZE]
        return tarfile.TarInfo.frombuf(block, "utf-8", "surrogateescape").name
    except (lzma.LZMAError, tarfile.TarError, EOFError) + gz.ERRORS:
        return None


def _files(path: Path) -> Files | None:
    from .clusterinfo import stream_segments

    return Tree(path) if path.is_dir() or _is_tarball(path) else stream_segments(path)


def open_foreign(path: Path) -> list[Bundle]:
    """Pseudo-bundles for another tool's bundle at `path`; [] when it is none of the known formats."""
    if not path.exists() or (path.is_dir() or _is_tarball(path)) and _is_ours(path):
        return []
    files = _files(path)
    if files is None:
        return []
    try:
        located = [adapter.locate(files, root) for adapter, root in _found(files)]
    except InputError as exc:
        files.close()
        raise InputError(f"{path}: {exc}") from None
    if not located:
        files.close()
        return []
    return _bundles(path, files, located)


def _bundles(path: Path, files: Files, located: list[Located]) -> list[Bundle]:
    bundles: list[Bundle] = []
    for found in located:
        notices = [f"{found.format}: read as another tool's bundle; judged as of "
                   f"{found.collected_at.strftime('%Y-%m-%d %H:%M:%S UTC')} ({found.time_source})",
                   *found.notices, *(files.warnings if found is located[0] else [])]
        bundles += _pseudo_bundles(path, files, found, notices)
    if not bundles:
        files.close()
        formats = ", ".join(sorted({f.format for f in located}))
        raise InputError(f"{path}: {formats}: no Kubernetes evidence found in it")
    return bundles


def _pseudo_bundles(path: Path, files: Files, found: Located, notices: list[str]) -> list[Bundle]:
    bundles: list[Bundle] = []
    for index, node in enumerate(n for n in found.nodes if n.items):
        items = [ItemRecord(id=item_id, kind="file", source=source, path=name, size=files.size(name),
                            sha256=None, exit_code=0, started_at="", duration_s=0.0, timed_out=False,
                            truncated=False, redactions=0, error=None, skipped=None)
                 for item_id, name, source in node.items]
        manifest = Manifest(format_version=1, collector_version=found.format,
                            node=NodeIdentity(hostname=node.name), collected_at=found.collected_at,
                            clock={}, options={"foreign": found.format, "now_source": found.time_source},
                            complete=True, redactions_total=0, items=items)
        bundles.append(Bundle(path, manifest, _SharedOpener(files, notices if index == 0 else [])))
    return bundles
