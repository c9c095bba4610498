"""The container runtime's listings: `crictl ps -a` (table or `-o json`), `crictl inspect`, `docker ps -a`.

With the API server down these are the only view of the control plane's containers. Tables give
times relative to when the command ran ("4 minutes ago"); JSON gives absolute ones.

A real `crictl ps -a`, newer layout (containerd/containerd#9545):

>>> rows = parse_crictl_ps('''CONTAINER           IMAGE               CREATED                  \
STATE               NAME                      ATTEMPT             POD ID              POD
... 1e817d5a4c747       bb5e0dde9054c       Less than a second ago   Exited              \
kube-apiserver            0                   af599853bf12e       kube-apiserver-kiv-cp-zzh2f
... 835229712228c       ea1030da44aa1       24 minutes ago           Running             \
kube-proxy                0                   5fd56a84a8ebc       kube-proxy-hw8rx''').containers
>>> [(c.name, c.state, c.attempt, c.pod, c.created_ago.total_seconds(), c.line) for c in rows]
[('kube-apiserver', 'exited', 0, 'kube-apiserver-kiv-cp-zzh2f', 0.0, 2), ('kube-proxy', 'running', 0, \
'kube-proxy-hw8rx', 1440.0, 3)]

The older layout has no POD column (cri-o/cri-o#2016):

>>> (etcd,) = parse_crictl_ps('''CONTAINER ID        IMAGE                                  \
                            CREATED             STATE               NAME                     \
ATTEMPT             POD ID
... 4e53debaa3ddc       3cab8e1b9802cbe23a2703c2750ac4baa90b049b65e2a9e0a83e9e2c29f0724f   4 minutes ago    \
   Exited              etcd                      25                  5c17fc84618de''').containers
>>> (etcd.name, etcd.state, etcd.attempt, etcd.pod_id, etcd.pod)
('etcd', 'exited', 25, '5c17fc84618de', '')

A real `docker ps -a` row (kubernetes/kubernetes#89368): the kubelet's container name carries the
pod, namespace and attempt, the STATUS column the exit code:

>>> (api,) = parse_docker_ps('a843758a1791        2e1ba57fe95a              "kube-apiserver --ad…"   '
...     '6 hours ago         Exited (2) 6 hours ago                       '
...     'k8s_kube-apiserver_kube-apiserver-k8s-apiserver-bug_kube-system_dbd0b6f5e56c74ec904c77fd70ced460_1'
...     ).containers
>>> (api.name, api.pod, api.namespace, api.attempt, api.state, api.exit_code, api.finished_ago)
('kube-apiserver', 'kube-apiserver-k8s-apiserver-bug', 'kube-system', 1, 'exited', 2, \
datetime.timedelta(seconds=21600))
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from .kubectl import parse_timestamp
from .yamlsafe import load_json

#: table STATE words and CRI enum names -> running | exited | created | unknown
_STATES = {"running": "running", "exited": "exited", "created": "created", "unknown": "unknown"}
_ID = r"[0-9a-f]{12,64}"
#: go-units HumanDuration, as crictl and docker print it, with " ago"
_AGO = (r"(?:Less than a second|About an? (?:minute|hour)|"
        r"\d+ (?:second|minute|hour|day|week|month|year)s?) ago")
_CRICTL_ROW = re.compile(
    rf"^(?P<id>{_ID})\s+(?P<image>\S+)\s+(?P<created>{_AGO})\s+(?P<state>[A-Za-z_]+)\s+(?P<name>\S+)"
    rf"(?:\s+(?P<attempt>\d+))?(?:\s+(?P<pod_id>{_ID}))?(?:\s+(?P<pod>\S+))?(?:\s+(?P<namespace>\S+))?\s*$")
_DOCKER_ROW = re.compile(
    rf'^(?P<id>{_ID})\s+(?P<image>\S+)\s+"[^"]*"\s+(?P<created>{_AGO})\s+'
    rf"(?P<status>Up .+?|(?:Exited|Restarting) \((?P<code>-?\d+)\) (?P<ended>{_AGO})|Created|Dead|"
    r"Removal In Progress)(?:\s{2,}\S.*?)?\s+(?P<names>\S+)\s*$")
_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 7 * 86400, "month": 30 * 86400,
          "year": 365 * 86400}
_MAX_PROBLEMS = 20


@dataclass(frozen=True)
class RuntimeContainer:
    """One container as the runtime lists it; fields a source does not give stay empty/None."""

    id: str  # as printed: 13 hex digits in tables, 64 in JSON
    name: str
    state: str  # running | exited | created | unknown
    attempt: int | None = None  # the kubelet's restart count for this container
    pod: str = ""
    namespace: str = ""
    pod_id: str = ""
    image: str = ""
    #: absolute times (JSON, inspect) ...
    created_at: dt.datetime | None = None
    finished_at: dt.datetime | None = None
    #: ... or relative to when the listing ran (tables)
    created_ago: dt.timedelta | None = None
    finished_ago: dt.timedelta | None = None
    exit_code: int | None = None
    reason: str = ""
    line: int | None = None
    text: str = ""

    def same(self, other: RuntimeContainer) -> bool:
        """Same container: one id is a prefix of the other (tables print 13 of its 64 digits)."""
        short, long = sorted((self.id, other.id), key=len)
        return bool(short) and long.startswith(short)

    def merged(self, detail: RuntimeContainer) -> RuntimeContainer:
        """This listing row completed with what `crictl inspect` of the same container says."""
        code = detail.exit_code if detail.exit_code is not None else self.exit_code
        return replace(self, exit_code=code, reason=detail.reason or self.reason,
                       finished_at=detail.finished_at or self.finished_at,
                       created_at=self.created_at or detail.created_at, pod=self.pod or detail.pod,
                       namespace=self.namespace or detail.namespace,
                       attempt=self.attempt if self.attempt is not None else detail.attempt)


@dataclass
class Listing:
    containers: list[RuntimeContainer] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def problem(self, message: str) -> None:
        if len(self.problems) < _MAX_PROBLEMS:
            self.problems.append(message)


def parse_ago(text: str) -> dt.timedelta | None:
    """A HumanDuration with " ago" as the least time it stands for ("About an hour" is 60-119 min).

    >>> parse_ago("About an hour ago"), parse_ago("3 weeks ago").days, parse_ago("soon")
    (datetime.timedelta(seconds=3600), 21, None)
    """
    if not re.fullmatch(_AGO, text.strip()):
        return None
    words = text.split()
    if words[0] == "Less":
        return dt.timedelta(0)
    count, unit = (1, words[2]) if words[0] == "About" else (int(words[0]), words[1])
    return dt.timedelta(seconds=count * _UNITS[unit.rstrip("s")])


def _state(word: str) -> str:
    return _STATES.get(word.lower().removeprefix("container_"), "unknown")


def _rows(text: str, header: str, pattern: re.Pattern[str],
          out: Listing) -> Iterator[tuple[int, re.Match[str]]]:
    """(line number, match) of each table row; lines that are neither header nor row become problems."""
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith(header):
            continue
        row = pattern.match(line)
        if row is None:
            out.problem(f"line {lineno}: not a listing row: {line[:80]!r}")
        else:
            yield lineno, row


def parse_crictl_ps(text: str) -> Listing:
    """`crictl ps -a` tables: the old (CONTAINER ID .. POD ID) and newer (.. POD [NAMESPACE]) layouts;
    the header may be missing (output passed through grep)."""
    out = Listing()
    for lineno, row in _rows(text, "CONTAINER", _CRICTL_ROW, out):
        out.containers.append(RuntimeContainer(
            id=row["id"], name=row["name"], state=_state(row["state"]),
            attempt=int(row["attempt"]) if row["attempt"] else None, pod=row["pod"] or "",
            namespace=row["namespace"] or "", pod_id=row["pod_id"] or "", image=row["image"],
            created_ago=parse_ago(row["created"]), line=lineno, text=row[0]))
    return out


def _docker_state(status: str) -> str:
    if status.startswith("Up "):
        return "running"
    return "created" if status == "Created" else "exited"


def parse_docker_ps(text: str) -> Listing:
    """`docker ps -a` rows of dockershim-era nodes; names are k8s_<container>_<pod>_<ns>_<uid>_<attempt>."""
    out = Listing()
    for lineno, row in _rows(text, "CONTAINER ID", _DOCKER_ROW, out):
        parts = row["names"].split("_")
        kubelet = parts[0] == "k8s" and len(parts) >= 6
        # pre-1.6 kubelets appended a hash to the container name (k8s_etcd.f1daea63_...)
        name = parts[1].split(".")[0] if kubelet else row["names"]
        out.containers.append(RuntimeContainer(
            id=row["id"], name=name, state=_docker_state(row["status"]),
            attempt=int(parts[5]) if kubelet and parts[5].isdigit() else None,
            pod=parts[2] if kubelet else "", namespace=parts[3] if kubelet else "", image=row["image"],
            created_ago=parse_ago(row["created"]),
            finished_ago=parse_ago(row["ended"]) if row["ended"] else None,
            exit_code=int(row["code"]) if row["code"] else None, line=lineno, text=row[0]))
    return out


def _load(text: str, listing: Listing, what: str) -> Any:
    try:
        return load_json(text)
    except ValueError as exc:
        listing.problem(f"not {what} JSON: {exc}")
        return None


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _moment(value: object) -> dt.datetime | None:
    """CRI times: nanoseconds since the epoch (ps JSON) or RFC 3339 (inspect); zero means unset."""
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        nanos = int(value)
        if nanos <= 0:
            return None
        seconds, rest = divmod(nanos, 10**9)  # integer maths: a float loses the microseconds
        try:
            moment = dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
        except (OverflowError, OSError, ValueError):
            return None
        return moment + dt.timedelta(microseconds=rest // 1000)
    stamp = parse_timestamp(value)
    return stamp if stamp is not None and stamp.year > 1970 else None


def _line_of(text: str, needle: str, start: int) -> tuple[int | None, int]:
    """1-based line of needle at or after start, and where to search next."""
    at = text.find(needle, start) if needle else -1
    if at < 0:
        return None, start
    return text.count("\n", 0, at) + 1, at + len(needle)


def _from_cri(raw: dict[str, Any], line: int | None) -> RuntimeContainer:
    """One CRI Container / ContainerStatus object (`crictl ps -o json` entry or inspect's status)."""
    meta, labels = _dict(raw.get("metadata")), _dict(raw.get("labels"))
    attempt, code = meta.get("attempt"), raw.get("exitCode")
    if not isinstance(code, int) or isinstance(code, bool):
        code = None
    cid = str(raw.get("id") or "")
    name = str(labels.get("io.kubernetes.container.name") or meta.get("name") or "")
    state = _state(str(raw.get("state") or ""))
    return RuntimeContainer(
        id=cid, name=name, state=state,
        attempt=attempt if isinstance(attempt, int) and not isinstance(attempt, bool) else None,
        pod=str(labels.get("io.kubernetes.pod.name") or ""),
        namespace=str(labels.get("io.kubernetes.pod.namespace") or ""),
        pod_id=str(raw.get("podSandboxId") or ""), image=str(_dict(raw.get("image")).get("image") or ""),
        created_at=_moment(raw.get("createdAt")), finished_at=_moment(raw.get("finishedAt")),
        # a running container's status carries exitCode 0: it has not exited
        exit_code=code if state == "exited" else None,
        reason=str(raw.get("reason") or ""), line=line,
        text=f"{cid[:13]} {state} {name} attempt {attempt}")


def parse_crictl_ps_json(text: str) -> Listing:
    """`crictl ps -a -o json` ({"containers": [...]}, or the bare list `jq .containers` prints).

    Real output (CRI-O, quoted in flightctl's tests; the ids were shortened there):

    >>> listing = parse_crictl_ps_json('''{"containers": [{"id": "id2", "podSandboxId": "podId2",
    ...   "metadata": {"name": "busybox", "attempt": 0}, "state": "CONTAINER_EXITED",
    ...   "createdAt": "1712832732952358805", "labels": {}, "annotations": {}}]}''')
    >>> [(c.name, c.state, c.attempt, c.created_at.isoformat(timespec="seconds"), c.line)
    ...  for c in listing.containers]
    [('busybox', 'exited', 0, '2024-04-11T10:52:12+00:00', 1)]
    """
    out = Listing()
    data = _load(text, out, "crictl ps")
    entries = data.get("containers") if isinstance(data, dict) else data
    if data is not None and not isinstance(entries, list):
        out.problem("crictl ps JSON without a containers list")
        return out
    at = 0
    for raw in entries or []:
        if not isinstance(raw, dict):
            continue
        line, at = _line_of(text, f'"{raw.get("id")}"', at)
        out.containers.append(_from_cri(raw, line))
    return out


def parse_crictl_inspect(text: str) -> Listing:
    """`crictl inspect ID...`: each object's `status` (exit code, reason, times), cited at its exitCode.

    Real output (containerd/cri#475, trimmed after `annotations`):

    >>> (c,) = parse_crictl_inspect('''{"status": {
    ...  "id": "98ad5842a62844f62d4468c52dbfcc081a08ba25c95c842a967de7058f60dd24",
    ...  "metadata": {"attempt": 0, "name": "nginx"}, "state": "CONTAINER_EXITED",
    ...  "createdAt": "2017-11-30T21:57:26.038813532Z", "finishedAt": "2017-12-01T20:08:56.523559866Z",
    ...  "exitCode": 255, "reason": "Unknown",
    ...  "labels": {"io.kubernetes.pod.name": "nginx",
    ...             "io.kubernetes.pod.namespace": "e2e-tests-kubectl-2jdtb"}}}
    ... ''').containers
    >>> (c.name, c.state, c.exit_code, c.reason, c.finished_at.isoformat(timespec="seconds"), c.line)
    ('nginx', 'exited', 255, 'Unknown', '2017-12-01T20:08:56+00:00', 5)
    """
    out = Listing()
    data = _load(text, out, "crictl inspect")
    at = 0
    for obj in data if isinstance(data, list) else [data] if data is not None else []:
        status = _dict(_dict(obj).get("status"))
        if not status.get("id"):
            out.problem("crictl inspect JSON without status.id")
            continue
        line, at = _line_of(text, '"exitCode"', _line_of(text, str(status["id"]), at)[1])
        out.containers.append(_from_cri(status, line))
    return out
