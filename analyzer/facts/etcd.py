"""etcd facts: per node, what the collector's etcdctl saw and the etcd manifest's settings; merged,
the cluster's members and whether each is up, judged from every node's evidence together.

`member list` does not reflect liveness (it answers even without quorum), so a member is "up" when
some node got its status or a healthy answer, "down" when etcdctl failed to reach it and nothing
says otherwise, "unverified" when only TLS errors came back (the member answers, the client is
refused), and "unknown" without evidence.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..bundle import ItemRecord
from ..evidence.types import TYPES
from ..findings import Evidence
from ..parsers.etcdctl import (
    Alarm,
    ClientWarning,
    EndpointHealth,
    EndpointStatus,
    Member,
    Parsed,
    cause_kind,
    host_port,
    most_specific,
    parse_alarm_list,
    parse_client_errors,
    parse_endpoint_status,
    parse_member_list,
    parse_version,
)
from ..parsers.host import parse_du
from ..parsers.kversion import KubeVersion
from ..parsers.kversion import parse_version as parse_kube_version
from .components import ComponentFact
from .source import Source

#: etcd's default backend quota (`--quota-backend-bytes` unset or 0)
QUOTA_DEFAULT = 2 * 1024**3
STATUS_ITEMS = ("etcd.endpoint_status", "etcd.endpoint_status_local")
#: the etcdctl commands that talk to etcd (`etcdctl version` does not)
ETCDCTL_ITEMS = ("etcd.endpoint_health", "etcd.cluster_health", *STATUS_ITEMS, "etcd.member_list",
                 "etcd.alarm_list")
EXCERPT = 300


def _evidence(src: Source, item: ItemRecord, path: str | None, line: int | None, excerpt: str) -> Evidence:
    return Evidence(src.node, path or item.path or "manifest.json", line, excerpt[:EXCERPT], item.id)


@dataclass(frozen=True)
class EtcdConfig:
    """The etcd static pod's settings that triage and remediation commands need."""

    node: str
    manifest: str
    name: str
    client_urls: tuple[str, ...]
    peer_urls: tuple[str, ...]
    data_dir: str
    cacert: str
    cert: str
    key: str
    quota_bytes: int
    quota_set: bool
    version: KubeVersion | None
    evidence: Evidence  # the --quota-backend-bytes line when set, else the manifest's image line


@dataclass(frozen=True)
class HealthFact:
    endpoint: str
    healthy: bool
    error: str
    evidence: Evidence


@dataclass(frozen=True)
class StatusFact:
    status: EndpointStatus
    run: str  # the output's bundle path: rows of one run were taken together
    evidence: Evidence


@dataclass(frozen=True)
class FailureFact:
    """etcdctl got no answer from this endpoint."""

    endpoint: str
    error: str
    evidence: Evidence


@dataclass(frozen=True)
class MemberFact:
    member: Member
    evidence: Evidence


@dataclass(frozen=True)
class AlarmFact:
    alarm: Alarm
    evidence: Evidence


@dataclass(frozen=True)
class Cause:
    """The client-side reason etcdctl logged for an endpoint (gRPC warning on stderr)."""

    text: str
    kind: str  # see parsers.etcdctl.cause_kind
    evidence: Evidence


@dataclass(frozen=True)
class EtcdctlRun:
    """One etcdctl command the collector ran, and whether etcd answered it."""

    item_id: str
    exit_code: int | None
    timed_out: bool
    error: str
    answered: bool
    flags: dict[str, str]  # --endpoints/--cacert/--cert/--key as run (collector --root stripped)
    evidence: Evidence  # the final `Error:` line, else the stdout


@dataclass(frozen=True)
class DataDirUsage:
    path: str
    kib: int
    evidence: Evidence


