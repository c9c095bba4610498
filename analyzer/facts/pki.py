"""PKI facts: every certificate found in PKI folders and kubeconfigs, with where it was found."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..parsers.kubeadm_certs import ExpirationRow, parse_check_expiration
from ..parsers.kubeconfig import line_of, parse_kubeconfig
from ..parsers.x509 import CertInfo, parse_pem, text_fingerprint
from ..parsers.x509_text import parse_x509_text
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

CA = "/etc/kubernetes/pki/ca.crt"
ETCD_CA = "/etc/kubernetes/pki/etcd/ca.crt"
FRONT_PROXY_CA = "/etc/kubernetes/pki/front-proxy-ca.crt"
#: for each kubeadm leaf: (the CA that must have signed it, who presents it, who verifies it)
EXPECTED_ISSUER = {
    "/etc/kubernetes/pki/apiserver.crt": (CA, "kube-apiserver (serving)", "every API server client"),
    "/etc/kubernetes/pki/apiserver-kubelet-client.crt": (CA, "kube-apiserver", "the kubelets"),
    "/etc/kubernetes/pki/apiserver-etcd-client.crt": (ETCD_CA, "kube-apiserver", "etcd"),
    "/etc/kubernetes/pki/front-proxy-client.crt": (FRONT_PROXY_CA, "kube-apiserver",
                                                   "aggregated API servers"),
    "/etc/kubernetes/pki/etcd/server.crt": (ETCD_CA, "etcd (serving)", "etcd clients (the API server)"),
    "/etc/kubernetes/pki/etcd/peer.crt": (ETCD_CA, "etcd (peer)", "the other etcd members"),
    "/etc/kubernetes/pki/etcd/healthcheck-client.crt": (ETCD_CA, "etcd health probes", "etcd"),
    "/etc/kubernetes/admin.conf": (CA, "kubectl (admin.conf)", "kube-apiserver"),
    "/etc/kubernetes/super-admin.conf": (CA, "kubectl (super-admin.conf)", "kube-apiserver"),
    "/etc/kubernetes/controller-manager.conf": (CA, "kube-controller-manager", "kube-apiserver"),
    "/etc/kubernetes/scheduler.conf": (CA, "kube-scheduler", "kube-apiserver"),
    "/etc/kubernetes/kubelet.conf": (CA, "the kubelet", "kube-apiserver"),
    "/var/lib/kubelet/pki/kubelet-client-current.pem": (CA, "the kubelet", "kube-apiserver"),
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
    #: the line as printed, for certificates known only from a text (a kubeadm expiration table row)
    excerpt: str = ""

    @property
    def node_path(self) -> str:
        return self.location.split("#", 1)[0]


@dataclass(frozen=True)
class KubeconfigServer:
    """The API server address a kubeconfig on a node points its client at."""

    node: str
    location: str
    bundle_path: str
    server: str
    line: int | None


def certificates(src: Source, servers: list[KubeconfigServer]) -> list[CertificateFact]:
    """Certificates from PKI files and kubeconfigs' client-certificate-data; kubeconfigs' server
    addresses are appended to `servers`."""
    out: list[CertificateFact] = []
    for item, text in src.texts("pki.cert"):
        assert item.path is not None
        certs, problems = parse_pem(text)
        for p in problems:
            src.item_problem(item, p)
        for info in certs:
            name = KUBEADM_CERT_NAMES.get(item.source) if info.line == 1 else None
            out.append(CertificateFact(src.node, item.id, item.source, item.path, info, name))
    for item, text in src.texts("k8s.kubeconfig"):
        assert item.path is not None
        kubeconfig = parse_kubeconfig(text)
        for p in kubeconfig.problems:
            src.item_problem(item, p)
        servers.extend(KubeconfigServer(src.node, item.source, item.path, server, line_of(text, server))
                       for server in kubeconfig.servers)
        for user in kubeconfig.users:
            certs, problems = parse_pem(user.client_certificate_pem)
            for p in problems:
                src.item_problem(item, f"user {user.name}: {p}")
            for info in certs[:1]:
                out.append(CertificateFact(
                    src.node, item.id, f"{item.source}#{user.name}", item.path,
                    replace(info, line=user.client_certificate_line or 0),
                    KUBEADM_CERT_NAMES.get(item.source)))
    out.extend(_text_certificates(src))
    return out


#: where kubeadm keeps each CA its expiration table names
KUBEADM_CA_PATHS = {"ca": CA, "etcd-ca": ETCD_CA, "front-proxy-ca": FRONT_PROXY_CA}
_KUBEADM_PATHS = {name: path for path, name in KUBEADM_CERT_NAMES.items()} | KUBEADM_CA_PATHS


def _table_row(src: Source, item_id: str, bundle_path: str, row: ExpirationRow) -> CertificateFact:
    """What a `kubeadm certs check-expiration` row tells: name, expiry and signing CA; the
    name stands in for the subject, and no start date is printed."""
    info = CertInfo(
        subject="", common_name="", issuer=row.authority, not_before=None, not_after=row.expires,
        is_ca=row.is_ca, dns_names=(), ip_addresses=(), server_auth=False, client_auth=False,
        fingerprint_sha256=text_fingerprint(row.name, row.authority, "", row.expires.isoformat()),
        subject_key_id="", authority_key_id="", line=row.line)
    renewable = not (row.is_ca or row.externally_managed)  # kubeadm renews its own leaves only
    return CertificateFact(src.node, item_id, _KUBEADM_PATHS.get(row.name, row.name), bundle_path, info,
                           row.name if renewable else None, row.text)


def _text_certificates(src: Source) -> list[CertificateFact]:
    """Certificates known only from pasted text: kubeadm's expiration table, `openssl x509 -text`."""
    out: list[CertificateFact] = []
    for item, text in src.texts("loose.kubeadm_certs"):
        assert item.path is not None
        table = parse_check_expiration(text)
        for p in table.problems:
            src.item_problem(item, p)
        out.extend(_table_row(src, item.id, item.path, row) for row in table.rows)
    for item, text in src.texts("loose.x509_text"):
        assert item.path is not None
        certs, problems = parse_x509_text(text)
        for p in problems:
            src.item_problem(item, p)
        out.extend(CertificateFact(src.node, item.id, item.source, item.path, info, None) for info in certs)
    return out
