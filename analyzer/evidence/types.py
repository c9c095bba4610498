"""The one table of evidence types: what each is, which command lines announce it, the bundle item id
it becomes, the parser that reads it and a real example (docs/evidence.md is written from it).

A bundle item and a pasted segment of the same type go through the same row, so a form accepted in
one is accepted in the other: readers only locate text and name its type (analyzer/evidence/reader.py);
facts read items by id; parsers never know where text came from.

>>> by_command("sudo ETCDCTL_API=3 etcdctl --endpoints=https://10.0.0.1:2379 endpoint status -w table")
'etcdctl-status'
>>> by_command("kubectl get pods -n kube-system"), by_command("ls -l")
('kubectl-pods', None)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ..parsers.crictl import parse_crictl_inspect, parse_crictl_ps, parse_crictl_ps_json, parse_docker_ps
from ..parsers.etcdctl import (
    parse_alarm_list,
    parse_cluster_health,
    parse_endpoint_health,
    parse_endpoint_status,
    parse_member_list,
)
from ..parsers.health import parse_health
from ..parsers.host import parse_chrony, parse_df, parse_du, parse_systemctl_status, parse_timedatectl
from ..parsers.iptables import parse_iptables_list, parse_iptables_save
from ..parsers.kubeadm_certs import parse_check_expiration
from ..parsers.kubeadm_output import parse_kubeadm_output
from ..parsers.kubeconfig import parse_kubeconfig
from ..parsers.kubectl import parse_kubectl_errors, parse_kubectl_text, parse_version_json
from ..parsers.kversion import parse_version_output
from ..parsers.manifests import parse_static_pod
from ..parsers.nft import parse_nft
from ..parsers.ss import parse_ss
from ..parsers.ufw import parse_ufw
from ..parsers.x509 import parse_pem
from ..parsers.x509_text import parse_openssl_dates, parse_x509_text

#: a log is not parsed into records: analyzer/logs/scan.py reads it line by line
SCANNED = None


@dataclass(frozen=True)
class EvidenceType:
    """One kind of evidence. `commands`: regexes matched against a command line (prompt removed)
    that announce this output; `item_id`: the collector's item id for the same output (`loose.*`
    when the collector has none); `example`: a real sample under tests/fixtures."""

    name: str
    item_id: str
    what: str
    parser: Callable[[str], object] | None
    example: str
    commands: tuple[str, ...] = ()
    is_log: bool = False
    #: etcdctl and kubectl print some of these on stderr: the item's stderr is the text too
    stderr_too: bool = False


_ETCDCTL = r"\betcdctl\b.*\b"
_GET = r"\b(?:kubectl|oc|k)\s.*\bget\s+"

TYPES: dict[str, EvidenceType] = {t.name: t for t in (
    EvidenceType("klog", "logs.pod", "klog lines (kube-apiserver, controller-manager, scheduler, kubelet), "
                 "also cut down to their caller (`file.go:123] ...`), labelled with their writer "
                 "(`kube-apiserver: W0306 ...`) or a CI runner's time, and a component's start-up stderr "
                 "(`Flag --x has been deprecated`, `error: failed to run Kubelet: ...`)",
                 SCANNED, "real/klog-apiserver-etcd-refused-k8s-89368.log",
                 (r"\b(?:kubectl|oc|k)\s.*\blogs\b", r"\bstern\b", r"\bcrictl\b.*\blogs\b",
                  r"\bdocker\b.*\blogs\b",
                  r"\bminikube\b.*\blogs\b"), is_log=True),
    EvidenceType("etcd-zap", "logs.pod", "etcd's zap JSON log", SCANNED,
                 "real/etcd-zap-slow-fdatasync-milvus-21840.log", is_log=True),
    EvidenceType("etcd-capnslog", "logs.pod", "etcd 3.4's capnslog text log", SCANNED,
                 "logs/etcd-capnslog-3.4-1.log", is_log=True),
    EvidenceType("logrus", "logs.pod", "logrus lines (k3s, kine, k0s, containerd, dockerd): "
                 "`time=... level=...` or `INFO[0300] ...`", SCANNED,
                 "real/logrus-kine-compact-k3s-11269.txt", is_log=True),
    EvidenceType("go-panic", "logs.pod", "a Go panic and its goroutine stacks (etcd, bbolt, a component)",
                 SCANNED, "real/go-panic-bbolt-page-assertion-etcd-18096.txt", is_log=True),
    EvidenceType("cri-log", "logs.pod", "a container log in CRI format (/var/log/pods)", SCANNED,
                 "real/cri-apiserver-etcd-refused-k8s-107491.log",
                 (r"/var/log/(?:pods|containers)/",), is_log=True),
    EvidenceType("docker-json-log", "logs.pod", "a docker json-file container log", SCANNED,
                 "real/docker-json-apiserver-refused-k8s-45787.log", is_log=True),
    EvidenceType("journald", "journal.control_plane",
                 "journalctl output (short, short-iso, short-precise, RFC 3339) and syslog files", SCANNED,
                 "real/journald-kubelet-register-refused-kubeadm-1026.log",
                 (r"\bjournalctl\b", r"/var/log/(?:syslog|messages)\b"), is_log=True),
    EvidenceType("kubeadm-output", "logs.kubeadm", "kubeadm init/join/upgrade output ([kubelet-check], "
                 "[api-check], [upgrade/...] phases and their errors)", parse_kubeadm_output,
                 "real/kubeadm-init-kubelet-check-timeout-techiescamp-11.txt",
                 (r"\bkubeadm\s+(?:init|join|upgrade|reset)\b",), is_log=True),
    EvidenceType("kubectl-client-error", "logs.kubectl", "kubectl's own errors (connection refused, "
                 "x509, Unable to connect to the server)", parse_kubectl_errors,
                 "real/kubectl-refused-6443-website-19461.txt", is_log=True, stderr_too=True),
    EvidenceType("etcdctl-status", "etcd.endpoint_status", "etcdctl endpoint status (table, simple, JSON)",
                 parse_endpoint_status, "etcd/00-healthy/endpoint_status_table.stdout",
                 (_ETCDCTL + r"endpoint\s+status\b",), stderr_too=True),
    EvidenceType("etcdctl-health", "etcd.endpoint_health", "etcdctl endpoint health (plain, table, JSON)",
                 parse_endpoint_health, "etcd/00-healthy/endpoint_health.stderr",
                 (_ETCDCTL + r"endpoint\s+health\b",), stderr_too=True),
    EvidenceType("etcdctl-cluster-health", "etcd.cluster_health", "etcdctl cluster-health (API v2)",
                 parse_cluster_health, "real/etcdctl-cluster-health-v2-unreachable-etcd-3852.txt",
                 (_ETCDCTL + r"cluster-health\b",), stderr_too=True),
    EvidenceType("etcdctl-members", "etcd.member_list", "etcdctl member list (table, simple, JSON)",
                 parse_member_list, "etcd/00-healthy/member_list_table.stdout",
                 (_ETCDCTL + r"member\s+list\b",), stderr_too=True),
    EvidenceType("etcdctl-alarms", "etcd.alarm_list", "etcdctl alarm list (plain, JSON)", parse_alarm_list,
                 "etcd/c-nospace/alarm_list.stdout", (_ETCDCTL + r"alarm\s+list\b",)),
    EvidenceType("kubeadm-certs", "loose.kubeadm_certs", "kubeadm certs check-expiration",
                 parse_check_expiration, "real/kubeadm-certs-external-etcd-kubeadm-2866.txt",
                 (r"\bkubeadm\b.*\bcheck-expiration\b",)),
    EvidenceType("kubectl-pods", "k8s.pods", "kubectl get pods (table, YAML, JSON)", parse_kubectl_text,
                 "real/kubectl-get-pods-restart-loop-k8s-117293.txt", (_GET + r"(?:pods?|po)\b",)),
    EvidenceType("kubectl-describe-pod", "k8s.pods",
                 "kubectl describe pod (state, last termination, restarts, events)", parse_kubectl_text,
                 "real/kubectl-describe-pod-crashloop-portainer-5314.txt",
                 (r"\b(?:kubectl|oc|k)\s.*\bdescribe\s+(?:pods?|po)\b",)),
    EvidenceType("kubectl-nodes", "k8s.nodes", "kubectl get nodes (table, YAML, JSON; kubectl < 1.2's LABELS "
                 "column, rows without their header, `watch` output)", parse_kubectl_text,
                 "real/kubectl-get-nodes-notready-k3s-5864.txt", (_GET + r"(?:nodes?|no)\b",)),
    EvidenceType("kubectl-describe-node", "k8s.nodes", "kubectl describe node (roles, conditions, kubelet "
                 "version)", parse_kubectl_text, "real/kubectl-describe-node-master-pleg-jupyter-et-13.txt",
                 (r"\b(?:kubectl|oc|k)\s.*\bdescribe\s+(?:nodes?|no)\b",)),
    EvidenceType("kubectl-events", "k8s.events", "kubectl get events / describe's Events",
                 parse_kubectl_text, "real/kubectl-describe-events-apiserver-probes-kodekloud-150.txt",
                 (_GET + r"(?:events?|ev)\b",)),
    EvidenceType("kubectl-leases", "k8s.leases", "kubectl get leases (table, YAML, JSON)", parse_kubectl_text,
                 "real/kubectl-lease-yaml-koordinator-2095.yaml", (_GET + r"leases?\b",)),
    EvidenceType("kubectl-componentstatuses", "k8s.componentstatuses", "kubectl get componentstatuses",
                 parse_kubectl_text, "real/kubectl-get-cs-etcd-x509-expired-kubeadm-2177.txt",
                 (_GET + r"(?:cs|componentstatus(?:es)?)\b",)),
    EvidenceType("kubectl-csr", "k8s.csrs", "kubectl get csr / oc get csr (with or without the header)",
                 parse_kubectl_text, "real/kubectl-get-csr-bootstrap-pending-k8s-65843.txt",
                 (_GET + r"(?:csr|certificatesigningrequests?)\b",)),
    EvidenceType("openshift-clusteroperators", "ocp.clusteroperators", "oc get clusteroperators (OpenShift)",
                 parse_kubectl_text, "real/oc-get-clusteroperators-degraded-installer-2646.txt",
                 (_GET + r"(?:co|clusteroperators?)\b",)),
    EvidenceType("kubectl-version", "k8s.version", "kubectl version (JSON, `version.Info{...}`, `--short`)",
                 parse_version_json, "real/kubectl-version-client-skew-warning-scheduler-plugins-860.txt",
                 (r"\b(?:kubectl|oc|k)\s+version\b",)),
    EvidenceType("static-pod-manifest", "k8s.static_pod_manifest", "a static pod manifest", parse_static_pod,
                 "real/kube-apiserver-static-manifest-v1.29-cppntn.yaml", (r"/etc/kubernetes/manifests/",)),
    EvidenceType("kubeconfig", "k8s.kubeconfig", "a kubeconfig", parse_kubeconfig,
                 ""),
    EvidenceType("health-verbose", "k8s.readyz", "/healthz, /livez or /readyz?verbose output", parse_health,
                 "real/health-verbose-healthz-etcd-failed-minikube-8427.txt",
                 (r"/(?:healthz|livez|readyz)\b",)),
    EvidenceType("openssl-dates", "loose.x509_text", "openssl x509 -enddate / -dates / -startdate",
                 parse_openssl_dates, "real/openssl-enddate-expired-udacity-ud615-5.txt",
                 (r"\bopenssl\b.*-(?:enddate|dates|startdate)\b",)),
    EvidenceType("x509-text", "loose.x509_text", "openssl x509 -text without the PEM block (or fragments "
                 "of it: Validity and Subject)", parse_x509_text,
                 "real/openssl-x509-text-apiserver-elided-opsnull.txt", (r"\bopenssl\b.*\s-text\b",)),
    EvidenceType("pem", "pki.cert", "PEM certificates (also openssl x509 -text with its PEM block)",
                 parse_pem,
                 "certs/openssl-x509-text-apiserver-openssl3.crt"),
    EvidenceType("iptables-save", "net.iptables_save", "iptables-save, iptables -S / --list-rules",
                 parse_iptables_save, "network/policy-drop-accept-6443.iptables-save.txt",
                 (r"\biptables-save\b", r"\bip6?tables\b.*\s(?:-\w*S\b|--list-rules\b)")),
    # the network facts read an `iptables -L` listing from the same item (facts/network.py)
    EvidenceType("iptables-list", "net.iptables_save", "iptables -L -n [-v]", parse_iptables_list,
                 "real/iptables-L-n-kilo-29.txt", (r"\biptables\b.*\s-\w*L",)),
    EvidenceType("nft-ruleset", "net.nft_ruleset", "nft list ruleset", parse_nft,
                 "network/nft-inet-policy-drop.nft-list-ruleset.txt", (r"\bnft\b.*\blist\b",)),
    EvidenceType("ufw-status", "net.ufw_status", "ufw status [verbose]", parse_ufw,
                 "real/ufw-status-verbose-hetzner-kube-226.txt", (r"\bufw\s+status\b",)),
    EvidenceType("crictl-ps", "cri.ps", "crictl ps -a", parse_crictl_ps,
                 "real/crictl-ps-a-apiserver-exited-containerd-9545.txt",
                 (r"\bcrictl\b.*\bps\b(?!.*-o\s*json)",)),
    EvidenceType("crictl-ps-json", "cri.ps_json", "crictl ps -a -o json", parse_crictl_ps_json,
                 "", (r"\bcrictl\b.*\bps\b.*-o\s*json",)),
    EvidenceType("crictl-inspect", "cri.inspect", "crictl inspect CONTAINER", parse_crictl_inspect,
                 "", (r"\bcrictl\b.*\binspect\b",)),
    EvidenceType("docker-ps", "loose.docker_ps", "docker ps -a", parse_docker_ps,
                 "real/docker-ps-a-apiserver-exited-k8s-89368.txt", (r"\bdocker\b.*\bps\b",)),
    EvidenceType("df", "host.df", "df -h / df -P -k", parse_df, "real/df-h-full-root-minikube-9024.txt",
                 (r"\bdf\b",)),
    EvidenceType("du", "etcd.data_dir_usage", "du -sk of etcd's data dir", parse_du, "", (r"\bdu\s+-s",)),
    EvidenceType("kubelet-version", "host.kubelet_version", "kubelet --version", parse_version_output, "",
                 (r"\bkubelet\s+--version\b",)),
    EvidenceType("systemctl-status", "host.systemctl_status", "systemctl status UNIT", parse_systemctl_status,
                 "real/systemctl-status-kubelet-failed-kubelet-4.txt", (r"\bsystemctl\b.*\bstatus\b",)),
    EvidenceType("ss-listening", "net.listening", "ss -ltnp", parse_ss,
                 "real/ss-tlpn-control-plane-kubeadm-1647.txt",
                 (r"\b(?:ss|netstat)\b.*\s-\w*l",)),
    EvidenceType("timedatectl", "host.timedatectl", "timedatectl status", parse_timedatectl,
                 "real/timesync-timedatectl-not-synced-cb1-188.txt", (r"\btimedatectl\b",)),
    EvidenceType("chrony", "host.chrony", "chronyc tracking", parse_chrony,
                 "real/timesync-chronyc-tracking-skew-telegraf-2988.txt", (r"\bchronyc\b",)),
)}

#: item ids whose failure is itself evidence (etcd that does not answer, a failing health check):
#: an error or a timeout there is read, not a reason to call the rules that need it "not checked"
PROBES = frozenset({"etcd.endpoint_health", "etcd.endpoint_status", "etcd.endpoint_status_local",
                    "etcd.member_list", "etcd.alarm_list", "etcd.cluster_health", "k8s.healthz", "k8s.livez",
                    "k8s.readyz", "logs.kubectl"})

_COMMANDS = [(re.compile(p), t.name) for t in TYPES.values() for p in t.commands]


def by_command(command: str) -> str | None:
    """The type a command line announces (the prompt already removed), or None."""
    return next((name for pattern, name in _COMMANDS if pattern.search(command)), None)


def type_names() -> str:
    return ", ".join(TYPES)
