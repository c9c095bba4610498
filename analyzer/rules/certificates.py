"""Certificate validity: expired, expiring soon, not yet valid — judged at collection time."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Iterable, Iterator

from ..facts import ClusterView
from ..facts.pki import CA, ETCD_CA, EXPECTED_ISSUER, FRONT_PROXY_CA, CertificateFact
from ..findings import Category, Evidence, Finding, Remediation, Severity
from ..parsers.x509 import issued_by
from . import REGISTRY, rule
from .shell import quote

SOON = dt.timedelta(days=30)
VERY_SOON = dt.timedelta(days=7)
NEEDS = ("pki.cert", "k8s.kubeconfig")
#: validity can also be judged from pasted text: kubeadm's expiration table, `openssl x509 -text`
VALIDITY_NEEDS = (*NEEDS, "loose.kubeadm_certs", "loose.x509_text")

#: the static pod that must restart to load a renewed kubeadm certificate
USED_BY = {
    "apiserver": "kube-apiserver", "apiserver-kubelet-client": "kube-apiserver",
    "apiserver-etcd-client": "kube-apiserver", "front-proxy-client": "kube-apiserver",
    "etcd-server": "etcd", "etcd-peer": "etcd", "etcd-healthcheck-client": "etcd",
    "controller-manager.conf": "kube-controller-manager", "scheduler.conf": "kube-scheduler",
}


def restart_static_pod(component: str) -> str:
    """Static pods have no Deployment: the kubelet recreates one when its manifest comes back."""
    manifest = quote(f"/etc/kubernetes/manifests/{component}.yaml")
    aside = quote(f"/etc/kubernetes/{component}.yaml")
    return f"mv {manifest} /etc/kubernetes/ && sleep 20 && mv {aside} {manifest}"


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
        commands = ["kubeadm certs check-expiration", f"kubeadm certs renew {quote(cert.kubeadm_name)}"]
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
            (f"kubeadm kubeconfig user --org system:nodes --client-name {quote('system:node:' + node)} "
             "> kubelet.conf",
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
        "uses it.", ("openssl x509 -noout -subject -issuer -dates -in " + quote(cert.node_path),))


def _groups(view: ClusterView) -> Iterator[list[CertificateFact]]:
    """The same certificate found in several places (the CA on every node) is one finding."""
    groups: dict[str, list[CertificateFact]] = {}
    for cert in view.certificates:
        groups.setdefault(cert.info.fingerprint_sha256, []).append(cert)
    yield from groups.values()


def _when(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else "an unknown date"


def _days(delta: dt.timedelta) -> str:
    days = abs(delta.total_seconds()) / 86400
    return f"{days:.0f} days" if days >= 2 else f"{abs(delta.total_seconds()) / 3600:.0f} hours"


def _finding(rule_id: str, severity: Severity, title: str, detail: str,
             certs: list[CertificateFact]) -> Finding:
    first = certs[0]
    nodes = sorted({c.node for c in certs})
    info = first.info
    since = info.not_before.isoformat() if info.not_before else "?"
    excerpt = (f"subject={info.subject} issuer={info.issuer} notBefore={since} "
               f"notAfter={info.not_after.isoformat()}")
    return REGISTRY[rule_id].finding(
        severity=severity, title=title, detail=detail,
        remediation=remediation(first, nodes),
        evidence=[Evidence(c.node, c.bundle_path, c.info.line, c.excerpt or excerpt, c.item_id)
                  for c in certs],
        nodes=nodes, objects=sorted({c.location for c in certs}))


def _label(cert: CertificateFact) -> str:
    if cert.excerpt and not cert.info.subject:  # a kubeadm table row: its location is its name
        return cert.location
    return f"{cert.location} ({cert.info.subject or 'no subject'})"


def _classify(view: ClusterView, certs: list[CertificateFact]) -> tuple[str, dt.timedelta] | None:
    """('expired'|'not_yet_valid'|'soon', margin) at the earliest node's collection time."""
    cert = certs[0].info
    now = min(view.now(c.node) for c in certs)
    if now > cert.not_after:
        return "expired", now - cert.not_after
    if cert.not_before is not None and now < cert.not_before:
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
      VALIDITY_NEEDS)
def expired(view: ClusterView) -> Iterator[Finding]:
    for certs, ago in _judged(view, "expired"):
        info = certs[0].info
        found = _finding(
            "CERT_EXPIRED", Severity.CRITICAL, f"Certificate expired: {_label(certs[0])}",
            f"Expired {_when(info.not_after)}, {_days(ago)} before the bundle was collected. "
            f"Issued by {info.issuer or 'an issuer the evidence does not name'}. Clients and servers "
            f"using it fail TLS with 'x509: certificate has expired or is not yet valid'.", certs)
        # the problem began at expiry: a failure logged before it is not explained by it (causality)
        found.first_seen = info.not_after
        yield found


