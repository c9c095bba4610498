"""Known failure modes read from logs and pasted output: one rule per family of log signatures.

Each `Family` row declares, as data, a failure mode: the signatures that show it
(analyzer/logs/signatures.py, each with a real example line), its category (the category of the
*cause*, not of the component that logged it), its worst severity, what to do, and what shows that
it recovered. One generic check judges every family the same way:

- a timed start-up blip (short, over well before the log ends, then recovered) is not reported;
- otherwise the finding's severity is the worst its signatures state (capped at the family's), or
  follows the magnitude a signature measures;
- a problem the same evidence later shows recovered is reported milder, "recovered at T".
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from ..facts import ClusterView
from ..facts.logs import LogSignatureFact
from ..findings import Category, Finding, Remediation, Severity
from . import Rule, rule
from .connectivity import probes
from .logs import LOG_ITEMS, RESOLVED_AFTER, _by, _finding, _logs, _summary, _top, episode
from .shell import comment

#: which component a port, unit or operator name belongs to, for families categorised by it
_BY_NAME: tuple[tuple[str, Category], ...] = (
    ("10251", Category.SCHEDULER), ("10259", Category.SCHEDULER), ("scheduler", Category.SCHEDULER),
    ("10252", Category.CONTROLLER_MANAGER), ("10257", Category.CONTROLLER_MANAGER),
    ("controller-manager", Category.CONTROLLER_MANAGER), ("2379", Category.ETCD), ("2380", Category.ETCD),
    ("etcd", Category.ETCD), ("dqlite", Category.ETCD), ("apiserver", Category.APISERVER),
    ("6443", Category.APISERVER), ("origin-master", Category.APISERVER), ("10250", Category.NODE),
    ("kubelet", Category.NODE),
    # systemd unit descriptions (kubernetes-the-hard-way, distribution packages, k3s)
    ("api serv", Category.APISERVER), ("controller manager", Category.CONTROLLER_MANAGER),
    ("lightweight kubernetes", Category.APISERVER),
    # single-binary control planes: a server that does not run means the API server does not
    ("kubelite", Category.APISERVER), ("k3s-agent", Category.NODE), ("k3s", Category.APISERVER),
    ("rke2-agent", Category.NODE), ("rke2", Category.APISERVER), ("k0s", Category.APISERVER),
)
_COMPONENT_CATEGORIES = tuple(dict.fromkeys(c for _, c in _BY_NAME))


def by_name(text: str, default: Category) -> Category:
    """The category a detail (port, systemd unit, operator, component) names, else `default`."""
    lowered = text.lower()
    return next((c for needle, c in _BY_NAME if needle in lowered), default)


@dataclass(frozen=True)
class Family:
    """One failure mode seen in logs: the rule's declaration and how to judge it, as data."""

    id: str
    category: Category
    severity: Severity
    title: str
    #: what the rule checks, for docs/rules.md
    checks: str
    signatures: tuple[str, ...]
    remedy: str
    commands: tuple[str, ...]
    #: signatures that show the component recovered after the failure
    recovery: tuple[str, ...] = ()
    #: categorise each finding by what its lines name: "component", "detail" (port, unit, operator)
    split: str = ""
    #: components whose own lines do not count (an API server refusing itself while it starts)
    ignore: tuple[str, ...] = ()
    #: a port whose blocking by a firewall explains the lines better (the firewall finding says it)
    port: int = 0
    #: other categories its findings may carry (with `split`)
    also: tuple[Category, ...] = ()
    #: while current, the finding has the family's severity whatever its lines' own (leaderless etcd)
    current_is_worst: bool = False
    #: report an episode the evidence shows recovered (False: another rule sums up the history)
    history: bool = True
    #: a condition its lines show lasting this many seconds or more is at the family's severity
    lasting: float = 0.0

    def categories_of(self, fact: LogSignatureFact) -> list[Category]:
        """The categories a fact's lines name (several when its lines name several ports or units)."""
        if self.split == "component":
            return [by_name(fact.component, self.category)]
        if self.split == "detail":
            return list(dict.fromkeys(by_name(d, self.category) for d in fact.details)) or [
                by_name(fact.component, self.category)]
        return [self.category]


_ETCDCTL = ("ETCDCTL_API=3 etcdctl --endpoints=https://127.0.0.1:2379 "
            "--cacert=/etc/kubernetes/pki/etcd/ca.crt --cert=/etc/kubernetes/pki/etcd/healthcheck-client.crt "
            "--key=/etc/kubernetes/pki/etcd/healthcheck-client.key")
_ETCD_LOGS = _logs("etcd")

