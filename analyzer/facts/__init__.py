"""Facts: one cluster view merged from every node's bundle, built by running the parsers once.

Each domain module (pki, ...) turns one node's `Source` into typed facts; `build_view` merges them.
Rules read only the `ClusterView`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .. import progress
from ..bundle import Bundle, ItemRecord, Manifest
from ..evidence.types import PROBES
from ..logs.signatures import Signature
from .components import ComponentFact, components, mirror_components
from .containers import ContainerFact, containers
from .etcd import EtcdFacts, node_etcd
from .host import NodeHost, host
from .k8s import K8sFacts, k8s_facts
from .logs import PASTED, LogFacts, is_log_item, log_facts
from .network import NodeNetwork, network
from .pki import CertificateFact, KubeconfigServer, certificates
from .records import Record, records
from .source import Source


@dataclass
class NodeFacts:
    """What one node's bundle says about itself."""

    name: str
    manifest: Manifest
    bundle_source: str

    @property
    def collected_at(self) -> dt.datetime:
        return self.manifest.collected_at


@dataclass
class ClusterView:
    """Every node's facts merged into one model; the only input rules get."""

    nodes: list[NodeFacts] = field(default_factory=list)
    certificates: list[CertificateFact] = field(default_factory=list)
    #: the API server address each kubeconfig on each node points at
    kubeconfig_servers: list[KubeconfigServer] = field(default_factory=list)
    #: control-plane components per node (static pod manifests, else mirror pods)
    components: list[ComponentFact] = field(default_factory=list)
    #: per node, the runtime's containers (crictl/docker), every attempt still listed (facts/containers.py)
    containers: list[ContainerFact] = field(default_factory=list)
    #: API objects (pods, nodes, events, leases) and health endpoint results
    k8s: K8sFacts = field(default_factory=K8sFacts)
    #: etcd as each node's etcdctl saw it, with the etcd manifests' settings
    etcd: EtcdFacts = field(default_factory=EtcdFacts)
    #: per node: addresses, listening sockets, the firewall as an evaluable model
    network: list[NodeNetwork] = field(default_factory=list)
    #: per node: disk usage, time sync, lease evidence of clocks ahead of this node's
    host: list[NodeHost] = field(default_factory=list)
    #: log signatures per node, component and signature, and their minute timeline (facts/logs.py)
    logs: LogFacts = field(default_factory=LogFacts)
    #: parsed records of the evidence types custom rules judge (facts/records.py)
    records: list[Record] = field(default_factory=list)
    #: item ids read without problems on at least one node: rules use it to say "not checked"
    available: set[str] = field(default_factory=set)
    #: item ids that were there but could not be used (timed out, failed, skipped, did not parse),
    #: with the first reason: why a rule needing them was not checked
    unusable: dict[str, str] = field(default_factory=dict)
    #: parse problems and reader warnings, shown in the report's inventory
    problems: list[str] = field(default_factory=list)

    def node(self, name: str) -> NodeFacts:
        return next(n for n in self.nodes if n.name == name)

    def now(self, node: str) -> dt.datetime:
        """The moment judgements about this node's evidence are made against: its collection time."""
        return self.node(node).collected_at


def unique_names(bundles: list[Bundle]) -> list[str]:
    """Each bundle's node name, numbered where two bundles name the same node (cp-1, cp-1#2)."""
    names: list[str] = []
    for bundle in bundles:
        name, n = bundle.node, 2
        while name in names:
            name, n = f"{bundle.node}#{n}", n + 1
        names.append(name)
    return names


def unusable_reason(item: ItemRecord, src: Source) -> str | None:
    """Why a record cannot count as evidence read, or None when it can. A probe's failure (etcdctl
    that gets no answer, a failing health check) is itself evidence (analyzer/evidence/types.py)."""
    if item.path is not None and item.path in src.unparsed:
        return f"{item.path} did not parse ({src.unparsed[item.path]})"
    if item.id in PROBES and item.collected:
        return None
    if item.timed_out:
        return f"{item.id} timed out after {item.duration_s:.0f}s"
    if item.skipped:
        return f"{item.id} was skipped ({item.skipped})"
    if item.error and (item.exit_code not in (0, None) or not item.collected):
        return f"{item.id} failed ({' '.join(item.error.split())[:160]})"
    return None if item.collected else f"{item.id} was not collected"


def _usable(view: ClusterView, src: Source) -> None:
    for item in src.bundle.manifest.items:
        reason = unusable_reason(item, src)
        if reason is None:
            view.available.add(item.id)
        else:
            view.unusable.setdefault(item.id, f"{src.node}: {reason}")


def build_view(bundles: list[Bundle], signatures: tuple[Signature, ...] = (),
               record_types: frozenset[str] = frozenset()) -> ClusterView:
    """Run every fact builder over every bundle and merge the results. Custom rules add
    `signatures` to the log scan and ask for the records of `record_types`."""
    view = ClusterView()
    for bundle, name in zip(bundles, unique_names(bundles), strict=True):
        src = Source(name, bundle)
        progress.step("reading evidence", name)
        view.nodes.append(NodeFacts(name, bundle.manifest, str(bundle.source)))
        view.certificates.extend(certificates(src, view.kubeconfig_servers))
        node_components = components(src)
        view.components.extend(node_components)
        view.containers.extend(containers(src))
        node_objects = k8s_facts(src)
        view.k8s.merge(node_objects)
        view.etcd.add(node_etcd(src, node_components))
        view.network.append(network(src))
        view.host.append(host(src, node_objects))
        view.logs.extend(log_facts(src, signatures))
        view.records.extend(records(src, record_types))
        if any(not is_log_item(s.item_id) for s in view.logs.scanned):  # a parsed paste, scanned too
            view.available.add(PASTED)
        view.problems.extend(src.problems)
        _usable(view, src)
        view.problems.extend(f"{name}: {w}" for w in bundle.warnings)
    view.components.extend(mirror_components(view.k8s.pods, view.components))
    for item_id in view.available:
        view.unusable.pop(item_id, None)
    return view
