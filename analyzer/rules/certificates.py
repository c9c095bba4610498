"""Certificate validity: expired, expiring soon, not yet valid — judged at collection time."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from ..facts import ClusterView
from ..facts.pki import CertificateFact
from ..findings import Category, Evidence, Finding, Remediation, Severity
from . import rule

SOON = dt.timedelta(days=30)
VERY_SOON = dt.timedelta(days=7)
NEEDS = ("pki.cert", "k8s.kubeconfig")

#: the static pod that must restart to load a renewed kubeadm certificate
USED_BY = {
    "apiserver": "kube-apiserver", "apiserver-kubelet-client": "kube-apiserver",
    "apiserver-etcd-client": "kube-apiserver", "front-proxy-client": "kube-apiserver",
    "etcd-server": "etcd", "etcd-peer": "etcd", "etcd-healthcheck-client": "etcd",
    "controller-manager.conf": "kube-controller-manager", "scheduler.conf": "kube-scheduler",
}


def restart_static_pod(component: str) -> str:
    """Static pods have no Deployment: the kubelet recreates one when its manifest comes back."""
    manifest = f"/etc/kubernetes/manifests/{component}.yaml"
    return f"mv {manifest} /etc/kubernetes/ && sleep 20 && mv /etc/kubernetes/{component}.yaml {manifest}"


def remediation(cert: CertificateFact, nodes: list[str]) -> Remediation:
    """The fix for this certificate, by who manages it (kubeadm, the kubelet, a CA)."""
    where = ", ".join(nodes)
    if cert.info.is_ca:
        return Remediation(
            "This is a CA certificate; `kubeadm certs renew` does not renew CAs. Rotate it with the "
            "manual CA rotation procedure "
            "(kubernetes.io/docs/tasks/tls/manual-rotation-of-ca-certificates), "
            f"which re-issues every certificate it signed, on every control-plane node ({where}).",
            ("kubeadm certs check-expiration",))
    if cert.kubeadm_name:
        commands = ["kubeadm certs check-expiration", f"kubeadm certs renew {cert.kubeadm_name}"]
        component = USED_BY.get(cert.kubeadm_name)
        if component:
            commands.append(restart_static_pod(component))
        if cert.kubeadm_name in ("admin.conf", "super-admin.conf"):
            commands.append("cp /etc/kubernetes/admin.conf $HOME/.kube/config")
        return Remediation(
            f"Renew it with kubeadm on each affected node ({where}), then restart the static pod that "
            f"loads it (move its manifest out of /etc/kubernetes/manifests and back; the kubelet "
            f"recreates the pod). `kubeadm certs renew all` renews every kubeadm-managed certificate "
            f"at once.", tuple(commands))
    if cert.node_path.startswith("/var/lib/kubelet/pki/kubelet-client"):
        node = nodes[0]
        return Remediation(
            "The kubelet rotates its client certificate itself only while it is still valid. Re-issue "
            "kubelet.conf from a control-plane node that has /etc/kubernetes/pki/ca.key, copy it to the "
            "node as /etc/kubernetes/kubelet.conf (after backing up the old one and "
            "/var/lib/kubelet/pki/kubelet-client*), restart the kubelet and wait for "
            "kubelet-client-current.pem, then point kubelet.conf's client-certificate and client-key "
            "at /var/lib/kubelet/pki/kubelet-client-current.pem and restart the kubelet again.",
            (f"kubeadm kubeconfig user --org system:nodes --client-name system:node:{node} > kubelet.conf",
             "systemctl restart kubelet"))
    if cert.node_path.startswith("/var/lib/kubelet/pki/kubelet.crt"):
        return Remediation(
            "This is the kubelet's self-signed serving certificate: move it and its key aside and restart "
            "the kubelet, which generates a new one (or enable serverTLSBootstrap to have it signed).",
            ("mv /var/lib/kubelet/pki/kubelet.crt /var/lib/kubelet/pki/kubelet.crt.bak",
             "mv /var/lib/kubelet/pki/kubelet.key /var/lib/kubelet/pki/kubelet.key.bak",
             "systemctl restart kubelet"))
    return Remediation(
        f"Replace this certificate with one from the issuing CA ({cert.info.issuer}) and restart what "
        "uses it.", ("openssl x509 -noout -subject -issuer -dates -in " + cert.node_path,))


def _groups(view: ClusterView) -> Iterator[list[CertificateFact]]:
    """The same certificate found in several places (the CA on every node) is one finding."""
    groups: dict[str, list[CertificateFact]] = {}
    for cert in view.certificates:
        groups.setdefault(cert.info.fingerprint_sha256, []).append(cert)
    yield from groups.values()


def _when(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _days(delta: dt.timedelta) -> str:
    days = abs(delta.total_seconds()) / 86400
    return f"{days:.0f} days" if days >= 2 else f"{abs(delta.total_seconds()) / 3600:.0f} hours"


def _finding(rule_id: str, severity: Severity, title: str, detail: str,
             certs: list[CertificateFact]) -> Finding:
    first = certs[0]
    nodes = sorted({c.node for c in certs})
    info = first.info
    excerpt = (f"subject={info.subject} issuer={info.issuer} notBefore={info.not_before.isoformat()} "
               f"notAfter={info.not_after.isoformat()}")
    return Finding(
        id=rule_id, severity=severity, category=Category.CERTIFICATES, title=title, detail=detail,
        remediation=remediation(first, nodes),
        evidence=[Evidence(c.node, c.bundle_path, c.info.line, excerpt, c.item_id) for c in certs],
        nodes=nodes, objects=sorted({c.location for c in certs}))


def _label(cert: CertificateFact) -> str:
    return f"{cert.location} ({cert.info.subject or 'no subject'})"


def _classify(view: ClusterView, certs: list[CertificateFact]) -> tuple[str, dt.timedelta] | None:
    """('expired'|'not_yet_valid'|'soon', margin) at the earliest node's collection time."""
    cert = certs[0].info
    now = min(view.now(c.node) for c in certs)
    if now > cert.not_after:
        return "expired", now - cert.not_after
    if now < cert.not_before:
        return "not_yet_valid", cert.not_before - now
    if cert.not_after - now <= SOON:
        return "soon", cert.not_after - now
    return None


