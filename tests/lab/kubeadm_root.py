"""Build a kubeadm-like control-plane node root (manifests, kubeconfigs, a complete PKI) in a folder.

The layout, flags and certificate profiles follow what `kubeadm init` writes (v1.29), so the real
collector and, in the lab, a real etcd can run against it. Faults are injected through
`NodeSpec` (expired or foreign-CA certificates, extra flags).
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

UTC = dt.timezone.utc
DAY = dt.timedelta(days=1)
Key = ec.EllipticCurvePrivateKey


@dataclass
class Issued:
    """A certificate with its key."""

    cert: x509.Certificate
    key: Key

    def cert_pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def key_pem(self) -> bytes:
        return self.key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())


def new_key() -> Key:
    # ECDSA P-256 (kubeadm's `encryptionAlgorithm: ECDSA-P256`): fast to generate in tests.
    return ec.generate_private_key(ec.SECP256R1())


def make_ca(cn: str, now: dt.datetime, days: int = 3650) -> Issued:
    key = new_key()
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - DAY).not_valid_after(now + days * DAY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, True, False, False, True, False, False, False), True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    return Issued(cert, key)


def issue(ca: Issued, cn: str, *, orgs: tuple[str, ...] = (), server: bool = False, client: bool = False,
          dns: tuple[str, ...] = (), ips: tuple[str, ...] = (), not_before: dt.datetime,
          not_after: dt.datetime) -> Issued:
    key = new_key()
    attrs = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, o) for o in orgs]
    attrs.append(x509.NameAttribute(NameOID.COMMON_NAME, cn))
    usages = ([ExtendedKeyUsageOID.SERVER_AUTH] if server else []) + (
        [ExtendedKeyUsageOID.CLIENT_AUTH] if client else [])
    builder = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(ca.cert.subject)
               .public_key(key.public_key()).serial_number(x509.random_serial_number())
               .not_valid_before(not_before).not_valid_after(not_after)
               .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
               .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False),
                              critical=True)
               .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
               .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()),
                              critical=False))
    if dns or ips:
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in dns]
        names += [x509.IPAddress(ipaddress.ip_address(i)) for i in ips]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return Issued(builder.sign(ca.key, hashes.SHA256()), key)


@dataclass
class NodeSpec:
    """One control-plane node as kubeadm would set it up."""

    name: str = "cp-1"
    ip: str = "127.0.0.1"
    version: str = "v1.29.4"
    etcd_image: str = "registry.k8s.io/etcd:3.5.12-0"
    registry: str = "registry.k8s.io"
    etcd_client_port: int = 2379
    etcd_peer_port: int = 2380
    etcd_metrics_port: int = 2381
    apiserver_port: int = 6443
    etcd_data_dir: str = "/var/lib/etcd"
    #: name=peer-url for every member, in order; default: this node alone
    initial_cluster: str = ""
    initial_cluster_state: str = "new"
    #: certificate name -> (not_before, not_after) offsets in days from now
    validity: dict[str, tuple[int, int]] = field(default_factory=dict)
    #: certificate names to sign with a foreign CA instead of the right one
    foreign_ca: set[str] = field(default_factory=set)
    extra_flags: dict[str, dict[str, str]] = field(default_factory=dict)


class ClusterPKI:
    """The cluster-wide CAs (shared by every control-plane node, as kubeadm copies them)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now
        self.ca = make_ca("kubernetes", now)
        self.etcd_ca = make_ca("etcd-ca", now)
        self.front_proxy_ca = make_ca("front-proxy-ca", now)
        self.foreign = make_ca("foreign-ca", now)
        self.sa_key = new_key()


