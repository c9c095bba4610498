"""Forms of control-plane output the real-evidence corpus holds (tests/corpus, each item's source in
the `.yaml` beside it), read through the product path (`kubetriage analyze FILE`) exactly as a user
runs it: each is recognised as its evidence type, not "Input not understood"."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main

CORPUS = Path(__file__).parent / "corpus"


def report(path: Path) -> dict:
    result = CliRunner().invoke(main, ["analyze", str(path), "-f", "json", "--quiet"])
    assert result.exit_code == 0, result.stdout + result.stderr
    return json.loads(result.stdout)


def types_read(rep: dict) -> list[str]:
    return [t for a in rep["inputs"] for _, _, t in a["segments"]]


@pytest.mark.parametrize("item, kind", [
    # `kubectl get csr/NAME` of a user's own request (1.18+ SIGNERNAME column), and a headerless row
    ("apiserver-certs/csr-approved-failed-signer-validation-website-24405.txt", "kubectl-csr"),
    ("apiserver-certs/csr-approved-issued-k3s-healthy-website-24405.txt", "kubectl-csr"),
    ("apiserver-certs/csr-approved-never-issued-user-k8sio-3467.txt", "kubectl-csr"),
    # kubectl < 1.0 node rows without their header; `watch kubectl get nodes` with the LABELS column
    ("control-ha-node/kubectl-get-nodes-notready-2015-k8s-10486.txt", "kubectl-nodes"),
    ("control-ha-node/kubectl-get-nodes-notready-watch-k8s-12269.txt", "kubectl-nodes"),
    # kubectl 1.16's componentstatuses: NAME and AGE `<unknown>`, no health
    ("etcd/get-cs-unknown-age-kubectl-116-rke-984.txt", "kubectl-componentstatuses"),
    ("control-ha-node/kubectl-describe-node-master-pleg-jupyter-et-13.txt", "kubectl-describe-node"),
    # a prompt after a step number: `1) [user@host ~]$ sudo docker ps -a`
    ("etcd/docker-ps-a-etcd-apiserver-exited-k8s-88205.txt", "docker-ps"),
    # `kubectl version` as text: version.Info{...} (before 1.28) and the short form with its skew warning
    ("control-ha-node/kubectl-version-client-plus-one-healthy-kubevirt-97.txt", "kubectl-version"),
    ("control-ha-node/kubectl-version-client-skew-warning-scheduler-plugins-860.txt", "kubectl-version"),
    # kubeadm: `upgrade apply`'s version refusal with its prefix cut, `upgrade plan`'s table, and
    # `upgrade apply` as ansible's yaml callback printed its stdout_lines (`  - '...'`)
    ("control-ha-node/kubeadm-upgrade-kubelets-too-old-k8s-60893.txt", "kubeadm-output"),
    ("control-ha-node/kubeadm-upgrade-plan-mixed-kubelets-healthy-kubeadm-713.txt", "kubeadm-output"),
    ("apiserver-certs/upgrade-apiserver-hash-changed-success-healthy-k8s-gitops-237.txt", "kubeadm-output"),
    # `iptables -L` echoed on a serial console (`[ 14.414142] : ` before each line, a ruler above)
    ("control-ha-node/iptables-input-policy-drop-console-k8s-83063.txt", "iptables-list"),
    ("control-ha-node/iptables-list-rules-kube-services-reject-healthy-k8s-43969.txt", "iptables-save"),
    # klog cut down to its caller, a reflector message alone, start-up stderr, a writer's label, CI time
    ("apiserver-certs/kubelet-apiserver-liveness-dead-restart-kube-spawn-15.txt", "klog"),
    ("apiserver-certs/scheduler-forbidden-once-startup-healthy-kubernetes-90924.txt", "klog"),
    ("apiserver-certs/openshift-kas-deprecated-flags-healthy-kube-apiserver-operator-975.txt", "klog"),
    ("apiserver-certs/kubelet-csr-forbidden-kubelet-bootstrap-kubernetes-53711.txt", "klog"),
    ("etcd/apiserver-watch-compacted-warning-k8s-116289.txt", "klog"),
    ("control-ha-node/kind-healthz-polling-ci-timestamps-kind-3298.txt", "klog"),
    # `Error from server: error dialing backend: ...` (no status in parentheses) under `kubectl exec`
    ("control-ha-node/kubectl-exec-10250-io-timeout-k8s-107186.txt", "kubectl-client-error"),
])
def test_corpus_form_is_read_as_its_type(item, kind):
    rep = report(CORPUS / item)
    assert kind in types_read(rep)
    assert rep["verdict"]["kind"] != "not-understood"


def test_a_master_not_ready_in_describe_node_is_a_finding_citing_its_condition():
    rep = report(CORPUS / "control-ha-node/kubectl-describe-node-master-pleg-jupyter-et-13.txt")
    [finding] = [f for f in rep["findings"] if f["id"] == "CONTROL_PLANE_NODE_NOT_READY"]
    assert "PLEG is not healthy" in finding["detail"]
    assert finding["evidence"][0]["line"] == 11


def test_componentstatuses_without_health_are_read_but_prove_nothing():
    rep = report(CORPUS / "etcd/get-cs-unknown-age-kubectl-116-rke-984.txt")
    assert rep["findings"] == [] and rep["verdict"]["kind"] == "partial"


def test_a_binarys_build_date_is_not_when_its_version_was_printed():
    rep = report(CORPUS / "control-ha-node/kubectl-version-client-plus-one-healthy-kubevirt-97.txt")
    assert not any("2019-06" in p for p in rep["problems"])


def test_a_drop_policy_listed_on_a_serial_console_is_a_finding():
    rep = report(CORPUS / "control-ha-node/iptables-input-policy-drop-console-k8s-83063.txt")
    assert "FIREWALL_BLOCKS_CONTROL_PLANE_PORT" in {f["id"] for f in rep["findings"]}
