"""Facts: one cluster view merged from every node's bundle, built by running the parsers once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .bundle import Bundle, ItemRecord, Manifest
from .errors import InputError
from .parsers.kubeconfig import parse_kubeconfig
from .parsers.x509 import CertInfo, parse_pem

#: kubeadm's name for each certificate location (what `kubeadm certs renew NAME` takes)
KUBEADM_CERT_NAMES = {
    "/etc/kubernetes/pki/apiserver.crt": "apiserver",
    "/etc/kubernetes/pki/apiserver-kubelet-client.crt": "apiserver-kubelet-client",
    "/etc/kubernetes/pki/apiserver-etcd-client.crt": "apiserver-etcd-client",
    "/etc/kubernetes/pki/front-proxy-client.crt": "front-proxy-client",
    "/etc/kubernetes/pki/etcd/server.crt": "etcd-server",
    "/etc/kubernetes/pki/etcd/peer.crt": "etcd-peer",
    "/etc/kubernetes/pki/etcd/healthcheck-client.crt": "etcd-healthcheck-client",
    "/etc/kubernetes/admin.conf": "admin.conf",
    "/etc/kubernetes/super-admin.conf": "super-admin.conf",
    "/etc/kubernetes/controller-manager.conf": "controller-manager.conf",
    "/etc/kubernetes/scheduler.conf": "scheduler.conf",
}


@dataclass(frozen=True)
class CertificateFact:
    """A certificate and where it was found."""

    node: str
    item_id: str
    location: str  # path on the node, '#user' appended for kubeconfig-embedded certificates
    bundle_path: str
    info: CertInfo
    kubeadm_name: str | None  # set for leaf certificates `kubeadm certs renew` manages

    @property
    def node_path(self) -> str:
        return self.location.split("#", 1)[0]


@dataclass
class NodeFacts:
    """What one node's bundle says."""

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


def _certificates(view: ClusterView, bundle: Bundle, node: str) -> None:
    for item in bundle.collected("pki.cert"):
        assert item.path is not None
        certs, problems = parse_pem(_read(view, bundle, node, item))
        view.problems.extend(f"{node}:{item.path}: {p}" for p in problems)
        for info in certs:
            name = KUBEADM_CERT_NAMES.get(item.source) if info.line == 1 else None
            view.certificates.append(CertificateFact(node, item.id, item.source, item.path, info, name))
    for item in bundle.collected("k8s.kubeconfig"):
        assert item.path is not None
        kubeconfig = parse_kubeconfig(_read(view, bundle, node, item))
        view.problems.extend(f"{node}:{item.path}: {p}" for p in kubeconfig.problems)
        for user in kubeconfig.users:
            certs, problems = parse_pem(user.client_certificate_pem)
            view.problems.extend(f"{node}:{item.path}: user {user.name}: {p}" for p in problems)
            for info in certs[:1]:
                fixed = CertInfo(**{**info.__dict__, "line": user.client_certificate_line or 0})
                view.certificates.append(CertificateFact(
                    node, item.id, f"{item.source}#{user.name}", item.path, fixed,
                    KUBEADM_CERT_NAMES.get(item.source)))


def _read(view: ClusterView, bundle: Bundle, node: str, item: ItemRecord) -> str:
    assert item.path is not None
    try:
        return bundle.read_text(item.path)
    except InputError as exc:
        view.problems.append(f"{node}: {exc}")
        return ""


def build_view(bundles: list[Bundle]) -> ClusterView:
    """Run every parser over every bundle and merge the results."""
    view = ClusterView()
    for bundle, name in zip(bundles, _unique_names(bundles), strict=True):
        view.nodes.append(NodeFacts(name, bundle.manifest, str(bundle.source)))
        view.available.update(i.id for i in bundle.manifest.items if i.collected)
        _certificates(view, bundle, name)
        view.problems.extend(f"{name}: {w}" for w in bundle.warnings)
    return view