@rule("CERT_EXPIRING_SOON", Category.CERTIFICATES, Severity.ERROR, "Certificate expires soon",
      f"No certificate expires within {SOON.days} days of collection (error within {VERY_SOON.days}).",
      VALIDITY_NEEDS)
def expiring(view: ClusterView) -> Iterator[Finding]:
    for certs, left in _judged(view, "soon"):
        severity = Severity.ERROR if left <= VERY_SOON else Severity.WARNING
        yield _finding(
            "CERT_EXPIRING_SOON", severity, f"Certificate expires in {_days(left)}: {_label(certs[0])}",
            f"Valid until {_when(certs[0].info.not_after)}, {_days(left)} after the bundle was collected.",
            certs)


@rule("CERT_NOT_YET_VALID", Category.CERTIFICATES, Severity.ERROR, "Certificate not yet valid",
      "No certificate's notBefore lies after collection time (a clock behind, or a wrong issuance date).",
      VALIDITY_NEEDS)
def not_yet_valid(view: ClusterView) -> Iterator[Finding]:
    for certs, ahead in _judged(view, "not_yet_valid"):
        yield _finding(
            "CERT_NOT_YET_VALID", Severity.ERROR, f"Certificate not yet valid: {_label(certs[0])}",
            f"Valid only from {_when(certs[0].info.not_before)}, {_days(ahead)} after the node's clock at "
            f"collection. Either the node's clock is behind or the certificate was issued with a future "
            f"date; check time sync (timedatectl, chronyc tracking) before re-issuing.", certs)


def _first_cert_at(view: ClusterView, node: str, path: str) -> CertificateFact | None:
    """The certificate a file starts with; text-only evidence (no DER) has no signature to compare."""
    return next((c for c in view.certificates
                 if c.node == node and c.location == path and c.info.line == 1 and c.info.der), None)


@rule("CERT_CA_MISMATCH", Category.CERTIFICATES, Severity.ERROR, "Certificate not signed by its CA",
      "Each kubeadm leaf certificate is signed by the CA its peers verify it with (signature checked, "
      "not only names).", NEEDS)
def ca_mismatch(view: ClusterView) -> Iterator[Finding]:
    for cert in view.certificates:
        expected = EXPECTED_ISSUER.get(cert.node_path)
        if (expected is None or cert.info.is_ca or not cert.info.der
                or (cert.item_id == "pki.cert" and cert.info.line != 1)):
            continue
        ca_path, presenter, verifier = expected
        ca = _first_cert_at(view, cert.node, ca_path)
        if ca is None or issued_by(cert.info, ca.info):
            continue
        finding = _finding(
            "CERT_CA_MISMATCH", Severity.ERROR,
            f"{cert.location} is not signed by {ca_path}",
            f"{presenter} presents this certificate (issuer {cert.info.issuer}) but {verifier} verify it "
            f"with {ca_path} ({ca.info.subject}), which did not sign it: they reject it with "
            f"'x509: certificate signed by unknown authority' / 'tls: bad certificate'.", [cert])
        name = cert.kubeadm_name
        commands = [f"openssl verify -CAfile {quote(ca_path)} {quote(cert.node_path)}"]
        if name:
            commands += [f"kubeadm certs renew {quote(name)}"]
            if USED_BY.get(name):
                commands.append(restart_static_pod(USED_BY[name]))
        finding.remediation = Remediation(
            f"Re-issue it from {ca_path} (`kubeadm certs renew` signs with the CA key in "
            "/etc/kubernetes/pki). If this node's CA is itself the odd one out, copy the cluster's CA "
            "certificate and key from a healthy control-plane node first.", tuple(commands))
        finding.evidence.append(Evidence(ca.node, ca.bundle_path, ca.info.line,
                                         f"CA subject={ca.info.subject}", ca.item_id))
        yield finding


@rule("CERT_CA_DIFFERS_BETWEEN_NODES", Category.CERTIFICATES, Severity.ERROR,
      "Control-plane nodes hold different CAs",
      "ca.crt, etcd/ca.crt and front-proxy-ca.crt are the same on every control-plane node.", ("pki.cert",))
def ca_differs(view: ClusterView) -> Iterator[Finding]:
    for path in (CA, ETCD_CA, FRONT_PROXY_CA):
        copies = [c for n in view.nodes if (c := _first_cert_at(view, n.name, path))]
        if len({c.info.fingerprint_sha256 for c in copies}) < 2:
            continue
        finding = _finding(
            "CERT_CA_DIFFERS_BETWEEN_NODES", Severity.ERROR, f"{path} differs between control-plane nodes",
            "kubeadm copies the cluster CAs to every control-plane node; here they differ, so certificates "
            "issued on one node are rejected by components on another.", copies)
        finding.evidence = [Evidence(c.node, c.bundle_path, c.info.line,
                                     f"sha256 fingerprint {c.info.fingerprint_sha256[:16]}… "
                                     f"subject={c.info.subject}", c.item_id) for c in copies]
        finding.remediation = Remediation(
            f"Pick the CA the cluster's working certificates chain to, copy {path} and its key to every "
            "control-plane node, then re-issue the leaf certificates on the others with kubeadm.",
            (f"sha256sum {path}", "kubeadm certs renew all"))
        yield finding


