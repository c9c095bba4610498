"""The collector's thin slice: a generated kubeadm root in, a bundle with a complete manifest out."""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import COLLECTOR, read_bundle, run_collector

LIVE = ["--exclude", "etcd.*", "k8s.healthz"]
KEY_BLOCK = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----", re.S)
# pyenv's shim for python3.6 exists even when 3.6 is not selected: prefer the real binary.
PY36 = next(iter(Path.home().glob(".pyenv/versions/3.6*/bin/python3")), None) or shutil.which("python3.6")


def collect_one(root: Path, out: Path, *args: str, python: str = sys.executable) -> Path:
    out.mkdir(exist_ok=True)
    result = run_collector(root, out, *LIVE, *args, python=python)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.strip().splitlines()[-1])


def test_bundle_name_manifest_and_hashes(node_root, tmp_path):
    bundle = collect_one(node_root(name="cp-1"), tmp_path / "out")
    assert re.fullmatch(r"kubetriage-cp-1-\d{8}T\d{6}Z\.tar\.gz", bundle.name)
    manifest, files = read_bundle(bundle)
    assert manifest["format_version"] == 1
    assert manifest["node"]["hostname"] == "cp-1"
    assert manifest["collected_at"].endswith("Z")
    keys = {"id", "kind", "source", "path", "size", "sha256", "exit_code", "started_at", "duration_s",
            "timed_out", "truncated", "redactions", "error"}
    collected = [i for i in manifest["items"] if i["path"]]
    assert {i["id"] for i in collected} >= {"pki.cert", "k8s.static_pod_manifest", "k8s.kubeconfig"}
    for item in manifest["items"]:
        assert keys <= set(item), item
    for item in collected:
        data = files[item["path"]]
        assert item["size"] == len(data)
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
    # every file in the archive is described by the manifest
    described = {i["path"] for i in collected} | {i.get("stderr_path") for i in collected}
    assert set(files) - {"manifest.json"} <= described


def test_no_private_key_leaves_the_node(node_root, tmp_path):
    root = node_root(name="cp-1")
    key_bodies = [line for path in root.rglob("*") if path.is_file()
                  for block in KEY_BLOCK.findall(path.read_text(errors="replace"))
                  for line in block.splitlines()[1:-1]]
    assert key_bodies, "the generated root must contain private keys for this test to mean anything"
    manifest, files = read_bundle(collect_one(root, tmp_path / "out"))
    blob = b"\n".join(files.values())
    assert b"PRIVATE KEY-----\n" not in blob
    for body in key_bodies:
        assert body.encode() not in blob
    assert not any(name.endswith(".key") for name in files)
    # kubeconfigs keep their public certificates, lose their keys
    admin = files["files/etc/kubernetes/admin.conf"].decode()
    assert "client-key-data: REDACTED" in admin
    assert re.search(r"client-certificate-data: [A-Za-z0-9+/=]{100,}", admin)
    assert manifest["redactions"]["total"] >= 5
    # the kubelet's combined cert+key file keeps only its certificate
    pem = files["files/var/lib/kubelet/pki/kubelet-client-current.pem"].decode()
    assert "BEGIN CERTIFICATE" in pem and "KEY" not in pem


def test_runs_without_third_party_packages(node_root, tmp_path):
    # -I -S: no site-packages, no user site, no PYTHON* env; only the standard library exists.
    bundle = collect_one(node_root(name="cp-2"), tmp_path / "out")
    assert bundle.exists()


@pytest.mark.skipif(PY36 is None, reason="no python3.6 interpreter on this machine")
def test_runs_on_python36(node_root, tmp_path):
    bundle = collect_one(node_root(name="cp-3"), tmp_path / "out", python=str(PY36))
    manifest, _ = read_bundle(bundle)
    assert any(i["id"] == "pki.cert" and i["path"] for i in manifest["items"])


def test_minimum_python_version_by_tool():
    vermin = shutil.which("vermin")
    if vermin is None:
        pytest.skip("vermin not installed (pip install -e .[test])")
    out = subprocess.run([vermin, "--no-tips", "-t=3.6-", "--violations", str(COLLECTOR)],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_refuses_to_overwrite(node_root, tmp_path):
    target = tmp_path / "bundle.tar.gz"
    target.write_bytes(b"precious")
    result = run_collector(node_root(), target, *LIVE)
    assert result.returncode != 0
    assert "refusing to overwrite" in result.stderr
    assert target.read_bytes() == b"precious"


def test_dry_run_runs_nothing(node_root, tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    result = run_collector(node_root(), out, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert "pki.cert" in result.stdout and "etcdctl" in result.stdout
    assert list(out.iterdir()) == []