FAMILIES: tuple[Family, ...] = (
    # -- etcd ------------------------------------------------------------------------------------
    Family("ETCD_REQUESTS_FAILING", Category.ETCD, Severity.ERROR, "etcd does not answer requests",
           "No log shows a member failing to publish itself, an etcd v2 client finding no member, the "
           "API server's etcd requests timing out (`etcdserver: request timed out` has its own rule) or its "
           "health check of etcd failing.",
           ("ETCD_PUBLISH_FAILED", "ETCD_V2_UNAVAILABLE", "APISERVER_ETCD_TIMEOUT",
            "RKE2_ETCD_STATUS_FAILED", "RKE2_WAITING_FOR_ETCD", "APISERVER_HEALTH_ETCD_FAILED"),
           "etcd cannot commit requests: it has no leader or no quorum (members down or cut off), or its "
           "disk is too slow. Find which members run and whether they see each other.",
           (_ETCDCTL + " endpoint status -w table", _ETCDCTL + " endpoint health", _ETCD_LOGS),
           recovery=("ETCD_READY", "ETCD_ELECTED_LEADER"), port=2379),
    Family("ETCD_LEADER_LOST_LOG", Category.ETCD, Severity.ERROR, "etcd lost its leader",
           "No etcd log shows a lost leader or `no leader` after start-up (elections past term 2) without a "
           "new leader elected afterwards.",
           ("ETCD_NO_LEADER", "ETCD_LOST_LEADER", "ETCD_ELECTION", "ETCD_QUORUM_INACTIVE",
            "ETCD_LEADER_CHANGED"),
           "Members that keep starting elections cannot reach a quorum: check that every member runs, "
           "that they reach each other on 2380, and their disk latency.",
           (_ETCDCTL + " endpoint status -w table", _ETCD_LOGS, "ss -tnp | grep 2380"),
           recovery=("ETCD_ELECTED_LEADER",), current_is_worst=True, history=False, port=2380),
    Family("ETCD_REQUEST_TOO_LARGE", Category.ETCD, Severity.ERROR,
           "etcd refuses requests that are too large",
           "No log shows etcd refusing a request over --max-request-bytes or a gRPC message over its limit.",
           ("ETCD_REQUEST_TOO_LARGE",),
           "A write of one huge object (a large Endpoints, ConfigMap or Secret) exceeds etcd's request limit "
           "(1.5 MiB by default), or an unpaginated list of very many objects exceeds gRPC's message limit: "
           "find the object or the resource type with most objects, shrink or clean it up (or paginate "
           "the client's lists).",
           (_ETCDCTL + " endpoint status -w table",
            "kubectl get --raw /metrics | grep apiserver_storage_objects | sort -k2 -n | tail")),
    Family("ETCD_PEER_UNREACHABLE", Category.ETCD, Severity.ERROR, "etcd members cannot reach each other",
           "No etcd log shows a peer refusing 2380, failing its health check or going inactive.",
           ("ETCD_PEER_REFUSED", "ETCD_PEER_UNREACHABLE", "ETCD_STREAM_LOST", "ETCD_STREAM_READ_FAILED"),
           "A member that refuses 2380 is down or not listening there; one that times out is cut off (a "
           "firewall, a routing problem). Start the member or open 2380 between the control-plane nodes.",
           ("ss -ltnp | grep -E ':2379|:2380'", "crictl ps -a --name etcd", _ETCD_LOGS,
            "iptables-save | grep 2380"), recovery=("ETCD_PEER_ACTIVE",), port=2380),
    Family("ETCD_CLUSTER_ID_MISMATCH", Category.ETCD, Severity.ERROR, "etcd peers from different clusters",
           "No etcd log shows `cluster ID mismatch`.", ("ETCD_CLUSTER_ID_MISMATCH",),
           "A member's data dir belongs to another cluster bootstrap (a node re-installed, an address "
           "reused). "
           "Remove that member, wipe its data dir and add it back.",
           (_ETCDCTL + " member list -w table", "ls -la /var/lib/etcd/member")),
    Family("ETCD_MEMBERSHIP_FAILED", Category.ETCD, Severity.CRITICAL, "etcd (or dqlite) member cannot join",
           "No log shows `etcdserver: unhealthy cluster`, a server that is not a member of the etcd "
           "cluster, or "
           "k3s/RKE2 failing to join the embedded etcd.",
           ("K3S_JOIN_ETCD_FAILED", "ETCD_UNHEALTHY_CLUSTER", "ETCD_NOT_A_MEMBER", "ETCD_PEER_URL_EXISTS",
            "ETCD_ALREADY_BOOTSTRAPPED", "ETCD_PEER_URLS_INVALID", "ETCD_LOCAL_NAME_NOT_IN_CLUSTER",
            "ETCD_MEMBER_REMOVED", "ETCD_REMOVED_PEER_REJECTED", "ETCD_REMOTE_PEER_NOT_FOUND",
            "K0S_ETCD_JOIN_FAILED", "ETCD_CLUSTER_FETCH_FAILED", "DQLITE_NODE_ALREADY_KNOWN"),
           "etcd refuses a membership change while any member is unhealthy (a stale, never-started member is "
           "enough). Remove the stale member, make the others healthy, then join again.",
           (_ETCDCTL + " member list -w table", _ETCDCTL + " endpoint health --cluster",
            "# then, for the member that never started: " + _ETCDCTL + " member remove MEMBER_ID"),
           recovery=("ETCD_READY",)),
    Family("ETCD_DISK_FULL", Category.ETCD, Severity.CRITICAL, "etcd's disk is full",
           "No etcd log shows its WAL or snapshot write failing with `no space left on device`.",
           ("ETCD_WAL_NO_SPACE",),
           "etcd stops (or cannot start) when it cannot write its WAL. Free space on the filesystem of "
           "/var/lib/etcd; then check that the member rejoins.",
           ("df -h /var/lib/etcd", "du -xh --max-depth=2 /var/lib | sort -h | tail", _ETCD_LOGS)),
    Family("ETCD_UNHEALTHY_REPORTED", Category.ETCD, Severity.CRITICAL, "etcd health check fails",
           "No health check output (`kubectl get cs`, `etcdctl cluster-health`/`endpoint health`) reports an "
           "etcd member or the cluster unhealthy.", ("ETCD_CLUSTER_UNHEALTHY", "ETCD_HEALTH_UNHEALTHY",
                                                           "ETCD_MEMBER_HEALTH_CHECK_FAILED",
                                                           "ETCD_ENDPOINT_CONNECT_FAILED",
                                                           "ETCD_CS_PROBE_UNREACHABLE",
                                                           "OPENSHIFT_ETCD_MEMBERS_UNAVAILABLE",
                                                           "ETCD_NOT_HEALTHY_TOOL"),
           "Find which members fail and why (down, no leader, an active alarm) from each member's own log.",
           (_ETCDCTL + " endpoint health --cluster", _ETCDCTL + " alarm list", _ETCD_LOGS)),
    Family("ETCD_PROBE_TLS_FAILED", Category.CERTIFICATES, Severity.WARNING,
           "componentstatus cannot probe etcd over TLS",
           "`kubectl get cs` shows no etcd `bad certificate`.", ("ETCD_HEALTH_BAD_CERT",),
           "The API server's componentstatus probe sends no (or a wrong) client certificate to etcd. Check "
           "etcd's health directly; fix the API server's --etcd-certfile/--etcd-keyfile if etcd is unhealthy "
           "for it too.", (_ETCDCTL + " endpoint health",)),
    Family("DATASTORE_UNAVAILABLE", Category.ETCD, Severity.CRITICAL, "The datastore (kine, dqlite) fails",
           "No log shows k3s/k0s kine or MicroK8s dqlite failing to reach, use or load its datastore.",
           ("DQLITE_CORRUPT", "KINE_DATASTORE_ERROR", "DQLITE_ERROR"),
           "The Kubernetes datastore does not answer: for kine check the external database or the SQLite "
           "file's disk; for dqlite check that a quorum of dqlite nodes runs and reaches each other.",
           ("journalctl -u k3s --since -1h | grep -iE 'kine|datastore'",
            "journalctl -u snap.microk8s.daemon-k8s-dqlite --since -1h",
            "cat /var/snap/microk8s/current/var/kubernetes/backend/cluster.yaml")),
    # -- API server --------------------------------------------------------------------------------
    Family("APISERVER_UNREACHABLE", Category.APISERVER, Severity.CRITICAL, "API server does not answer its "
                                                                           "clients",
           "No client (kubelet, scheduler, controller-manager, kubectl) is refused on 6443, times out "
           "waiting "
           "for the API server, or sees its probes fail; an API server's own start-up lines do not count.",
           ("APISERVER_REFUSED", "APISERVER_CLIENT_TIMEOUT", "APISERVER_PROBE_FAILED",
            "APISERVER_CONNECT_TIMEOUT", "KUBELET_NODE_NOT_FOUND", "KUBEADM_JOIN_API_UNREACHABLE",
            "APISERVER_SERVICE_UNAVAILABLE", "KUBELET_NODE_STATUS_RETRIES", "RKE2_WAITING_FOR_APISERVER",
            "CM_APISERVER_NOT_HEALTHY", "LEASE_RENEW_TIMEOUT", "K3S_CA_CERTS_FAILED", "KUBELET_LEASE_FAILED"),
           "Clients cannot reach the API server: it is down or restarting (see its container and log), "
           "overloaded, or a firewall rejects 6443.",
           ("crictl ps -a --name kube-apiserver", _logs("kube-apiserver"), "ss -ltnp | grep 6443",
            "curl -k https://127.0.0.1:6443/readyz?verbose"),
           recovery=("LEASE_ACQUIRED",), port=6443),
    Family("COMPONENT_FLAG_REJECTED", Category.APISERVER, Severity.CRITICAL, "Component rejects a flag",
           "No log shows a component exiting on `unknown flag` or `only zero is allowed` (a removed flag).",
           ("FLAG_UNKNOWN", "FLAG_ONLY_ZERO", "APISERVER_SA_FLAGS_REQUIRED"),
           "Remove the flag the release no longer accepts (--insecure-port, --port, --address were removed "
           "in 1.24) from the static pod manifest or unit file; the kubelet restarts the pod.",
           ("grep -rnE -- '--(insecure-port|port|insecure-bind-address|address)=' /etc/kubernetes/manifests",
            "systemctl cat kube-apiserver 2>/dev/null | grep -E 'port|address'"),
           split="component", also=_COMPONENT_CATEGORIES),
    Family("CONTROL_PLANE_PORT_IN_USE", Category.SCHEDULER, Severity.CRITICAL,
           "Control-plane component cannot bind its port",
           "No log shows the scheduler, controller-manager, etcd or kubelet failing to bind its port "
           "(`address already in use`).", ("PORT_IN_USE",),
           "Another process holds the port (a leftover copy of the component, or another component using the "
           "same port). Find and stop it; the kubelet or systemd restarts the component.",
           ("ss -ltnp | grep -E ':10251|:10252|:10257|:10259|:2379|:2380|:10250'", "crictl ps -a"),
           split="detail", also=_COMPONENT_CATEGORIES),
    Family("LISTEN_ADDRESS_NOT_LOCAL", Category.ETCD, Severity.CRITICAL,
           "Component listens on an address this host lacks",
           "No log shows a component failing to bind with `cannot assign requested address`.",
           ("LISTEN_ADDRESS_NOT_LOCAL",),
           "The address in the component's flags is not on this host: the node's IP changed (DHCP, a cloned "
           "VM) or the manifest came from another node. Put the host's address in the etcd/API server flags "
           "(or give the host its old address back); etcd's peer URLs must also change with `member update`.",
           ("ip -brief addr", "grep -rnE -- '--(listen|advertise|initial-advertise|bind)' "
            "/etc/kubernetes/manifests /etc/etcd 2>/dev/null"),
           split="detail", also=_COMPONENT_CATEGORIES),
    Family("KUBEADM_CONTROL_PLANE_NOT_HEALTHY", Category.APISERVER, Severity.CRITICAL,
           "kubeadm: control plane never became healthy",
           "No kubeadm output says the API server is not healthy after its wait, or that a static pod's hash "
           "did not change during an upgrade.",
           ("KUBEADM_API_NOT_HEALTHY", "KUBEADM_STATIC_POD_HASH", "KUBEADM_UPGRADE_FAILED", "KUBEADM_ERROR"),
           "kubeadm wrote the static pod manifests but the component never came up: read the kubelet's and "
           "the API server container's log for the real error.",
           ("journalctl -u kubelet --since -15m", "crictl ps -a | grep kube", _logs("kube-apiserver"))),
    Family("AGGREGATED_API_UNAVAILABLE", Category.APISERVER, Severity.WARNING,
           "API server cannot reach an aggregated API",
           "No API server log shows an APIService (metrics.k8s.io and the like) failing.",
           ("APISERVICE_UNAVAILABLE", "APISERVICE_DISCOVERY_FAILED", "APISERVICE_METRICS_UNAVAILABLE"),
           "The aggregated API's Service has no ready endpoint, or the API server cannot reach pods (front "
           "proxy certificate, network to the pod network). Check the APIService and its pods.",
           ("kubectl get apiservice | grep -v True", "kubectl -n kube-system get pods -l "
                                                     "k8s-app=metrics-server")),
    Family("CERT_EXPIRED_LOG", Category.CERTIFICATES, Severity.CRITICAL, "A certificate in use has expired",
           "No log shows `x509: certificate has expired`, a client rejected for an expired certificate, or "
           "an "
           "expired kubelet client certificate (whichever component logs it).",
           ("AUTHN_CERT_EXPIRED", "BOOTSTRAP_CERT_EXPIRED", "X509_EXPIRED", "APISERVER_ETCD_CERT_EXPIRED",
            "CERT_EXPIRES_NEGATIVE"),
           "Renew the expired certificates (kubeadm: `kubeadm certs renew all`, then restart the static pods "
           "and copy the new admin.conf); an expired kubelet client certificate needs the node re-joined or "
           "kubelet.conf regenerated. Also check the clock.",
           ("kubeadm certs check-expiration", "kubeadm certs renew all",
            "openssl x509 -noout -enddate -in /var/lib/kubelet/pki/kubelet-client-current.pem", "date -u")),
    Family("CERT_UNTRUSTED_LOG", Category.CERTIFICATES, Severity.ERROR, "A certificate is from an unknown CA",
           "No log shows `x509: certificate signed by unknown authority` (kubeconfig CA, etcd peers, API "
           "server to etcd).",
           ("X509_UNKNOWN_AUTHORITY", "ETCD_PEER_CERT", "APISERVER_ETCD_TLS", "K3S_TOKEN_CA_MISMATCH"),
           "The two sides trust different CAs: a kubeconfig from another cluster, certificates regenerated "
           "without the CA, or etcd peers signed by different CAs. Compare the issuer with the CA file each "
           "side uses.",
           ("openssl verify -CAfile /etc/kubernetes/pki/ca.crt /etc/kubernetes/pki/apiserver.crt",
            "openssl verify -CAfile /etc/kubernetes/pki/etcd/ca.crt /etc/kubernetes/pki/etcd/peer.crt",
            "kubectl config view --raw -o jsonpath='{.clusters[0].cluster.certificate-authority-data}' | "
            "base64 -d | openssl x509 -noout -subject")),
    Family("CERT_FILE_INVALID", Category.CERTIFICATES, Severity.CRITICAL, "A certificate file is empty or "
                                                                          "invalid",
           "No component says its serving certificate has no content or holds no PEM data.",
           ("SERVING_CERT_MISSING", "CERT_FILE_NOT_FOUND", "CERT_FILE_UNREADABLE", "CA_FILE_NOT_READABLE",
            "TLS_KEY_MISMATCH"),
           "Regenerate the certificate file (MicroK8s: `microk8s refresh-certs`; kubeadm: `kubeadm certs "
           "renew`); "
           "an empty file usually follows a full disk.",
           ("ls -la /etc/kubernetes/pki /var/snap/microk8s/current/certs 2>/dev/null", "df -h")),
    Family("CLIENT_CREDENTIALS_REJECTED", Category.CERTIFICATES, Severity.ERROR,
           "The API server rejects the client's credentials",
           "No kubectl or client output says `You must be logged in to the server` or that the server asked "
           "for credentials.", ("CLIENT_CREDENTIALS_REJECTED",),
           "The kubeconfig's client certificate expired or is from another CA (or its token is unknown): "
           "check its dates and issuer, and use a current admin.conf.",
           ("kubectl config view --raw -o jsonpath='{.users[0].user.client-certificate-data}' | base64 -d | "
            "openssl x509 -noout -subject -issuer -enddate", "kubeadm certs check-expiration")),
    Family("CERT_NAME_MISMATCH_LOG", Category.CERTIFICATES, Severity.ERROR,
           "A server certificate does not name its address",
           "No log shows `x509: cannot validate certificate for ...` or `certificate is valid for ..., not "
           "...`.",
           ("X509_NAME_MISMATCH", "X509_VALID_FOR_OTHER_NAMES", "X509_LEGACY_COMMON_NAME"),
           "Re-issue the server certificate with the missing IP or DNS SAN (kubelet serving certificates: "
           "enable serverTLSBootstrap and approve them; kubeadm: add --apiserver-cert-extra-sans).",
           ("openssl x509 -noout -ext subjectAltName -in /etc/kubernetes/pki/apiserver.crt",
            "openssl x509 -noout -ext subjectAltName -in /var/lib/kubelet/pki/kubelet.crt")),
    Family("CSR_PENDING_LOG", Category.CERTIFICATES, Severity.ERROR, "Certificate requests are not approved",
           "No `kubectl get csr` row is Pending, or Approved but not Issued, and no kubelet says its "
           "certificate request was not signed.",
           ("CSR_PENDING", "CSR_PENDING_SERVING", "CSR_APPROVED_NOT_ISSUED", "CSR_NOT_SIGNED"),
           "Approve the pending requests you expect; for kubelet client certificates make sure the "
           "bootstrap group may auto-approve (the `system:certificates.k8s.io:certificatesigningrequests:"
           "nodeclient` binding); a request Approved but never Issued means the controller-manager's "
           "signer does not run (--cluster-signing-cert-file/--cluster-signing-key-file).",
           ("kubectl get csr", "# for each request you expect: kubectl certificate approve CSR_NAME",
            "kubectl get clusterrolebinding | grep -i bootstrap",
            "grep cluster-signing /etc/kubernetes/manifests/kube-controller-manager.yaml")),
    Family("BOOTSTRAP_CREDENTIALS_REJECTED", Category.CERTIFICATES, Severity.ERROR,
           "A joining node's bootstrap credentials are refused",
           "No kubelet says the API server refused its certificate signing request (Unauthorized, "
           "forbidden, system:anonymous), and no kubeadm join says its token is invalid or expired.",
           ("KUBELET_CSR_CREATE_REJECTED", "KUBEADM_TOKEN_INVALID"),
           "The node's TLS bootstrap cannot start: its bootstrap token is unknown or expired (tokens last "
           "24 h by default), the API server does not accept bootstrap tokens "
           "(--enable-bootstrap-token-auth), or the bootstrap user/group may not create CSRs. Create a new "
           "token and join again, or bind the bootstrap group to system:node-bootstrapper.",
           ("kubeadm token list", "kubeadm token create --print-join-command",
            "kubectl get clusterrolebinding -o wide | grep -E 'node-bootstrapper|kubelet-bootstrap'",
            "grep -E 'enable-bootstrap-token-auth|token-auth-file' "
            "/etc/kubernetes/manifests/kube-apiserver.yaml")),
    # -- nodes -------------------------------------------------------------------------------------
    Family("KUBEADM_PREFLIGHT_FAILED", Category.NODE, Severity.CRITICAL,
           "kubeadm preflight fails on this node",
           "No kubeadm output shows preflight errors: a control plane left from an earlier run, or no "
           "container runtime.", ("KUBEADM_PREFLIGHT_LEFTOVERS", "KUBEADM_PREFLIGHT_CRI"),
           "Reset what an earlier kubeadm run left (`kubeadm reset`, then remove /etc/cni/net.d and "
           "/var/lib/etcd) before init/join; start a container runtime that serves the CRI v1 API.",
           ("kubeadm reset -f", "ss -ltnp | grep -E ':6443|:2379|:2380|:10250|:10257|:10259'",
            "systemctl status containerd", "crictl info")),
    Family("KUBELET_CANNOT_START", Category.NODE, Severity.CRITICAL, "The kubelet refuses to start",
           "No kubelet log shows swap on, a cgroup-driver mismatch, or a missing config/kubeconfig file.",
           ("KUBELET_SWAP_ON", "KUBELET_CGROUP_DRIVER", "KUBELET_CONFIG_FILE_FAILED",
            "KUBELET_CONTAINER_MANAGER_FAILED",
            "KUBELET_BOOTSTRAP_KUBECONFIG_MISSING", "KUBELET_KUBECONFIG_INVALID"),
           "Turn swap off (and out of /etc/fstab), make the kubelet's cgroupDriver match the runtime's, or "
           "give it the files it loads: on a kubeadm node /var/lib/kubelet/config.yaml and kubelet.conf are "
           "written by `kubeadm init`/`join` (until then the kubelet restarting is expected).",
           ("swapoff -a", "grep -i cgroup /var/lib/kubelet/config.yaml", "crictl info | grep -i cgroup",
            "ls -la /var/lib/kubelet/config.yaml /etc/kubernetes/kubelet.conf "
            "/etc/kubernetes/bootstrap-kubelet.conf")),
    Family("KUBELET_RUNTIME_UNHEALTHY", Category.NODE, Severity.ERROR, "The container runtime stalls the "
                                                                       "kubelet",
           "No kubelet log shows `PLEG is not healthy` or `container runtime is down`.",
           ("KUBELET_PLEG_UNHEALTHY", "RUNTIME_DOWN"),
           "The container runtime does not answer the kubelet in time: check containerd/CRI-O and the "
           "node's load; restarting the runtime usually brings the node back.",
           ("systemctl status containerd", "crictl ps -a | wc -l", "journalctl -u containerd --since -1h")),
    Family("NODE_NOT_REPORTING", Category.NODE, Severity.ERROR, "A node's kubelet stopped reporting",
           "No output shows `Kubelet stopped posting node status`.", ("NODE_STATUS_UNKNOWN",),
           "The node's kubelet is down or cannot reach the API server: check the kubelet on that node.",
           ("kubectl get nodes -o wide", "systemctl status kubelet", "journalctl -u kubelet --since -30m")),
    Family("SERVICE_FAILING", Category.NODE, Severity.CRITICAL, "A control-plane service keeps failing",
           "No systemd output shows a control-plane service (kubelet, kube-apiserver, etcd, k3s ...) exiting "
           "with an error or restarting in a loop, and no inspection finds one not running.",
           ("SYSTEMD_UNIT_FAILED", "SYSTEMD_FAILED_RESULT", "SYSTEMD_RESTART_LOOP", "SERVICE_NOT_RUNNING",
            "SYSTEMD_START_FAILED"),
           "The unit exits at start: its own log (journalctl -u UNIT) says why; a 203/EXEC means the binary "
           "cannot be executed, status 1/255 an error at start (a bad flag, missing config).",
           ("systemctl --failed", "journalctl -p err -b --since -15m --no-pager | tail -n 50"),
           split="detail", also=_COMPONENT_CATEGORIES),
    Family("OPERATOR_DEGRADED", Category.APISERVER, Severity.ERROR, "A control-plane operator is Degraded",
           "No OpenShift cluster operator of the control plane reports Degraded (an error when it has been "
           "Degraded for an hour or more).", ("OPERATOR_DEGRADED",),
           "Read the operator's conditions for the failing node or revision (`oc describe co NAME`), then "
           "the "
           "installer or static pod logs it names.",
           ("oc get co", "oc describe co kube-apiserver", "oc get pods -n openshift-kube-apiserver"),
           split="detail", also=_COMPONENT_CATEGORIES, lasting=3600.0),
    Family("CONTAINER_PROBE_RESTARTS", Category.APISERVER, Severity.ERROR,
           "The kubelet restarts a control-plane container on failed probes",
           "No kubelet log shows it killing a control-plane container for a failed liveness or startup "
           "probe.",
           ("PROBE_RESTARTS",),
           "The container does not answer its probe in time: it is hung or overloaded (often waiting on "
           "etcd), "
           "or the probe cannot pass (a wrong port, anonymous auth disabled). Read the container's previous "
           "log.",
           ("crictl ps -a | grep -E 'kube-|etcd'", "grep -A8 -E 'livenessProbe|startupProbe' "
            "/etc/kubernetes/manifests/kube-apiserver.yaml"),
           split="detail", also=_COMPONENT_CATEGORIES),
    Family("COMPONENT_PANIC", Category.APISERVER, Severity.ERROR, "A component crashed on a Go panic",
           "No log shows a control-plane component panicking.", ("GO_PANIC",),
           "A panic is a bug or data the component cannot handle: the stack trace after the panic line names "
           "the code; look for a fixed release, and for corrupted data (etcd: its db file) it was reading.",
           ("crictl ps -a", "journalctl --since -30m --no-pager | grep -A20 -E '^panic|Observed a panic'"),
           split="component", also=_COMPONENT_CATEGORIES),
    Family("CNI_NOT_READY_LOG", Category.CONNECTIVITY, Severity.WARNING,
           "The node's pod network is not ready",
           "No kubelet log says its container runtime network is not ready (CNI).",
           ("CNI_NOT_READY", "CNI_CONFIG_MISSING"),
           "Install the cluster's CNI plugin (or fix its pods and /etc/cni/net.d): until it runs the node "
           "stays "
           "NotReady. Normal for a few minutes right after kubeadm init.",
           ("ls -la /etc/cni/net.d /opt/cni/bin", "kubectl -n kube-system get pods -o wide")),
    Family("CONTROL_PLANE_NO_ROUTE", Category.CONNECTIVITY, Severity.ERROR,
           "Control-plane port answers no route to host",
           "No log shows `connect: no route to host` on a control-plane port (6443, 2379, 2380, 10250, "
           "10257, 10259).", ("CONTROL_PLANE_NO_ROUTE",),
           "`no route to host` on a reachable network is a firewall rejecting the port (firewalld's default "
           "REJECT answers icmp-host-prohibited): open the control-plane ports between the nodes, or check "
           "that the address is up and right.",
           ("firewall-cmd --list-all", "iptables -S INPUT | grep -iE 'reject|drop'",
            "firewall-cmd --permanent --add-port=6443/tcp --add-port=2379-2380/tcp --add-port=10250/tcp && "
            "firewall-cmd --reload")),
    Family("NODE_RESOURCE_PRESSURE_LOG", Category.NODE, Severity.WARNING,
           "The kubelet reclaims disk or memory",
           "No kubelet log shows its eviction manager reclaiming resources or image garbage collection "
           "failing to free enough disk.", ("KUBELET_EVICTING", "IMAGE_GC_FAILED"),
           "The node is short of disk (or memory): free space under /var/lib (container images, logs), or "
           "give the node more; the kubelet evicts pods until it is under its thresholds again.",
           ("df -h /var/lib/kubelet /var/lib/containerd", "crictl rmi --prune",
            "kubectl describe node | grep -A6 Conditions")),
    Family("KUBE_PROXY_RULES_FAILING", Category.CONNECTIVITY, Severity.ERROR,
           "kube-proxy cannot program Service rules",
           "No kube-proxy log shows iptables-restore failing.", ("KUBE_PROXY_IPTABLES_FAILED",),
           "kube-proxy's rules are not applied, so Service addresses (the `kubernetes` Service too) do not "
           "work on the node: check the iptables backend (legacy vs nft) matches the node's, and the kernel "
           "modules kube-proxy needs.",
           ("kubectl -n kube-system logs -l k8s-app=kube-proxy --tail=50", "iptables --version",
            "lsmod | grep -E 'ip_tables|nf_tables|ip_vs'")),
    Family("NAME_RESOLUTION_FAILED", Category.CONNECTIVITY, Severity.ERROR,
           "A control-plane name does not resolve",
           "No log shows a lookup of an endpoint name (or localhost) failing with `no such host`.",
           ("LOCALHOST_UNRESOLVED", "DNS_LOOKUP_FAILED"),
           "Make the names resolve on every node: /etc/hosts must map localhost, and the API server / etcd "
           "/ node names in kubeconfigs and flags must be in DNS or /etc/hosts.",
           ("getent hosts localhost", "grep -E 'server:' /etc/kubernetes/*.conf", "cat /etc/resolv.conf")),
    Family("KUBECTL_NOT_CONFIGURED", Category.APISERVER, Severity.INFO,
           "kubectl has no kubeconfig (not an API server fault)",
           "No kubectl output shows it falling back to localhost:8080 for lack of a kubeconfig.",
           ("KUBECTL_NO_KUBECONFIG",),
           "Point kubectl at the cluster: on a kubeadm control-plane node copy /etc/kubernetes/admin.conf to "
           "~/.kube/config (or export KUBECONFIG); on other hosts copy a kubeconfig there first.",
           ("mkdir -p ~/.kube && sudo cp -i /etc/kubernetes/admin.conf ~/.kube/config && "
            "sudo chown \"$(id -u):$(id -g)\" ~/.kube/config", "kubectl config view --minify")),
    Family("SERVICE_VIP_UNREACHABLE", Category.CONNECTIVITY, Severity.ERROR,
           "Pods cannot reach the kubernetes Service",
           "No pod log times out dialling the `kubernetes` Service address (x.x.x.1:443).",
           ("SERVICE_VIP_TIMEOUT",),
           "Traffic to the API server's cluster IP is dropped: check kube-proxy (its rules for the "
           "`kubernetes` Service), the CNI pods, and firewalls between nodes; the endpoints must be the API "
           "servers' real addresses.",
           ("kubectl get endpoints kubernetes -o wide", "kubectl -n kube-system get pods -o wide | grep -E "
            "'proxy|calico|flannel|cilium'", "iptables-save | grep -c KUBE-SVC")),
    # -- HA, scheduling ----------------------------------------------------------------------------
    Family("ETCD_CLOCK_SKEW_LOG", Category.HA, Severity.WARNING, "etcd members' clocks differ",
           "No etcd log says the clock difference against a peer is too high.", ("ETCD_CLOCK_DIFFERENCE",),
           "Synchronise time on every control-plane node (chrony/NTP); leases, certificates and lease TTLs "
           "depend on it.", ("timedatectl", "chronyc tracking")),
    Family("LB_BACKEND_DOWN", Category.HA, Severity.CRITICAL, "Load balancer marks API servers down",
           "No load balancer log (haproxy) marks an API server backend DOWN or has no server available.",
           ("LB_NO_BACKEND", "LB_BACKEND_DOWN", "LB_UPSTREAM_REFUSED"),
           "The load balancer cannot health-check the API servers: they are down, or its checks are blocked "
           "(SELinux `haproxy_connect_any`, a firewall, a wrong port).",
           ("systemctl status haproxy", "setsebool -P haproxy_connect_any 1",
            "curl -k https://127.0.0.1:6443/readyz")),
    Family("VIP_HEALTH_CHECK_FAILED", Category.HA, Severity.WARNING, "VIP health check fails",
           "No keepalived log shows its API server check failing or a FAULT state.", ("VIP_CHECK_FAILED",),
           "keepalived's check of the local API server fails on this node: it should not hold the VIP. Fix "
           "the "
           "local API server, and make the check's weight large enough to move the VIP.",
           ("systemctl status keepalived", "ip addr | grep -w inet", "curl -k https://127.0.0.1:6443/readyz")),
    Family("LEASE_UPDATE_FAILING", Category.HA, Severity.WARNING, "Leader lease updates fail",
           "No controller-manager or scheduler keeps failing to read or update its leader lease without "
           "acquiring it again.", ("RESOURCE_LOCK_ERROR",),
           "Lease updates go through the API server to etcd: slow or failing updates point at an overloaded "
           "API server or etcd.",
           ("kubectl -n kube-system get lease", "kubectl get --raw='/readyz?verbose'"),
           recovery=("LEASE_ACQUIRED",)),
    Family("PODS_UNSCHEDULABLE_LOG", Category.SCHEDULER, Severity.WARNING, "Pods cannot be scheduled",
           "No event or scheduler line says `0/N nodes are available` (FailedScheduling).",
           ("FAILED_SCHEDULING",),
           "No node fits the pod: read the reasons (taints, node selectors, insufficient resources) and fix "
           "the pod's constraints or the nodes.",
           ("kubectl get events -A --field-selector reason=FailedScheduling", "kubectl describe nodes | "
                                                                              "grep -i taint")),
)


