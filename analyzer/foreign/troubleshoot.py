"""Replicated troubleshoot support bundles (`support-bundle-<date>.tar.gz`, also kURL's and sbctl's):
`cluster-resources/<kind>/<namespace>.json` lists, `cluster-resources/pods/logs/<ns>/<pod>/<c>.log`,
`all-logs/` links to those logs, `host-collectors/`, and the vendor's own `analysis.json`.

The bundle records no collection time: it is the archive's newest file time when the API objects
agree with it (not earlier than their newest Ready heartbeat or event), else that newest API time; an
unpacked folder's file times are the unpacker's, never used. `analysis.json` is troubleshoot's own
analyzers' verdict; it is reported as such (a notice), never as a kubetriage finding.
"""

from __future__ import annotations

import datetime as dt
import json
import re

from ..errors import InputError
from . import Located, NodeEvidence, join
from .common import api_now, pod_nodes, typed, unseen_control_plane
from .tree import Files, Tree

CLUSTER = "support-bundle"
_POD_LOG = re.compile(r"cluster-resources/pods/logs/([^/]+)/([^/]+)/([^/]+)\.log$")
_ALL_LOGS = re.compile(r"all-logs/([^/]+)/([^/]+)\.log$")
#: analysis.json entries worth a notice (troubleshoot's pass/debug results are not)
_VENDOR_SHOWN = ("warn", "warning", "fail", "error")


def vendor_results(text: str) -> list[str]:
    """One line per troubleshoot analyzer that warned or failed, marked as the vendor's own.

    >>> vendor_results('[{"name": "node.count", "insight": {"primary": "Node Count", '
    ...                '"detail": "This application requires at least 3 nodes", "severity": "warn"}}]')
    ["troubleshoot's own analyzers (analysis.json, not kubetriage findings): warn: Node Count: This \
application requires at least 3 nodes"]
    """
    try:
        entries = json.loads(text)
    except (ValueError, RecursionError):
        return ["troubleshoot analysis.json is not valid JSON: its results are not shown"]
    out: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        insight = entry.get("insight") if isinstance(entry, dict) else None
        if not isinstance(insight, dict):
            continue
        severity = str(insight.get("severity") or entry.get("severity") or "")
        if severity.lower() in _VENDOR_SHOWN:
            out.append(f"troubleshoot's own analyzers (analysis.json, not kubetriage findings): {severity}: "
                       f"{str(insight.get('primary', ''))[:120]}: {str(insight.get('detail', ''))[:300]}")
    return out


class Troubleshoot:
    name = "troubleshoot support bundle"

    def matches(self, files: Files, root: str) -> bool:
        return files.has(join(root, "cluster-resources/nodes.json"))

    def locate(self, files: Files, root: str) -> Located:
        resources = join(root, "cluster-resources")
        nodes_json = join(resources, "nodes.json")
        events = [n for n in files.under(join(resources, "events")) if n.endswith(".json")]
        depth = resources.count("/") + 2  # cluster-resources/pods/<namespace>.json
        pod_lists = [n for n in files.under(join(resources, "pods")) if n.count("/") == depth
                     and n.endswith(".json")]
        when, source = _collected_at(files, api_now(files, [nodes_json], events))
        cluster = NodeEvidence(CLUSTER)
        cluster.add("k8s.nodes", nodes_json)
        for name in pod_lists:
            cluster.add("k8s.pods", name)
        for name in events:
            cluster.add("k8s.events", name)
        for name in files.under(join(resources, "leases")):
            cluster.add("k8s.leases", name)
        for name in files.under(join(root, "host-collectors")):
            if item := typed(files, name):
                cluster.add(item, name)
        where = pod_nodes(files, pod_lists)
        nodes: dict[str, NodeEvidence] = {}
        seen: set[tuple[str, str]] = set()

        def add_log(name: str, namespace: str, pod: str, container: str, source: str) -> None:
            host = where.get(f"{namespace}/{pod}", CLUSTER)
            node = cluster if host == CLUSTER else nodes.setdefault(host, NodeEvidence(host))
            node.add("logs.pod", name, source or f"container {container} of pod {pod}")
            seen.add((pod, container))

        for name in files.under(join(resources, "pods/logs")):
            if m := _POD_LOG.search(name):
                add_log(name, m.group(1), m.group(2), m.group(3), "")
        # all-logs/<pod>/<container>.log: links into pods/logs (resolved inside the bundle only); a
        # bundle unpacked without its links holds copies, read only when the original is absent
        for name in files.under(join(root, "all-logs")):
            m = _ALL_LOGS.search(name)
            if m and (m.group(1), m.group(2)) not in seen:
                add_log(name, "", m.group(1), m.group(2), f"container {m.group(2)} of pod {m.group(1)}")
        for link, target in files.links.items():
            m = _ALL_LOGS.search(link)
            if m and target and (m.group(1), m.group(2)) not in seen and (t := _POD_LOG.search(target)):
                add_log(target, t.group(1), t.group(2), t.group(3), f"{link} -> {target}")
        analysis = join(root, "analysis.json")
        notices = unseen_control_plane(list(where))
        notices += vendor_results(files.read_text(analysis)) if files.has(analysis) else []
        return Located(self.name, when, source, [cluster, *nodes.values()], notices)


#: an archive's file times later than the API's own newest time by more than this are not trusted
MTIME_SLACK = dt.timedelta(days=1)


def _collected_at(files: Files, api: dt.datetime | None) -> tuple[dt.datetime, str]:
    """The archive's newest file time (troubleshoot writes every file at collection), when the API
    objects agree with it; else the newest heartbeat or event the objects record."""
    written = files.newest_mtime() if isinstance(files, Tree) else None
    if written is not None and (api is None or api <= written <= api + MTIME_SLACK):
        return written, "the archive's newest file time"
    if api is None:
        raise InputError("support bundle without node heartbeats, events or file times: no collection time")
    return api, "the newest node heartbeat or event in cluster-resources"