def _judged(view: ClusterView, wanted: str) -> Iterable[tuple[list[CertificateFact], dt.timedelta]]:
    for certs in _groups(view):
        state = _classify(view, certs)
        if state and state[0] == wanted:
            yield certs, state[1]


@rule("CERT_EXPIRED", Category.CERTIFICATES, Severity.CRITICAL, "Certificate expired",
      "Every certificate in the PKI folders and kubeconfigs is within its validity at collection time.",
      NEEDS)
def expired(view: ClusterView) -> Iterator[Finding]:
    for certs, ago in _judged(view, "expired"):
        info = certs[0].info
        yield _finding(
            "CERT_EXPIRED", Severity.CRITICAL, f"Certificate expired: {_label(certs[0])}",
            f"Expired {_when(info.not_after)}, {_days(ago)} before the bundle was collected. "
            f"Issued by {info.issuer}. Clients and servers using it fail TLS with "
            f"'x509: certificate has expired or is not yet valid'.", certs)


@rule("CERT_EXPIRING_SOON", Category.CERTIFICATES, Severity.WARNING, "Certificate expires soon",
      f"No certificate expires within {SOON.days} days of collection (error within {VERY_SOON.days}).",
      NEEDS)
def expiring(view: ClusterView) -> Iterator[Finding]:
    for certs, left in _judged(view, "soon"):
        severity = Severity.ERROR if left <= VERY_SOON else Severity.WARNING
        yield _finding(
            "CERT_EXPIRING_SOON", severity, f"Certificate expires in {_days(left)}: {_label(certs[0])}",
            f"Valid until {_when(certs[0].info.not_after)}, {_days(left)} after the bundle was collected.",
            certs)


@rule("CERT_NOT_YET_VALID", Category.CERTIFICATES, Severity.ERROR, "Certificate not yet valid",
      "No certificate's notBefore lies after collection time (a clock behind, or a wrong issuance date).",
      NEEDS)
def not_yet_valid(view: ClusterView) -> Iterator[Finding]:
    for certs, ahead in _judged(view, "not_yet_valid"):
        yield _finding(
            "CERT_NOT_YET_VALID", Severity.ERROR, f"Certificate not yet valid: {_label(certs[0])}",
            f"Valid only from {_when(certs[0].info.not_before)}, {_days(ahead)} after the node's clock at "
            f"collection. Either the node's clock is behind or the certificate was issued with a future "
            f"date; check time sync (timedatectl, chronyc tracking) before re-issuing.", certs)