def _host(url: str) -> str:
    """'https://10.0.0.1:6443' -> '10.0.0.1'; '[::1]:2379' -> '::1'."""
    rest = url.split("://", 1)[-1].split("/", 1)[0]
    if rest.startswith("["):
        return rest[1:].split("]", 1)[0]
    return rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest


def _covers(cert: CertificateFact, name: str) -> bool:
    try:
        return str(ipaddress.ip_address(name)) in cert.info.ip_addresses
    except ValueError:
        pass
    name = name.lower().rstrip(".")
    for dns in (d.lower() for d in cert.info.dns_names):
        if dns == name or (dns.startswith("*.") and name.count(".") == dns.count(".")
                           and name.endswith(dns[1:])):
            return True
    return False


def _service_ip(cidr: str) -> str | None:
    """The `kubernetes` Service's ClusterIP: the first address of --service-cluster-ip-range."""
    try:
        return str(next(ipaddress.ip_network(cidr.split(",")[0], strict=False).hosts()))
    except (ValueError, StopIteration):
        return None


def _required_names(view: ClusterView, node: str, cert_path: str) -> list[tuple[str, str]]:
    """(name, why) pairs the serving/peer certificate at cert_path on node must cover."""
    flags = {c.component: c.flags for c in view.components if c.node == node and c.source == "manifest"}
    out: list[tuple[str, str]] = []
    if cert_path == "/etc/kubernetes/pki/apiserver.crt" and "kube-apiserver" in flags:
        api = flags["kube-apiserver"]
        if api.get("advertise-address"):
            out.append((api["advertise-address"], "--advertise-address"))
        service_ip = _service_ip(api.get("service-cluster-ip-range", ""))
        if service_ip:
            out.append((service_ip, "the kubernetes Service ClusterIP"))
        out += [(n, "in-cluster clients") for n in ("kubernetes", "kubernetes.default",
                                                     "kubernetes.default.svc")]
        out += [(_host(s.server), f"the server of {s.location}") for s in view.kubeconfig_servers
                if s.node == node and s.location != "/etc/kubernetes/kubelet.conf"]
    etcd = flags.get("etcd", {})
    if cert_path == "/etc/kubernetes/pki/etcd/server.crt":
        out += [(_host(u), "etcd --advertise-client-urls")
                for u in etcd.get("advertise-client-urls", "").split(",") if u]
    if cert_path == "/etc/kubernetes/pki/etcd/peer.crt":
        out += [(_host(u), "etcd --initial-advertise-peer-urls")
                for u in etcd.get("initial-advertise-peer-urls", "").split(",") if u]
    return [(n, why) for n, why in dict.fromkeys(out) if n and n not in ("0.0.0.0", "::")]


@rule("CERT_SAN_MISSING", Category.CERTIFICATES, Severity.ERROR,
      "Serving certificate does not cover an address",
      "The API server certificate covers its advertise address, the kubernetes Service IP and names and the "
      "kubeconfigs' server hosts; etcd server/peer certificates cover their advertised URLs.",
      ("pki.cert",))
def san_missing(view: ClusterView) -> Iterator[Finding]:
    for cert in view.certificates:
        if cert.info.line != 1 or cert.item_id != "pki.cert":
            continue
        missing = [(n, why) for n, why in _required_names(view, cert.node, cert.location)
                   if not _covers(cert, n)]
        if not missing:
            continue
        names = ", ".join(f"{n} ({why})" for n, why in missing)
        finding = _finding(
            "CERT_SAN_MISSING", Severity.ERROR, f"{cert.location} does not cover {missing[0][0]}",
            f"Clients connecting by {names} fail with 'x509: certificate is valid for "
            f"{', '.join(cert.info.dns_names + cert.info.ip_addresses)}, not {missing[0][0]}'.", [cert])
        name = cert.kubeadm_name or "apiserver"
        component = USED_BY.get(name, "kube-apiserver")
        finding.remediation = Remediation(
            "Re-issue the certificate with the missing names. kubeadm takes SANs from its "
            "ClusterConfiguration (apiServer.certSANs, etcd.local.serverCertSANs/peerCertSANs): add "
            "them there, move the old certificate and key aside (renew keeps the old SANs), and let "
            "kubeadm create new ones.",
            (f"mv {quote(cert.node_path)} {quote(cert.node_path + '.bak')} && "
             f"mv {quote(cert.node_path[:-4] + '.key')} {quote(cert.node_path[:-4] + '.key.bak')}",
             f"kubeadm init phase certs {quote(name)} --config kubeadm-config.yaml",
             restart_static_pod(component)))
        yield finding