@dataclass
class NodeEtcd:
    """One node's etcd evidence."""

    node: str
    config: EtcdConfig | None = None
    runs: list[EtcdctlRun] = field(default_factory=list)
    health: list[HealthFact] = field(default_factory=list)
    statuses: list[StatusFact] = field(default_factory=list)
    failures: list[FailureFact] = field(default_factory=list)
    #: None when no member list was read on this node
    members: list[MemberFact] | None = None
    cluster_id: int | None = None
    alarms: list[AlarmFact] = field(default_factory=list)
    warnings: list[tuple[ClientWarning, Evidence]] = field(default_factory=list)
    data_dir: DataDirUsage | None = None
    etcdctl_version: str | None = None

    @property
    def reached(self) -> bool:
        """etcdctl got at least one answer here, so this node's client credentials work."""
        return any(r.answered for r in self.runs)

    def cause_for(self, endpoint: str) -> Cause | None:
        warning = most_specific([w for w, _ in self.warnings], endpoint)
        if warning is None:
            return None
        evidence = next(e for w, e in self.warnings if w is warning)
        return Cause(warning.cause, warning.kind, evidence)


@dataclass(frozen=True)
class MemberState:
    member: Member
    state: str  # up | down (refused, no answer, or isolated) | unverified | unknown
    reason: str
    evidence: tuple[Evidence, ...]


@dataclass
class EtcdFacts:
    """Every node's etcd evidence; the methods merge it into the cluster's view."""

    nodes: list[NodeEtcd] = field(default_factory=list)

    def add(self, node: NodeEtcd) -> None:
        self.nodes.append(node)

    def members(self) -> list[Member]:
        """Members as the union of all nodes' member lists (by ID)."""
        seen: dict[int, Member] = {}
        for node in self.nodes:
            for fact in node.members or []:
                if fact.member.id not in seen or (fact.member.name and not seen[fact.member.id].name):
                    seen[fact.member.id] = fact.member
        return sorted(seen.values(), key=lambda m: (m.name, m.id))

    def voters(self) -> list[Member]:
        """Members that count for quorum (learners do not vote)."""
        return [m for m in self.members() if not m.is_learner]

    def member_lists(self) -> dict[str, list[MemberFact]]:
        return {n.node: n.members for n in self.nodes if n.members is not None}

    def member_of(self, endpoint: str) -> Member | None:
        target = host_port(endpoint)
        return next((m for m in self.members() if target in {host_port(u) for u in m.client_urls}), None)

    def config_of(self, member: Member) -> EtcdConfig | None:
        """The manifest of the node that runs this member (by --name, else by client URL)."""
        configs = [n.config for n in self.nodes if n.config]
        urls = {host_port(u) for u in member.client_urls}
        return (next((c for c in configs if member.name and c.name == member.name), None)
                or next((c for c in configs if urls & {host_port(u) for u in c.client_urls}), None))

    def node_of(self, member: Member) -> str | None:
        config = self.config_of(member)
        if config:
            return config.node
        return next((n.node for n in self.nodes if n.node == member.name), None)

    def configs(self) -> list[EtcdConfig]:
        return [n.config for n in self.nodes if n.config]

    def version(self) -> KubeVersion | None:
        """The etcd server version: from status, else the manifest image, else etcdctl's own."""
        candidates = ([s.status.version for n in self.nodes for s in n.statuses]
                      + [str(c.version) for c in self.configs() if c.version]
                      + [n.etcdctl_version or "" for n in self.nodes])
        return next((v for v in map(parse_kube_version, candidates) if v), None)

    def states(self) -> list[MemberState]:
        """Each voting and learning member's liveness, combining every node's health and status."""
        return [self._state(m) for m in self.members()]

    def _state(self, member: Member) -> MemberState:
        urls = {host_port(u) for u in member.client_urls}
        statuses = [s.evidence for n in self.nodes for s in n.statuses if s.status.member_id == member.id]
        health = [h for n in self.nodes for h in n.health if host_port(h.endpoint) in urls]
        healthy = [h.evidence for h in health if h.healthy]
        others_commit = any(h.healthy and host_port(h.endpoint) not in urls
                            for n in self.nodes for h in n.health)
        if statuses and health and not healthy and others_commit:
            # it runs, but commits nothing while other members do: cut off from the leader
            return MemberState(member, "down", "isolated: answers status, commits nothing",
                               tuple([*statuses[:1], *(h.evidence for h in health[:2])]))
        if healthy or statuses:
            return MemberState(member, "up", "answered", tuple([*healthy, *statuses][:2]))
        failed: list[tuple[str, Evidence]] = []
        for node in self.nodes:
            misses = [(f.endpoint, f.error, f.evidence) for f in node.failures]
            misses += [(h.endpoint, h.error, h.evidence) for h in node.health if not h.healthy]
            for endpoint, error, evidence in misses:
                if host_port(endpoint) not in urls:
                    continue
                cause = node.cause_for(endpoint)
                failed.append((cause.kind if cause else cause_kind(error), evidence))
                if cause:
                    failed.append((cause.kind, cause.evidence))
        if not failed:
            return MemberState(member, "unknown", "no node's etcdctl reported on it", ())
        kinds = {k for k, _ in failed}
        cited = tuple(dict.fromkeys(e for _, e in failed))[:3]
        if kinds <= {"tls", "rejected"}:
            return MemberState(member, "unverified", "it answers, but TLS was refused", cited)
        reason = "connection refused" if "refused" in kinds else "no answer"
        return MemberState(member, "down", reason, cited)


