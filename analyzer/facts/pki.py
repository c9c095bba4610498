"""PKI facts: every certificate found in PKI folders and kubeconfigs, with where it was found."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..parsers.kubeconfig import parse_kubeconfig
from ..parsers.x509 import CertInfo, parse_pem
from .source import Source

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


def certificates(src: Source) -> list[CertificateFact]:
    """Certificates from PKI files and from kubeconfigs' client-certificate-data."""
    out: list[CertificateFact] = []
    for item, text in src.texts("pki.cert"):
        assert item.path is not None
        certs, problems = parse_pem(text)
        for p in problems:
            src.problem(f"{item.path}: {p}")
        for info in certs:
            name = KUBEADM_CERT_NAMES.get(item.source) if info.line == 1 else None
            out.append(CertificateFact(src.node, item.id, item.source, item.path, info, name))
    for item, text in src.texts("k8s.kubeconfig"):
        assert item.path is not None
        kubeconfig = parse_kubeconfig(text)
        for p in kubeconfig.problems:
            src.problem(f"{item.path}: {p}")
        for user in kubeconfig.users:
            certs, problems = parse_pem(user.client_certificate_pem)
            for p in problems:
                src.problem(f"{item.path}: user {user.name}: {p}")
            for info in certs[:1]:
                out.append(CertificateFact(
                    src.node, item.id, f"{item.source}#{user.name}", item.path,
                    replace(info, line=user.client_certificate_line or 0),
                    KUBEADM_CERT_NAMES.get(item.source)))
    return out