def _firewalled(view: ClusterView, port: int) -> bool:
    """A firewall finding explains failures on this port better: some node's rules block it."""
    return any(net.firewall.sources and any(p.number == port and net.firewall.evaluate(probe).blocked
                                            for p, probe in probes(view, net))
               for net in view.network)


def _forming(facts: list[LogSignatureFact]) -> bool:
    """Every election line is at term 1-2: a new cluster electing its first leader."""
    terms = [int(t) for f in facts if f.id in ("ETCD_LOST_LEADER", "ETCD_ELECTION") for t in f.details]
    return bool(terms) and max(terms) <= 2


def _first_election(facts: list[LogSignatureFact]) -> bool:
    """One election at term 1-2 and nothing else: every member starts so (a single member elects
    itself in it), whether or not its log goes on to the result. A loop repeats its election line
    (with pre-vote, at the same term), and a lost leader shows a leader that was there."""
    return (_forming(facts) and all(f.id == "ETCD_ELECTION" for f in facts)
            and sum(f.count for f in facts) == 1)


def _newest_of_source(view: ClusterView, fact: LogSignatureFact) -> dt.datetime | None:
    """The newest line of the named component's log the fact was read from (a journal's writer, e.g.
    hyperkube or systemd, differs from the unit it is the journal of); never a paste's (no one writer)."""
    paths = {e.path for e in fact.examples}
    times = [s.newest for s in view.logs.scanned if s.node == fact.node and s.newest
             and s.component != "unknown" and s.path in paths]
    return max(times, default=None)


