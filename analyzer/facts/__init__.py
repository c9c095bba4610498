"""Facts: one cluster view merged from every node's bundle, built by running the parsers once.

Each domain module (pki, ...) turns one node's `Source` into typed facts; `build_view` merges them.
Rules read only the `ClusterView`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .. import progress
from ..bundle import Bundle, Manifest
from .components import ComponentFact, components, mirror_components
from .containers import ContainerFact, containers
from .etcd import EtcdFacts, node_etcd
from .host import NodeHost, host
from .k8s import K8sFacts, k8s_facts
from .logs import LogFacts, log_facts
from .network import NodeNetwork, network
from .pki import CertificateFact, KubeconfigServer, certificates
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
    #: item ids collected on at least one node: rules use it to say "not checked"
    available: set[str] = field(default_factory=set)
    #: parse problems and reader warnings, shown in the report's inventory
    problems: list[str] = field(default_factory=list)

    def node(self, name: str) -> NodeFacts:
        return next(n for n in self.nodes if n.name == name)

    def now(self, node: str) -> dt.datetime:
        """The moment judgements about this node's evidence are made against: its collection time."""
        return self.node(node).collected_at


def _unique_names(bundles: list[Bundle]) -> list[str]:
    names: list[str] = []
    for bundle in bundles:
        name, n = bundle.node, 2
        while name in names:
            name, n = f"{bundle.node}#{n}", n + 1
        names.append(name)
    return names


def build_view(bundles: list[Bundle]) -> ClusterView:
    """Run every fact builder over every bundle and merge the results."""
    view = ClusterView()
    for bundle, name in zip(bundles, _unique_names(bundles), strict=True):
        src = Source(name, bundle)
        progress.step("reading evidence", name)
        view.nodes.append(NodeFacts(name, bundle.manifest, str(bundle.source)))
        view.available.update(i.id for i in bundle.manifest.items if i.collected)
        view.certificates.extend(certificates(src, view.kubeconfig_servers))
        node_components = components(src)
        view.components.extend(node_components)
        view.containers.extend(containers(src))
        node_objects = k8s_facts(src)
        view.k8s.merge(node_objects)
        view.etcd.add(node_etcd(src, node_components))
        view.network.append(network(src))
        view.host.append(host(src, node_objects))
        view.logs.extend(log_facts(src))
        view.problems.extend(src.problems)
        view.problems.extend(f"{name}: {w}" for w in bundle.warnings)
    view.components.extend(mirror_components(view.k8s.pods, view.components))
    return view
