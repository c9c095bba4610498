"""Rules of the API-server / controller-manager / scheduler / HA domain on real evidence.

Bundles are built with tests/bundle_builder.py around real outputs (tests/fixtures/real, tests/fixtures/k8s;
sources in their SOURCES.md). Where a test changes a real text (a lease renamed, a flag line added) the
change is named at that line; pasted outputs go through `k8s_from_text` as loose evidence would.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from analyzer.facts import ClusterView
from analyzer.facts.k8s import Origin, k8s_from_text
from analyzer.report import analyze
from analyzer.rules import all_rules
from tests.bundle_builder import BundleBuilder
from tests.lab.curate import SPECS

FIXTURES = Path(__file__).parent / "fixtures"
REAL, K8S = FIXTURES / "real", FIXTURES / "k8s"
APISERVER = (REAL / "kube-apiserver-static-manifest-v1.29-cppntn.yaml").read_text()
KCM_127 = (K8S / "kube-controller-manager-manifest-v1.27-busygina83.yaml").read_text()
LEASE = (REAL / "kubectl-lease-yaml-koordinator-2095.yaml").read_text()
#: the real Lease object, renamed to the kube-system lease it stands for (same schema, same times)
KCM_LEASE = LEASE.replace("name: koordinator-manager", "name: kube-controller-manager").replace(
    "namespace: koordinator-system", "namespace: kube-system")
MY_RULES = {"APISERVER_CRASHLOOP", "APISERVER_REMOVED_FLAG", "APISERVER_HEALTH_CHECK_FAILED",
            "CONTROLLER_MANAGER_CRASHLOOP", "SCHEDULER_CRASHLOOP", "CONTROLLER_MANAGER_REMOVED_FLAG",
            "PODS_PENDING_UNSCHEDULABLE", "LEASE_STALE", "LEASE_CHURN", "VERSION_SKEW", "ETCD_SERVERS_DIFFER",
            "CONTROL_PLANE_FLAGS_DIFFER", "IMAGE_FROZEN_REGISTRY", "BIND_ADDRESS_ALL_INTERFACES",
            "CNI_PODS_NOT_READY", "COMPONENTSTATUS_FALSE_ALARM"}


def kubectl_list(*objects: str) -> str:
    """Objects in the List envelope `kubectl get -o yaml` prints."""
    items = "".join("- " + "\n  ".join(o.rstrip("\n").splitlines()) + "\n" for o in objects)
    return f"apiVersion: v1\nitems:\n{items}kind: List\nmetadata:\n  resourceVersion: \"\"\n"


def manifest(node: BundleBuilder, component: str, text: str) -> BundleBuilder:
    return node.file("k8s.static_pod_manifest", f"/etc/kubernetes/manifests/{component}.yaml", text)


def found(tmp_path: Path, *nodes: BundleBuilder) -> list[tuple[str, str]]:
    report = analyze([n.write(tmp_path) for n in nodes])
    return sorted((f.id, f.severity.value) for f in report.findings if f.id in MY_RULES)


def loose(text: str, now: str) -> list[tuple[str, str, tuple[str, ...]]]:
    """Run every rule over one pasted kubectl output, judged at `now`."""
    view = ClusterView()
    moment = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
    view.k8s.merge(k8s_from_text(text, Origin("pasted", "loose", "evidence.txt", None, moment)))
    return sorted((f.id, f.severity.value, tuple(f.objects)) for r in all_rules() for f in r.check(view))


# -- bundles ----------------------------------------------------------------------------------------

def test_healthy_control_plane_gives_no_findings(tmp_path):
    node = BundleBuilder("cp-1", collected_at="2024-06-11T04:19:45Z")
    manifest(node, "kube-apiserver", APISERVER).kubeadm_manifests(version="v1.29.0")
    node.command("k8s.leases", SPECS["k8s.leases"].source, stdout=kubectl_list(KCM_LEASE))
    node.command("k8s.readyz", SPECS["k8s.readyz"].source,
                 stdout=(K8S / "readyz-verbose-pass-k8s-docs.txt").read_text() + "readyz check passed\n")
    assert found(tmp_path, node) == []


def test_lease_renewed_longer_ago_than_its_duration_is_stale(tmp_path):
    node = BundleBuilder("cp-1", collected_at="2024-06-11T04:25:00Z")
    node.command("k8s.leases", SPECS["k8s.leases"].source, stdout=kubectl_list(KCM_LEASE))
    report = analyze([node.write(tmp_path)])
    [finding] = [f for f in report.findings if f.id == "LEASE_STALE"]
    assert (finding.severity.value, finding.nodes, finding.objects) == (
        "error", ["koord-manager-74866c758d-h68kc"], ["kube-system/lease/kube-controller-manager"])
    assert "5 min" in finding.title and finding.evidence[0].line == 3


def test_removed_flag_on_124_plus_but_not_on_older_versions(tmp_path):
    # the `--insecure-port=0` line kubeadm wrote until 1.21, left in a 1.29 manifest by an upgrade
    with_flag = APISERVER.replace("    - --kubelet-client-certificate",
                                  "    - --insecure-port=0\n    - --kubelet-client-certificate")
    new = manifest(BundleBuilder("cp-1"), "kube-apiserver", with_flag)
    old = manifest(BundleBuilder("cp-2"), "kube-controller-manager",
                   (K8S / "kube-controller-manager-manifest-v1.8-cmeza99.yaml").read_text())
    report = analyze([new.write(tmp_path), old.write(tmp_path)])
    [finding] = [f for f in report.findings if f.id.endswith("REMOVED_FLAG")]
    assert (finding.id, finding.severity.value, finding.nodes) == (
        "APISERVER_REMOVED_FLAG", "critical", ["cp-1"])
    assert finding.evidence[0].excerpt == "- --insecure-port=0"
    assert "sed -i '/- --insecure-port\\(=\\|$\\)/d' /etc/kubernetes/manifests/kube-apiserver.yaml" in \
        finding.remediation.commands


def test_failing_livez_from_kubectl_stderr(tmp_path):
    node = BundleBuilder("cp-1")
    manifest(node, "kube-apiserver", APISERVER)
    node.command("k8s.livez", SPECS["k8s.livez"].source, exit_code=1,
                 stderr=(K8S / "livez-escaped-etcd-failed-truncated-rke2-7525.txt").read_text())
    report = analyze([node.write(tmp_path)])
    [finding] = [f for f in report.findings if f.id == "APISERVER_HEALTH_CHECK_FAILED"]
    assert (finding.severity.value, finding.evidence[0].path) == ("error", "commands/k8s.livez.err")
    assert "etcd" in finding.title and any("--endpoints=https://127.0.0.1:2379" in c
                                          for c in finding.remediation.commands)


def test_version_skew_controller_manager_two_minors_behind(tmp_path):
    node = manifest(manifest(BundleBuilder("cp-1"), "kube-apiserver", APISERVER), "kube-controller-manager",
                    KCM_127)
    assert found(tmp_path, node) == [("VERSION_SKEW", "error")]


def test_two_kubeadm_nodes_alike_have_no_ha_findings(tmp_path):
    """Per-node addresses differ between the nodes; that is not a configuration difference."""
    one = BundleBuilder("cp-1").kubeadm_manifests(ip="10.0.0.11")
    two = BundleBuilder("cp-2").kubeadm_manifests(ip="10.0.0.12")
    assert found(tmp_path, one, two) == []


def test_nodes_disagreeing_on_etcd_and_flags(tmp_path):
    one = manifest(BundleBuilder("cp-1"), "kube-apiserver", APISERVER)
    # the external etcd list of a published kubeadm manifest (minikube docs), and one flag edited by hand
    other = APISERVER.replace("--etcd-servers=https://127.0.0.1:2379",
                              "--etcd-servers=https://10.240.0.10:2379,https://10.240.0.11:2479").replace(
        "--authorization-mode=Node,RBAC", "--authorization-mode=AlwaysAllow")
    two = manifest(BundleBuilder("cp-2"), "kube-apiserver", other)
    assert found(tmp_path, one, two) == [("CONTROL_PLANE_FLAGS_DIFFER", "warning"),
                                         ("ETCD_SERVERS_DIFFER", "warning")]


def test_frozen_registry_and_exposed_bind_address(tmp_path):
    node = BundleBuilder("cp-1").kubeadm_manifests(
        registry="k8s.gcr.io", extra_flags={"kube-scheduler": {"bind-address": "0.0.0.0"}})
    # etcd keeps its own image setting (registry.k8s.io) in the lab's NodeSpec: three frozen images
    assert found(tmp_path, node) == [("BIND_ADDRESS_ALL_INTERFACES", "warning")] + [
        ("IMAGE_FROZEN_REGISTRY", "warning")] * 3


# -- pasted evidence ---------------------------------------------------------------------------------

def test_restart_loop_after_kubeadm_init():
    got = loose((REAL / "kubectl-get-pods-restart-loop-k8s-117293.txt").read_text(), "2023-04-01T00:00:00Z")
    # etcd-mango: 18 restarts, the last 4m1s ago (ETCD_CRASHLOOP, rules/etcd.py)
    assert [(i, s) for i, s, _ in got] == [("APISERVER_CRASHLOOP", "critical"),
                                           ("CONTROLLER_MANAGER_CRASHLOOP", "warning"),
                                           ("ETCD_CRASHLOOP", "error"),
                                           ("SCHEDULER_CRASHLOOP", "warning")]


def test_controller_manager_in_crashloopbackoff_and_old_apiserver_restarts_not_judged():
    """kube-apiserver shows 17 restarts but nothing says they are recent: no finding (no guess)."""
    got = loose((REAL / "kubectl-get-all-kcm-crashloop-kubespray-6402.txt").read_text(),
                "2020-06-01T00:00:00Z")
    assert got == [("CONTROLLER_MANAGER_CRASHLOOP", "error", ("/kube-controller-manager-fcos-master-dev",))]


def test_cni_pods_down():
    got = loose((REAL / "kubectl-get-pods-kube-system-k8s-63873.txt").read_text(), "2018-05-01T00:00:00Z")
    assert got == [("CNI_PODS_NOT_READY", "error", ("/calico-node-ls4nf",)),
                   ("CNI_PODS_NOT_READY", "error", ("/calico-node-x7nkw",))]


def test_componentstatuses_false_alarm_is_info_only():
    for name in ("kubectl-get-cs-false-alarm-k8s-96101.txt", "kubectl-get-cs-false-alarm-kubeadm-ha-36.txt"):
        got = loose((REAL / name).read_text(), "2020-10-01T00:00:00Z")
        assert [(i, s) for i, s, _ in got] == [("COMPONENTSTATUS_FALSE_ALARM", "info")]
    # etcd members failing their x509 check are no false alarm of this kind
    assert loose((REAL / "kubectl-get-cs-etcd-x509-expired-kubeadm-2177.txt").read_text(),
                 "2020-06-01T00:00:00Z") == []


def test_lease_renewed_within_its_duration_is_not_stale():
    assert loose(KCM_LEASE, "2024-06-11T04:19:45Z") == []
    assert [i for i, _, _ in loose(KCM_LEASE, "2024-06-11T04:19:53.5Z")] == ["LEASE_STALE"]


def test_failing_healthz_bodies():
    for name in ("health-verbose-healthz-etcd-failed-minikube-8427.txt",
                 "health-verbose-healthz-poststarthook-failed-coreos-871.txt"):
        report = analyze([REAL / name])
        assert [(f.id, f.severity.value, tuple(f.objects)) for f in report.findings] == [
            ("APISERVER_HEALTH_CHECK_FAILED", "error", ("/healthz",))]
    assert analyze([REAL / "health-verbose-healthz-pass-k8s-95681.txt"]).findings == []


def test_kubelet_newer_than_the_api_server_from_kubelet_version_when_the_api_is_down(tmp_path):
    """No Node objects (the API server is down): `kubelet --version` on the node says v1.30.0 (the
    format kubelet prints) while the real v1.29.0 kubeadm manifest runs the API server."""
    node = manifest(BundleBuilder("cp-1"), "kube-apiserver", APISERVER)
    node.command("host.kubelet_version", SPECS["host.kubelet_version"].source, stdout="Kubernetes v1.30.0\n")
    report = analyze([node.write(tmp_path)])
    [finding] = [f for f in report.findings if f.id == "VERSION_SKEW"]
    assert "kubelet v1.30.0 on cp-1 is newer than the API server" in finding.detail
    assert any(e.path == "commands/host.kubelet_version.out" for e in finding.evidence)


def test_kubelet_one_minor_older_from_kubelet_version_is_fine(tmp_path):
    node = manifest(BundleBuilder("cp-1"), "kube-apiserver", APISERVER)
    node.command("host.kubelet_version", SPECS["host.kubelet_version"].source, stdout="Kubernetes v1.28.9\n")
    assert found(tmp_path, node) == []
