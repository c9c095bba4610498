"""What several adapters need: a `date` line, the newest API timestamp, which node ran a pod, and the
evidence type of a command output by its content (analyzer/evidence/recognise.py).

>>> parse_date("Thu Dec  4 09:15:58 UTC 2025").isoformat()
'2025-12-04T09:15:58+00:00'
>>> parse_date("Fri Feb 11 19:23:39 CET 2022") is None
True
"""

from __future__ import annotations

import datetime as dt
import re

from ..evidence.recognise import detect
from ..evidence.types import TYPES
from ..parsers.kubectl import load_objects, parse_node, parse_pod, parse_timestamp
from ..parsers.manifests import as_dict, as_list, dig
from .tree import Files

_DATE = re.compile(r"^\w{3} (\w{3}) +(\d{1,2}) (\d\d:\d\d:\d\d) (?:UTC|GMT|Z) (\d{4})\s*$", re.M)
#: journals of units named after the component (plain, snap-packaged, distribution services)
JOURNAL_UNITS = (("kubelet", "journal.kubelet"), ("etcd", "journal.etcd"),
                 ("containerd", "journal.runtime"), ("crio", "journal.runtime"),
                 ("docker", "journal.runtime"), ("kube-", "journal.control_plane"),
                 ("k3s", "journal.control_plane"), ("rke2", "journal.control_plane"),
                 ("microk8s", "journal.control_plane"), ("k0s", "journal.control_plane"))


def parse_date(text: str) -> dt.datetime | None:
    """`date`'s default output, when it is in UTC (another zone's abbreviation is ambiguous)."""
    m = _DATE.search(text)
    if not m:
        return None
    try:
        moment = dt.datetime.strptime(f"{m.group(1)} {m.group(2)} {m.group(3)} {m.group(4)}",
                                      "%b %d %H:%M:%S %Y")
    except ValueError:
        return None
    return moment.replace(tzinfo=dt.timezone.utc)


def journal_item(unit: str) -> str | None:
    """The journal item id of a systemd unit (`snap.kube-apiserver.daemon`, `rke2-server`...)."""
    name = unit.lower().removeprefix("snap.")
    return next((item for prefix, item in JOURNAL_UNITS if name.startswith(prefix)), None)


def typed(files: Files, name: str) -> str | None:
    """The item id of a command output by its content, as for loose evidence; None when unknown."""
    found = detect(files.head(name))
    return TYPES[found].item_id if found else None


def objects(files: Files, name: str) -> list[dict[str, object]]:
    return load_objects(files.read_text(name)).items


def api_now(files: Files, node_files: list[str], event_files: list[str]) -> dt.datetime | None:
    """The newest moment the API objects themselves record: the kubelets' Ready heartbeats and the
    events' last times. A bundle without a collection time was taken no earlier than that."""
    stamps: list[dt.datetime] = []
    for name in node_files:
        for obj in objects(files, name):
            stamps += [t for c in as_list(dig(obj, "status", "conditions")) if isinstance(c, dict)
                       if (t := parse_timestamp(c.get("lastHeartbeatTime")))]
    for name in event_files:
        for obj in objects(files, name):
            stamps += [t for key in ("lastTimestamp", "eventTime", "firstTimestamp")
                       if (t := parse_timestamp(obj.get(key)))]
    return max(stamps, default=None)


def pod_nodes(files: Files, pod_files: list[str]) -> dict[str, str]:
    """'namespace/pod' -> the node it ran on, from pod lists."""
    out: dict[str, str] = {}
    for name in pod_files:
        for obj in objects(files, name):
            pod = parse_pod(obj)
            if pod.node_name:
                out[f"{pod.namespace}/{pod.name}"] = pod.node_name
    return out


def node_names(files: Files, node_files: list[str]) -> list[str]:
    return [parse_node(obj).name for name in node_files for obj in objects(files, name)
            if isinstance(as_dict(obj.get("metadata")).get("name"), str)]


def unseen_control_plane(pods: list[str]) -> list[str]:
    """A notice for control-plane components with no pod among 'namespace/pod' names: they run embedded
    (k3s, RKE2's supervisor) or outside the cluster, so a bundle of API objects cannot show their state.

    >>> unseen_control_plane(["kube-system/coredns-b96499967-tncf4"])[0][:58]
    'no kube-apiserver, etcd pod among the pods: they run embed'
    >>> unseen_control_plane(["kube-system/kube-apiserver-cp1", "kube-system/etcd-cp1"])
    []
    """
    names = [p.partition("/")[2] for p in pods]
    missing = [c for c in ("kube-apiserver", "etcd") if not any(n.startswith(c + "-") for n in names)]
    if not missing or not pods:
        return []
    return [f"no {', '.join(missing)} pod among the pods: they run embedded (k3s, RKE2) or outside the "
            "cluster, so this bundle cannot show their own state (logs, etcd health); findings about them "
            "rest on the API objects alone"]
