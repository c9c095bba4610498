"""Inputs that belong together: repeats of one bundle are read once; different clusters are refused."""

from __future__ import annotations

import json
import shutil
import tarfile
from pathlib import Path

from click.testing import CliRunner

from analyzer.cli import main

SAMPLES = Path(__file__).resolve().parent.parent / "bundles" / "samples"


def analyze(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["analyze", *args])
    return result.exit_code, result.stdout, result.stderr


def test_bundles_of_two_clusters_are_refused_with_the_groups_named() -> None:
    code, _, err = analyze(str(SAMPLES / "healthy-1-node"), str(SAMPLES / "etcd-nospace"))
    assert code == 2 and err.count("\n") == 1
    assert "2 different clusters" in err and "{cp-1}" in err and "{cp-1#2, cp-2, cp-3}" in err


def test_one_cluster_flag_merges_them_anyway() -> None:
    code, out, _ = analyze(str(SAMPLES / "healthy-1-node"), str(SAMPLES / "etcd-nospace"), "--one-cluster",
                           "--format", "json")
    assert code == 0
    assert len(json.loads(out)["nodes"]) == 4


def test_a_node_with_a_foreign_ca_is_still_one_cluster() -> None:
    # the CA differs on one node, but etcd ties it to the others: a finding, not another cluster
    code, out, _ = analyze(str(SAMPLES / "certificates-etcd-client-foreign-ca"), "--format", "json")
    assert code == 0 and len(json.loads(out)["nodes"]) == 3


def test_the_same_bundle_twice_is_analyzed_once(tmp_path: Path) -> None:
    tarball = next((SAMPLES / "healthy-1-node").glob("*.tar.gz"))
    with tarfile.open(tarball) as archive:
        archive.extractall(tmp_path, filter="data")
    unpacked = next(p for p in tmp_path.iterdir() if p.is_dir())
    copy = tmp_path / "again.tar.gz"
    shutil.copy(tarball, copy)
    code, out, _ = analyze(str(tarball), str(unpacked), str(copy), "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert [n["name"] for n in report["nodes"]] == ["cp-1"]
    assert sum("is the same bundle as" in p for p in report["problems"]) == 2
