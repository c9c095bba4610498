"""The real bundles of other tools in the workplace's `shared/real-bundles/` (not in the repository):
each analyzed as a whole, as a user would, gives the conclusions its EXPECTED.md lists."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer.cli import main

REPO = Path(__file__).resolve().parents[1]
#: beside the checkout (<repo>/../shared), or beside the folder of worktrees (<repo>/../../shared)
REAL = next((p for p in (REPO.parent / "shared" / "real-bundles",
                          REPO.parent.parent / "shared" / "real-bundles") if p.is_dir()), None)
BAD = {"error", "critical"}


def analyze(name: str) -> dict[str, Any]:
    if REAL is None or not (REAL / name).is_dir():
        pytest.skip(f"shared/real-bundles/{name} is not beside this checkout (a clone outside the workplace)")
    result = CliRunner().invoke(main, ["analyze", str(REAL / name), "--format", "json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def by_id(report: dict[str, Any], rule_id: str) -> list[dict[str, Any]]:
    return [f for f in report["findings"] if f["id"] == rule_id]


def bad(report: dict[str, Any]) -> list[str]:
    return [f"{f['id']}: {f['title']}" for f in report["findings"] if f["severity"] in BAD]


def test_kubectl_cluster_info_dump_kubeadm_ha_18() -> None:
    report = analyze("kubectl-cluster-info-dump-kubeadm-ha-1.8")
    down = by_id(report, "CONTROL_PLANE_NODE_NOT_READY")
    assert [(f["nodes"], f["severity"]) for f in down] == [(["k8s-master1"], "error")]
    assert "evicted" in down[0]["detail"]
    reset = by_id(report, "APISERVER_COUNT_MISMATCH")
    assert [(f["nodes"], f["severity"]) for f in reset] == [(["k8s-master2", "k8s-master3"], "warning")]
    assert "14475 line(s)" in reset[0]["detail"]  # 7606 + 6869, every line of both API servers
    timeouts = by_id(report, "ETCD_REQUESTS_TIMING_OUT")
    assert [f["severity"] for f in timeouts] == ["warning"]
    csr = by_id(report, "CSR_NOT_APPROVED")
    assert [(f["nodes"], f["severity"]) for f in csr] == [(["k8s-master3"], "warning")]
    assert csr[0]["title"].startswith("7 kubelet certificate request(s)")
    assert {n["collected_at"] for n in report["nodes"]} == {"2017-11-03T03:53:23+00:00"}


def test_openshift_must_gather_healthy() -> None:
    report = analyze("openshift-must-gather-aws-4.x")
    assert not bad(report), bad(report)
    assert not by_id(report, "ETCD_ENDPOINT_UNHEALTHY")  # the unixs:// sockets are not members down
    assert {n["collected_at"] for n in report["nodes"]} == {"2021-08-03T10:13:47+00:00"}
    nodes = {n["name"] for n in report["nodes"]}
    assert {"ip-10-0-187-218.ec2.internal", "ip-10-0-189-142.ec2.internal",
            "ip-10-0-195-177.ec2.internal"} <= nodes


def test_sosreport_charmed_kubernetes_recovered() -> None:
    report = analyze("sosreport-charmed-kubernetes-control-plane")
    assert not bad(report), bad(report)
    lost = {f["title"]: f["severity"] for f in by_id(report, "LEADER_ELECTION_LOST")}
    assert lost == {"kube-controller-manager lost its leader lease": "warning",
                    "kube-scheduler lost its leader lease": "warning"}
    assert report["nodes"][0]["name"] == "juju-110cc2-k8stest-4"
    assert report["nodes"][0]["collected_at"] == "2022-02-11T19:23:39+00:00"
    # FailedScheduling while the workers joined: the pods run now
    assert not by_id(report, "PODS_PENDING_UNSCHEDULABLE")


def test_replicated_support_bundle_kurl_healthy() -> None:
    report = analyze("replicated-support-bundle-kurl-sbctl")
    assert not bad(report), bad(report)
    single = by_id(report, "CONTROL_PLANE_SINGLE_NODE")
    assert [(f["nodes"], f["severity"]) for f in single] == [(["troubleshoot-demo-001"], "info")]


def test_replicated_support_bundle_k3s_vendor_results_are_not_findings() -> None:
    report = analyze("replicated-support-bundle-k3s-troubleshoot")
    assert not bad(report), bad(report)
    vendor = [p for p in report["problems"] if "troubleshoot's own analyzers" in p]
    assert any("Rook CRD was not found" in p for p in vendor)
    # 96-189 restarts of every kube-system pod: the k3s node restarted, no control-plane fault
    restarted = by_id(report, "NODE_PODS_RESTARTED_TOGETHER")
    assert [(f["nodes"], f["severity"]) for f in restarted] == [(["k3d-mycluster-server-0"], "warning")]
    embedded = "support-bundle: no kube-apiserver, etcd pod among the pods"
    assert any(p.startswith(embedded) for p in report["problems"])
    assert not any("rook" in f["title"].lower() for f in report["findings"])


def test_rancher_rke2_log_collector() -> None:
    report = analyze("rancher-rke2-log-collector")
    assert not bad(report), bad(report)
    assert [f["severity"] for f in by_id(report, "ETCD_SLOW_DISK")] == ["warning"]
    exposed = by_id(report, "ETCD_TLS_REJECTED")
    assert [(f["severity"], f["category"]) for f in exposed] == [("warning", "connectivity")]
    assert "162.216.150.246" in exposed[0]["detail"]
    assert [f["severity"] for f in by_id(report, "ETCD_MEMBER_COUNT")] == ["info"]
    # serving-kube-apiserver.crt runs to Nov 2026: judged at systeminfo/date (Dec 2025), not today
    assert not [f for f in report["findings"] if f["category"] == "certificates"]
    assert report["nodes"][0]["collected_at"] == "2025-12-04T09:15:58+00:00"
