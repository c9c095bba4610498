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


# -- --separate: one report per cluster ------------------------------------------------------------
TWO = (str(SAMPLES / "healthy-1-node"), str(SAMPLES / "etcd-nospace"))


def test_separate_writes_one_report_per_cluster_named_by_its_nodes(tmp_path: Path) -> None:
    code, _, err = analyze(*TWO, "--separate", "-o", str(tmp_path / "r.json"))
    assert code == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.cp-1+cp-2+cp-3.json", "r.cp-1.json"]
    healthy = json.loads((tmp_path / "r.cp-1.json").read_text())
    nospace = json.loads((tmp_path / "r.cp-1+cp-2+cp-3.json").read_text())
    # each cluster on its own: no invented cp-1#2, no CA "differing" between the two clusters
    assert [n["name"] for n in healthy["nodes"]] == ["cp-1"]
    assert [n["name"] for n in nospace["nodes"]] == ["cp-1", "cp-2", "cp-3"]
    ids = {f["id"] for r in (healthy, nospace) for f in r["findings"]}
    assert not ids & {"CERT_CA_DIFFERS_BETWEEN_NODES", "ETCD_MEMBER_LIST_MISMATCH"}
    assert healthy["verdict"]["worst_severity"] == "info"
    assert "ETCD_NOSPACE_ALARM" in {f["id"] for f in nospace["findings"]}
    # the same findings as each sample analyzed alone
    for report, sample in ((healthy, TWO[0]), (nospace, TWO[1])):
        _, alone, _ = analyze(sample, "--format", "json")
        assert {f["key"] for f in report["findings"]} == {f["key"] for f in json.loads(alone)["findings"]}


def test_separate_exit_code_is_the_worst_of_the_clusters(tmp_path: Path) -> None:
    code, _, _ = analyze(*TWO, "--separate", "--fail-on", "critical", "-q", "-o", str(tmp_path / "r.html"))
    assert code == 1  # etcd-nospace has critical findings, the healthy cluster none
    code, _, _ = analyze(TWO[0], "--separate", "--fail-on", "critical", "-q", "-o", str(tmp_path / "h.html"))
    assert code == 0
    assert (tmp_path / "h.html").is_file()  # one cluster: the file is named as given


def test_separate_on_the_terminal_prints_one_section_per_cluster() -> None:
    code, out, _ = analyze(*TWO, "--separate")
    assert code == 0
    first, second = out.split("== cluster 2 of 2: cp-1+cp-2+cp-3 ==")
    assert first.startswith("== cluster 1 of 2: cp-1 ==") and "No problems found" in first
    assert "Control plane broken" in second and "ETCD_NOSPACE_ALARM" in second
    code, out, _ = analyze(*TWO, "--separate", "--format", "md")
    assert "# Cluster 1 of 2: cp-1\n" in out and "# Cluster 2 of 2: cp-1+cp-2+cp-3\n" in out


def test_separate_refuses_what_would_mix_reports(tmp_path: Path) -> None:
    for args, message in ((["--format", "json"], "give -o FILE"),
                          (["--one-cluster"], "contradict"),
                          (["--baseline", str(tmp_path / "old.json")], "--baseline compares one report")):
        code, out, err = analyze(*TWO, "--separate", *args)
        assert code == 2 and not out and err.count("\n") == 1 and message in err, err


def test_refusal_names_separate_as_the_way_out() -> None:
    code, _, err = analyze(*TWO)
    assert code == 2 and "--separate" in err
