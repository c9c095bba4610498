"""Log rules on real logs (sources: tests/fixtures/real/SOURCES.md, tests/fixtures/logs/SOURCES.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from analyzer.bundle import open_bundles
from analyzer.facts import build_view
from analyzer.facts.logs import TIMELINE_COLUMNS
from analyzer.report import analyze
from tests.bundle_builder import BundleBuilder

REAL = Path(__file__).parent / "fixtures" / "real"
LOGS = Path(__file__).parent / "fixtures" / "logs"


def _findings(path: Path) -> list[tuple[str, str, str]]:
    return sorted((f.id, f.severity.value, f.category.value) for f in analyze([path]).findings)


@pytest.mark.parametrize("path, expected", [
    (REAL / "klog-apiserver-etcd-refused-k8s-89368.log",
     [("APISERVER_ETCD_CONNECTION_FAILED", "critical", "etcd")]),
    (REAL / "cri-apiserver-etcd-refused-k8s-107491.log",
     [("APISERVER_ETCD_CONNECTION_FAILED", "critical", "etcd")]),
    # an expired certificate is a certificates finding, even without the certificate file; the API
    # server refused on 2379 names etcd as the cause
    (REAL / "cri-apiserver-etcd-cert-expired-k8s-122639.log",
     [("APISERVER_ETCD_CONNECTION_FAILED", "critical", "certificates"),
      ("CERT_EXPIRED_LOG", "critical", "certificates")]),
    (REAL / "klog-apiserver-bind-in-use-rke2-370.log",
     [("APISERVER_BIND_ADDRESS_IN_USE", "critical", "apiserver")]),
    (REAL / "etcd-zap-slow-fdatasync-milvus-21840.log", [("ETCD_SLOW_DISK", "warning", "etcd")]),
    (LOGS / "etcd-zap-nospace-1.log", [("ETCD_DB_SPACE_EXCEEDED_LOG", "critical", "etcd")]),
    (LOGS / "etcd-zap-tls-wrong-ca-cp-1.log", [("ETCD_TLS_REJECTED", "error", "etcd")]),
    (LOGS / "etcd-capnslog-3.4-1.log", [("ETCD_TLS_REJECTED", "error", "etcd")]),
    (LOGS / "etcd-mixed-wrong-port-cp-1.log",
     [("ETCD_TLS_REJECTED", "error", "etcd"), ("TLS_HANDSHAKE_ERRORS", "warning", "connectivity")]),
    (REAL / "journald-scheduler-config-nokind-opsnull-453.log",
     [("SCHEDULER_CONFIG_INVALID", "critical", "scheduler"), ("SERVICE_FAILING", "critical", "scheduler")]),
    # a lease lost because lease requests to :6443 time out: the API server is the cause
    (REAL / "klog-scheduler-lease-lost-kubesphere-6501.log",
     [("APISERVER_UNREACHABLE", "error", "apiserver"), ("LEADER_ELECTION_LOST", "error", "scheduler"),
      ("LEASE_UPDATE_FAILING", "warning", "ha")]),
    (REAL / "klog-scheduler-lost-master-rancher-22384.log",
     [("APISERVER_UNREACHABLE", "error", "apiserver"), ("LEADER_ELECTION_LOST", "error", "scheduler")]),
    (REAL / "klog-apiserver-authn-x509-expired-minikube-11966.log",
     [("CERT_EXPIRED_LOG", "critical", "certificates"), ("RBAC_ERRORS_PERSISTENT", "error", "apiserver")]),
    # 6443 refused: the API server is down (the connectivity finding names the refused port)
    (REAL / "journald-scheduler-apiserver-refused-k8s-41428.log",
     [("APISERVER_UNREACHABLE", "critical", "apiserver"),
      ("CONTROL_PLANE_CONNECTION_REFUSED", "error", "connectivity")]),
    # traps: healthy starts, elections after a member was killed (its peer stays unreachable: a
    # warning, not an election problem), lost quorum's slow applies (the lost leader, not the disk),
    # one RBAC error at startup followed by the lease being acquired
    (LOGS / "etcd-zap-healthy-cp-1.log", []),
    (LOGS / "etcd-zap-one-member-down-cp-1.log", [("ETCD_PEER_UNREACHABLE", "warning", "etcd")]),
    (LOGS / "etcd-zap-quorum-lost-cp-1.log",
     [("ETCD_LEADER_LOST_LOG", "error", "etcd"), ("ETCD_PEER_UNREACHABLE", "warning", "etcd")]),
    (REAL / "klog-kcm-rbac-forbidden-lease-kodekloud-150.log", []),
])
def test_log_rules_on_real_logs(path, expected):
    assert _findings(path) == expected


def test_etcd_names_who_it_rejects_and_why():
    [finding] = analyze([LOGS / "etcd-zap-tls-wrong-ca-cp-1.log"]).findings
    assert finding.objects == [
        "127.0.0.1: it sent no client certificate",
        "127.0.0.1: its client certificate has expired (or is not yet valid)",
        "127.0.0.1: its client certificate is signed by a CA etcd does not trust",
        "127.0.0.1: the client rejected etcd's server certificate (expired, from a CA it does not trust, "
        "or not naming the address it dialled)"]
    assert finding.evidence and all("rejected connection" in e.excerpt for e in finding.evidence)
    assert finding.first_seen is not None
    assert finding.first_seen.isoformat() == "2026-11-27T01:58:36.491000+00:00"


def test_expired_server_certificate_hint_from_etcds_gateway():
    [finding] = analyze([LOGS / "etcd-zap-expired-server-cert-1.log"]).findings
    assert "server.crt" in finding.detail


def test_rbac_errors_that_persist_without_the_lease_are_reported(tmp_path):
    line = (REAL / "klog-kcm-rbac-forbidden-lease-kodekloud-150.log").read_text().splitlines()[0]
    repeated = "\n".join(line.replace("22:23:53", f"22:{m}:53") for m in ("23", "25", "27", "29")) + "\n"
    log = tmp_path / "kube-controller-manager.log"
    log.write_text(repeated)
    [finding] = analyze([log]).findings
    assert (finding.id, finding.category.value, finding.objects) == (
        "RBAC_ERRORS_PERSISTENT", "controller-manager", ["kube-controller-manager"])
    assert any("auth can-i" in c for c in finding.remediation.commands)


def test_tls_remediation_renews_the_etcd_client_certificate_and_restarts_the_static_pod():
    [finding] = [f for f in analyze([REAL / "cri-apiserver-etcd-cert-expired-k8s-122639.log"]).findings
                 if f.id == "APISERVER_ETCD_CONNECTION_FAILED"]
    commands = finding.remediation.commands
    assert "kubeadm certs renew apiserver-etcd-client" in commands
    assert any(c.startswith("mv /etc/kubernetes/manifests/kube-apiserver.yaml") for c in commands)
    assert not any("rollout" in c for c in commands)


def _pod_log(component: str) -> str:
    return f"/var/log/pods/kube-system_{component}-cp_0123/{component}/0.log"


def test_bundles_logs_merge_into_one_view_with_a_timeline(tmp_path):
    one = BundleBuilder("cp-1").file("logs.pod", _pod_log("etcd"),
                                     (LOGS / "etcd-zap-tls-wrong-ca-cp-1.log").read_bytes())
    two = BundleBuilder("cp-2").file("logs.pod", _pod_log("kube-apiserver"),
                                     (REAL / "cri-apiserver-etcd-refused-k8s-107491.log").read_bytes())
    bundles = open_bundles([one.write(tmp_path / "a"), two.write(tmp_path / "b")])
    try:
        view = build_view(bundles)
    finally:
        for bundle in bundles:
            bundle.close()
    rejected = view.logs.select("ETCD_REJECTED_CONNECTION")
    assert [(f.node, f.component, f.count) for f in rejected] == [("cp-1", "etcd", 40)]
    assert rejected[0].examples[0].path.endswith("etcd/0.log") and rejected[0].examples[0].line == 1
    refused = view.logs.select("APISERVER_ETCD_REFUSED")
    assert [(f.node, f.component, f.count) for f in refused] == [("cp-2", "kube-apiserver", 3)]
    frame = view.logs.timeline()
    assert list(frame.columns) == TIMELINE_COLUMNS
    assert frame["minute"].is_monotonic_increasing and str(frame["minute"].dt.tz) == "UTC"
    totals = frame.groupby(["node", "signature"])["count"].sum().to_dict()
    assert totals[("cp-1", "ETCD_REJECTED_CONNECTION")] == 40
    assert totals[("cp-2", "APISERVER_ETCD_REFUSED")] == 3


@pytest.mark.parametrize("flags, named, cited", [
    ({"kube-scheduler": {"config": "/etc/kubernetes/scheduler-config.yaml"}},
     ["kube-scheduler --config=/etc/kubernetes/scheduler-config.yaml"], True),
    ({}, ["kube-scheduler --config"], False),
])
def test_scheduler_config_names_the_file_its_manifest_passes(tmp_path, flags, named, cited):
    """The log says the config's apiVersion is unknown; the manifest's --config line says which file."""
    node = BundleBuilder("cp-1").kubeadm_manifests(extra_flags=flags).command(
        "journal.control_plane", ["journalctl", "-u", "kube-scheduler"],
        (REAL / "journald-scheduler-config-nokind-opsnull-453.log").read_bytes())
    [finding] = [f for f in analyze([node.write(tmp_path / "b")]).findings
                 if f.id == "SCHEDULER_CONFIG_INVALID"]
    assert (finding.id, finding.objects) == ("SCHEDULER_CONFIG_INVALID", named)
    manifest_lines = [e.excerpt for e in finding.evidence if e.path.endswith("kube-scheduler.yaml")]
    assert manifest_lines == (["- --config=/etc/kubernetes/scheduler-config.yaml"] if cited else [])
    assert any("no kind" in e.excerpt for e in finding.evidence)
    grep = "grep -n apiVersion /etc/kubernetes/scheduler-config.yaml"
    assert (grep in finding.remediation.commands) == cited


@pytest.mark.parametrize("since, severity", [("22m", "warning"), ("5h32m", "error")])
def test_a_degraded_operator_is_an_error_once_it_has_lasted_an_hour(tmp_path, since, severity):
    # the table row of OKD 4.7's `oc get co` (https://github.com/okd-project/okd/issues/644), its age varied
    table = tmp_path / "oc-get-co.txt"
    table.write_text(
        "NAME                      VERSION                         AVAILABLE  PROGRESSING  DEGRADED  SINCE\n"
        f"kube-controller-manager   4.7.0-0.okd-2021-04-24-103438   True       True         True      {since}"
        "\n")
    found = [(f.id, f.severity.value, f.category.value) for f in analyze([table]).findings]
    assert ("OPERATOR_DEGRADED", severity, "controller-manager") in found


def test_rbac_errors_at_start_up_then_synced_caches_are_history(tmp_path):
    # the scheduler's lists are forbidden while the API server builds its bootstrap RBAC; its caches
    # sync two seconds later: the start-up race, not a standing RBAC problem
    item = Path(__file__).parent / "corpus" / "control-ha-node" / \
        "minikube-logs-scheduler-rbac-startup-healthy-minikube-8561.txt"
    assert "RBAC_ERRORS_PERSISTENT" not in {f.id for f in analyze([item]).findings}
    # the same lines with the caches synced *before* the errors: nothing shows the errors ended
    *errors, synced = item.read_text().splitlines()
    before = tmp_path / "scheduler.txt"
    before.write_text("\n".join([synced.replace("20:48:29", "20:48:26"), *errors]) + "\n")
    assert "RBAC_ERRORS_PERSISTENT" in {f.id for f in analyze([before]).findings}
