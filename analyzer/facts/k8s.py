"""Kubernetes API objects as the bundles saw them: pods, nodes, events, leases, health checks.

API objects are cluster-wide, so every node's bundle may hold a copy: one copy per object is kept,
the one collected last. Lease ages are measured against the collection time of the bundle holding
the copy, never the analyst's clock.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from ..bundle import ItemRecord
from ..errors import InputError
from ..findings import Evidence
from ..parsers.health import HealthReport, parse_health
from ..parsers.kubectl import (
    ClusterOperator,
    ComponentStatus,
    Event,
    Lease,
    Node,
    Pod,
    VersionInfo,
    load_objects,
    parse_cluster_operator,
    parse_kubectl_text,
    parse_version_json,
)
from .source import Source

HEALTH_ITEMS = {"k8s.healthz": "healthz", "k8s.livez": "livez", "k8s.readyz": "readyz"}


@dataclass(frozen=True)
class Origin:
    """Where a fact was read: node, bundle item and path, line in that item."""

    node: str
    item_id: str
    path: str
    line: int | None
    collected_at: dt.datetime

    def evidence(self, excerpt: str) -> Evidence:
        return Evidence(self.node, self.path, self.line, excerpt[:300], self.item_id)


@dataclass(frozen=True)
class PodFact:
    pod: Pod
    origin: Origin


@dataclass(frozen=True)
class NodeObjectFact:
    """A Node object (status, kubelet version), not to be confused with a bundle's NodeFacts."""

    node: Node
    origin: Origin


@dataclass(frozen=True)
class EventFact:
    event: Event
    origin: Origin


@dataclass(frozen=True)
class LeaseFact:
    lease: Lease
    origin: Origin

    @property
    def renew_age(self) -> dt.timedelta | None:
        """Time from the last renewal to the collection of the bundle this copy came from."""
        if self.lease.renew_time is None:
            return None
        return self.origin.collected_at - self.lease.renew_time

    @property
    def stale(self) -> bool | None:
        """renewTime older than leaseDurationSeconds at collection time; None when unknown."""
        age, duration = self.renew_age, self.lease.duration_s
        if age is None or duration is None:
            return None
        return age > dt.timedelta(seconds=duration)


@dataclass(frozen=True)
class HealthFact:
    endpoint: str
    report: HealthReport
    origin: Origin


@dataclass(frozen=True)
class ComponentStatusFact:
    status: ComponentStatus
    origin: Origin


@dataclass(frozen=True)
class VersionFact:
    info: VersionInfo
    origin: Origin


@dataclass(frozen=True)
class OperatorFact:
    operator: ClusterOperator
    origin: Origin


@dataclass
class K8sFacts:
    """All API-object facts of the cluster; `merge` keeps one copy of each object."""

    pods: list[PodFact] = field(default_factory=list)
    nodes: list[NodeObjectFact] = field(default_factory=list)
    events: list[EventFact] = field(default_factory=list)
    leases: list[LeaseFact] = field(default_factory=list)
    #: kube-node-lease: each kubelet's heartbeat (holder = node name)
    node_leases: list[LeaseFact] = field(default_factory=list)
    #: one per node and endpoint: each node's kubectl may reach a different API server
    health: list[HealthFact] = field(default_factory=list)
    componentstatuses: list[ComponentStatusFact] = field(default_factory=list)
    versions: list[VersionFact] = field(default_factory=list)
    #: OpenShift's ClusterOperators (must-gather's cluster-scoped-resources)
    operators: list[OperatorFact] = field(default_factory=list)

    def merge(self, other: K8sFacts) -> None:
        self.pods = _newest(self.pods + other.pods, lambda f: (f.pod.namespace, f.pod.name))
        self.nodes = _newest(self.nodes + other.nodes, lambda f: f.node.name)
        self.events = _newest(self.events + other.events,
                              lambda f: (f.event.namespace, f.event.object_kind, f.event.object_name,
                                         f.event.reason, f.event.message, f.event.first_time))
        self.leases = _newest(self.leases + other.leases, lambda f: (f.lease.namespace, f.lease.name))
        self.node_leases = _newest(self.node_leases + other.node_leases,
                                   lambda f: (f.lease.namespace, f.lease.name))
        self.componentstatuses = _newest(self.componentstatuses + other.componentstatuses,
                                         lambda f: f.status.name)
        self.operators = _newest(self.operators + other.operators, lambda f: f.operator.name)
        self.health.extend(other.health)
        self.versions.extend(other.versions)

    def pods_of(self, component: str) -> list[PodFact]:
        """kube-system pods of a control-plane component (by kubeadm's `component` label or name)."""
        return [f for f in self.pods
                if f.pod.component == component
                or (not f.pod.component and f.pod.name.startswith(component + "-"))]


F = TypeVar("F", PodFact, NodeObjectFact, EventFact, LeaseFact, ComponentStatusFact, OperatorFact)