# -- building one node's facts ---------------------------------------------------------------------
def _flags(source: str, root: str) -> dict[str, str]:
    flags: dict[str, str] = {}
    for word in source.split():
        name, sep, value = word.partition("=")
        if sep and name in ("--endpoints", "--cacert", "--cert", "--key"):
            if root not in ("", "/") and value.startswith(root):
                value = value[len(root.rstrip("/")):]
            flags[name[2:]] = value
    return flags


def _config(src: Source, components: list[ComponentFact]) -> EtcdConfig | None:
    """The etcd manifest's settings, from the node's components (the manifest is parsed once, there)."""
    for pod in components:
        if pod.component != "etcd" or pod.source != "manifest":
            continue
        flags, lines = pod.flags, pod.flag_lines
        raw_quota = flags.get("quota-backend-bytes", "")
        quota = int(raw_quota) if raw_quota.isdigit() else 0
        if raw_quota and not raw_quota.isdigit():
            src.problem(f"{pod.bundle_path}: --quota-backend-bytes={raw_quota[:40]} is not a byte count")
        line = lines.get("quota-backend-bytes") if quota else pod.image_line
        excerpt = f"--quota-backend-bytes={raw_quota}" if quota else f"image: {pod.image}"
        return EtcdConfig(
            src.node, pod.location, flags.get("name", ""),
            tuple(u for u in flags.get("advertise-client-urls", "").split(",") if u),
            tuple(u for u in flags.get("initial-advertise-peer-urls", "").split(",") if u),
            flags.get("data-dir", "/var/lib/etcd"), flags.get("trusted-ca-file", ""),
            flags.get("cert-file", ""), flags.get("key-file", ""), quota or QUOTA_DEFAULT, bool(quota),
            pod.version, Evidence(src.node, pod.bundle_path, line, excerpt[:EXCERPT], pod.item_id))
    return None


def _stderr(src: Source, item: ItemRecord) -> str:
    if not item.stderr_path:
        return ""
    return src.text(replace(item, path=item.stderr_path)) or ""


def _health_rows(src: Source, node: NodeEtcd, item: ItemRecord, stdout: str, err_text: str) -> list[str]:
    """`endpoint health` (v3) or `cluster-health` (v2): rows on stdout or stderr (etcdctl uses both)."""
    parse = TYPES["etcdctl-cluster-health" if item.id == "etcd.cluster_health" else "etcdctl-health"].parser
    problems: list[str] = []
    for text, path in ((stdout, item.path), (err_text, item.stderr_path)):
        health = parse(text) if parse else None
        assert isinstance(health, Parsed)
        problems += health.problems
        known = {h.endpoint for h in node.health}
        node.health += [HealthFact(h.endpoint, h.healthy, h.error, _evidence(src, item, path, h.line, h.raw))
                        for h in health.rows if isinstance(h, EndpointHealth) and h.endpoint not in known]
    return problems


