"""Certificate rules on bundles the real collector made from generated kubeadm roots."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from analyzer.report import analyze
from tests.conftest import run_collector
from tests.lab.kubeadm_root import UTC, ClusterPKI, NodeSpec, build_node_root

LIVE = ["--exclude", "etcd.*", "k8s.healthz"]


def bundle_of(root: Path, out: Path) -> Path:
    out.mkdir(exist_ok=True)
    result = run_collector(root, out, *LIVE)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def ids(paths: list[Path]) -> list[tuple[str, str, tuple[str, ...]]]:
    report = analyze(paths)
    return [(f.id, f.severity.value, tuple(f.objects)) for f in report.findings]


def test_healthy_pki_has_no_certificate_findings(tmp_path):
    root = build_node_root(tmp_path / "r", NodeSpec(name="cp-1"))
    assert ids([bundle_of(root, tmp_path / "out")]) == []


def test_client_cert_from_a_foreign_ca_is_caught_by_signature(tmp_path):
    root = build_node_root(tmp_path / "r", NodeSpec(name="cp-1", foreign_ca={"apiserver-etcd-client"}))
    found = ids([bundle_of(root, tmp_path / "out")])
    assert found == [("CERT_CA_MISMATCH", "error", ("/etc/kubernetes/pki/apiserver-etcd-client.crt",))]


def test_same_names_different_key_is_still_a_mismatch(tmp_path):
    """Two CAs both called 'etcd-ca': issuer names match, only the signature tells them apart."""
    now = dt.datetime.now(UTC)
    pki, other = ClusterPKI(now), ClusterPKI(now)
    pki.foreign = other.etcd_ca  # same subject CN=etcd-ca, different key
    root = build_node_root(tmp_path / "r", NodeSpec(name="cp-1", foreign_ca={"etcd/server"}), pki)
    found = ids([bundle_of(root, tmp_path / "out")])
    assert found == [("CERT_CA_MISMATCH", "error", ("/etc/kubernetes/pki/etcd/server.crt",))]


def test_nodes_with_different_cas(tmp_path):
    now = dt.datetime.now(UTC)
    a = build_node_root(tmp_path / "a", NodeSpec(name="cp-1", ip="10.0.0.11"), ClusterPKI(now))
    b = build_node_root(tmp_path / "b", NodeSpec(name="cp-2", ip="10.0.0.12"), ClusterPKI(now))
    found = ids([bundle_of(a, tmp_path / "oa"), bundle_of(b, tmp_path / "ob")])
    differ = [f for f in found if f[0] == "CERT_CA_DIFFERS_BETWEEN_NODES"]
    assert sorted(f[2] for f in differ) == [("/etc/kubernetes/pki/ca.crt",),
                                            ("/etc/kubernetes/pki/etcd/ca.crt",),
                                            ("/etc/kubernetes/pki/front-proxy-ca.crt",)]
    assert all(f[0] == "CERT_CA_DIFFERS_BETWEEN_NODES" for f in found)


def test_expired_ca_and_kubeconfig_client_cert(tmp_path):
    root = build_node_root(tmp_path / "r", NodeSpec(name="cp-1", validity={"scheduler.conf": (-400, -1)}))
    report = analyze([bundle_of(root, tmp_path / "out")])
    [finding] = report.findings
    assert finding.id == "CERT_EXPIRED"
    assert finding.objects == ["/etc/kubernetes/scheduler.conf#system:kube-scheduler"]
    assert finding.evidence[0].path == "files/etc/kubernetes/scheduler.conf"
    assert finding.evidence[0].line and finding.evidence[0].line > 1
    commands = finding.remediation.commands
    assert "kubeadm certs renew scheduler.conf" in commands
    assert any("kube-scheduler.yaml" in c and c.startswith("mv ") for c in commands)


def test_serving_cert_missing_the_advertise_address(tmp_path):
    """The API server advertises 10.0.0.99 but its certificate was issued for 10.0.0.11."""
    spec = NodeSpec(name="cp-1", ip="10.0.0.11",
                    extra_flags={"kube-apiserver": {"advertise-address": "10.0.0.99"}})
    root = build_node_root(tmp_path / "r", spec)
    report = analyze([bundle_of(root, tmp_path / "out")])
    [finding] = report.findings
    assert (finding.id, finding.objects) == ("CERT_SAN_MISSING", ["/etc/kubernetes/pki/apiserver.crt"])
    assert "10.0.0.99 (--advertise-address)" in finding.detail
    # the kubeconfigs point at 10.0.0.11, which the certificate does cover
    assert "admin.conf" not in finding.detail
    assert "kubeadm init phase certs apiserver --config kubeadm-config.yaml" in finding.remediation.commands
