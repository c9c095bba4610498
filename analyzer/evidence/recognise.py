"""Recognise what a piece of text is from its content: the evidence type of a file or a pasted segment.

>>> detect("https://127.0.0.1:2379 is healthy: successfully committed proposal: took = 8.8ms\\n")
'etcdctl-health'
>>> detect("Status: active\\nLogging: on (low)\\n")
'ufw-status'
>>> detect("The connection to the server 10.190.67.31:6443 was refused - did you specify the right host "
...        "or port?")
'kubectl-client-error'
>>> detect("just some words\\n") is None
True
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ..logs.formats import strip_writer_prefix
from ..parsers.etcdctl import without_client_stderr
from ..parsers.jsonsafe import load_json
from ..parsers.kubectl import (
    csr_row,
    is_describe_node,
    is_describe_pod,
    is_node_header,
    is_version_text,
    old_node_row,
)

_KLOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ \S+:\d+\]", re.M)
#: klog lines cut down to their caller (`kuberuntime_manager.go:458] Container ...`, a reflector's
#: message alone: `k8s.io/client-go/informers/factory.go:132: Failed to list ...`), and what a component
#: prints on stderr before klog starts (`Flag --x has been deprecated`, `error: failed to run Kubelet: `)
_KLOG_PIECE = re.compile(r"^(?:[\w./-]+\.go:\d+[\]:] |Flag --[\w-]+ has been deprecated, |"
                         r"error: failed to run Kubelet: )", re.M)
_CRI = re.compile(r"^\d{4}-\d\d-\d\dT\S+ (?:stdout|stderr) [FP] ", re.M)
_JOURNAL = re.compile(r"^(?:\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S* |(?:[^\W\d_]{3,5}\.?|\d{1,2}月) +\d{1,2} "
                      r"\d\d:\d\d:\d\d(?:\.\d+)? )\S+ ([^\s\[:]+)(?:\[\d+\])?: ", re.M)
#: a journal line whose time and host were cut off (`k3s[561950]: E0416 ...`)
_IDENT = re.compile(r"^(?:[\w.-]+ )?[\w.-]+\[\d+\]: ", re.M)
_KUBEADM = re.compile(r"^\[(?:kubelet-check|api-check|wait-control-plane|control-plane-check|"
                      r"upgrade(?:/\w+)?|init|preflight|certs|kubeconfig|kubelet-start|control-plane|etcd|"
                      r"mark-control-plane|bootstrap-token|addons|reset|join|kubelet|patches|discovery)\] |"
                      r"^error execution phase |^Static pod: \S+ hash: |"
                      r"^Your Kubernetes control-plane has initialized successfully|"
                      # `upgrade apply` refusing a version (its `[upgrade/version] ` prefix may be cut)
                      r"^FATAL: The --version argument is invalid|"
                      # `upgrade plan`'s tables
                      r"^Components that must be upgraded manually after|^COMPONENT\s+(?:NODE\s+)?CURRENT\s+|"
                      r"^This node has joined the cluster", re.M)
_KUBECTL_ERROR = re.compile(r"^(?:The connection to the server \S+ was refused|"
                            r"Unable to connect to the server: |Error from server(?: \(|: )|"
                            r"error: (?:You must be logged in|the server doesn't have))", re.M)
_CLUSTER_HEALTH = re.compile(r"^(?:member [0-9a-f]+ is (?:healthy|unhealthy|unreachable)|"
                             r"error #\d+: client: endpoint |cluster may be unhealthy: |"
                             r"cluster is (?:healthy|"
                             r"unhealthy|degraded)|failed to check the health of member)", re.M)
#: etcd mixes zap JSON, capnslog, raft's and gRPC's Go log lines in one stream (field note 8)
_ETCD = re.compile(r'^(?:\{"level":"\w+","ts":|(?:WARNING|ERROR|INFO): \d{4}/\d\d/\d\d |raft\d{4}/|'
                   r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} [A-Z] \| |\[WARNING\] |"
                   r"\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:etcd\w*|raft\w*|wal|snap|rafthttp|etcdhttp): )", re.M)
_LOGRUS = re.compile(r'^(?:time="[^"]+" level=\w+ |(?:INFO|WARN|ERRO|FATA|DEBU)\[\d+\] )', re.M)
#: a Go program's panic and its goroutine stacks
_PANIC = re.compile(r"^(?:panic: |goroutine \d+ \[|fatal error: )", re.M)
_EVENT_ROW = re.compile(r"^\s*(?:Normal|Warning)\s+[A-Z]\w+\s+\S", re.M)
_SS_ROW = re.compile(r"^LISTEN\s+\d+\s+\d+\s+\S+:\d+\s", re.M)
#: `iptables -S` / `--list-rules`: iptables-save's rule lines without the table and COMMIT
_RULE_SPEC = re.compile(r"^-[PNA] \S+", re.M)
_DOCKER_PS = re.compile(r"^[0-9a-f]{12} +\S+ +\".*\" +.+ (?:Up |Exited \(|Created)", re.M)


def _lines(head: str, limit: int = 60) -> list[str]:
    return [ln for ln in head.splitlines() if ln.strip() and not ln.startswith("-- ")][:limit]


def _share(pattern: re.Pattern[str], head: str) -> float:
    lines = _lines(head)
    return len(pattern.findall("\n".join(lines))) / len(lines) if lines else 0.0


def _json_type(head: str) -> str | None:
    try:
        data = load_json(head)
    except ValueError:
        return None
    first = data[0] if isinstance(data, list) and data else data
    if not isinstance(first, dict):
        return None
    if isinstance(first.get("containers"), list):
        return "crictl-ps-json"
    if isinstance(first.get("status"), dict) and "state" in first["status"] and "metadata" in first["status"]:
        return "crictl-inspect"
    if "Status" in first and "Endpoint" in first:
        return "etcdctl-status"
    if "health" in first and "endpoint" in first:
        return "etcdctl-health"
    if "members" in first:
        return "etcdctl-members"
    if "alarms" in first or set(first) <= {"header"}:
        return "etcdctl-alarms"
    return _kind_type(str(first.get("kind", "")), head)


def _kind_type(kind: str, text: str) -> str | None:
    if kind == "List":
        found = re.search(r"""^\s*(?:- )?"?kind"?:\s*"?(\w+)""", text[text.find("items"):], re.M)
        kind = found.group(1) if found else ""
    kind = kind.removesuffix("List")
    if kind == "Pod":
        # a static manifest has no status, or kubeadm's `status: {}`
        static = "tier: control-plane" in text and not re.search(r"^status:\s*$", text, re.M)
        return "static-pod-manifest" if static else "kubectl-pods"
    return {"Node": "kubectl-nodes", "Event": "kubectl-events", "Lease": "kubectl-leases",
            "ComponentStatus": "kubectl-componentstatuses", "Config": "kubeconfig"}.get(kind)


