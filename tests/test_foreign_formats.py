"""Other tools' bundles, from the committed fixtures (tests/fixtures/foreign/SOURCE.md): each format is
detected by `kubetriage analyze`, as a folder and as the archive its tool writes, and its evidence
reaches the rules with the foreign file as provenance and the bundle's own collection time."""

from __future__ import annotations

import datetime as dt
import io
import json
import tarfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer.bundle import open_bundles
from analyzer.cli import main
from analyzer.facts import build_view

FOREIGN = Path(__file__).parent / "fixtures" / "foreign"
DUMP = FOREIGN / "cluster-info-dump-1.8"
TROUBLESHOOT = FOREIGN / "troubleshoot-k3s"
SOS = FOREIGN / "sosreport-charmed-kubernetes"
MUST_GATHER = FOREIGN / "must-gather-ocp-4.8"
RANCHER = FOREIGN / "rancher-rke2"


def analyze(*paths: Path) -> dict[str, Any]:
    result = CliRunner().invoke(main, ["analyze", *map(str, paths), "--format", "json"])
    assert result.exit_code == 0, result.output
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def severities(report: dict[str, Any]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for finding in report["findings"]:
        out.setdefault(finding["id"], set()).add(finding["severity"])
    return out


def worst(report: dict[str, Any]) -> str | None:
    return report["verdict"]["worst_severity"]  # type: ignore[no-any-return]


def tarball(folder: Path, out: Path, mode: str) -> Path:
    """The folder as its tool ships it: one top folder, links kept as links."""
    with tarfile.open(out, mode) as tar:
        tar.add(folder, arcname=folder.name)
    return out


def test_cluster_info_dump_folder_reads_kubectl_18_internal_types() -> None:
    report = analyze(DUMP)
    found = severities(report)
    assert found["CONTROL_PLANE_NODE_NOT_READY"] == {"error"}
    assert found["APISERVER_COUNT_MISMATCH"] == {"warning"}
    assert found["CSR_NOT_APPROVED"] == found["ETCD_REQUESTS_TIMING_OUT"] == {"warning"}
    not_ready = next(f for f in report["findings"] if f["id"] == "CONTROL_PLANE_NODE_NOT_READY")
    assert not_ready["nodes"] == ["k8s-master1"]
    assert {e["path"] for e in not_ready["evidence"]} == {"cluster-info/nodes.json",
                                                           "cluster-info/kube-system/events.json"}
    reset = next(f for f in report["findings"] if f["id"] == "APISERVER_COUNT_MISMATCH")
    # logs are attributed to the node that ran the pod (spec.nodeName), cited by their dump path
    assert reset["nodes"] == ["k8s-master2", "k8s-master3"]
    assert reset["evidence"][0]["path"].startswith("cluster-info/kube-system/kube-apiserver-k8s-master")
    # no collection time in a dump: the newest heartbeat or event, never the analyst's clock
    assert {n["collected_at"] for n in report["nodes"]} == {"2017-11-03T03:53:23+00:00"}


def _stream(folder: Path) -> bytes:
    """What `kubectl cluster-info dump` prints on stdout: the lists, then the logs."""
    lists = [folder / "nodes.json", *sorted(p for p in folder.glob("*/*.json"))]
    logs = sorted(folder.glob("*/*/logs.txt"))
    return b"".join(p.read_bytes().rstrip(b"\n") + b"\n" for p in lists + logs)


def test_cluster_info_dump_single_stream(tmp_path: Path) -> None:
    dump = tmp_path / "cluster-info.txt"
    dump.write_bytes(_stream(DUMP / "cluster-info"))
    report = analyze(dump)
    found = severities(report)
    assert found["CONTROL_PLANE_NODE_NOT_READY"] == {"error"}
    assert found["APISERVER_COUNT_MISMATCH"] == {"warning"}
    paths = {e["path"] for f in report["findings"] for e in f["evidence"]}
    assert "cluster-info.txt#/nodes.json" in paths
    assert any(p.startswith("cluster-info.txt#/kube-system/kube-apiserver-k8s-master") for p in paths)


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "tar.gz"])
def test_troubleshoot_bundle(tmp_path: Path, packed: bool) -> None:
    source = tarball(TROUBLESHOOT / "support-bundle", tmp_path / "support-bundle.tar.gz", "w:gz") \
        if packed else TROUBLESHOOT
    report = analyze(source)
    assert worst(report) == "info"
    # troubleshoot's own verdicts are notices, never findings
    vendor = [p for p in report["problems"] if "troubleshoot's own analyzers" in p]
    assert any("Must have at least 3 nodes" in p for p in vendor)
    assert not any("3 nodes" in f["title"] or "3 nodes" in f["detail"] for f in report["findings"])
    assert {n["name"] for n in report["nodes"]} == {"support-bundle", "k3d-mycluster-server-0"}
    assert {n["collected_at"] for n in report["nodes"]} == {"2022-12-21T16:41:53+00:00"}
    # all-logs/ links resolve to the pod logs they point at: each log is read once, on its pod's node
    bundles = open_bundles([source])
    try:
        logs = [(b.node, i.path) for b in bundles for i in b.collected("logs.pod")]
    finally:
        for bundle in bundles:
            bundle.close()
    folder = "cluster-resources/pods/logs/kube-system/coredns-b96499967-tncf4"
    assert sorted(logs) == [("k3d-mycluster-server-0", f"{'' if packed else 'support-bundle/'}{folder}/{c}")
                            for c in ("coredns-previous.log", "coredns.log")]


