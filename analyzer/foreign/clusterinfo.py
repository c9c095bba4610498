"""`kubectl cluster-info dump`: with `--output-directory`, `nodes.json` and per namespace
`<ns>/{pods,events,...}.json` and `<ns>/<pod>/logs.txt`; without it, the same JSON lists and logs in one
stream on stdout, which is cut here into the same layout under `<file>#/`.

kubectl up to 1.9 wrote internal types (`Items`, capitalised fields, no `kind`): the kubectl parser
reads both. The dump records no collection time: it is the newest moment the objects record (Ready
heartbeats, events). Pod logs go to the node that ran the pod (`spec.nodeName`).
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path
from typing import IO

from ..bundle import MAX_TOTAL_BYTES
from ..errors import InputError
from . import Located, NodeEvidence, join
from .common import api_now, pod_nodes, unseen_control_plane
from .tree import Files

CLUSTER = "cluster-info-dump"
_LOG_MARK = re.compile(r"^==== (START|END) logs for container (\S+) of pod ([^/\s]+)/(\S+) ====\s*$")
_SELF_LINK = re.compile(r'"selfLink":\s*"/apis?/(?:[^"]*?/)?(?:namespaces/([^/"]+)/)?([a-z]+)"')
_LAYOUT_LOG = re.compile(r"(?:^|/)([^/]+)/([^/]+)/logs\.txt$")
HEAD_BYTES = 64 * 1024


class Segments(Files):
    """The parts of a single-stream dump, as the files `--output-directory` would have written."""

    def __init__(self, source: Path, segments: dict[str, tuple[int, int]], spool: IO[bytes]) -> None:
        self.source, self.names, self.links, self.warnings = source, list(segments), {}, []
        self._spans, self._spool = segments, spool

    def _open(self, name: str) -> IO[bytes]:
        raise InputError(f"dump has no part {name!r}")

    def _size(self, name: str) -> int:
        return 0


def _looks_like_dump(head: str) -> bool:
    marker = r'"(?:kind": "NodeList|Items")|"selfLink": "/api/v1/nodes"'
    return head.startswith("{") and bool(re.search(marker, head[:4096]))


def _object_name(text: str) -> str:
    """`nodes.json` or `<ns>/<resource>.json` from the list's selfLink (kubectl ≤1.9) or its kind."""
    m = _SELF_LINK.search(text[:2048])
    if m:
        return f"{m.group(1)}/{m.group(2)}.json" if m.group(1) else f"{m.group(2)}.json"
    kind = re.search(r'"kind":\s*"(\w+)List"', text[:2048])
    namespace = re.search(r'"namespace":\s*"([^"]+)"', text)
    resource = (kind.group(1).lower() + "s") if kind else "objects"
    if namespace and resource != "nodes":
        return f"{namespace.group(1)}/{resource}.json"
    return f"{resource}.json"


def stream_segments(path: Path) -> Segments | None:
    """Cut a single-stream dump into parts; None when the file is not one."""
    with path.open("rb") as handle:
        if not _looks_like_dump(handle.read(HEAD_BYTES).decode("utf-8", "replace")):
            return None
    spool = tempfile.TemporaryFile(prefix="kubetriage-")
    spans: dict[str, list[tuple[int, int]]] = {}
    root = f"{path.name}#"
    current: str | None = None
    buffer: list[bytes] = []
    total = 0

    def flush(name: str | None) -> None:
        if name and buffer:
            start = spool.seek(0, io.SEEK_END)
            spool.write(b"".join(buffer))
            spans.setdefault(name, []).append((start, spool.tell() - start))
        buffer.clear()

    with path.open("rb") as handle:
        for raw in handle:
            total += len(raw)
            if total > MAX_TOTAL_BYTES:
                spool.close()
                raise InputError(f"{path}: larger than {MAX_TOTAL_BYTES} bytes: refusing to read it")
            line = raw.decode("utf-8", "replace")
            mark = _LOG_MARK.match(line)
            if line.startswith("{") and current is None:
                current = "object"
            elif mark and mark.group(1) == "START":
                current = f"{root}/{mark.group(3)}/{mark.group(4)}/logs.txt"
            buffer.append(raw)
            if current == "object" and line.rstrip() == "}":
                flush(f"{root}/{_object_name(b''.join(buffer).decode('utf-8', 'replace'))}")
                current = None
            elif mark and mark.group(1) == "END":
                flush(current)
                current = None
    cut = current is not None and bool(buffer)
    flush(current if current != "object" else None)
    spool.flush()
    # a pod's containers (and a namespace's repeated lists) add up into one part
    joined: dict[str, tuple[int, int]] = {}
    for name, parts in spans.items():
        start = spool.seek(0, io.SEEK_END)
        for offset, size in parts:
            spool.seek(offset)
            data = spool.read(size)
            spool.seek(0, io.SEEK_END)
            spool.write(data)
        joined[name] = (start, spool.tell() - start)
    spool.flush()
    segments = Segments(path, joined, spool)
    if cut:
        segments.warnings.append(f"{path.name}: the dump ends inside a part (cut short?): its last part "
                                 "was read as far as it goes, or not at all for a JSON list")
    return segments


class ClusterInfoDump:
    name = "kubectl cluster-info dump"

    def matches(self, files: Files, root: str) -> bool:
        # the stream names its own parts; a folder needs a namespace's pod list too
        return files.has(join(root, "nodes.json")) and (
            isinstance(files, Segments) or any(n.endswith("/pods.json") for n in files.under(root)))

    def locate(self, files: Files, root: str) -> Located:
        nodes_json = join(root, "nodes.json")
        below = files.under(root) if root else files.names
        pod_lists = [n for n in below if n.endswith("/pods.json")]
        events = [n for n in below if n.endswith("/events.json")]
        when = api_now(files, [nodes_json], events)
        if when is None:
            raise InputError("cluster-info dump without node heartbeats or events: no collection time")
        cluster = NodeEvidence(CLUSTER)
        cluster.add("k8s.nodes", nodes_json)
        for name in pod_lists:
            cluster.add("k8s.pods", name)
        for name in events:
            cluster.add("k8s.events", name)
        where = pod_nodes(files, pod_lists)
        nodes: dict[str, NodeEvidence] = {}
        for name in below:
            m = _LAYOUT_LOG.search(name)
            if m:
                host = where.get(f"{m.group(1)}/{m.group(2)}", CLUSTER)
                node = cluster if host == CLUSTER else nodes.setdefault(host, NodeEvidence(host))
                node.add("logs.pod", name, f"kubectl logs of pod {m.group(2)}")
        return Located(self.name, when, "the newest node heartbeat or event in the dump",
                       [cluster, *nodes.values()], unseen_control_plane(list(where)))
