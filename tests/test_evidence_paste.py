"""Pasted evidence through the product path (`kubetriage analyze FILE|-|FOLDER`): command lines,
mangling, new types, coverage that means parsed, and a verdict that says what the evidence allows.
Inputs are real outputs (tests/fixtures/real/SOURCES.md); only their wrapping is varied where a test
says so (quote markers, indentation), never a line's content."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from collector.kubetriage_collect import SPECS
from tests.bundle_builder import BundleBuilder

REAL = Path(__file__).parent / "fixtures" / "real"


def report(*args: str, stdin: str | None = None) -> dict:
    result = CliRunner().invoke(main, ["analyze", *args, "-f", "json"], input=stdin)
    assert result.exit_code == 0, result.stderr
    return json.loads(result.stdout)


def types_read(rep: dict) -> list[str]:
    return [t for a in rep["inputs"] for _, _, t in a["segments"]]


@pytest.mark.parametrize("name, kind", [
    ("etcdctl-cluster-health-v2-unreachable-etcd-3852.txt", "etcdctl-cluster-health"),
    ("etcdctl-cluster-health-v2-capnslog-etcd-9002.txt", "etcdctl-cluster-health"),
    ("systemctl-status-kubelet-failed-kubelet-4.txt", "systemctl-status"),
    ("systemctl-status-kubelet-collapsed-k8s-55942.txt", "systemctl-status"),
    ("kubeadm-init-kubelet-check-timeout-techiescamp-11.txt", "kubeadm-output"),
    ("kubectl-refused-6443-website-19461.txt", "kubectl-client-error"),
    ("openssl-enddate-expired-udacity-ud615-5.txt", "openssl-dates"),
    ("etcdctl-status-table-with-prompt-bitnami-16615.txt", "etcdctl-status"),
])
def test_new_types_and_command_lines_are_read(name, kind):
    rep = report(str(REAL / name))
    assert kind in types_read(rep)
    assert "unrecognised" not in types_read(rep)
    assert rep["verdict"]["kind"] != "not-understood"


def test_cluster_health_v2_names_the_unreachable_member():
    rep = report(str(REAL / "etcdctl-cluster-health-v2-unreachable-etcd-3852.txt"))
    checked = {c["rule"] for c in rep["coverage"] if c["checked"]}
    assert any(r.startswith("ETCD_") for r in checked)


def test_openssl_enddate_alone_finds_the_expired_certificate():
    rep = report(str(REAL / "openssl-enddate-expired-udacity-ud615-5.txt"))
    assert [f["id"] for f in rep["findings"]] == ["CERT_EXPIRED"]


def test_kubectl_pods_table_is_judged_not_green():
    rep = report(str(REAL / "kubectl-get-pods-restart-loop-k8s-117293.txt"))
    assert "APISERVER_CRASHLOOP" in {f["id"] for f in rep["findings"]}


@pytest.mark.parametrize("wrap", [
    lambda t: "".join("> " + ln + "\n" for ln in t.splitlines()),  # Markdown quote markers
    lambda t: "```\n" + t + "```\n",  # a Markdown fence
    lambda t: "".join("    " + ln + "\n" for ln in t.splitlines()),  # every line indented
])
def test_mangled_paste_reads_the_same(wrap):
    text = (REAL / "kubectl-get-pods-restart-loop-k8s-117293.txt").read_text()
    rep = report("-", stdin=wrap(text))
    assert types_read(rep) == ["kubectl-pods"]
    assert "APISERVER_CRASHLOOP" in {f["id"] for f in rep["findings"]}


def test_several_outputs_in_one_paste_each_read_as_its_type(tmp_path):
    paste = tmp_path / "ticket.txt"
    paste.write_text((REAL / "kubectl-refused-6443-website-19461.txt").read_text() + "\n"
                     + (REAL / "kubeadm-certs-external-etcd-kubeadm-2866.txt").read_text())
    rep = report(str(paste))
    assert {"kubectl-client-error", "kubeadm-certs"} <= set(types_read(rep)), types_read(rep)
    [account] = rep["inputs"]
    assert account["parsed"] + account["scanned"] + account["ignored"] == account["lines"]


def test_stdin_folder_and_node_name(tmp_path):
    text = (REAL / "kubectl-get-pods-restart-loop-k8s-117293.txt").read_text()
    assert report("-", stdin=text)["nodes"][0]["name"] == "pasted evidence"
    folder = tmp_path / "ticket"
    folder.mkdir()
    (folder / "pods.txt").write_text(text)
    health = REAL / "etcdctl-cluster-health-v2-unreachable-etcd-3852.txt"
    (folder / "etcd.txt").write_text(health.read_text())
    rep = report(str(folder), "--node", "cp-1")
    assert [n["name"] for n in rep["nodes"]] == ["cp-1"]
    assert {"kubectl-pods", "etcdctl-cluster-health"} <= set(types_read(rep))


def test_loose_now_takes_its_year_from_the_text():
    rep = report(str(REAL / "systemctl-status-kubelet-failed-kubelet-4.txt"))
    assert rep["nodes"][0]["collected_at"].startswith("2019-09-10")


def _coverage(rep: dict, rule: str) -> dict:
    return next(c for c in rep["coverage"] if c["rule"] == rule)


def test_rule_whose_item_timed_out_or_did_not_parse_is_not_checked(tmp_path):
    pods = (REAL / "kubectl-get-pods-restart-loop-k8s-117293.txt").read_text()
    node = BundleBuilder("cp-1").kubeadm_manifests()
    node.command("k8s.pods", SPECS_SOURCE("k8s.pods"), stdout=pods, timed_out=True, exit_code=None)
    node.command("host.df", SPECS_SOURCE("host.df"), stdout="this is not df output\n")
    rep = report(str(node.write(tmp_path)))
    crash = _coverage(rep, "APISERVER_CRASHLOOP")
    assert crash["checked"] is False or "k8s.pods" not in crash["reason"]
    disk = _coverage(rep, "DISK_FULL")
    assert disk["checked"] is False and "did not parse" in disk["reason"]


def SPECS_SOURCE(item_id: str) -> list[str]:  # noqa: N802 - reads like the spec table it looks up
    return [s for s in SPECS if s.id == item_id][0].source


def test_non_node_and_empty_root_bundles_are_not_green(tmp_path):
    node = BundleBuilder("workstation")
    for spec in SPECS[:12]:
        node.not_collected(spec.id, spec.source, skipped="not found on this node")
    rep = report(str(node.write(tmp_path / "a")))
    assert rep["verdict"]["kind"] == "insufficient"
    assert "control-plane" in rep["verdict"]["summary"]
    empty = BundleBuilder("cp-1", root=str(tmp_path / "root"))
    rep = report(str(empty.write(tmp_path / "b")))
    assert rep["verdict"]["kind"] in ("insufficient", "not-understood")
    assert not rep["verdict"]["summary"].startswith("No problems found")