@pytest.mark.parametrize("packed", [False, True], ids=["folder", "tar.xz"])
def test_sosreport(tmp_path: Path, packed: bool) -> None:
    top = "sosreport-juju-110cc2-k8stest-4-2022-02-11-abcdefg"
    source = SOS
    if packed:
        source = tmp_path / f"{top}.tar.xz"
        with tarfile.open(source, "w:xz") as tar:
            tar.add(SOS, arcname=top)
    report = analyze(source)
    assert [n["name"] for n in report["nodes"]] == ["juju-110cc2-k8stest-4"]
    assert report["nodes"][0]["collected_at"] == "2022-02-11T19:23:39+00:00"  # `date --utc`
    found = severities(report)
    # the controller-manager lost its lease while the API server restarted, then re-acquired it: resolved
    assert found["LEADER_ELECTION_LOST"] == {"warning"}
    assert worst(report) == "warning"
    # `journalctl --unit kube-apiserver` on a snap-packaged control plane: no entries, said once
    notice = ("journals with no entries (units by these names do not run here; e.g. Charmed Kubernetes "
              "names them snap.<name>.daemon): kube-apiserver")
    assert any(p.endswith(notice) for p in report["problems"])
    lost = next(f for f in report["findings"] if f["id"] == "LEADER_ELECTION_LOST")
    assert "Recovered at 2022-02-11 19:16:19 UTC: this is history" in lost["detail"]  # lease re-acquired
    assert lost["evidence"][0]["path"].endswith(
        "sos_commands/kubernetes/journalctl_--no-pager_--unit_snap.kube-controller-manager.daemon")


def test_must_gather_unix_socket_endpoints_and_install_time_burst() -> None:
    report = analyze(MUST_GATHER)
    found = severities(report)
    # etcdctl in the gather pod cannot reach the members' unixs:// sockets: not unhealthy members
    assert "ETCD_ENDPOINT_UNHEALTHY" not in found
    assert "ETCD_QUORUM_AT_RISK" not in found and "ETCD_QUORUM_LOST" not in found
    # slow applies while members joined, none in the 48 minutes before the gather: history, info
    assert found["ETCD_SLOW_DISK"] == {"info"}
    assert worst(report) == "info"
    assert {n["collected_at"] for n in report["nodes"]} == {"2021-08-03T10:13:47+00:00"}
    slow = next(f for f in report["findings"] if f["id"] == "ETCD_SLOW_DISK")
    assert slow["nodes"] == ["ip-10-0-195-177.ec2.internal"]  # the pod's node, from pods.yaml
    assert slow["evidence"][0]["path"].endswith("/etcd/etcd/logs/current.log")


def test_rancher_rke2_log_collector() -> None:
    report = analyze(RANCHER)
    found = severities(report)
    assert found["ETCD_TLS_REJECTED"] == {"warning"}  # internet scanners, not a certificate problem
    exposed = next(f for f in report["findings"] if f["id"] == "ETCD_TLS_REJECTED")
    assert exposed["category"] == "connectivity" and "internet" in exposed["title"]
    assert found["ETCD_SLOW_DISK"] == {"warning"}
    assert found["ETCD_MEMBER_COUNT"] == {"info"}
    # the API server certificate (Nov 2025 - Nov 2026) is judged at systeminfo/date, not today
    assert report["nodes"][0]["collected_at"] == "2025-12-04T09:15:58+00:00"
    assert not {"CERT_EXPIRED", "CERT_EXPIRING_SOON", "CERT_NOT_YET_VALID"} & set(found)
    assert next(c for c in report["coverage"] if c["rule"] == "CERT_EXPIRED")["checked"]