def _quiet_since(view: ClusterView, group: list[LogSignatureFact]) -> dt.datetime | None:
    """When the failure's lines ended, if each writer went on logging for RESOLVED_AFTER or more
    without them (clients retry every few seconds while a problem lasts): history. None when it may
    still go on, or when the writer is unnamed (a paste's later lines may be another component's)."""
    ends: list[dt.datetime] = []
    for fact in group:
        newest = view.logs.newest(fact.node, fact.component) or _newest_of_source(view, fact)
        if (fact.component == "unknown" or fact.last_seen is None or newest is None
                or newest - fact.last_seen < RESOLVED_AFTER):
            return None
        ends.append(fact.last_seen)
    return max(ends, default=None)


def _judge(view: ClusterView, family: Family, rule_: Rule) -> Iterator[Finding]:
    found = [f for f in view.logs.select(*family.signatures) if f.component not in family.ignore]
    if family.port and found and _firewalled(view, family.port):
        return
    for facts in _by(found, component=False):
        groups: dict[Category, list[LogSignatureFact]] = {}
        for fact in facts:
            for category in family.categories_of(fact):
                groups.setdefault(category, []).append(fact)
        for category, group in groups.items():
            when = episode(view, group, family.recovery)
            # a start-up blip that resolved (or needs nothing to resolve) is not a finding
            if when.blip and (when.recovered or not family.recovery):
                continue
            if when.recovered and (_forming(group) or not family.history):
                continue
            if _first_election(group):
                continue
            # its lines ended long before collection while their writers logged on: history (a paste's
            # unnamed writer proves nothing: its later lines may be another component's)
            stopped = None if when.recovered else _quiet_since(view, group)
            if stopped and not family.history:
                continue
            worst = min((f.signature.severity for f in group), key=lambda s: s.rank)
            lasting = bool(family.lasting) and max(f.peak for f in group) >= family.lasting
            severity = (family.severity if family.current_is_worst or lasting
                        or worst.rank < family.severity.rank else worst)
            # INFO lines inform only in a family declared INFO (they explain something that is no fault)
            if severity == Severity.INFO and family.severity != Severity.INFO:
                continue
            writers = sorted({f.component for f in group} - {"unknown"})
            where = f" in the log of {', '.join(writers)}" if writers else ""
            details = _top(group)
            yield _finding(
                view, rule_, severity, category, f"{family.title} ({group[0].node})",
                f"{_summary(group)}{where}: {group[0].signature.meaning}."
                + (f" Seen: {details}." if details else ""),
                Remediation(family.remedy, (comment(f"on {group[0].node}"), *family.commands)),
                group, [f"{f.component}: {f.id}" for f in group], recovery=family.recovery,
                stopped=stopped)


def _register(family: Family) -> Rule:
    def check(view: ClusterView) -> Iterator[Finding]:
        return _judge(view, family, registered)

    registered: Rule = rule(family.id, family.category, family.severity, family.title, family.checks,
                            LOG_ITEMS, family.also, family.signatures + family.recovery)(check)
    return registered


RULES: tuple[Rule, ...] = tuple(_register(f) for f in FAMILIES)
