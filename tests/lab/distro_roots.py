"""Node roots of the other distributions (k3s, RKE2, MicroK8s, OpenShift), laid out as they are on disk.

Where each layout comes from (the collector's SPECS comment names the same sources):
- k3s: the etcd config file /var/lib/rancher/k3s/server/db/etcd/config, its keys and the tls/etcd
  certificate names are those quoted in k3s-io/k3s#3121; the add-on manifests k3s writes at start
  (coredns.yaml, traefik.yaml, metrics-server/*.yaml) are those logged in k3s-io/k3s#2597; the
  kubeconfig is /etc/rancher/k3s/k3s.yaml (k3s docs, "Cluster Access").
- RKE2: /var/lib/rancher/rke2/server/tls/etcd/server-{ca,client}.crt, agent/etc/crictl.yaml and
  bin/crictl (rancherlabs/support-tools#207, rancher/rancher-docs#1452); static pods in
  agent/pod-manifests and etcd's config file beside k3s's (the same supervisor code).
- MicroK8s: var/kubernetes/backend/{cluster.crt,cluster.key,cluster.yaml,info.yaml} and the
  dqlite segment files (the listings in canonical/microk8s#2285 and #2367), the daemon units
  (canonical/microk8s#4744's inspect report).
- OpenShift: /etc/kubernetes/static-pod-resources/etcd-certs/secrets/etcd-all-certs and
  configmaps/etcd-serving-ca (openshift/cluster-etcd-operator#251, openshift/api#1244), the numbered
  <component>-pod-N revision folders (openshift/cluster-etcd-operator#425), node-kubeconfigs.

Every private key is written too (with a canary): the collector must never read one.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.lab.kubeadm_root import DAY, Issued, _b64, _write, issue, make_ca

KEY_CANARY = b"# KEY-CANARY-never-in-a-bundle\n"
DATASTORE_CANARY = b"DATASTORE-CANARY-never-in-a-bundle"
TOKEN = ("K10c6a5b4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5"
         "::server:9f8e7d6c5b4a39281706f5e4d3c2b1a0")


class Root:
    """Helpers shared by the builders: paths under the root, certificate pairs, kubeconfigs."""

    def __init__(self, root: Path, name: str, now: dt.datetime | None = None) -> None:
        self.root = root
        self.name = name
        self.now = now or dt.datetime.now(dt.timezone.utc)
        _write(self.path("/etc/hostname"), f"{name}\n".encode())
        _write(self.path("/etc/os-release"), b'PRETTY_NAME="Ubuntu 22.04.4 LTS"\nID=ubuntu\n')

    def path(self, node_path: str) -> Path:
        return self.root / node_path.lstrip("/")

    def put(self, node_path: str, text: str | bytes, mode: int = 0o644) -> None:
        _write(self.path(node_path), text.encode() if isinstance(text, str) else text, mode)

    def ca(self, node_path: str, cn: str) -> Issued:
        issued = make_ca(cn, self.now)
        self.pair(node_path, issued)
        return issued

    def leaf(self, node_path: str, ca: Issued, cn: str, **kwargs: object) -> Issued:
        issued = issue(ca, cn, not_before=self.now - DAY, not_after=self.now + 365 * DAY, **kwargs)  # type: ignore[arg-type]
        self.pair(node_path, issued)
        return issued

    def pair(self, crt_path: str, issued: Issued) -> None:
        """name.crt and name.key side by side (OpenShift's tls.crt/tls.key alike)."""
        self.put(crt_path, issued.cert_pem())
        self.put(crt_path[:-len(".crt")] + ".key", KEY_CANARY + issued.key_pem(), 0o600)

    def kubeconfig(self, node_path: str, server: str, ca: Issued, user: Issued,
                   cluster: str = "default") -> None:
        self.put(node_path, f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {_b64(ca.cert_pem())}
    server: {server}
  name: {cluster}
contexts:
- context:
    cluster: {cluster}
    user: {cluster}
  name: {cluster}
current-context: {cluster}
kind: Config
preferences: {{}}
users:
- name: {cluster}
  user:
    client-certificate-data: {_b64(user.cert_pem())}
    client-key-data: {_b64(user.key_pem())}
""", 0o600)


def _rancher_etcd(r: Root, base: str, client_port: int, ip: str, peer_port: int = 2380,
                  datastore: bool = True) -> Issued:
    """The embedded etcd's certificates and config file (k3s-io/k3s#3121), under base (k3s or rke2)."""
    tls = f"{base}/server/tls/etcd"
    server_ca = r.ca(f"{tls}/server-ca.crt", "etcd-server-ca@1700000000")
    peer_ca = r.ca(f"{tls}/peer-ca.crt", "etcd-peer-ca@1700000000")
    r.leaf(f"{tls}/server-client.crt", server_ca, "etcd-server", server=True, client=True,
           dns=("localhost", r.name), ips=("127.0.0.1", ip))
    r.leaf(f"{tls}/client.crt", server_ca, "etcd-client", client=True)
    r.leaf(f"{tls}/peer-server-client.crt", peer_ca, "etcd-peer", server=True, client=True,
           dns=("localhost", r.name), ips=("127.0.0.1", ip))
    r.put(f"{base}/server/db/etcd/config", f"""advertise-client-urls: https://{ip}:{client_port}
client-transport-security:
  cert-file: {tls}/server-client.crt
  client-cert-auth: true
  key-file: {tls}/server-client.key
  trusted-ca-file: {tls}/server-ca.crt
data-dir: {base}/server/db/etcd
election-timeout: 5000
heartbeat-interval: 500
listen-client-urls: https://{ip}:{client_port},https://127.0.0.1:{client_port}
listen-metrics-urls: http://127.0.0.1:2381
listen-peer-urls: https://{ip}:{peer_port}
log-outputs:
- stderr
logger: zap
name: {r.name}-f8d25f47
peer-transport-security:
  cert-file: {tls}/peer-server-client.crt
  client-cert-auth: true
  key-file: {tls}/peer-server-client.key
  trusted-ca-file: {tls}/peer-ca.crt
""", 0o600)
    if not datastore:  # a real etcd will create it
        return server_ca
    # the datastore itself: its size may be collected, never its content
    r.put(f"{base}/server/db/etcd/member/snap/db", DATASTORE_CANARY + b"\0" * 4096, 0o600)
    r.put(f"{base}/server/db/etcd/member/wal/0000000000000000-0000000000000000.wal",
          DATASTORE_CANARY + b"\0" * 1024, 0o600)
    return server_ca


def _rancher_control_plane(r: Root, base: str, config_dir: str, kubeconfig: str) -> None:
    """The CAs, serving and client certificates and the admin kubeconfig k3s and RKE2 write."""
    tls = f"{base}/server/tls"
    client_ca = r.ca(f"{tls}/client-ca.crt", "k3s-client-ca@1700000000")
    server_ca = r.ca(f"{tls}/server-ca.crt", "k3s-server-ca@1700000000")
    r.ca(f"{tls}/request-header-ca.crt", "k3s-request-header-ca@1700000000")
    admin = r.leaf(f"{tls}/client-admin.crt", client_ca, "system:admin", orgs=("system:masters",),
                   client=True)
    r.leaf(f"{tls}/serving-kube-apiserver.crt", server_ca, "kube-apiserver", server=True,
           dns=("kubernetes", "kubernetes.default", "localhost", r.name), ips=("127.0.0.1", "10.43.0.1"))
    r.leaf(f"{tls}/client-kube-apiserver.crt", client_ca, "system:apiserver", orgs=("system:masters",),
           client=True)
    r.put(f"{base}/server/token", TOKEN + "\n", 0o600)
    r.put(f"{base}/server/cred/passwd", TOKEN + ",server,server,k3s:server\n", 0o600)
    r.kubeconfig(kubeconfig, "https://127.0.0.1:6443", server_ca, admin)
    r.put(f"{config_dir}/config.yaml", f'write-kubeconfig-mode: "0644"\ncluster-init: true\ntoken: {TOKEN}\n'
          "tls-san:\n  - cp.example.internal\n", 0o600)


def build_k3s_root(root: Path, name: str = "k3s-server-1", *, ip: str = "127.0.0.1",
                   etcd_client_port: int = 2379, etcd_peer_port: int = 2380, embedded_etcd: bool = True,
                   datastore: bool = True) -> Path:
    """A k3s server: embedded etcd (cluster-init) or, with embedded_etcd=False, kine on sqlite;
    datastore=False leaves etcd's data dir for a real etcd to create (tests/lab/make_samples.py)."""
    r = Root(root, name)
    base = "/var/lib/rancher/k3s"
    _rancher_control_plane(r, base, "/etc/rancher/k3s", "/etc/rancher/k3s/k3s.yaml")
    if embedded_etcd:
        _rancher_etcd(r, base, etcd_client_port, ip, etcd_peer_port, datastore)
    else:
        r.put(f"{base}/server/db/state.db", DATASTORE_CANARY + b"\0" * 8192, 0o600)
    r.put(f"{base}/server/cred/admin.kubeconfig", f"""apiVersion: v1
clusters:
- cluster:
    server: https://127.0.0.1:6443
    certificate-authority: {base}/server/tls/server-ca.crt
  name: local
contexts:
- context:
    cluster: local
    namespace: default
    user: user
  name: Default
current-context: Default
kind: Config
preferences: {{}}
users:
- name: user
  user:
    client-certificate: {base}/server/tls/client-admin.crt
    client-key: {base}/server/tls/client-admin.key
""", 0o600)
    for manifest in ("coredns.yaml", "traefik.yaml", "local-storage.yaml", "rolebindings.yaml",
                     "metrics-server/metrics-server-deployment.yaml"):
        r.put(f"{base}/server/manifests/{manifest}", "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n"
              f"  name: {Path(manifest).stem}\n  namespace: kube-system\n")
    r.put("/etc/systemd/system/k3s.service", """[Unit]
Description=Lightweight Kubernetes
Documentation=https://k3s.io
Wants=network-online.target
After=network-online.target

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-/etc/systemd/system/k3s.service.env
KillMode=process
Delegate=yes
LimitNOFILE=1048576
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStartPre=-/sbin/modprobe br_netfilter
ExecStartPre=-/sbin/modprobe overlay
ExecStart=/usr/local/bin/k3s \\
    server \\
""")
    r.put("/etc/systemd/system/k3s.service.env", f"K3S_TOKEN={TOKEN}\n", 0o600)
    return root


def build_rke2_root(root: Path, name: str = "rke2-server-1", *, ip: str = "127.0.0.1") -> Path:
    """An RKE2 server: static pods in agent/pod-manifests, etcd as one of them."""
    r = Root(root, name)
    base = "/var/lib/rancher/rke2"
    _rancher_control_plane(r, base, "/etc/rancher/rke2", "/etc/rancher/rke2/rke2.yaml")
    _rancher_etcd(r, base, 2379, ip)
    tls = f"{base}/server/tls"
    pods = {
        "etcd": [f"--config-file={base}/server/db/etcd/config"],
        "kube-apiserver": [f"--etcd-cafile={tls}/etcd/server-ca.crt",
                           f"--etcd-certfile={tls}/etcd/client.crt",
                           f"--etcd-keyfile={tls}/etcd/client.key", "--etcd-servers=https://127.0.0.1:2379",
                           f"--client-ca-file={tls}/client-ca.crt",
                           f"--tls-cert-file={tls}/serving-kube-apiserver.crt",
                           f"--tls-private-key-file={tls}/serving-kube-apiserver.key"],
        "kube-controller-manager": [f"--kubeconfig={base}/server/cred/controller.kubeconfig"],
        "kube-scheduler": [f"--kubeconfig={base}/server/cred/scheduler.kubeconfig"],
    }
    for pod, flags in pods.items():
        image = "index.docker.io/rancher/hardened-%s:v1.29.4-rke2r1-build20240416" % (
            "etcd" if pod == "etcd" else "kubernetes")
        command = "\n".join(f"    - {flag}" for flag in flags)
        r.put(f"{base}/agent/pod-manifests/{pod}.yaml", f"""apiVersion: v1
kind: Pod
metadata:
  name: {pod}
  namespace: kube-system
  labels:
    component: {pod}
    tier: control-plane
spec:
  hostNetwork: true
  containers:
  - name: {pod}
    image: {image}
    command:
    - {pod}
    args:
{command}
""", 0o600)
    r.put(f"{base}/agent/etc/crictl.yaml", "runtime-endpoint: unix:///run/k3s/containerd/containerd.sock\n")
    r.put("/usr/local/lib/systemd/system/rke2-server.service", """[Unit]
Description=Rancher Kubernetes Engine v2 (server)
Documentation=https://github.com/rancher/rke2#readme
Wants=network-online.target
After=network-online.target
Conflicts=rke2-agent.service

[Install]
WantedBy=multi-user.target

[Service]
Type=notify
EnvironmentFile=-/etc/default/%N
EnvironmentFile=-/etc/sysconfig/%N
EnvironmentFile=-/usr/local/lib/systemd/system/%N.env
KillMode=process
Delegate=yes
TimeoutStartSec=0
Restart=always
RestartSec=5s
ExecStart=/usr/local/bin/rke2 server
""")
    return root


def build_microk8s_root(root: Path, name: str = "microk8s-1") -> Path:
    """A MicroK8s node: kubelite, dqlite (k8s-dqlite) as the datastore, token kubeconfigs."""
    r = Root(root, name)
    snap = "/var/snap/microk8s/current"
    ca = r.ca(f"{snap}/certs/ca.crt", "10.152.183.1")
    r.leaf(f"{snap}/certs/server.crt", ca, "127.0.0.1", server=True, dns=("kubernetes", "localhost", name),
           ips=("127.0.0.1", "10.152.183.1"))
    front = r.ca(f"{snap}/certs/front-proxy-ca.crt", "front-proxy-ca")
    r.leaf(f"{snap}/certs/front-proxy-client.crt", front, "front-proxy-client", client=True)
    r.put(f"{snap}/certs/serviceaccount.key", KEY_CANARY, 0o600)
    r.put(f"{snap}/args/kube-apiserver", """--cert-dir=${SNAP_DATA}/certs
--service-cluster-ip-range=10.152.183.0/24
--authorization-mode=RBAC,Node
--service-account-key-file=${SNAP_DATA}/certs/serviceaccount.key
--client-ca-file=${SNAP_DATA}/certs/ca.crt
--tls-cert-file=${SNAP_DATA}/certs/server.crt
--tls-private-key-file=${SNAP_DATA}/certs/server.key
--etcd-servers=unix://${SNAP_DATA}/var/kubernetes/backend/kine.sock:12379
--secure-port=16443
""")
    r.put(f"{snap}/args/kubelite", "--scheduler-args-file=$SNAP_DATA/args/kube-scheduler\n"
          "--apiserver-args-file=$SNAP_DATA/args/kube-apiserver\n--kubelet-args-file=$SNAP_DATA/args/kubelet\n")
    r.put(f"{snap}/args/kubelet", "--kubeconfig=${SNAP_DATA}/credentials/kubelet.config\n"
          "--container-runtime-endpoint=${SNAP_COMMON}/run/containerd.sock\n")
    r.put(f"{snap}/args/k8s-dqlite", "--storage-dir=${SNAP_DATA}/var/kubernetes/backend/\n"
          "--listen=unix://${SNAP_DATA}/var/kubernetes/backend/kine.sock:12379\n")
    r.put(f"{snap}/credentials/client.config", f"""apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: {_b64(ca.cert_pem())}
    server: https://127.0.0.1:16443
  name: microk8s-cluster
contexts:
- context:
    cluster: microk8s-cluster
    user: admin
  name: microk8s
current-context: microk8s
kind: Config
preferences: {{}}
users:
- name: admin
  user:
    token: c3VwZXJzZWNyZXRhZG1pbnRva2VuMTIzNDU2Nzg5MGFiY2RlZg
""", 0o600)
    backend = f"{snap}/var/kubernetes/backend"
    cluster = r.ca(f"{backend}/cluster.crt", "dqlite")
    del cluster
    r.put(f"{backend}/cluster.yaml", "- Address: 10.0.0.11:19001\n  ID: 3297041220608546238\n  Role: 0\n"
          "- Address: 10.0.0.12:19001\n  ID: 8726521097135627519\n  Role: 0\n"
          "- Address: 10.0.0.13:19001\n  ID: 4315689025104751398\n  Role: 1\n", 0o660)
    r.put(f"{backend}/info.yaml", "Address: 10.0.0.11:19001\nID: 3297041220608546238\nRole: 0\n", 0o660)
    r.put(f"{backend}/failure-domain", "1\n")
    r.put(f"{backend}/0000000034627824-0000000034627858", DATASTORE_CANARY + b"\0" * 2048, 0o660)
    r.put(f"{backend}/metadata1", b"\0" * 32, 0o660)
    for daemon in ("kubelite", "k8s-dqlite", "containerd", "cluster-agent", "apiserver-kicker"):
        r.put(f"/etc/systemd/system/snap.microk8s.daemon-{daemon}.service", f"""[Unit]
# Auto-generated, DO NOT EDIT
Description=Service for snap application microk8s.daemon-{daemon}
Requires=snap-microk8s-6750.mount
Wants=network.target
After=snap-microk8s-6750.mount network.target snapd.apparmor.service
X-Snappy=yes

[Service]
EnvironmentFile=-/etc/environment
ExecStart=/usr/bin/snap run microk8s.daemon-{daemon}
SyslogIdentifier=microk8s.daemon-{daemon}
Restart=always
WorkingDirectory=/var/snap/microk8s/6750
TimeoutStopSec=30
Type=simple

[Install]
WantedBy=multi-user.target
""")
    return root


def build_openshift_root(root: Path, name: str = "master-0", *, ip: str = "10.0.0.10") -> Path:
    """An OpenShift 4 control-plane node: static pods and the certificates of static-pod-resources."""
    r = Root(root, name)
    r.put("/etc/os-release", 'PRETTY_NAME="Red Hat Enterprise Linux CoreOS 415.92.202402201450-0 (Plow)"\n'
          "ID=rhcos\n")
    res = "/etc/kubernetes/static-pod-resources"
    etcd_signer = make_ca("etcd-signer", r.now)
    r.put(f"{res}/etcd-certs/configmaps/etcd-serving-ca/ca-bundle.crt", etcd_signer.cert_pem())
    r.put(f"{res}/etcd-certs/configmaps/etcd-peer-client-ca/ca-bundle.crt", etcd_signer.cert_pem())
    all_certs = f"{res}/etcd-certs/secrets/etcd-all-certs"
    r.leaf(f"{all_certs}/etcd-serving-{name}.crt", etcd_signer, name, server=True, dns=("localhost", name),
           ips=(ip, "127.0.0.1"))
    r.leaf(f"{all_certs}/etcd-peer-{name}.crt", etcd_signer, name, server=True, client=True, ips=(ip,))
    r.leaf(f"{all_certs}/etcd-serving-metrics-{name}.crt", etcd_signer, name, server=True, ips=(ip,))
    apiserver_ca = make_ca("kube-apiserver-localhost-signer", r.now)
    admin = issue(apiserver_ca, "system:admin", orgs=("system:masters",), client=True,
                  not_before=r.now - DAY, not_after=r.now + 365 * DAY)
    r.kubeconfig(f"{res}/kube-apiserver-certs/secrets/node-kubeconfigs/localhost.kubeconfig",
                 "https://localhost:6443", apiserver_ca, admin, cluster="localhost")
    r.leaf(f"{res}/kube-apiserver-certs/secrets/etcd-client/tls.crt", etcd_signer, "etcd-client", client=True)
    # an older revision's copy: not collected (the *-certs folders hold the current files)
    r.leaf(f"{res}/kube-apiserver-pod-3/secrets/etcd-client/tls.crt", etcd_signer, "etcd-client", client=True)
    for pod in ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        r.put(f"/etc/kubernetes/manifests/{pod}-pod.yaml", f"""apiVersion: v1
kind: Pod
metadata:
  name: {pod if pod != 'kube-scheduler' else 'openshift-kube-scheduler'}
  namespace: openshift-{pod if pod != 'kube-scheduler' else 'kube-scheduler'}
  labels:
    app: {pod}
spec:
  hostNetwork: true
  containers:
  - name: {pod}
    image: quay.io/openshift-release-dev/ocp-v4.0-art-dev@sha256:{'0' * 64}
""")
    r.put("/etc/crio/crio.conf.d/00-default", '[crio]\ninternal_wipe = true\n[crio.runtime]\n'
          'conmon_cgroup = "pod"\ncgroup_manager = "systemd"\n')
    r.put("/etc/kubernetes/kubelet.conf", "kind: KubeletConfiguration\n"
          "apiVersion: kubelet.config.k8s.io/v1beta1\nauthentication:\n  x509:\n"
          "    clientCAFile: /etc/kubernetes/kubelet-ca.crt\n")
    return root
