"""kubectl output: `-o yaml` object lists as the collector stores them, and `kubectl get` tables.

A real Lease (`kubectl get lease ... -o yaml`, koordinator-sh/koordinator#2095):

>>> objs = load_objects('''apiVersion: coordination.k8s.io/v1
... kind: Lease
... metadata:
...   name: koordinator-manager
...   namespace: koordinator-system
... spec:
...   acquireTime: "2024-06-10T19:11:21.606454Z"
...   holderIdentity: koord-manager-74866c758d-h68kc_835791dc-866c-475b-89ad-cc48862d79b2
...   leaseDurationSeconds: 15
...   leaseTransitions: 2
...   renewTime: "2024-06-11T04:19:37.976706Z"
... ''')
>>> lease = parse_lease(objs.items[0], objs.lines[0])
>>> lease.holder.split("_")[0], lease.duration_s, lease.transitions, lease.renew_time.isoformat()
('koord-manager-74866c758d-h68kc', 15, 2, '2024-06-11T04:19:37.976706+00:00')
>>> load_objects("items: [1, 2").problems[0][:15]
'not valid YAML:'

A real `kubectl get pods -A` table (kubernetes/kubernetes#117293):

>>> rows = parse_table('''NAMESPACE     NAME                            READY   STATUS    RESTARTS        AGE
... kube-system   kube-apiserver-mango            0/1     Running   14 (12s ago)    13m''')
>>> pod = pod_from_row(rows[0])
>>> pod.name, pod.ready, pod.containers[0].restart_count
('kube-apiserver-mango', False, 14)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

import yaml

from .jsonsafe import load_json
from .kversion import KubeVersion, parse_version
from .manifests import as_dict, as_list, dig, parse_flags
from .yamlsafe import load_yaml


def parse_timestamp(value: object) -> dt.datetime | None:
    """RFC 3339 (with or without fraction, 'Z' or offset) to an aware datetime; None otherwise.

    >>> parse_timestamp("2023-05-03T00:02:01Z").isoformat(), parse_timestamp("yesterday")
    ('2023-05-03T00:02:01+00:00', None)
    """
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00")
    # Python 3.10's fromisoformat takes at most 6 fraction digits; MicroTime may carry more
    text = re.sub(r"(\.\d{6})\d+", r"\1", text)
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _int(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _str(value: object) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


@dataclass
class Objects:
    """The objects of one kubectl output and the 1-based line where each starts (None if unknown)."""

    items: list[dict[str, Any]] = field(default_factory=list)
    lines: list[int | None] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def _item_lines(text: str, count: int) -> list[int | None]:
    """kubectl's YAML lists put each item at column 0 as '- apiVersion: ...' under 'items:'."""
    starts: list[int | None] = []
    in_items = False
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("items:"):
            in_items = True
        elif in_items and line.startswith("- "):
            starts.append(number)
        elif in_items and line and not line.startswith((" ", "-")):
            in_items = False
    return starts if len(starts) == count else [None] * count


#: ObjectMeta fields, inline in kubectl ≤1.9's internal-type JSON
_META = ("name", "generateName", "namespace", "selfLink", "uid", "resourceVersion", "generation",
         "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "labels", "annotations",
         "ownerReferences", "initializers", "finalizers", "clusterName")
#: internal field names that differ from core/v1's beyond their capitalisation
_RENAMED = {"lastTerminationState": "lastState"}
#: values keyed by user data, not by Go field names: never renamed
_DATA_FIELDS = {"labels", "annotations", "capacity", "allocatable", "data", "selector", "nodeSelector"}