def _table_type(lines: list[str]) -> str | None:
    """kubectl/crictl/docker/df/ss tables by their header row."""
    for line in lines[:3]:
        cols = line.split()
        header = " ".join(cols)
        if "ENDPOINT" in cols and ("IS LEADER" in header or "DB SIZE" in header):
            return "etcdctl-status"
        if "ENDPOINT" in cols and "HEALTH" in cols:
            return "etcdctl-health"
        if "PEER ADDRS" in header:
            return "etcdctl-members"
        if cols[:1] == ["CERTIFICATE"] and "RESIDUAL TIME" in header:
            return "kubeadm-certs"
        if "CONTAINER" in cols and "ATTEMPT" in cols:
            return "crictl-ps"
        if cols[:2] == ["CONTAINER", "ID"] and "NAMES" in cols:
            return "docker-ps"
        if cols[:1] == ["Filesystem"] and "Mounted" in cols:
            return "df"
        if cols[:1] == ["State"] and "Local" in cols:
            return "ss-listening"
        if "LAST" in cols and "REASON" in cols or cols[:2] == ["Type", "Reason"]:
            return "kubectl-events"
        if "REQUESTOR" in cols and "CONDITION" in cols or csr_row(line):
            return "kubectl-csr"
        if {"AVAILABLE", "PROGRESSING", "DEGRADED"} <= set(cols):
            return "openshift-clusteroperators"
        if "NAME" in cols[:2] and "HOLDER" in cols:
            return "kubectl-leases"
        if "NAME" in cols[:2] and is_node_header(cols) or old_node_row(line):
            return "kubectl-nodes"
        if "NAME" in cols[:2] and "READY" in cols and "STATUS" in cols:
            return "kubectl-pods"
        if cols[:4] == ["NAME", "STATUS", "MESSAGE", "ERROR"] or (
                cols[:1] in (["scheduler"], ["controller-manager"]) or cols[0].startswith("etcd-")) and \
                cols[1:2] in (["Healthy"], ["Unhealthy"], ["<unknown>"]):
            return "kubectl-componentstatuses"
    return None