def test_our_bundles_and_loose_files_are_not_taken_for_foreign(tmp_path: Path) -> None:
    log = tmp_path / "etcd.log"
    log.write_bytes((RANCHER / "w-guard-wg-cp-svtk6-lqtxw-2025-12-04_09_15_57/rke2/podlogs/"
                     "kube-system-etcd-w-guard-wg-cp-svtk6-lqtxw").read_bytes())
    report = analyze(log)
    assert report["nodes"][0]["name"] == "pasted evidence"
    assert [i["segments"][0][2] for i in report["inputs"]] == ["etcd-zap"]


def test_unknown_folder_is_read_as_loose_files_and_not_understood(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello\n")
    result = CliRunner().invoke(main, ["analyze", str(tmp_path)])
    assert result.exit_code == 2
    assert result.stdout.startswith("Input not understood") and "Traceback" not in result.output


def test_must_gather_cluster_operators() -> None:
    bundles = open_bundles([MUST_GATHER])
    try:
        view = build_view(bundles)
    finally:
        for bundle in bundles:
            bundle.close()
    states = {f.operator.name: (f.operator.status("Available"), f.operator.status("Degraded"))
              for f in view.k8s.operators}
    assert states == {"etcd": ("True", "False"), "kube-apiserver": ("True", "False")}
    report = analyze(MUST_GATHER)
    coverage = next(c for c in report["coverage"] if c["rule"] == "OPENSHIFT_OPERATOR_DEGRADED")
    assert coverage["checked"] and coverage["findings"] == 0


def test_degraded_cluster_operator(tmp_path: Path) -> None:
    """The etcd operator's conditions from openshift/cluster-etcd-operator#47 (its status diff), under
    today's operator name, in a must-gather layout."""
    gather = tmp_path / "must-gather.local.1" / "image"
    for name in ("timestamp", "etcd_info/member_list.json"):
        source = next(MUST_GATHER.glob(f"*/*/{name}"))
        (gather / name).parent.mkdir(parents=True, exist_ok=True)
        (gather / name).write_bytes(source.read_bytes())
    status = {"conditions": [
        {"lastTransitionTime": "2019-12-16T16:43:29Z",
         "message": "ConfigObservationDegraded: error looking up self: lookup _etcd-server-ssl._tcp.alpatel-"
                    "ceo441.devcluster.openshift.com on 172.30.0.10:53: read udp 10.130.0.12:44974->"
                    "172.30.0.10:53: i/o timeout\nConfigObservationDegraded: non-deterministic config "
                    "observation detected", "reason": "ConfigObservationDegradedError", "status": "True",
         "type": "Degraded"},
        {"lastTransitionTime": "2019-12-16T16:44:59Z", "reason": "AsExpected", "status": "False",
         "type": "Progressing"},
        {"lastTransitionTime": "2019-12-16T16:44:59Z", "reason": "AsExpected", "status": "True",
         "type": "Available"}]}
    operators = gather / "cluster-scoped-resources/config.openshift.io/clusteroperators"
    operators.mkdir(parents=True)
    (operators / "etcd.yaml").write_text(json.dumps({"apiVersion": "config.openshift.io/v1",
                                                     "kind": "ClusterOperator", "metadata": {"name": "etcd"},
                                                     "status": status}))
    report = analyze(tmp_path / "must-gather.local.1")
    degraded = [f for f in report["findings"] if f["id"] == "OPENSHIFT_OPERATOR_DEGRADED"]
    assert [(f["title"], f["severity"], f["category"]) for f in degraded] == [
        ("ClusterOperator etcd is degraded", "error", "etcd")]
    assert "ConfigObservationDegradedError" in degraded[0]["detail"]
    assert degraded[0]["evidence"][0]["path"].endswith("clusteroperators/etcd.yaml")


def test_folder_of_several_sosreports_is_one_cluster(tmp_path: Path) -> None:
    """Support often gets one sosreport per control-plane node, unpacked side by side."""
    for node in ("cp-a", "cp-b"):
        copy = tmp_path / f"sosreport-{node}"
        for source in SOS.rglob("*"):
            if source.is_file():
                target = copy / source.relative_to(SOS)
                target.parent.mkdir(parents=True, exist_ok=True)
                data = source.read_bytes()
                if source.name == "hostname":
                    data = f"{node}\n".encode()
                target.write_bytes(data)
    report = analyze(tmp_path)
    assert [n["name"] for n in report["nodes"]] == ["cp-a", "cp-b"]
    lost = [f for f in report["findings"] if f["id"] == "LEADER_ELECTION_LOST"]
    assert sorted(n for f in lost for n in f["nodes"]) == ["cp-a", "cp-b"]
    tops = {e["path"].split("/")[0] for f in lost for e in f["evidence"]}
    assert tops == {"sosreport-cp-a", "sosreport-cp-b"}


def test_cluster_info_dump_stream_of_v1_lists(tmp_path: Path) -> None:
    """kubectl ≥1.10 prints core/v1 lists (`"kind": "NodeList"`); the troubleshoot fixture's lists are
    the same JSON, here in the stream's order."""
    resources = TROUBLESHOOT / "support-bundle" / "cluster-resources"
    dump = tmp_path / "dump.json"
    dump.write_bytes(b"".join((resources / name).read_bytes().rstrip(b"\n") + b"\n"
                              for name in ("nodes.json", "events/kube-system.json", "pods/kube-system.json")))
    report = analyze(dump)
    single = [f for f in report["findings"] if f["id"] == "CONTROL_PLANE_SINGLE_NODE"]
    assert [f["nodes"] for f in single] == [["k3d-mycluster-server-0"]]
    assert single[0]["evidence"][0]["path"] == "dump.json#/nodes.json"
    assert {n["collected_at"] for n in report["nodes"]} == {"2022-12-21T16:41:53+00:00"}


def test_sosreport_copied_kubernetes_config(tmp_path: Path) -> None:
    """sos's kubernetes plugin copies /etc/kubernetes (not pki/): static pod manifests are read."""
    report_dir = tmp_path / "sosreport-cp"
    for source in SOS.rglob("*"):
        if source.is_file():
            target = report_dir / source.relative_to(SOS)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    manifest = report_dir / "etc/kubernetes/manifests/etcd.yaml"
    manifest.parent.mkdir(parents=True)
    manifest.write_bytes(next(RANCHER.glob("*/rke2/pod-manifests/etcd.yaml")).read_bytes())
    report = analyze(report_dir)
    checked = {c["rule"] for c in report["coverage"] if c["checked"]}
    assert "IMAGE_FROZEN_REGISTRY" in checked  # needs k8s.static_pod_manifest only
    bundles = open_bundles([report_dir])
    try:
        assert [(i.path, i.source) for i in bundles[0].collected("k8s.static_pod_manifest")] == [
            ("etc/kubernetes/manifests/etcd.yaml", "/etc/kubernetes/manifests/etcd.yaml")]
    finally:
        for bundle in bundles:
            bundle.close()


def test_must_gather_merged_master_journals_go_to_their_nodes() -> None:
    bundles = open_bundles([MUST_GATHER])
    try:
        kubelet = sorted((b.node, (i.path or "").rsplit("/", 1)[-1], b.read_text(i.path or ""))
                         for b in bundles for i in b.collected("journal.kubelet"))
    finally:
        for bundle in bundles:
            bundle.close()
    assert [(node, path) for node, path, _ in kubelet] == [
        ("ip-10-0-189-142.ec2.internal", "kubelet_service.log#ip-10-0-189-142.ec2.internal"),
        ("ip-10-0-195-177.ec2.internal", "kubelet_service.log#ip-10-0-195-177.ec2.internal")]
    for node, _, text in kubelet:
        lines = text.splitlines()
        assert len(lines) == 15 and all(line.split(' ')[3] == node.split('.')[0] for line in lines)


@pytest.mark.parametrize("mtime, expected", [
    ("2022-12-21T16:44:30+00:00", "2022-12-21T16:44:30+00:00"),  # written at collection: the time
    ("2026-12-04T15:42:00+00:00", "2022-12-21T16:41:53+00:00"),  # re-packed much later: the API's
], ids=["archive-time", "repacked"])
def test_troubleshoot_archive_file_times(tmp_path: Path, mtime: str, expected: str) -> None:
    stamp = dt.datetime.fromisoformat(mtime).timestamp()
    archive = tmp_path / "support-bundle.tar.gz"
    top = TROUBLESHOOT / "support-bundle"
    with tarfile.open(archive, "w:gz") as tar:
        for source in sorted(top.rglob("*")):
            info = tar.gettarinfo(source, f"support-bundle/{source.relative_to(top)}")
            info.mtime = stamp
            tar.addfile(info, io.BytesIO(source.read_bytes()) if info.isreg() else None)
    report = analyze(archive)
    assert {n["collected_at"] for n in report["nodes"]} == {expected}