def _v1_key(key: str) -> str:
    """`PodIP` -> `podIP`, `UID` -> `uid`, `QOSClass` -> `qosClass`, `LastTerminationState` -> `lastState`."""
    if not key[:1].isupper():
        return key
    upper = len(key) - len(key.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ"))
    cut = upper if upper == len(key) or upper == 1 else upper - 1
    camel = key[:cut].lower() + key[cut:]
    return _RENAMED.get(camel, camel)


def _from_internal(value: Any) -> Any:
    """An object of kubectl ≤1.9's internal-type JSON in core/v1's shape."""
    if isinstance(value, list):
        return [_from_internal(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    for key, inner in value.items():
        name = _v1_key(key) if isinstance(key, str) else key
        out[name] = inner if name in _DATA_FIELDS else _from_internal(inner)
    if "name" in out and "metadata" not in out and ("spec" in out or "status" in out or "reason" in out):
        out["metadata"] = {k: out.pop(k) for k in _META if k in out}
    return out


def load_objects(text: str) -> Objects:
    """A `kubectl get -o yaml|json` output: a List (items) or a single object. kubectl ≤1.9's
    `cluster-info dump` wrote internal types (`Items`, capitalised fields, metadata inline):

    >>> objs = load_objects('{"selfLink": "/api/v1/nodes", "Items": [{"name": "k8s-master1", '
    ...     '"Status": {"Conditions": [{"Type": "Ready", "Status": "Unknown", "Reason": "NodeStatusUnknown", '
    ...     '"Message": "Kubelet stopped posting node status."}]}}]}')
    >>> parse_node(objs.items[0]).conditions["Ready"][:2], parse_node(objs.items[0]).name
    (('Unknown', 'NodeStatusUnknown'), 'k8s-master1')
    """
    out = Objects()
    try:
        doc = load_yaml(text) if text.lstrip()[:1] != "{" else load_json(text)
    except (yaml.YAMLError, ValueError) as exc:
        out.problems.append(f"not valid YAML: {str(exc)[:200]}")
        return out
    if not isinstance(doc, dict):
        if doc is not None:
            out.problems.append("not a Kubernetes object or list")
        return out
    if "Items" in doc and "items" not in doc:
        doc = {"items": _from_internal(doc["Items"])}
    if "items" in doc:
        out.items = [i for i in as_list(doc.get("items")) if isinstance(i, dict)]
        out.lines = _item_lines(text, len(out.items))
    else:
        out.items, out.lines = [doc], [1]
    return out


# -- pods --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Termination:
    """A container's (last) termination."""

    reason: str
    exit_code: int | None
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    message: str = ""


@dataclass(frozen=True)
class ContainerStatus:
    name: str
    image: str = ""
    ready: bool = False
    restart_count: int = 0
    state: str = "unknown"  # running | waiting | terminated | unknown
    waiting_reason: str = ""
    waiting_message: str = ""
    terminated: Termination | None = None
    last_terminated: Termination | None = None
    init: bool = False
    #: from a table's RESTARTS "14 (12s ago)": how long before the listing the last restart was
    last_restart_ago: dt.timedelta | None = None


@dataclass
class Pod:
    name: str
    namespace: str = ""
    node_name: str = ""
    phase: str = ""
    #: metadata.labels.component (kubeadm's static pods: kube-apiserver, etcd, ...)
    component: str = ""
    ready: bool | None = None
    #: table STATUS column or the pod's `status.reason`
    status_text: str = ""
    containers: list[ContainerStatus] = field(default_factory=list)
    #: condition type -> (status, reason, message)
    conditions: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    image: str = ""
    version: KubeVersion | None = None
    flags: dict[str, str] = field(default_factory=dict)
    line: int | None = None


def _termination(raw: object) -> Termination | None:
    if not isinstance(raw, dict):
        return None
    return Termination(_str(raw.get("reason")), _int(raw.get("exitCode")),
                       parse_timestamp(raw.get("startedAt")), parse_timestamp(raw.get("finishedAt")),
                       _str(raw.get("message"))[:500])


def _container_status(raw: dict[str, Any], init: bool) -> ContainerStatus:
    state = as_dict(raw.get("state"))
    kind = next((k for k in ("running", "waiting", "terminated") if k in state), "unknown")
    return ContainerStatus(
        name=_str(raw.get("name")), image=_str(raw.get("image")), ready=raw.get("ready") is True,
        restart_count=_int(raw.get("restartCount")) or 0, state=kind,
        waiting_reason=_str(dig(state, "waiting", "reason")),
        waiting_message=_str(dig(state, "waiting", "message"))[:500],
        terminated=_termination(state.get("terminated")),
        last_terminated=_termination(dig(raw, "lastState", "terminated")), init=init)


def parse_pod(obj: dict[str, Any], line: int | None = None) -> Pod:
    """A Pod object (from a list or `-o yaml` of one pod)."""
    status = as_dict(obj.get("status"))
    containers = [_container_status(c, True) for c in as_list(status.get("initContainerStatuses"))
                  if isinstance(c, dict)]
    containers += [_container_status(c, False) for c in as_list(status.get("containerStatuses"))
                   if isinstance(c, dict)]
    conditions = {_str(c.get("type")): (_str(c.get("status")), _str(c.get("reason")), _str(c.get("message")))
                  for c in as_list(status.get("conditions")) if isinstance(c, dict)}
    ready = conditions.get("Ready")
    spec_containers = [c for c in as_list(dig(obj, "spec", "containers")) if isinstance(c, dict)]
    first = spec_containers[0] if spec_containers else {}
    image = _str(first.get("image"))
    args = [str(a) for key in ("command", "args") for a in as_list(first.get(key))]
    return Pod(
        name=_str(dig(obj, "metadata", "name")), namespace=_str(dig(obj, "metadata", "namespace")),
        node_name=_str(dig(obj, "spec", "nodeName")), phase=_str(status.get("phase")),
        component=_str(dig(obj, "metadata", "labels", "component")),
        ready=None if ready is None else ready[0] == "True", status_text=_str(status.get("reason")),
        containers=containers, conditions=conditions, image=image,
        version=parse_version(image) if image else None, flags=parse_flags(args)[0], line=line)


# -- nodes, events, leases, componentstatuses, version ---------------------------------------------


@dataclass
class Node:
    name: str
    kubelet_version: KubeVersion | None = None
    roles: list[str] = field(default_factory=list)
    #: condition type -> (status, reason, message)
    conditions: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    addresses: list[tuple[str, str]] = field(default_factory=list)
    line: int | None = None

    @property
    def ready(self) -> bool | None:
        cond = self.conditions.get("Ready")
        return None if cond is None else cond[0] == "True"


def parse_node(obj: dict[str, Any], line: int | None = None) -> Node:
    labels = dig(obj, "metadata", "labels")
    roles = sorted(k.split("/", 1)[1] for k in as_dict(labels)
                   if isinstance(k, str) and k.startswith("node-role.kubernetes.io/") and "/" in k)
    conditions = {_str(c.get("type")): (_str(c.get("status")), _str(c.get("reason")), _str(c.get("message")))
                  for c in as_list(dig(obj, "status", "conditions")) if isinstance(c, dict)}
    addresses = [(_str(a.get("type")), _str(a.get("address")))
                 for a in as_list(dig(obj, "status", "addresses")) if isinstance(a, dict)]
    version = _str(dig(obj, "status", "nodeInfo", "kubeletVersion"))
    return Node(_str(dig(obj, "metadata", "name")), parse_version(version) if version else None,
                roles, conditions, addresses, line)


@dataclass(frozen=True)
class Event:
    reason: str
    message: str
    type: str = ""
    namespace: str = ""
    object_kind: str = ""
    object_name: str = ""
    count: int = 1
    first_time: dt.datetime | None = None
    last_time: dt.datetime | None = None
    source: str = ""
    line: int | None = None


def parse_event(obj: dict[str, Any], line: int | None = None) -> Event:
    """core/v1 Event (involvedObject, count, first/lastTimestamp) or events.k8s.io (regarding, series)."""
    involved = next((o for o in (obj.get("involvedObject"), obj.get("regarding")) if isinstance(o, dict)), {})
    event_time = parse_timestamp(obj.get("eventTime"))
    count = _int(obj.get("count")) or _int(dig(obj, "series", "count")) or 1
    return Event(
        reason=_str(obj.get("reason")), message=_str(obj.get("message") or obj.get("note"))[:2000],
        type=_str(obj.get("type")),
        namespace=_str(dig(obj, "metadata", "namespace") or involved.get("namespace")),
        object_kind=_str(involved.get("kind")), object_name=_str(involved.get("name")), count=count,
        first_time=parse_timestamp(obj.get("firstTimestamp")) or event_time,
        last_time=(parse_timestamp(obj.get("lastTimestamp"))
                   or parse_timestamp(dig(obj, "series", "lastObservedTime")) or event_time),
        source=_str(dig(obj, "source", "component") or obj.get("reportingController")), line=line)


@dataclass(frozen=True)
class Lease:
    name: str
    namespace: str
    holder: str
    renew_time: dt.datetime | None
    acquire_time: dt.datetime | None
    duration_s: int | None
    transitions: int | None
    created: dt.datetime | None = None
    line: int | None = None


def parse_lease(obj: dict[str, Any], line: int | None = None) -> Lease:
    spec = as_dict(obj.get("spec"))
    return Lease(_str(dig(obj, "metadata", "name")), _str(dig(obj, "metadata", "namespace")),
                 _str(spec.get("holderIdentity")), parse_timestamp(spec.get("renewTime")),
                 parse_timestamp(spec.get("acquireTime")), _int(spec.get("leaseDurationSeconds")),
                 _int(spec.get("leaseTransitions")),
                 parse_timestamp(dig(obj, "metadata", "creationTimestamp")), line)


@dataclass(frozen=True)
class ComponentStatus:
    name: str
    #: None: the output shows no health (kubectl 1.16 printed componentstatuses as NAME and AGE only)
    healthy: bool | None
    message: str
    line: int | None = None


def parse_componentstatus(obj: dict[str, Any], line: int | None = None) -> ComponentStatus:
    conditions = [c for c in as_list(obj.get("conditions")) if isinstance(c, dict)]
    healthy = next((c for c in conditions if c.get("type") == "Healthy"), {})
    return ComponentStatus(_str(dig(obj, "metadata", "name")), healthy.get("status") == "True",
                           _str(healthy.get("message") or healthy.get("error")), line)


@dataclass(frozen=True)
class VersionInfo:
    client: KubeVersion | None
    server: KubeVersion | None


#: `kubectl version` as text: `Client Version: version.Info{Major:"1", ..., GitVersion:"v1.15.0", ...}`
#: (before 1.28) or `Client Version: v1.21.0` (`--short`, and the default since 1.28)
_VERSION_LINE = re.compile(r'^\s*(Client|Server) Version: '
                           r'(?:version\.Info\{.*?GitVersion:"([^"]+)"|(v\d\S*))', re.M)


def is_version_text(text: str) -> bool:
    return bool(_VERSION_LINE.search(text))


def parse_version_json(text: str) -> VersionInfo | None:
    """`kubectl version -o json`, or its text forms; None when it is none of them.

    >>> parse_version_json('{"clientVersion": {"gitVersion": "v1.25.7"}, '
    ...                    '"serverVersion": {"gitVersion": "v1.25.7"}}').server.minor
    25

    The text forms (kubernetes-sigs/scheduler-plugins#860, kubevirt/kubevirt-tutorial#97):

    >>> info = parse_version_json("Client Version: v1.21.0\\nServer Version: v1.29.12-eks-2d5f260\\n"
    ...     "WARNING: version difference between client (1.21) and server (1.29) exceeds the supported "
    ...     "minor version skew of +/-1")
    >>> info.client.minor, info.server.minor
    (21, 29)
    >>> parse_version_json('Server Version: version.Info{Major:"1", Minor:"14", GitVersion:"v1.14.3", '
    ...                    'GitCommit:"5e53fd6bc17c0dec8434817e69b04a25d8ae0ff0"}').server.minor
    14
    """
    found = {m.group(1): m.group(2) or m.group(3) for m in _VERSION_LINE.finditer(text)}
    if found:
        client, server = found.get("Client", ""), found.get("Server", "")
    else:
        try:
            doc = load_json(text)
        except ValueError:
            return None
        if not isinstance(doc, dict):
            return None
        client = _str(dig(doc, "clientVersion", "gitVersion"))
        server = _str(dig(doc, "serverVersion", "gitVersion"))
    if not client and not server:
        return None
    return VersionInfo(parse_version(client) if client else None, parse_version(server) if server else None)


# -- `kubectl get` tables (loose evidence) ---------------------------------------------------------

def parse_table(text: str) -> list[dict[str, str]]:
    """Rows of a `kubectl get` table keyed by header; column bounds come from the header line.

    Leading lines before the header (e.g. 'Warning: v1 ComponentStatus is deprecated') are skipped.
    """
    lines = [line.rstrip("\n") for line in text.splitlines()]
    head = next((i for i, line in enumerate(lines) if line.startswith(("NAME", "NAMESPACE"))), None)
    if head is None:
        return []
    starts = [(m.start(), m.group()) for m in re.finditer(r"\S+", lines[head])]
    rows: list[dict[str, str]] = []
    for number, line in enumerate(lines[head + 1:], start=head + 2):
        if not line.strip():
            continue
        row: dict[str, str] = {}
        for i, (start, name) in enumerate(starts):
            end = starts[i + 1][0] if i + 1 < len(starts) else len(line)
            # a value may start a little left of its header when the previous cell is long
            cell = line[start:end] if i + 1 < len(starts) else line[start:]
            row[name] = cell.strip()
        row["_line"] = str(number)
        rows.append(row)
    return _realign(rows, lines, head, starts)


def _realign(rows: list[dict[str, str]], lines: list[str], head: int,
             starts: list[tuple[int, str]]) -> list[dict[str, str]]:
    """Cells that do not sit under their header (wide values) are re-split on runs of 2+ spaces."""
    names = [n for _, n in starts]
    fixed: list[dict[str, str]] = []
    for row in rows:
        line = lines[int(row["_line"]) - 1]
        cells = re.split(r" {2,}", line.strip())
        if len(cells) == len(names) and any(row[n] != c for n, c in zip(names, cells, strict=True)):
            row = dict(zip(names, cells, strict=True)) | {"_line": row["_line"]}
        fixed.append(row)
    return fixed


_RESTARTS = re.compile(r"^(\d+)(?: \((?P<ago>[0-9ydhms]+) ago\))?")
_AGO_PART = re.compile(r"(\d+)([ydhms])")
_UNIT = {"y": 365 * 86400, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_age(text: str) -> dt.timedelta | None:
    """kubectl's short durations: '12s', '4m50s', '2y48d' (a year counted as 365 days).

    >>> parse_age("4m50s"), parse_age("2y48d").days, parse_age("n/a")
    (datetime.timedelta(seconds=290), 778, None)
    """
    pieces = _AGO_PART.findall(text)
    if not pieces or "".join(n + u for n, u in pieces) != text:
        return None
    return dt.timedelta(seconds=sum(int(n) * _UNIT[u] for n, u in pieces))


def pod_from_row(row: dict[str, str]) -> Pod:
    """A Pod from a `kubectl get pods` row: READY, STATUS and RESTARTS become one container status."""
    name = row.get("NAME", "").removeprefix("pod/")
    ready_col = row.get("READY", "")
    have, _, want = ready_col.partition("/")
    ready = have == want if have.isdigit() and want.isdigit() else None
    status = row.get("STATUS", "")
    restarts = _RESTARTS.match(row.get("RESTARTS", ""))
    waiting = status if status not in ("Running", "Completed", "Succeeded") else ""
    ago = parse_age(restarts["ago"]) if restarts and restarts["ago"] else None
    container = ContainerStatus(name="", ready=bool(ready), restart_count=int(restarts[1]) if restarts else 0,
                                state="waiting" if waiting else "running", waiting_reason=waiting,
                                last_restart_ago=ago)
    component = next((c for c in ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")
                      if name.startswith(c + "-")), "")
    return Pod(name=name, namespace=row.get("NAMESPACE", ""), node_name=row.get("NODE", ""),
               phase="Running" if status == "Running" else status, component=component, ready=ready,
               status_text=status, containers=[container], line=int(row.get("_line", "0")) or None)


def componentstatus_from_row(row: dict[str, str]) -> ComponentStatus:
    """A `kubectl get cs` row.

    >>> from pathlib import Path
    >>> real = Path(__file__).parents[2] / "tests/fixtures/real/kubectl-get-cs-false-alarm-k8s-96101.txt"
    >>> cs = componentstatus_from_row(parse_table(real.read_text())[1])
    >>> cs.name, cs.healthy, cs.message[:40]
    ('scheduler', False, 'Get "http://127.0.0.1:10251/healthz": di')
    """
    message = " ".join(v for k, v in row.items() if k in ("MESSAGE", "ERROR") and v)
    healthy = row["STATUS"] == "Healthy" if "STATUS" in row else None
    return ComponentStatus(row.get("NAME", ""), healthy, message, int(row.get("_line", "0")) or None)


#: the components `kubectl get cs` lists
CS_NAME = re.compile(r"^(?:scheduler|controller-manager|etcd-\d+)$")


def is_bare_cs_table(rows: list[dict[str, str]]) -> bool:
    """kubectl 1.16 printed componentstatuses as NAME and AGE (`<unknown>`) only: names, no health
    (rancher/rke#984)."""
    return bool(rows) and set(rows[0]) - {"_line"} == {"NAME", "AGE"} and all(
        CS_NAME.match(r["NAME"]) for r in rows)


def is_node_header(cols: Collection[str]) -> bool:
    """A `kubectl get nodes` header: NAME and STATUS with ROLES/VERSION (1.6+) or LABELS (before 1.2),
    and no READY column (that is a pods table)."""
    return {"NAME", "STATUS"} <= set(cols) and "READY" not in cols and bool(
        {"VERSION", "ROLES", "LABELS"} & set(cols))


#: a `kubectl get nodes` row of kubectl < 1.0, pasted without its header: NAME LABELS STATUS
_OLD_NODE_ROW = re.compile(r"^(\S+)\s+(\S+=\S*)\s+((?:Ready|NotReady|Unknown)(?:,\w+)*)\s*$")


def old_node_row(line: str) -> re.Match[str] | None:
    return _OLD_NODE_ROW.match(line.strip())


def node_rows_without_header(text: str) -> list[Node]:
    """`kubectl get nodes` rows of 2015 pasted without their header (kubernetes/kubernetes#10486):

    >>> [n] = node_rows_without_header("10.10.103.162   kubernetes.io/hostname=10.10.103.162   NotReady")
    >>> n.name, n.ready, n.line
    ('10.10.103.162', False, 1)
    """
    return [node_from_row({"NAME": m.group(1), "STATUS": m.group(3), "_line": str(number)})
            for number, line in enumerate(text.splitlines(), start=1) if (m := old_node_row(line))]


def node_from_row(row: dict[str, str]) -> Node:
    """A `kubectl get nodes` row (STATUS Ready/NotReady, ROLES, VERSION), also a watch's
    (`watch kubectl get nodes`, kubernetes/kubernetes#12269: the LABELS column of kubectl < 1.2):

    >>> rows = parse_table(
    ...     "NAME                           LABELS                                               STATUS\\n"
    ...     "ip-10-20-30-192.ec2.internal   kubernetes.io/hostname=ip-10-20-30-192.ec2.internal  NotReady\\n")
    >>> is_node_header(rows[0]), node_from_row(rows[0]).ready
    (True, False)
    """
    status = row.get("STATUS", "")
    roles = [r for r in row.get("ROLES", "").split(",") if r and r != "<none>"]
    ready = "True" if status.split(",")[0] == "Ready" else "False"
    version = row.get("VERSION", "")
    return Node(row.get("NAME", ""), parse_version(version) if version else None, roles,
                {"Ready": (ready, status, "")}, [], int(row.get("_line", "0")) or None)


def clusteroperator_from_row(row: dict[str, str]) -> ClusterOperator:
    """A row of `oc get clusteroperators` (openshift/installer#2646) as the operator's conditions:

    >>> rows = parse_table(
    ...     "NAME             VERSION                        AVAILABLE   PROGRESSING   DEGRADED   SINCE\\n"
    ...     "kube-apiserver   4.3.0-0.ci-2019-11-08-103019   True        False         True       143m\\n")
    >>> op = clusteroperator_from_row(rows[0])
    >>> op.name, op.status("Available"), op.status("Degraded"), op.line
    ('kube-apiserver', 'True', 'True', 2)
    """
    conditions = {kind: (row.get(kind.upper(), ""), "", f"for {row.get('SINCE', '?')}")
                  for kind in ("Available", "Progressing", "Degraded")}
    return ClusterOperator(row.get("NAME", ""), conditions, int(row.get("_line", "0")) or None)


@dataclass(frozen=True)
class CertificateRequest:
    """A CertificateSigningRequest as `kubectl get csr` / `oc get csr` shows it."""

    name: str
    age: dt.timedelta | None
    signer: str  # SIGNERNAME (1.18+); older tables have none
    requestor: str
    condition: str  # Pending | Approved,Issued | Denied | ...
    line: int | None = None
    text: str = ""

    @property
    def pending(self) -> bool:
        return self.condition == "Pending"

    @property
    def client(self) -> bool:
        """A kubelet's client certificate (it cannot join or rejoin without it), not a serving one."""
        return ("kube-apiserver-client-kubelet" in self.signer or "bootstrap" in self.requestor
                or "node-bootstrapper" in self.requestor or self.requestor == "kubelet-bootstrap")

    @property
    def kind(self) -> str:
        """'client', 'serving', or 'node': a node's own request (system:node:NAME) in a table without
        SIGNERNAME (before 1.18), which may renew its client certificate or ask for a serving one.

        >>> [r] = csr_rows("csr-wnqr9   35m     system:node:xxx.xxx.xxx.xxx   Pending")
        >>> r.kind
        'node'
        """
        if self.client:
            return "client"
        return "node" if not self.signer and self.requestor.startswith("system:node:") else "serving"


_CSR_ROW = re.compile(r"^(\S+)\s+(\S+)\s+(?:(\S*/\S+)\s+)?(\S+)\s+(?:(?:<none>|\d+\w*)\s+)?"
                      r"((?:Pending|Approved|Denied|Failed)\S*)\s*$")


def csr_row(line: str) -> re.Match[str] | None:
    """A `kubectl get csr` row: a kubelet's `csr-`/`node-csr-` name, or any name with a SIGNERNAME
    column (1.18+: users' own requests such as `my-svc.my-namespace`)."""
    m = _CSR_ROW.match(line.strip())
    return m if m and (m.group(3) or re.match(r"(?:node-)?csr-", m.group(1))) else None


def csr_rows(text: str) -> list[CertificateRequest]:
    """`kubectl get csr` rows, with or without the header (kubernetes/kubernetes#65843):

    >>> [r] = csr_rows("node-csr-00NHp-Cdq0qUqXGYnIu81KB39_a56-llQKS5aGn_ecU   3h        "
    ...                "system:bootstrap:zhqvxa   Pending")
    >>> r.pending, r.client, r.age, r.line
    (True, True, datetime.timedelta(seconds=10800), 1)

    A user's request the signer refused (kubernetes/website#24405):

    >>> [r] = csr_rows("NAME                  AGE     SIGNERNAME                      "
    ...                "REQUESTOR      CONDITION\\n"
    ...                "my-svc.my-namespace   8m34s   kubernetes.io/kubelet-serving   system:admin   "
    ...                "Approved,Failed")
    >>> r.name, r.signer, r.condition, r.line
    ('my-svc.my-namespace', 'kubernetes.io/kubelet-serving', 'Approved,Failed', 2)
    """
    rows: list[CertificateRequest] = []
    for number, line in enumerate(text.splitlines(), start=1):
        m = csr_row(line)
        if m:
            rows.append(CertificateRequest(m.group(1), parse_age(m.group(2)), m.group(3) or "", m.group(4),
                                           m.group(5), number, line.strip()))
    return rows


@dataclass
class KubectlText:
    """Every object one kubectl output holds, whatever its form (`-o yaml|json` or a `get` table)."""

    pods: list[Pod] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    leases: list[Lease] = field(default_factory=list)
    componentstatuses: list[ComponentStatus] = field(default_factory=list)
    clusteroperators: list[ClusterOperator] = field(default_factory=list)
    csrs: list[CertificateRequest] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.pods or self.nodes or self.events or self.leases or self.componentstatuses
                    or self.clusteroperators or self.csrs)


#: describe's Events rows (Type Reason Age From Message) and `get events` rows (LAST SEEN TYPE REASON
#: OBJECT MESSAGE), cells apart by two spaces or more
_DESCRIBE_EVENT = re.compile(r"^\s*(Normal|Warning)\s+(\w+)\s+(\S+(?: \(x(\d+) over \S+\))?)\s{2,}(\S+)"
                             r"\s{2,}(.*)$")
_GET_EVENT = re.compile(r"^(?:(\S+)\s+)?\S+\s+(Normal|Warning)\s+(\w+)\s+(\S+)/(\S+)\s{2,}(.*)$")


def _event_rows(text: str) -> list[Event]:
    """Events printed as rows: `kubectl describe`'s Events section or a `kubectl get events` table.

    >>> [e] = _event_rows("  Warning  Unhealthy       21h (x2 over 21h)        kubelet  "
    ...                   "Liveness probe failed: "
    ...                   "Get \\"https://192.168.56.11:6443/livez\\": dial tcp 192.168.56.11:6443: connect: "
    ...                   "connection refused")
    >>> e.type, e.reason, e.count, e.source, e.line, e.message[:21]
    ('Warning', 'Unhealthy', 2, 'kubelet', 1, 'Liveness probe failed')
    """
    events: list[Event] = []
    for number, line in enumerate(text.splitlines(), start=1):
        described = _DESCRIBE_EVENT.match(line)
        if described:
            kind, reason, _, count, source, message = described.groups()
            events.append(Event(reason, message.strip(), kind, count=int(count or 1), source=source,
                                line=number))
            continue
        listed = _GET_EVENT.match(line)
        if listed:
            namespace, kind, reason, object_kind, name, message = listed.groups()
            events.append(Event(reason, message.strip(), kind, namespace=namespace or "",
                                object_kind=object_kind.capitalize(), object_name=name, line=number))
    return events


_CS_ROW = re.compile(r"^(?:scheduler|controller-manager|etcd-\d+)\s+(?:Healthy|Unhealthy)\b", re.M)


_DESCRIBE_FIELD = re.compile(r"^( *)([A-Za-z][\w .-]*?):(?:\s+(.*?))?\s*$")
_DESCRIBE_DATE = "%a, %d %b %Y %H:%M:%S %z"


def is_describe_pod(text: str) -> bool:
    return bool(re.search(r"^Namespace:\s", text, re.M) and re.search(r"^Containers:\s*$", text, re.M))


def _describe_time(value: str) -> dt.datetime | None:
    try:
        return dt.datetime.strptime(value, _DESCRIBE_DATE)
    except ValueError:
        return None


def _describe_fields(text: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The top-level fields, and per container its fields (`State.Reason`, `Last State.Exit Code`)."""
    top: dict[str, str] = {}
    containers: list[dict[str, str]] = []
    section, block = "", ""
    for line in text.splitlines():
        m = _DESCRIBE_FIELD.match(line)
        if not m:
            continue
        indent, key, value = len(m.group(1)), m.group(2), m.group(3) or ""
        if indent == 0:
            section = key
            top.setdefault(key, value)
        elif section in ("Containers", "Init Containers") and indent == 2 and not value:
            containers.append({"name": key, "init": "yes" if section == "Init Containers" else ""})
            block = ""
        elif containers and section in ("Containers", "Init Containers"):
            if indent == 4:
                block = key if key in ("State", "Last State") else ""
                containers[-1][key] = value
            elif indent == 6 and block:
                containers[-1][f"{block}.{key}"] = value
    return top, containers


def parse_describe_pod(text: str) -> list[Pod]:
    """`kubectl describe pod`: the pod, its containers' state, last termination, restarts
    (portainer/portainer#5314, trimmed):

    >>> [pod] = parse_describe_pod('''Name:         centos-new-6846f658db-w4qhj
    ... Namespace:    default
    ... Status:       Running
    ... Containers:
    ...   centos-new:
    ...     State:          Waiting
    ...       Reason:       CrashLoopBackOff
    ...     Last State:     Terminated
    ...       Reason:       Completed
    ...       Exit Code:    0
    ...     Ready:          False
    ...     Restart Count:  6
    ... Conditions:''')
    >>> c = pod.containers[0]
    >>> pod.name, c.name, c.state, c.waiting_reason, c.last_terminated.exit_code, c.restart_count, c.ready
    ('centos-new-6846f658db-w4qhj', 'centos-new', 'waiting', 'CrashLoopBackOff', 0, 6, False)
    """
    top, containers = _describe_fields(text)
    if not containers:
        return []
    statuses = []
    for c in containers:
        state = c.get("State", "").lower()
        exit_code = c.get("Last State.Exit Code", "")
        code = int(exit_code) if exit_code.lstrip("-").isdigit() else None
        last = Termination(c.get("Last State.Reason", ""), code,
                           _describe_time(c.get("Last State.Started", "")),
                           _describe_time(c.get("Last State.Finished", "")))
        statuses.append(ContainerStatus(
            name=c["name"], image=c.get("Image", ""), ready=c.get("Ready") == "True",
            restart_count=int(c["Restart Count"]) if c.get("Restart Count", "").isdigit() else 0,
            state=state if state in ("running", "waiting", "terminated") else "unknown",
            waiting_reason=c.get("State.Reason", "") if state == "waiting" else "",
            last_terminated=last if c.get("Last State") == "Terminated" else None, init=bool(c["init"])))
    labels = top.get("Labels", "")
    return [Pod(name=top.get("Name", ""), namespace=top.get("Namespace", ""),
                node_name=top.get("Node", "").split("/")[0], phase=top.get("Status", ""),
                component=labels.removeprefix("component=") if labels.startswith("component=") else "",
                ready=all(s.ready for s in statuses if not s.init), containers=statuses, line=1)]


_NODE_CONDITIONS = re.compile(r"^\s*Type\s+Status\s+LastHeartbeatTime\s+LastTransitionTime\s", re.M)
#: a row of describe node's Conditions: type, status, two dates (`Mon, 03 Jun 2019 13:54:18 +0000`),
#: reason, message; cells apart by two spaces or more
_NODE_CONDITION = re.compile(r"^\s*(\w+)\s+(True|False|Unknown)\s{2,}(.+?)\s{2,}(.+?)\s{2,}(\w+)"
                             r"(?:\s{2,}(.*))?$")


def is_describe_node(text: str) -> bool:
    return bool(_NODE_CONDITIONS.search(text))


def parse_describe_node(text: str) -> list[Node]:
    """`kubectl describe node[s]`: each node's name, roles, conditions and kubelet version
    (nds-org/jupyter-et#13, a master NotReady for 16 h):

    >>> from pathlib import Path
    >>> real = Path(__file__).parents[2] / "tests/fixtures/real"
    >>> [n] = parse_describe_node((real / "kubectl-describe-node-master-pleg-jupyter-et-13.txt").read_text())
    >>> n.name, n.roles, n.ready, n.conditions["Ready"][1], n.line
    ('etkhub', ['master'], False, 'KubeletNotReady', 11)
    """
    nodes: list[Node] = []
    for number, line in enumerate(text.splitlines(), start=1):
        found = _DESCRIBE_FIELD.match(line)
        top = found.group(2) if found and not found.group(1) else ""
        if top == "Name":
            nodes.append(Node((found.group(3) or "") if found else "", line=number))
        elif not nodes:
            continue
        elif top == "Roles" and found:
            nodes[-1].roles = [r for r in (found.group(3) or "").split(",") if r and r != "<none>"]
        elif found and found.group(2) == "Kubelet Version" and found.group(3):
            nodes[-1].kubelet_version = parse_version(found.group(3))
        elif (row := _NODE_CONDITION.match(line)) and row.group(1) != "Type":
            kind, status, _, _, reason, message = row.groups()
            nodes[-1].conditions[kind] = (status, reason, (message or "").strip())
            if kind == "Ready":
                nodes[-1].line = number
    return nodes


def parse_kubectl_text(text: str, default_kind: str = "Pod") -> KubectlText:
    """Objects from `kubectl get ... -o yaml|json`, else the rows of a `kubectl get` table. An object
    without `kind` (kubectl <= 1.9 wrote internal types) is taken to be a `default_kind`.

    >>> from pathlib import Path
    >>> real = Path(__file__).parents[2] / "tests/fixtures/real/kubectl-get-pods-restart-loop-k8s-117293.txt"
    >>> pods = parse_kubectl_text(real.read_text()).pods
    >>> [(p.name, p.containers[0].restart_count) for p in pods if not p.ready]
    [('kube-apiserver-mango', 14)]
    """
    out = KubectlText()
    if is_describe_pod(text):
        out.pods = parse_describe_pod(text)
        events = text.find("\nEvents:")
        out.events = _event_rows(text[events:]) if events >= 0 else []
        return out
    if is_describe_node(text):
        out.nodes = parse_describe_node(text)
        events = text.find("\nEvents:")
        out.events = _event_rows(text[events:]) if events >= 0 else []
        return out
    out.events = _event_rows(text)
    out.csrs = csr_rows(text)
    if out.events or out.csrs:
        return out
    rows = parse_table(text) if re.search(r"^(?:NAME|NAMESPACE)\s", text, re.M) else []
    if not rows and (old_nodes := node_rows_without_header(text)):
        out.nodes = old_nodes
        return out
    if not rows and _CS_ROW.search(text):
        # rows pasted without their header
        rows = parse_table("NAME                 STATUS      MESSAGE\n" + text)
        rows = [dict(r, _line=str(int(r["_line"]) - 1)) for r in rows if _CS_ROW.match(
            f"{r.get('NAME', '')}   {r.get('STATUS', '')}")]
    if not rows:
        objects = load_objects(text)
        out.problems += objects.problems
        for obj, line in zip(objects.items, objects.lines, strict=True):
            kind = obj.get("kind") or default_kind
            if kind == "Pod":
                out.pods.append(parse_pod(obj, line))
            elif kind == "Node":
                out.nodes.append(parse_node(obj, line))
            elif kind == "Event":
                out.events.append(parse_event(obj, line))
            elif kind == "Lease":
                out.leases.append(parse_lease(obj, line))
            elif kind == "ComponentStatus":
                out.componentstatuses.append(parse_componentstatus(obj, line))
            elif kind == "ClusterOperator":
                out.clusteroperators.append(parse_cluster_operator(obj, line))
        return out
    header = set(rows[0])
    for row in rows:
        if {"AVAILABLE", "PROGRESSING", "DEGRADED"} <= header:
            out.clusteroperators.append(clusteroperator_from_row(row))
        elif {"READY", "RESTARTS"} <= header:
            out.pods.append(pod_from_row(row))
        elif is_node_header(header):
            out.nodes.append(node_from_row(row))
        elif "MESSAGE" in header and "STATUS" in header or is_bare_cs_table(rows):
            out.componentstatuses.append(componentstatus_from_row(row))
    if out.empty:
        out.problems.append("a kubectl table kubetriage cannot read as pods, nodes, componentstatuses or "
                            "clusteroperators: "
                            + " ".join(sorted(h for h in header if h != "_line")))
    return out


@dataclass(frozen=True)
class ClusterOperator:
    """An OpenShift ClusterOperator (config.openshift.io/v1): its Available/Degraded/Progressing state."""

    name: str
    #: condition type -> (status, reason, message)
    conditions: dict[str, tuple[str, str, str]]
    line: int | None = None

    def status(self, kind: str) -> str:
        return self.conditions.get(kind, ("", "", ""))[0]


def parse_cluster_operator(obj: dict[str, Any], line: int | None = None) -> ClusterOperator:
    """A ClusterOperator as must-gather saves it (openshift/must-gather-clean's e2e input):

    >>> op = parse_cluster_operator(load_objects('''---
    ... apiVersion: config.openshift.io/v1
    ... kind: ClusterOperator
    ... metadata:
    ...   name: etcd
    ... status:
    ...   conditions:
    ...   - lastTransitionTime: "2021-08-03T09:22:17Z"
    ...     message: |-
    ...       NodeControllerDegraded: All master nodes are ready
    ...       EtcdMembersDegraded: No unhealthy members found
    ...     reason: AsExpected
    ...     status: "False"
    ...     type: Degraded
    ...   - lastTransitionTime: "2021-08-03T09:21:20Z"
    ...     message: |-
    ...       StaticPodsAvailable: 3 nodes are active; 3 nodes are at revision 3
    ...       EtcdMembersAvailable: 3 members are available
    ...     reason: AsExpected
    ...     status: "True"
    ...     type: Available
    ... ''').items[0])
    >>> op.name, op.status("Available"), op.status("Degraded"), op.status("Progressing")
    ('etcd', 'True', 'False', '')
    """
    conditions = {_str(c.get("type")): (_str(c.get("status")), _str(c.get("reason")), _str(c.get("message")))
                  for c in as_list(dig(obj, "status", "conditions")) if isinstance(c, dict)}
    return ClusterOperator(_str(dig(obj, "metadata", "name")), conditions, line)


# -- kubectl's own errors --------------------------------------------------------------------------
@dataclass(frozen=True)
class ClientError:
    """An error kubectl printed about reaching the API server (not a server-side object state)."""

    server: str  # host:port or URL when the message names it
    kind: str  # refused | no-kubeconfig | x509-expired | x509-authority | x509-name | unauthorized | timeout
    #: | dns | error
    message: str
    line: int


_REFUSED = re.compile(r"The connection to the server (\S+) was refused")
_UNABLE = re.compile(r"Unable to connect to the server: (.*)$")
_UNAUTHORIZED = re.compile(r"error: You must be logged in to the server|\(Unauthorized\)")
_SERVER = re.compile(r'(?:Get|Post|Put|Patch|Delete) "?(https?://[^/"\s]+)|dial tcp ([\w.:\[\]-]+?):')


def _kind(message: str) -> str:
    for needle, kind in (("certificate has expired", "x509-expired"), ("unknown authority", "x509-authority"),
                         ("x509: certificate is valid for", "x509-name"), ("doesn't contain any IP SANs",
                                                                          "x509-name"),
                         ("connection refused", "refused"), ("no such host", "dns"),
                         ("i/o timeout", "timeout"), ("TLS handshake timeout", "timeout"),
                         ("Client.Timeout", "timeout"), ("deadline exceeded", "timeout")):
        if needle in message:
            return kind
    return "error"


def parse_kubectl_errors(text: str) -> list[ClientError]:
    """kubectl's client-side errors (kubernetes/website#19461, kubernetes/kubernetes#125283):

    >>> [e] = parse_kubectl_errors("The connection to the server 10.190.67.31:6443 was refused - did you "
    ...                            "specify the right host or port?")
    >>> e.server, e.kind
    ('10.190.67.31:6443', 'refused')
    >>> parse_kubectl_errors("Unable to connect to the server: x509: certificate has expired or is not "
    ...                      "yet valid")[0].kind
    'x509-expired'
    """
    errors: list[ClientError] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        refused, unable = _REFUSED.search(line), _UNABLE.search(line)
        if refused:
            server = refused.group(1)
            kind = "no-kubeconfig" if server in ("localhost:8080", "127.0.0.1:8080") else "refused"
            errors.append(ClientError(server, kind, line, number))
        elif unable:
            named = _SERVER.search(unable.group(1))
            server = (named.group(1) or named.group(2)) if named else ""
            errors.append(ClientError(server, _kind(unable.group(1)), line, number))
        elif _UNAUTHORIZED.search(line):
            errors.append(ClientError("", "unauthorized", line, number))
    return errors