def _status_rows(src: Source, node: NodeEtcd, item: ItemRecord, stdout: str, err_text: str) -> list[str]:
    status = parse_endpoint_status(stdout)
    assert item.path is not None
    node.statuses += [StatusFact(s, item.path, _evidence(src, item, None, s.line, s.raw))
                      for s in status.rows]
    return status.problems


def _member_rows(src: Source, node: NodeEtcd, item: ItemRecord, stdout: str, err_text: str) -> list[str]:
    members = parse_member_list(stdout)
    if members.members:
        node.members = [MemberFact(m, _evidence(src, item, None, m.line, m.raw)) for m in members.members]
        node.cluster_id = members.cluster_id
    return members.problems


def _alarm_rows(src: Source, node: NodeEtcd, item: ItemRecord, stdout: str, err_text: str) -> list[str]:
    alarms = parse_alarm_list(stdout)
    node.alarms += [AlarmFact(a, _evidence(src, item, None, a.line, a.raw)) for a in alarms.rows]
    return alarms.problems


#: how each etcdctl item's text becomes the node's facts
_READERS: dict[str, Callable[[Source, NodeEtcd, ItemRecord, str, str], list[str]]] = {
    "etcd.endpoint_health": _health_rows, "etcd.cluster_health": _health_rows,
    **{item_id: _status_rows for item_id in STATUS_ITEMS},
    "etcd.member_list": _member_rows, "etcd.alarm_list": _alarm_rows}


def _run(src: Source, node: NodeEtcd, item: ItemRecord, stdout: str) -> None:
    """Parse one etcdctl record's stdout and stderr into the node's facts."""
    assert item.path is not None
    err_text = _stderr(src, item)
    errors = parse_client_errors(err_text)
    err_path = item.stderr_path
    node.warnings += [(w, _evidence(src, item, err_path, w.line, w.raw)) for w in errors.warnings]
    before = (len(node.health), len(node.statuses), len(node.alarms), node.members is not None)
    problems = _READERS[item.id](src, node, item, stdout, err_text)
    for problem in problems:
        src.item_problem(item, problem)
    after = (len(node.health), len(node.statuses), len(node.alarms), node.members is not None)
    healthy_answer = any(h.healthy for h in node.health[before[0]:])
    answered = (item.exit_code == 0 and not item.timed_out) or healthy_answer or after[1:] != before[1:]
    flags = _flags(item.source, str(src.bundle.manifest.options.get("root") or "/"))
    failures = [FailureFact(f.endpoint, f.error, _evidence(src, item, err_path, f.line, f.raw))
                for f in errors.failures]
    if not answered and not failures and after == before:
        # --cluster commands die before any per-endpoint line when the first endpoint is out of reach
        failures = [FailureFact(e, errors.error or item.error or "no answer",
                                _evidence(src, item, err_path, errors.error_line, errors.error or
                                          (item.error or "")))
                    for e in flags.get("endpoints", "").split(",") if e]
    node.failures += [f for f in failures if f.endpoint not in {x.endpoint for x in node.failures}]
    evidence = (_evidence(src, item, err_path, errors.error_line, "Error: " + errors.error) if errors.error
                else _evidence(src, item, None, 1, stdout.strip().splitlines()[0] if stdout.strip() else ""))
    node.runs.append(EtcdctlRun(item.id, item.exit_code, item.timed_out, item.error or "", answered, flags,
                                evidence))


def node_etcd(src: Source, components: list[ComponentFact]) -> NodeEtcd:
    """One node's etcd facts: manifest settings (from its components), etcdctl results, data dir usage."""
    node = NodeEtcd(src.node, config=_config(src, components))
    for item_id in ETCDCTL_ITEMS:
        for item, text in src.texts(item_id):
            _run(src, node, item, text)
    for item, text in src.texts("etcd.version"):
        version = parse_version(text)
        node.etcdctl_version = version.etcdctl
        for problem in version.problems:
            src.item_problem(item, problem)
    for item, text in src.texts("etcd.data_dir_usage"):
        usage = parse_du(text)
        if usage is not None:
            node.data_dir = DataDirUsage(usage.path, usage.kib,
                                         _evidence(src, item, None, usage.line, usage.text))
        elif text.strip():
            src.item_problem(item, "not `du -sk` output")
    return node
