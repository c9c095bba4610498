"""Fast checks of the lab's building blocks: CRI log lines, journal files, curated evidence."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from analyzer.bundle import open_bundle
from tests.conftest import read_bundle, run_collector
from tests.lab import curate, journal
from tests.lab.etcd_cluster import EtcdCluster, loopback_addresses, manifest_flags, node_specs
from tests.lab.kubeadm_root import build_node_root

# Two real etcd 3.4.23 lines (tests/lab, zap logger) and one plain gRPC line from the same stream.
ETCD_LINES = [
    b'{"level":"info","ts":"2026-11-27T02:30:16.011Z","caller":"embed/etcd.go:117","msg":"configuring peer '
    b'listeners","listen-peer-urls":["https://127.0.0.1:12380"]}',
    b'WARNING: 2026/11/27 02:01:15 grpc: addrConn.createTransport failed to connect',
]


def lines(texts: list[bytes], start_ns: int = 1_795_746_616_012_145_450) -> list[journal.LogLine]:
    return [journal.LogLine(start_ns + i * 1000, 5_000_000 + i, 4242, t) for i, t in enumerate(texts)]


def test_rfc3339nano_trims_trailing_zeros_like_go():
    assert journal.rfc3339nano(1_795_746_616_012_145_450) == "2026-11-27T02:30:16.01214545Z"
    assert journal.rfc3339nano(1_795_746_616_000_000_000) == "2026-11-27T02:30:16Z"


def test_cri_lines_keep_the_text_and_split_long_lines_into_partials():
    long = b"x" * (journal.CRI_MAX_LINE + 10)
    out = journal.cri_lines(lines([ETCD_LINES[0], long])).decode().splitlines()
    assert out[0] == "2026-11-27T02:30:16.01214545Z stderr F " + ETCD_LINES[0].decode()
    assert [line.split(" ", 3)[2] for line in out[1:]] == ["P", "F"]
    assert "".join(line.split(" ", 3)[3] for line in out[1:]) == long.decode()


@pytest.mark.skipif(not Path(journal.JOURNAL_REMOTE).exists(), reason="systemd-journal-remote missing")
def test_journal_file_is_read_by_journalctl_unit_filter(tmp_path: Path):
    journal.write_journal(tmp_path, "cp-1", "etcd", "/usr/bin/etcd", [lines(ETCD_LINES)])
    out = subprocess.run(["journalctl", f"--directory={tmp_path}/var/log/journal", "-u", "etcd",
                          "--no-pager", "-o", "cat"], capture_output=True, text=True, check=True)
    assert out.stdout.splitlines() == [t.decode() for t in ETCD_LINES]
    other = subprocess.run(["journalctl", f"--directory={tmp_path}/var/log/journal", "-u", "kubelet",
                            "--no-pager", "-q"], capture_output=True, text=True)
    assert other.stdout == ""


def test_generated_manifests_point_the_api_server_at_its_local_member(tmp_path: Path):
    spec = node_specs(loopback_addresses(3, base=12600))[1]
    root = build_node_root(tmp_path / spec.name, spec)
    etcd = manifest_flags(root)
    assert etcd["listen-client-urls"] == "https://127.0.0.1:12779"
    assert etcd["initial-cluster"].count("=https://127.0.0.1:") == 3
    assert manifest_flags(root, "kube-apiserver")["etcd-servers"] == "https://127.0.0.1:12779"


def test_curated_evidence_is_recorded_with_provenance_and_hash(tmp_path: Path, node_root):
    root = node_root(name="cp-1", ip="10.0.0.11")
    out = tmp_path / "out"
    out.mkdir()
    done = run_collector(root, out, "--node-name", "cp-1", "--exclude", "k8s.healthz", "etcd.*")
    assert done.returncode == 0, done.stderr
    bundle = next(out.glob("kubetriage-*.tar.gz"))
    manifest = root / "etc/kubernetes/manifests/kube-apiserver.yaml"
    log_path = curate.pod_log_path(manifest, "kube-apiserver-cp-1", "kube-apiserver")
    curate.add_evidence(bundle, curate.Evidence("logs.pod", "cri-apiserver-etcd-refused-k8s-107491.log",
                                                node_path=log_path))
    record = curate.add_evidence(bundle, curate.Evidence("k8s.healthz",
                                                         "health-verbose-healthz-pass-k8s-95681.txt"))
    data, files = read_bundle(bundle)
    assert "k8s.healthz" not in data["options"]["exclude"]
    # the collector's "not found" record for logs.pod gave way to the curated file
    assert [i["path"] for i in data["items"] if i["id"] == "logs.pod"] == ["files" + log_path]
    assert [i["exit_code"] for i in data["items"] if i["id"] == "k8s.healthz"] == [0]
    assert record["source"][0] == "kubectl"
    for item in (i for i in data["items"] if "provenance" in i):
        body = files[item["path"]]
        assert item["sha256"] == hashlib.sha256(body).hexdigest() and item["size"] == len(body)
        assert item["provenance"].startswith("curated: https://github.com/kubernetes/kubernetes/issues/")
    fixture = (curate.FIXTURES / "cri-apiserver-etcd-refused-k8s-107491.log").read_bytes()
    assert files["files" + log_path] == fixture
    opened = open_bundle(bundle)
    assert [r.path for r in opened.collected("logs.pod")] == ["files" + log_path]
    opened.close()


def test_curating_twice_replaces_the_item_instead_of_duplicating_it(tmp_path: Path, node_root):
    root = node_root(name="cp-1")
    out = tmp_path / "out"
    out.mkdir()
    assert run_collector(root, out, "--exclude", "etcd.*", "k8s.*").returncode == 0
    bundle = next(out.glob("kubetriage-*.tar.gz"))
    evidence = curate.Evidence("cri.ps", "crictl-ps-a-apiserver-exited-containerd-9545.txt")
    curate.add_evidence(bundle, evidence)
    curate.add_evidence(bundle, evidence)
    data, files = read_bundle(bundle)
    assert [i["id"] for i in data["items"]].count("cri.ps") == 1
    assert sorted(files) == sorted({"manifest.json", *(i["path"] for i in data["items"] if i["path"]),
                                    *(i["stderr_path"] for i in data["items"] if i.get("stderr_path"))})


def test_samples_readmes_name_their_sources():
    """Every sample with curated items names each item's source in its README."""
    samples = Path(__file__).resolve().parents[1] / "bundles" / "samples"
    for sample in sorted(p for p in samples.iterdir() if p.is_dir()):
        readme = (sample / "README.md").read_text()
        for bundle in sample.glob("kubetriage-*.tar.gz"):
            data, _ = read_bundle(bundle)
            for item in data["items"]:
                if "provenance" in item:
                    url = item["provenance"].removeprefix("curated: ").split(" ")[0]
                    assert url in readme, f"{sample.name}: README must name {url}"


@pytest.mark.skipif(shutil.which("etcd") is None, reason="etcd not installed")
def test_member_argv_maps_manifest_paths_under_the_root(tmp_path: Path):
    cluster = EtcdCluster.build(tmp_path, node_specs(loopback_addresses(1, base=12600)))
    argv = cluster.members[0].argv()
    assert f"--data-dir={tmp_path}/cp-1/var/lib/etcd" in argv
    assert f"--cert-file={tmp_path}/cp-1/etc/kubernetes/pki/etcd/server.crt" in argv
    assert "--listen-client-urls=https://127.0.0.1:12679" in argv
