"""OpenShift must-gather (`oc adm must-gather`): `must-gather.local.<n>/<image>/` holding `timestamp`,
`etcd_info/`, `cluster-scoped-resources/`, `namespaces/<ns>/{core,pods}/` and `host_service_logs/`.

The collection time is the last line of `timestamp` (the gather's own clock). Pod logs
(`pods/<pod>/<container>/<container>/logs/{current,previous}.log`, kubectl `--timestamps` lines) go to
the node that ran the pod, the masters' merged journals are cut by host onto their nodes; cluster-wide
evidence (API objects, etcdctl JSON) goes to one pseudo-node named `must-gather`.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from typing import IO

from ..errors import InputError
from ..logs.formats import parse_line
from . import Located, NodeEvidence, join
from .common import node_names, pod_nodes
from .tree import Files

_STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)(?:\.\d+)? ([+-]\d{4}) ", re.M)
ETCD = {"member_list.json": "etcd.member_list", "endpoint_health.json": "etcd.endpoint_health",
        "endpoint_status.json": "etcd.endpoint_status", "alarm_list.json": "etcd.alarm_list"}
CORE = {"pods.yaml": "k8s.pods", "events.yaml": "k8s.events"}
#: host_service_logs/masters/<unit>_service.log
SERVICES = {"kubelet": "journal.kubelet", "crio": "journal.runtime"}
#: a merged journal naming more hosts than this is not the masters' (kept whole)
MAX_HOSTS = 16
_POD_LOG = re.compile(r"namespaces/([^/]+)/pods/([^/]+)/([^/]+)/[^/]+/logs/(?:current|previous)\.log$")


def gathered_at(text: str) -> dt.datetime | None:
    """The newest `2021-08-03 10:13:47.364145495 +0000 UTC m=+1.35` line of `timestamp`.

    >>> gathered_at("2021-08-03 10:12:00.016988581 +0000 UTC m=+0.38\\n"
    ...             "2021-08-03 10:13:47.364145495 +0000 UTC m=+1.35\\n").isoformat()
    '2021-08-03T10:13:47+00:00'
    """
    stamps = [dt.datetime.strptime(f"{m.group(1)} {m.group(2)}", "%Y-%m-%d %H:%M:%S %z")
              for m in _STAMP.finditer(text)]
    return max(stamps, default=None)


class MustGather:
    name = "must-gather"

    def matches(self, files: Files, root: str) -> bool:
        return files.has(join(root, "timestamp")) and any(
            join(root, d) in files.folders for d in ("namespaces", "cluster-scoped-resources"))

    def locate(self, files: Files, root: str) -> Located:
        when = gathered_at(files.head(join(root, "timestamp")))
        if when is None:
            raise InputError("must-gather `timestamp` holds no time: no collection time")
        cluster = NodeEvidence("must-gather")
        for name, item in ETCD.items():
            if files.has(join(root, f"etcd_info/{name}")):
                cluster.add(item, join(root, f"etcd_info/{name}"))
        for name in files.under(join(root, "cluster-scoped-resources/core/nodes")):
            cluster.add("k8s.nodes", name)
        for name in files.under(join(root, "cluster-scoped-resources/config.openshift.io/clusteroperators")):
            cluster.add("ocp.clusteroperators", name)
        pod_lists: list[str] = []
        for name in files.under(join(root, "namespaces")):
            base = name.rsplit("/", 1)[-1]
            if name.endswith(f"/core/{base}") and base in CORE:
                cluster.add(CORE[base], name)
                pod_lists += [name] if base == "pods.yaml" else []
        where = pod_nodes(files, pod_lists)
        nodes: dict[str, NodeEvidence] = {}
        hosts = node_names(files, files.under(join(root, "cluster-scoped-resources/core/nodes")))
        for name in files.under(join(root, "host_service_logs")):
            unit = name.rsplit("/", 1)[-1].removesuffix("_service.log")
            if unit not in SERVICES:
                continue
            for host, part in split_by_host(files, name, hosts, when).items():
                node = nodes.setdefault(host, NodeEvidence(host)) if host else cluster
                node.add(SERVICES[unit], part, f"journalctl -u {unit}" + (f" on {host}" if host else ""))
        for name in files.under(join(root, "namespaces")):
            m = _POD_LOG.search(name)
            if m:
                namespace, pod, container = m.groups()
                host = where.get(f"{namespace}/{pod}", "must-gather")
                node = cluster if host == "must-gather" else nodes.setdefault(host, NodeEvidence(host))
                node.add("logs.pod", name, f"container {container} of pod {pod}")
        return Located(self.name, when, "must-gather `timestamp`", [cluster, *nodes.values()])


def split_by_host(files: Files, name: str, nodes: list[str], when: dt.datetime) -> dict[str, str]:
    """`oc adm node-logs --role=master -u UNIT` merges the masters' journals: each node's lines become
    a part `<file>#<node>` (a line names its host, the node's first label). {'': name} when the lines
    name no known node (then the file stays whole)."""
    by_label = {n.split(".")[0]: n for n in nodes}
    outs: dict[str, IO[bytes]] = {}
    current = ""
    try:
        with files.open(name) as stream:
            for raw in stream:
                host = parse_line(raw[:200].decode("utf-8", "replace"), when).host
                if host:
                    current = by_label.get(host, by_label.get(host.split(".")[0], ""))
                if current:
                    if current not in outs:
                        outs[current] = tempfile.TemporaryFile(prefix="kubetriage-")
                    outs[current].write(raw)
        if not outs or len(outs) > MAX_HOSTS:
            return {"": name}
        parts = {}
        for host, out in outs.items():
            out.seek(0)
            parts[host] = f"{name}#{host}"
            files.add_part(parts[host], out)
        return parts
    finally:
        for out in outs.values():
            out.close()