def _newest(facts: list[F], key: Callable[[F], Any]) -> list[F]:
    chosen: dict[Any, F] = {}
    for fact in facts:
        k = key(fact)
        if k not in chosen or fact.origin.collected_at > chosen[k].origin.collected_at:
            chosen[k] = fact
    return list(chosen.values())


def k8s_from_text(text: str, origin: Origin, problems: list[str] | None = None) -> K8sFacts:
    """The objects of one kubectl output of any form (`-o yaml|json` or a `get` table), each cited
    at its own line; what could not be parsed goes to `problems`."""
    parsed = parse_kubectl_text(text, OBJECT_KINDS.get(origin.item_id, "Pod"))
    if problems is not None:
        problems += parsed.problems
    facts = K8sFacts()
    if origin.item_id == "k8s.node_leases":
        facts.node_leases = [LeaseFact(x, _at(origin, x.line)) for x in parsed.leases]
    else:
        facts.leases = [LeaseFact(x, _at(origin, x.line)) for x in parsed.leases]
    facts.pods = [PodFact(x, _at(origin, x.line)) for x in parsed.pods]
    facts.nodes = [NodeObjectFact(x, _at(origin, x.line)) for x in parsed.nodes]
    facts.events = [EventFact(x, _at(origin, x.line)) for x in parsed.events]
    facts.componentstatuses = [ComponentStatusFact(x, _at(origin, x.line)) for x in parsed.componentstatuses]
    return facts


def _at(origin: Origin, line: int | None) -> Origin:
    return Origin(origin.node, origin.item_id, origin.path, line, origin.collected_at)


#: the records whose text is kubectl objects, and the kind an object without `kind` has there
OBJECT_KINDS = {"k8s.pods": "Pod", "k8s.pending_pods": "Pod", "k8s.nodes": "Node", "k8s.events": "Event",
                "k8s.leases": "Lease", "k8s.node_leases": "Lease", "k8s.componentstatuses": "ComponentStatus"}
OBJECT_ITEMS = tuple(OBJECT_KINDS)


def _stderr(src: Source, item: ItemRecord) -> str:
    """kubectl prints a failing health body on stderr, so the .err file is evidence too."""
    if not item.stderr_path:
        return ""
    try:
        return src.bundle.read_text(item.stderr_path)
    except InputError as exc:
        src.problem(str(exc))
        return ""


def _health_fact(text: str, endpoint: str, origin: Origin) -> HealthFact | None:
    """The health result in the text, cited at its first failed check (else its verdict line)."""
    report = parse_health(text)
    if report.passed is None:
        return None
    line = report.failed[0].line if report.failed else report.verdict_line
    return HealthFact(report.endpoint or endpoint, report,
                      Origin(origin.node, origin.item_id, origin.path, line, origin.collected_at))


def _health(src: Source) -> list[HealthFact]:
    out: list[HealthFact] = []
    now = src.bundle.manifest.collected_at
    for item_id, endpoint in HEALTH_ITEMS.items():
        for item in src.items(item_id):
            assert item.path is not None
            stdout = src.text(item) or ""
            for path, text in ((item.path, stdout), (item.stderr_path or "", _stderr(src, item))):
                fact = _health_fact(text, endpoint, Origin(src.node, item.id, path, None, now))
                if fact is not None:
                    out.append(fact)
                    break
    return out


def k8s_facts(src: Source) -> K8sFacts:
    """One node's bundle: the API objects its kubectl commands saved, and its health checks."""
    facts = K8sFacts()
    now = src.bundle.manifest.collected_at
    for item_id in OBJECT_ITEMS:
        for item, text in src.texts(item_id):
            assert item.path is not None
            problems: list[str] = []
            found = k8s_from_text(text, Origin(src.node, item.id, item.path, None, now), problems)
            for problem in problems:
                src.item_problem(item, problem)
            for name in ("pods", "nodes", "events", "leases", "node_leases", "componentstatuses"):
                getattr(facts, name).extend(getattr(found, name))
    for item, text in src.texts("ocp.clusteroperators"):
        assert item.path is not None
        objects = load_objects(text)
        for problem in objects.problems:
            src.item_problem(item, problem)
        facts.operators += [OperatorFact(parse_cluster_operator(obj, line),
                                         Origin(src.node, item.id, item.path, line, now))
                            for obj, line in zip(objects.items, objects.lines, strict=True)]
    facts.health = _health(src)
    for item, text in src.texts("k8s.version"):
        info = parse_version_json(text)
        if info is not None and item.path is not None:
            facts.versions.append(VersionFact(info, Origin(src.node, item.id, item.path, None, now)))
    # a bundle's own copies may repeat (pods and pending pods): dedupe like the cluster merge does
    merged = K8sFacts()
    merged.merge(facts)
    return merged
