"""Parsers of the Kubernetes-objects domain on real outputs (sources: tests/fixtures/*/SOURCES.md)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from analyzer.parsers.health import parse_health
from analyzer.parsers.kubectl import (
    componentstatus_from_row,
    load_objects,
    node_from_row,
    parse_lease,
    parse_pod,
    parse_table,
    parse_version_json,
    pod_from_row,
)
from analyzer.parsers.manifests import parse_static_pod

FIXTURES = Path(__file__).parent / "fixtures"
REAL, K8S = FIXTURES / "real", FIXTURES / "k8s"


def read(path: Path) -> str:
    return path.read_text()


def test_kubeadm_apiserver_manifest():
    text = read(REAL / "kube-apiserver-static-manifest-v1.29-cppntn.yaml")
    pod = parse_static_pod(text)
    assert (pod.component, pod.image, str(pod.version)) == (
        "kube-apiserver", "registry.k8s.io/kube-apiserver:v1.29.0", "v1.29.0")
    assert pod.flags["etcd-servers"] == "https://127.0.0.1:2379"
    assert len(pod.flags) == 27 and pod.repeated == {}
    lines = text.splitlines()
    assert lines[pod.flag_lines["etcd-servers"] - 1].strip() == "- --etcd-servers=https://127.0.0.1:2379"
    assert text.splitlines()[pod.image_line - 1].strip() == "image: registry.k8s.io/kube-apiserver:v1.29.0"
    assert [(p.kind, p.path, p.port) for p in pod.probes] == [
        ("liveness", "/livez", "6443"), ("readiness", "/readyz", "6443"), ("startup", "/livez", "6443")]


def test_old_controller_manager_manifest_with_insecure_address():
    pod = parse_static_pod(read(K8S / "kube-controller-manager-manifest-v1.8-cmeza99.yaml"))
    assert (pod.component, pod.version.minor, pod.flags["address"]) == (
        "kube-controller-manager", 8, "127.0.0.1")
    assert [(p.scheme, p.port) for p in pod.probes] == [("HTTP", "10252")]


def test_repeated_flags_keep_every_value():
    text = read(K8S / "kube-scheduler-manifest-v1.27-busygina83.yaml").replace(
        "    - --leader-elect=true\n", "    - --leader-elect=true\n    - --leader-elect=false\n")
    pod = parse_static_pod(text)
    assert pod.flags["leader-elect"] == "false"
    assert pod.repeated == {"leader-elect": ["true", "false"]}


@pytest.mark.parametrize("path", sorted(K8S.glob("*.yaml")) + sorted(REAL.glob("kube-apiserver-*.yaml")),
                         ids=lambda p: p.name)
def test_truncated_manifests_never_raise(path):
    text = read(path)
    for cut in range(0, len(text), max(1, len(text) // 25)):
        pod = parse_static_pod(text[:cut])
        assert pod.problems or pod.component


def test_pod_with_crashlooping_init_container():
    objs = load_objects(read(K8S / "kubectl-pod-yaml-init-crashloop-kodekloud-notes.yaml"))
    pod = parse_pod(objs.items[0], objs.lines[0])
    init, main = pod.containers
    assert (pod.name, pod.phase, pod.ready, pod.node_name) == ("orange", "Pending", False, "controlplane")
    assert (init.init, init.restart_count, init.waiting_reason) == (True, 3, "CrashLoopBackOff")
    assert (init.last_terminated.reason, init.last_terminated.exit_code) == ("Error", 127)
    assert init.last_terminated.finished_at == dt.datetime(2023, 5, 3, 0, 2, 1, tzinfo=dt.timezone.utc)
    assert (main.init, main.waiting_reason, main.last_terminated) == (False, "PodInitializing", None)


def test_pod_status_block_without_metadata():
    objs = load_objects(read(REAL / "kubectl-yaml-pod-status-runcontainererror-k8s-14491.yaml"))
    pod = parse_pod(objs.items[0])
    assert (pod.phase, pod.containers[0].waiting_reason, pod.containers[0].restart_count) == (
        "Pending", "RunContainerError", 0)


def test_items_of_a_list_get_their_line():
    pod = read(K8S / "kubectl-pod-yaml-init-crashloop-kodekloud-notes.yaml")
    listed = "apiVersion: v1\nitems:\n" + "".join(
        "- " + "\n  ".join(pod.rstrip("\n").splitlines()) + "\n" for _ in range(2)) + "kind: List\n"
    objs = load_objects(listed)
    assert objs.lines == [3, 3 + len(pod.splitlines())]
    assert listed.splitlines()[objs.lines[1] - 1] == "- apiVersion: v1"


def test_lease_and_version():
    objs = load_objects(read(REAL / "kubectl-lease-yaml-koordinator-2095.yaml"))
    lease = parse_lease(objs.items[0], objs.lines[0])
    assert (lease.duration_s, lease.transitions) == (15, 2)
    assert lease.created == dt.datetime(2024, 6, 7, 10, 55, 9, tzinfo=dt.timezone.utc)
    info = parse_version_json(read(K8S / "kubectl-version-json-v1.25-k8s-docker-install.json"))
    assert (str(info.client), str(info.server)) == ("v1.25.7", "v1.25.7")


def test_tables():
    table = parse_table(read(REAL / "kubectl-get-pods-restart-loop-k8s-117293.txt"))
    pods = [pod_from_row(r) for r in table]
    api = next(p for p in pods if p.component == "kube-apiserver")
    assert (api.ready, api.containers[0].restart_count, api.containers[0].last_restart_ago) == (
        False, 14, dt.timedelta(seconds=12))
    table = parse_table(read(REAL / "kubectl-get-all-kcm-crashloop-kubespray-6402.txt"))
    kcm = [pod_from_row(r) for r in table]
    crash = next(p for p in kcm if p.component == "kube-controller-manager")
    assert (crash.name, crash.containers[0].waiting_reason, crash.containers[0].restart_count) == (
        "kube-controller-manager-fcos-master-dev", "CrashLoopBackOff", 50)
    nodes = [node_from_row(r) for r in parse_table(read(REAL / "kubectl-get-nodes-notready-k3s-5864.txt"))]
    assert [(n.name, n.ready, n.roles, n.kubelet_version.minor) for n in nodes] == [
        ("stg-vgw-2", False, [], 21), ("stg-vgw-3", False, [], 21),
        ("stg-vgw-1", True, ["control-plane", "master"], 21)]
    table = parse_table(read(REAL / "kubectl-get-cs-false-alarm-kubeadm-ha-36.txt"))
    cs = [componentstatus_from_row(r) for r in table]
    assert [(c.name, c.healthy, c.line) for c in cs][:2] == [("scheduler", False, 3),
                                                            ("controller-manager", False, 4)]


@pytest.mark.parametrize("name, endpoint, passed, failed", [
    ("real/health-verbose-healthz-pass-k8s-95681.txt", "healthz", True, []),
    ("real/health-verbose-healthz-etcd-failed-minikube-8427.txt", "healthz", False, ["etcd"]),
    ("real/health-verbose-healthz-poststarthook-failed-coreos-871.txt", "healthz", False,
     ["poststarthook/bootstrap-controller", "poststarthook/rbac/bootstrap-roles"]),
    ("k8s/livez-escaped-etcd-failed-truncated-rke2-7525.txt", "", False, ["etcd"]),
    ("k8s/readyz-verbose-pass-k8s-docs.txt", "", True, []),
])
def test_health_bodies(name, endpoint, passed, failed):
    report = parse_health(read(FIXTURES / name))
    assert (report.endpoint, report.passed, [c.name for c in report.failed]) == (endpoint, passed, failed)


@pytest.mark.parametrize("path", [REAL / "health-verbose-healthz-etcd-failed-minikube-8427.txt",
                                  K8S / "kubectl-pod-yaml-init-crashloop-kodekloud-notes.yaml",
                                  REAL / "kubectl-get-pods-restart-loop-k8s-117293.txt"],
                         ids=lambda p: p.name)
def test_truncated_kubectl_outputs_never_raise(path):
    text = read(path)
    for cut in range(0, len(text), 7):
        parse_health(text[:cut])
        for obj in load_objects(text[:cut]).items:
            parse_pod(obj)
        for row in parse_table(text[:cut]):
            pod_from_row(row)
