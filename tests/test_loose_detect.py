"""Loose evidence: each type detected from a real sample (sources in the fixtures' SOURCES.md),
mapped to the collector's item id, and analysed as a one-item pseudo-bundle."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.evidence.recognise import detect
from analyzer.report import analyze
from tests.lab.journal import JOURNAL_REMOTE, LogLine, write_journal

FIX = Path(__file__).parent / "fixtures"
REAL, ETCD, NET, K8S, LOGS = (FIX / "real", FIX / "etcd", FIX / "network", FIX / "k8s", FIX / "logs")

SAMPLES = [
    ("klog", REAL / "klog-apiserver-etcd-refused-k8s-89368.log"),
    ("klog", REAL / "klog-apiserver-bind-in-use-rke2-370.log"),
    ("etcd-zap", LOGS / "etcd-zap-healthy-cp-1.log"),
    ("etcd-zap", REAL / "etcd-zap-slow-fdatasync-milvus-21840.log"),
    ("etcd-zap", LOGS / "etcd-mixed-wrong-port-cp-1.log"),
    ("etcd-capnslog", LOGS / "etcd-capnslog-3.4-1.log"),
    ("cri-log", REAL / "cri-apiserver-etcd-refused-k8s-107491.log"),
    ("docker-json-log", REAL / "docker-json-apiserver-refused-k8s-45787.log"),
    ("journald", REAL / "journald-kubelet-register-refused-kubeadm-1026.log"),
    ("journald", REAL / "journald-kcm-leaderelection-rejected-k8s-110787.log"),
    ("etcdctl-status", ETCD / "00-healthy/endpoint_status_json.stdout"),
    ("etcdctl-status", ETCD / "00-healthy/endpoint_status_table.stdout"),
    ("etcdctl-status", ETCD / "00-healthy/endpoint_status_simple.stdout"),
    ("etcdctl-health", ETCD / "00-healthy/endpoint_health.stderr"),
    ("etcdctl-health", ETCD / "00-healthy/endpoint_health_json.stdout"),
    ("etcdctl-members", ETCD / "00-healthy/member_list_json.stdout"),
    ("etcdctl-members", ETCD / "00-healthy/member_list_table.stdout"),
    ("etcdctl-members", ETCD / "00-healthy/member_list_simple.stdout"),
    ("etcdctl-alarms", ETCD / "c-nospace/alarm_list.stdout"),
    ("etcdctl-alarms", ETCD / "c-nospace/alarm_list_json.stdout"),
    ("kubeadm-certs", REAL / "kubeadm-certs-external-etcd-kubeadm-2866.txt"),
    ("kubeadm-certs", REAL / "kubeadm-certs-alpha-sealer-753.txt"),
    ("kubectl-pods", REAL / "kubectl-get-pods-restart-loop-k8s-117293.txt"),
    ("kubectl-pods", REAL / "kubectl-get-pods-kube-system-k8s-63873.txt"),
    ("kubectl-pods", REAL / "kubectl-get-all-kcm-crashloop-kubespray-6402.txt"),
    ("kubectl-pods", REAL / "kubectl-yaml-pod-status-runcontainererror-k8s-14491.yaml"),
    ("kubectl-pods", K8S / "kubectl-pod-yaml-init-crashloop-kodekloud-notes.yaml"),
    ("kubectl-nodes", REAL / "kubectl-get-nodes-notready-k3s-5864.txt"),
    ("kubectl-events", REAL / "kubectl-describe-events-apiserver-probes-kodekloud-150.txt"),
    ("kubectl-leases", REAL / "kubectl-lease-yaml-koordinator-2095.yaml"),
    ("kubectl-leases", NET / "kubectl-node-lease-yaml-skarltjr-study.yaml"),
    ("kubectl-componentstatuses", REAL / "kubectl-get-cs-false-alarm-kubeadm-ha-36.txt"),
    ("kubectl-componentstatuses", REAL / "kubectl-get-cs-etcd-x509-expired-kubeadm-2177.txt"),
    ("static-pod-manifest", REAL / "kube-apiserver-static-manifest-v1.29-cppntn.yaml"),
    ("static-pod-manifest", K8S / "kube-scheduler-manifest-v1.27-busygina83.yaml"),
    ("health-verbose", REAL / "health-verbose-healthz-pass-k8s-95681.txt"),
    ("health-verbose", K8S / "readyz-verbose-pass-k8s-docs.txt"),
    ("x509-text", REAL / "openssl-x509-text-apiserver-elided-opsnull.txt"),
    ("iptables-save", NET / "policy-drop-accept-6443.iptables-save.txt"),
    ("iptables-list", REAL / "iptables-L-n-v-k3s-11516.txt"),
    ("iptables-list", REAL / "iptables-L-n-kilo-29.txt"),
    ("iptables-list", NET / "policy-drop-accept-6443.iptables-L-n-v.txt"),
    ("nft-ruleset", NET / "policy-drop-accept-6443.nft-list-ruleset.txt"),
    ("ufw-status", REAL / "ufw-status-verbose-hetzner-kube-226.txt"),
    ("crictl-ps", REAL / "crictl-ps-a-apiserver-exited-containerd-9545.txt"),
    ("crictl-ps", REAL / "crictl-ps-a-etcd-exited-crio-2016.txt"),
    ("crictl-ps-json", FIX / "runtime/crictl-ps-a-json-crio-flightctl.json"),
    ("crictl-inspect", FIX / "runtime/crictl-inspect-exited-255-containerd-cri-475.json"),
    ("docker-ps", REAL / "docker-ps-a-header-apiserver-exited-k8s-89368.txt"),
    ("docker-ps", REAL / "docker-ps-a-apiserver-exited-k8s-89368.txt"),
    ("df", NET / "df-h-etcd-full.txt"),
    ("df", REAL / "df-h-full-root-minikube-9024.txt"),
    ("df", NET / "df-P-k-etcd-full.txt"),
    ("ss-listening", NET / "reference-fw-drop/ss_ltnp.stdout"),
    ("ss-listening", REAL / "ss-tlpn-control-plane-kubeadm-1647.txt"),
    ("timedatectl", REAL / "timesync-timedatectl-not-synced-cb1-188.txt"),
    ("chrony", REAL / "timesync-chronyc-tracking-skew-telegraf-2988.txt"),
    ("chrony", REAL / "timesync-chronyc-tracking-normal-tidb-insight-57.txt"),
]


def _json(*args: str) -> dict:
    result = CliRunner().invoke(main, ["analyze", *args, "-f", "json"])
    not_understood = '"kind": "not-understood"' in result.stdout
    assert result.exit_code == (2 if not_understood else 0), result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("kind, path", SAMPLES, ids=[p.name for _, p in SAMPLES])
def test_type_is_detected_and_read_through_the_product_path(kind, path):
    assert detect(path.read_text(errors="replace")) == kind
    report = _json(str(path))
    [account] = report["inputs"]
    assert kind in {t for _, _, t in account["segments"]}
    assert account["parsed"] >= account["lines"] / 2
    assert not any("did not parse" in c["reason"] for c in report["coverage"])


def _openssl_pem(tmp_path: Path, *extra: str) -> Path:
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=loose-test",
                    "-days", "1", "-keyout", str(tmp_path / "k.pem"), "-out", str(tmp_path / "c.pem")],
                   check=True, capture_output=True, timeout=60)
    if not extra:
        return tmp_path / "c.pem"
    out = subprocess.run(["openssl", "x509", "-in", str(tmp_path / "c.pem"), *extra], check=True,
                         capture_output=True, timeout=30)
    (tmp_path / "text.txt").write_bytes(out.stdout)
    return tmp_path / "text.txt"


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl")
@pytest.mark.parametrize("extra", [(), ("-text",)])
def test_pem_and_openssl_text_with_its_pem_block_are_certificates(tmp_path, extra):
    path = _openssl_pem(tmp_path, *extra)
    assert detect(path.read_text()) == "pem"
    view_certs = analyze([path]).view.certificates
    assert [c.info.subject for c in view_certs] == ["CN=loose-test"]


def test_unknown_content_alone_is_input_not_understood_and_beside_known_evidence_is_scanned(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("the customer says it broke on tuesday\n")
    report = _json(str(notes))
    assert report["verdict"]["kind"] == "not-understood"
    assert report["verdict"]["summary"].startswith("Input not understood: none of its 1 line(s)")
    report = _json(str(notes), str(LOGS / "etcd-zap-nospace-1.log"))
    assert [f["id"] for f in report["findings"]] == ["ETCD_DB_SPACE_EXCEEDED_LOG"]
    assert {a["file"]: a["scanned"] for a in report["inputs"]}["notes.txt"] == 1


def test_cli_as_overrides_and_unknown_as_is_one_line(tmp_path):
    runner = CliRunner()
    notes = tmp_path / "notes.txt"
    notes.write_text("the customer says it broke on tuesday\n")
    # --as wins over detection: a df output read as an etcd log is scanned (and finds nothing)
    df = REAL / "df-h-full-root-minikube-9024.txt"
    result = runner.invoke(main, ["analyze", "--as", "etcd-zap", str(df), "-f", "json"])
    assert result.exit_code == 0, result.stderr
    result = runner.invoke(main, ["analyze", "--as", "nonsense", str(notes)])
    assert result.exit_code == 2 and "nonsense" in result.stderr


def test_gzip_loose_log_and_its_now_is_the_newest_timestamp_inside(tmp_path):
    packed = tmp_path / "etcd.log.gz"
    packed.write_bytes(gzip.compress((LOGS / "etcd-zap-tls-wrong-ca-cp-1.log").read_bytes()))
    report = analyze([packed])
    [node] = report.view.nodes
    assert node.collected_at == dt.datetime(2026, 11, 27, 1, 59, 19, 287000, tzinfo=dt.timezone.utc)
    assert any("no collection time" in p and "newest timestamp inside it" in p for p in report.view.problems)
    assert [f.id for f in report.findings] == ["ETCD_TLS_REJECTED"]


def test_evidence_without_timestamps_says_it_is_judged_against_the_analysts_clock():
    report = analyze([REAL / "openssl-x509-text-apiserver-elided-opsnull.txt"])
    assert any("analyst's clock" in p for p in report.view.problems)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("journalctl") is None or not Path(JOURNAL_REMOTE).exists(),
                    reason="needs journalctl and systemd-journal-remote")
def test_journalctl_short_iso_output_of_a_real_journal(tmp_path):
    """Real etcd lines written to a real journal file, read back with `journalctl -o short-iso`."""
    raw = (LOGS / "etcd-zap-tls-wrong-ca-cp-1.log").read_bytes().splitlines()
    start = 1_795_000_000_000_000_000
    lines = [LogLine(start + n * 1_000_000, 1000 + n, 4242, text) for n, text in enumerate(raw)]
    journal = write_journal(tmp_path / "root", "cp-1", "etcd", "/usr/bin/etcd", [lines])
    out = subprocess.run(["journalctl", f"--directory={journal.parent}", "-o", "short-iso", "--no-pager"],
                         check=True, capture_output=True, timeout=60).stdout
    (tmp_path / "etcd-journal.txt").write_bytes(out)
    assert detect(out.decode()) == "journald"
    report = analyze([tmp_path / "etcd-journal.txt"])
    assert [f.id for f in report.findings] == ["ETCD_TLS_REJECTED"]
    [fact] = report.view.logs.select("ETCD_REJECTED_CONNECTION")
    assert (fact.component, fact.count) == ("etcd", 40)