_CONTENT_CHECKS: tuple[tuple[str, Callable[[str, list[str]], bool]], ...] = (
    ("systemctl-status", lambda h, ls: bool(re.match(r"\s*\S{0,2}\s*[\w@.-]+\.service - ", ls[0]))
     and bool(re.search(r"^\s*Active: ", h, re.M))),
    ("etcdctl-cluster-health", lambda h, ls: bool(_CLUSTER_HEALTH.search(h))),
    ("kubeadm-output", lambda h, ls: _share(_KUBEADM, h) >= 0.2),
    ("kubectl-client-error", lambda h, ls: _share(_KUBECTL_ERROR, h) >= 0.5),
    ("openssl-dates", lambda h, ls: bool(re.match(r"\s*not(?:After|Before)=", ls[0]))),
    ("docker-json-log", lambda h, ls: ls[0].startswith('{"log":')),
    ("etcd-zap", lambda h, ls: _share(_ETCD, h) >= 0.5 and '{"level":' in h),
    ("cri-log", lambda h, ls: _share(_CRI, h) >= 0.5),
    ("journald", lambda h, ls: _share(_JOURNAL, h) >= 0.5 or _share(_IDENT, h) >= 0.5),
    ("klog", lambda h, ls: _share(_KLOG, h) >= 0.3 and _share(_ETCD, h) < 0.5
     or _share(_KLOG_PIECE, h) >= 0.3 or bool(_KLOG_PIECE.match(ls[0]))),
    ("etcd-capnslog", lambda h, ls: _share(_ETCD, h) >= 0.5),
    ("kubectl-describe-pod", lambda h, ls: is_describe_pod(h)),
    ("kubectl-describe-node", lambda h, ls: is_describe_node(h)),
    ("kubectl-version", lambda h, ls: is_version_text(h)),
    ("logrus", lambda h, ls: _share(_LOGRUS, h) >= 0.5),
    ("go-panic", lambda h, ls: bool(_PANIC.match(ls[0]))),
    ("x509-text", lambda h, ls: "Validity" in h and "Not After" in h and "BEGIN CERTIFICATE" not in h),
    ("pem", lambda h, ls: "-----BEGIN CERTIFICATE-----" in h),
    ("iptables-save", lambda h, ls: bool(re.search(r"^\*(?:filter|nat|mangle|raw)\s*$", h, re.M))
     and "COMMIT" in h or _share(_RULE_SPEC, h) >= 0.6),
    ("iptables-list", lambda h, ls: bool(re.search(r"^Chain \S+ \((?:policy \w+|\d+ references)", h, re.M))),
    ("nft-ruleset", lambda h, ls: bool(re.match(r"table (?:inet|ip|ip6|arp|bridge|netdev) \S+ \{", ls[0]))),
    ("ufw-status", lambda h, ls: ls[0].startswith("Status: ")),
    ("etcdctl-health", lambda h, ls: bool(re.search(r"^\S+ is (?:un)?healthy: ", h, re.M))),
    ("etcdctl-alarms", lambda h, ls: ls[0].startswith("memberID:") and " alarm:" in ls[0]),
    ("etcdctl-members", lambda h, ls: bool(re.match(r"[0-9a-f]{16}, (?:started|unstarted), ", ls[0]))),
    ("etcdctl-status", lambda h, ls: bool(re.match(r"\S+://\S+, [0-9a-f]{16}, \d+\.\d+\.\d+, ", ls[0]))),
    ("health-verbose", lambda h, ls: bool(re.match(r"\[[+-]\]\w", ls[0]))),
    ("docker-ps", lambda h, ls: _share(_DOCKER_PS, h) >= 0.5),
    ("kubectl-events", lambda h, ls: _share(_EVENT_ROW, h) >= 0.5),
    ("ss-listening", lambda h, ls: _share(_SS_ROW, h) >= 0.5),
    ("timedatectl", lambda h, ls: "System clock synchronized:" in h or "NTP synchronized:" in h),
    ("chrony", lambda h, ls: "Reference ID" in h and "System time" in h),
)


def detect(head: str) -> str | None:
    """The evidence type of a file from its first lines, or None when it is none of TYPES."""
    head = "\n".join(strip_writer_prefix(ln) for ln in head.splitlines())
    lines = _lines(head)
    if not lines:
        return None
    body = without_client_stderr(head).strip()
    if body.startswith(("{", "[")):
        found = _json_type(body)
        if found:
            return found
    for name, check in _CONTENT_CHECKS:
        if check(head, lines):
            return name
    kind = re.search(r"^kind:\s*(\w+)", head, re.M)
    if kind or re.search(r"^(?:status|spec|metadata):\s*$", head, re.M):
        return _kind_type(kind.group(1) if kind else "Pod", head)
    return _table_type([ln for ln in lines if not ln.startswith(("Warning:", "[check-expiration]"))])