def _write(path: Path, data: bytes, mode: int = 0o644) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    os.chmod(path, mode)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class NodeRoot:
    """Write one node's files under `root`, the way kubeadm lays them out."""

    def __init__(self, root: Path, pki: ClusterPKI, spec: NodeSpec) -> None:
        self.root = root
        self.pki = pki
        self.spec = spec
        self.now = pki.now

    def path(self, node_path: str) -> Path:
        return self.root / node_path.lstrip("/")

    def window(self, name: str) -> tuple[dt.datetime, dt.datetime]:
        before, after = self.spec.validity.get(name, (-1, 365))
        return self.now + before * DAY, self.now + after * DAY

    def leaf(self, name: str, ca: Issued, cn: str, **kwargs: object) -> Issued:
        signer = self.pki.foreign if name in self.spec.foreign_ca else ca
        nb, na = self.window(name)
        return issue(signer, cn, not_before=nb, not_after=na, **kwargs)  # type: ignore[arg-type]

    def put_pair(self, rel: str, issued: Issued) -> None:
        _write(self.path(f"/etc/kubernetes/pki/{rel}.crt"), issued.cert_pem())
        _write(self.path(f"/etc/kubernetes/pki/{rel}.key"), issued.key_pem(), 0o600)

    def build(self) -> Path:
        s, p = self.spec, self.pki
        for rel, ca in (("ca", p.ca), ("etcd/ca", p.etcd_ca), ("front-proxy-ca", p.front_proxy_ca)):
            self.put_pair(rel, ca)
        sans = ("kubernetes", "kubernetes.default", "kubernetes.default.svc",
                "kubernetes.default.svc.cluster.local", s.name)
        self.put_pair("apiserver", self.leaf("apiserver", p.ca, "kube-apiserver", server=True, dns=sans,
                                             ips=("10.96.0.1", s.ip)))
        self.put_pair("apiserver-kubelet-client", self.leaf(
            "apiserver-kubelet-client", p.ca, "kube-apiserver-kubelet-client",
            orgs=("kubeadm:cluster-admins",), client=True))
        self.put_pair("apiserver-etcd-client", self.leaf(
            "apiserver-etcd-client", p.etcd_ca, "kube-apiserver-etcd-client", client=True))
        self.put_pair("front-proxy-client", self.leaf("front-proxy-client", p.front_proxy_ca,
                                                      "front-proxy-client", client=True))
        etcd_names = (s.name, "localhost")
        etcd_ips = tuple(dict.fromkeys((s.ip, "127.0.0.1", "::1")))
        self.put_pair("etcd/server", self.leaf("etcd/server", p.etcd_ca, s.name, server=True, client=True,
                                               dns=etcd_names, ips=etcd_ips))
        self.put_pair("etcd/peer", self.leaf("etcd/peer", p.etcd_ca, s.name, server=True, client=True,
                                             dns=etcd_names, ips=etcd_ips))
        self.put_pair("etcd/healthcheck-client", self.leaf("etcd/healthcheck-client", p.etcd_ca,
                                                           "kube-etcd-healthcheck-client", client=True))
        _write(self.path("/etc/kubernetes/pki/sa.key"), Issued(p.ca.cert, p.sa_key).key_pem(), 0o600)
        _write(self.path("/etc/kubernetes/pki/sa.pub"), p.sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        self.write_kubeconfigs()
        self.write_manifests()
        self.write_kubelet()
        _write(self.path("/etc/hostname"), f"{s.name}\n".encode())
        _write(self.path("/etc/os-release"), b'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n')
        return self.root

    def kubeconfig(self, user: str, issued: Issued) -> bytes:
        s = self.spec
        return f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {_b64(self.pki.ca.cert_pem())}
    server: https://{s.ip}:{s.apiserver_port}
  name: kubernetes
contexts:
- context:
    cluster: kubernetes
    user: {user}
  name: {user}@kubernetes
current-context: {user}@kubernetes
kind: Config
preferences: {{}}
users:
- name: {user}
  user:
    client-certificate-data: {_b64(issued.cert_pem())}
    client-key-data: {_b64(issued.key_pem())}
""".encode()

    def write_kubeconfigs(self) -> None:
        p, s = self.pki, self.spec
        users = {
            "admin.conf": ("kubernetes-admin", ("kubeadm:cluster-admins",)),
            "super-admin.conf": ("kubernetes-super-admin", ("system:masters",)),
            "controller-manager.conf": ("system:kube-controller-manager", ()),
            "scheduler.conf": ("system:kube-scheduler", ()),
            "kubelet.conf": (f"system:node:{s.name}", ("system:nodes",)),
        }
        for filename, (cn, orgs) in users.items():
            issued = self.leaf(filename, p.ca, cn, orgs=orgs, client=True)
            _write(self.path(f"/etc/kubernetes/{filename}"), self.kubeconfig(cn, issued), 0o600)

    def write_kubelet(self) -> None:
        s, p = self.spec, self.pki
        client = self.leaf("kubelet-client", p.ca, f"system:node:{s.name}", orgs=("system:nodes",),
                           client=True)
        _write(self.path("/var/lib/kubelet/pki/kubelet-client-current.pem"),
               client.cert_pem() + client.key_pem(), 0o600)
        serving_ca = make_ca(f"{s.name}-ca@1700000000", self.now, days=365)
        serving = issue(serving_ca, f"{s.name}@1700000000", server=True, dns=(s.name,), ips=(s.ip,),
                        not_before=self.now - DAY, not_after=self.now + 365 * DAY)
        _write(self.path("/var/lib/kubelet/pki/kubelet.crt"), serving.cert_pem() + serving_ca.cert_pem())
        _write(self.path("/var/lib/kubelet/pki/kubelet.key"), serving.key_pem(), 0o600)
        _write(self.path("/var/lib/kubelet/config.yaml"), b"""apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
authentication:
  anonymous:
    enabled: false
  x509:
    clientCAFile: /etc/kubernetes/pki/ca.crt
cgroupDriver: systemd
clusterDNS:
- 10.96.0.10
clusterDomain: cluster.local
rotateCertificates: true
staticPodPath: /etc/kubernetes/manifests
""")
        _write(self.path("/var/lib/kubelet/kubeadm-flags.env"),
               b'KUBELET_KUBEADM_ARGS="--container-runtime-endpoint=unix:///var/run/containerd/containerd.sock'
               b' --pod-infra-container-image=registry.k8s.io/pause:3.9"\n')

    def flags(self, component: str, base: dict[str, str]) -> list[str]:
        merged = {**base, **self.spec.extra_flags.get(component, {})}
        return [f"    - --{k}={v}" for k, v in sorted(merged.items()) if v is not None]

    def write_manifests(self) -> None:
        s = self.spec
        cluster = s.initial_cluster or f"{s.name}=https://{s.ip}:{s.etcd_peer_port}"
        etcd_flags = {
            "advertise-client-urls": f"https://{s.ip}:{s.etcd_client_port}",
            "cert-file": "/etc/kubernetes/pki/etcd/server.crt",
            "client-cert-auth": "true",
            "data-dir": s.etcd_data_dir,
            "experimental-initial-corrupt-check": "true",
            "experimental-watch-progress-notify-interval": "5s",
            "initial-advertise-peer-urls": f"https://{s.ip}:{s.etcd_peer_port}",
            "initial-cluster": cluster,
            "initial-cluster-state": s.initial_cluster_state,
            "key-file": "/etc/kubernetes/pki/etcd/server.key",
            "listen-client-urls": f"https://127.0.0.1:{s.etcd_client_port},https://{s.ip}:{s.etcd_client_port}"
            if s.ip != "127.0.0.1" else f"https://127.0.0.1:{s.etcd_client_port}",
            "listen-metrics-urls": f"http://127.0.0.1:{s.etcd_metrics_port}",
            "listen-peer-urls": f"https://{s.ip}:{s.etcd_peer_port}",
            "name": s.name,
            "peer-cert-file": "/etc/kubernetes/pki/etcd/peer.crt",
            "peer-client-cert-auth": "true",
            "peer-key-file": "/etc/kubernetes/pki/etcd/peer.key",
            "peer-trusted-ca-file": "/etc/kubernetes/pki/etcd/ca.crt",
            "snapshot-count": "10000",
            "trusted-ca-file": "/etc/kubernetes/pki/etcd/ca.crt",
        }
        # Stacked etcd: kubeadm points each API server at its local member only.
        etcd_servers = f"https://127.0.0.1:{s.etcd_client_port}"
        apiserver_flags = {
            "advertise-address": s.ip,
            "allow-privileged": "true",
            "authorization-mode": "Node,RBAC",
            "client-ca-file": "/etc/kubernetes/pki/ca.crt",
            "enable-admission-plugins": "NodeRestriction",
            "enable-bootstrap-token-auth": "true",
            "etcd-cafile": "/etc/kubernetes/pki/etcd/ca.crt",
            "etcd-certfile": "/etc/kubernetes/pki/apiserver-etcd-client.crt",
            "etcd-keyfile": "/etc/kubernetes/pki/apiserver-etcd-client.key",
            "etcd-servers": etcd_servers,
            "kubelet-client-certificate": "/etc/kubernetes/pki/apiserver-kubelet-client.crt",
            "kubelet-client-key": "/etc/kubernetes/pki/apiserver-kubelet-client.key",
            "kubelet-preferred-address-types": "InternalIP,ExternalIP,Hostname",
            "proxy-client-cert-file": "/etc/kubernetes/pki/front-proxy-client.crt",
            "proxy-client-key-file": "/etc/kubernetes/pki/front-proxy-client.key",
            "requestheader-allowed-names": "front-proxy-client",
            "requestheader-client-ca-file": "/etc/kubernetes/pki/front-proxy-ca.crt",
            "requestheader-extra-headers-prefix": "X-Remote-Extra-",
            "requestheader-group-headers": "X-Remote-Group",
            "requestheader-username-headers": "X-Remote-User",
            "secure-port": str(s.apiserver_port),
            "service-account-issuer": "https://kubernetes.default.svc.cluster.local",
            "service-account-key-file": "/etc/kubernetes/pki/sa.pub",
            "service-account-signing-key-file": "/etc/kubernetes/pki/sa.key",
            "service-cluster-ip-range": "10.96.0.0/12",
            "tls-cert-file": "/etc/kubernetes/pki/apiserver.crt",
            "tls-private-key-file": "/etc/kubernetes/pki/apiserver.key",
        }
        kcm_flags = {
            "allocate-node-cidrs": "true",
            "authentication-kubeconfig": "/etc/kubernetes/controller-manager.conf",
            "authorization-kubeconfig": "/etc/kubernetes/controller-manager.conf",
            "bind-address": "127.0.0.1",
            "client-ca-file": "/etc/kubernetes/pki/ca.crt",
            "cluster-cidr": "10.244.0.0/16",
            "cluster-name": "kubernetes",
            "cluster-signing-cert-file": "/etc/kubernetes/pki/ca.crt",
            "cluster-signing-key-file": "/etc/kubernetes/pki/ca.key",
            "controllers": "*,bootstrapsigner,tokencleaner",
            "kubeconfig": "/etc/kubernetes/controller-manager.conf",
            "leader-elect": "true",
            "requestheader-client-ca-file": "/etc/kubernetes/pki/front-proxy-ca.crt",
            "root-ca-file": "/etc/kubernetes/pki/ca.crt",
            "service-account-private-key-file": "/etc/kubernetes/pki/sa.key",
            "service-cluster-ip-range": "10.96.0.0/12",
            "use-service-account-credentials": "true",
        }
        sched_flags = {
            "authentication-kubeconfig": "/etc/kubernetes/scheduler.conf",
            "authorization-kubeconfig": "/etc/kubernetes/scheduler.conf",
            "bind-address": "127.0.0.1",
            "kubeconfig": "/etc/kubernetes/scheduler.conf",
            "leader-elect": "true",
        }
        components = {
            "etcd": (s.etcd_image, etcd_flags, s.etcd_metrics_port,
                     "/health?exclude=NOSPACE&serializable=true", "HTTP"),
            "kube-apiserver": (f"{s.registry}/kube-apiserver:{s.version}", apiserver_flags, s.apiserver_port,
                               "/livez", "HTTPS"),
            "kube-controller-manager": (f"{s.registry}/kube-controller-manager:{s.version}", kcm_flags, 10257,
                                        "/healthz", "HTTPS"),
            "kube-scheduler": (f"{s.registry}/kube-scheduler:{s.version}", sched_flags, 10259, "/healthz",
                               "HTTPS"),
        }
        for name, (image, base, port, probe, scheme) in components.items():
            host = "127.0.0.1" if name != "kube-apiserver" else s.ip
            body = "\n".join([
                "apiVersion: v1",
                "kind: Pod",
                "metadata:",
                "  labels:",
                f"    component: {name}",
                "    tier: control-plane",
                f"  name: {name}",
                "  namespace: kube-system",
                "spec:",
                "  containers:",
                "  - command:",
                f"    - {name}",
                *self.flags(name, base),
                f"    image: {image}",
                "    imagePullPolicy: IfNotPresent",
                "    livenessProbe:",
                "      failureThreshold: 8",
                "      httpGet:",
                f"        host: {host}",
                f"        path: {probe}",
                f"        port: {port}",
                f"        scheme: {scheme}",
                f"    name: {name}",
                "  hostNetwork: true",
                "  priority: 2000001000",
                "  priorityClassName: system-node-critical",
                "status: {}",
                "",
            ])
            _write(self.path(f"/etc/kubernetes/manifests/{name}.yaml"), body.encode(), 0o600)


def build_node_root(root: Path, spec: NodeSpec, pki: ClusterPKI | None = None,
                    now: dt.datetime | None = None) -> Path:
    """Create a kubeadm-like node root under `root` and return it."""
    pki = pki or ClusterPKI(now or dt.datetime.now(UTC))
    return NodeRoot(root, pki, spec).build()
