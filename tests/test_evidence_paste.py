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
    ("kubeadm-init-sealos-runner-prefix-sealos-1355.txt", "kubeadm-output"),  # `IP:22: ` on every line
    ("kubeadm-init-terraform-runner-prefix-hcloud-19.txt", "kubeadm-output"),  # `... (remote-exec): `
    ("etcd2-golog-request-timed-out-k8s-10122.txt", "etcd-capnslog"),
    ("kubectl-get-cs-rows-without-header-rancher-21494.txt", "kubectl-componentstatuses"),
    ("etcdctl-v2-cluster-unavailable-etcd-3864.txt", "etcdctl-cluster-health"),
    ("go-panic-bbolt-page-assertion-etcd-18096.txt", "go-panic"),
    ("logrus-kine-compact-k3s-11269.txt", "logrus"),
    ("oc-get-clusteroperators-degraded-installer-2646.txt", "openshift-clusteroperators"),
    ("kubectl-get-csr-bootstrap-pending-k8s-65843.txt", "kubectl-csr"),
    ("kubectl-describe-pod-crashloop-portainer-5314.txt", "kubectl-describe-pod"),
    ("kubectl-unable-to-connect-x509-expired-microk8s-2638.txt", "kubectl-client-error"),
])
def test_new_types_and_command_lines_are_read(name, kind):
    rep = report(str(REAL / name))
    assert kind in types_read(rep)
    assert "unrecognised" not in types_read(rep)
    assert rep["verdict"]["kind"] != "not-understood"


def test_cluster_health_v2_names_the_unreachable_member():
    rep = report(str(REAL / "etcdctl-cluster-health-v2-unreachable-etcd-3852.txt"))
    assert [(f["id"], f["objects"]) for f in rep["findings"]] == [
        ("ETCD_ENDPOINT_UNHEALTHY", ["http://172.17.8.103:2379"])]


def test_lines_wrapped_by_an_80_column_terminal_are_joined():
    rep = report(str(REAL / "etcdctl-cluster-health-v2-wrapped-80-rancher-9667.txt"))
    assert sorted(f["objects"][0] for f in rep["findings"]) == [
        "http://10.42.218.183:2379", "http://10.42.253.152:2379", "http://10.42.61.255:2379"]
    [account] = rep["inputs"]
    assert account["scanned"] == 0


def test_openssl_enddate_alone_finds_the_expired_certificate():
    rep = report(str(REAL / "openssl-enddate-expired-udacity-ud615-5.txt"))
    assert [f["id"] for f in rep["findings"]] == ["CERT_EXPIRED"]


def test_info_findings_alone_are_not_green():
    rep = report(str(REAL / "kubectl-get-cs-false-alarm-k8s-96101.txt"))
    assert [f["severity"] for f in rep["findings"]] == ["info"]
    assert rep["verdict"]["kind"] == "partial"


def test_cs_rows_without_header_read_etcd_503_as_unhealthy():
    rep = report(str(REAL / "kubectl-get-cs-rows-without-header-rancher-21494.txt"))
    assert ("ETCD_UNHEALTHY_REPORTED", "error") in {(f["id"], f["severity"]) for f in rep["findings"]}


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
    assert crash["checked"] is False and "k8s.pods timed out" in crash["reason"]
    assert rep["findings"] == []  # the crash-looping pods of the timed-out (partial) listing are not judged
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
    assert rep["verdict"]["kind"] == "insufficient" and "control-plane" in rep["verdict"]["summary"]


@pytest.mark.parametrize("name, kind, component", [
    ("stern-kube-vip-refused-kube-vip-318.txt", "klog", "kube-vip"),  # stern's `POD CONTAINER ` prefix
    ("journald-grep-n-kubelet-refused-k8s-79362.txt", "journald", "kubelet"),  # `grep -n` line numbers
    ("kubectl-logs-k-alias-kcm-unknown-flag-gardener-2753.txt", "klog", None),  # `$ k ... logs POD`
    ("syslog-ident-only-k3s-x509-expired-k3s-9954.txt", "journald", "k3s"),  # time and host cut off
    ("systemctl-status-docker-german-journal-website-8668.txt", "journald", None),  # `Mai 22` months
])
def test_line_prefix_variants_are_read_and_name_their_writer(name, kind, component):
    rep = report(str(REAL / name))
    assert kind in types_read(rep) and "unrecognised" not in types_read(rep)
    if component:
        from analyzer.report import analyze

        assert {s.component for s in analyze([REAL / name]).view.logs.signatures} == {component}


def test_german_journal_and_systemctl_give_the_year_and_time():
    rep = report(str(REAL / "systemctl-status-docker-german-journal-website-8668.txt"))
    assert rep["nodes"][0]["collected_at"].startswith("2018-05-22T08:07")


def test_concatenated_logs_of_two_components_are_attributed_line_by_line(tmp_path):
    """etcd's zap log and the API server's klog pasted one after the other, no header between them:
    each signature belongs to the component whose line it is, not to the first line's."""
    from analyzer.report import analyze

    mixed = tmp_path / "mixed.txt"
    mixed.write_text((REAL / "etcd-zap-rejected-connection-bitnami-8591.log").read_text()
                     + (REAL / "klog-apiserver-etcd-refused-k8s-89368.log").read_text())
    found = {(s.component, s.id) for s in analyze([mixed]).view.logs.signatures}
    assert ("etcd", "ETCD_REJECTED_CONNECTION") in found
    assert ("kube-apiserver", "APISERVER_ETCD_REFUSED") in found


def test_a_degraded_control_plane_operator_in_an_oc_table_is_a_finding():
    """The table's row is judged with its age (OPERATOR_DEGRADED); the same facts' structured rule
    (OPENSHIFT_OPERATOR_DEGRADED, for must-gather's objects) is superseded rather than repeated."""
    rep = report(str(REAL / "oc-get-clusteroperators-degraded-installer-2646.txt"))
    assert [(f["id"], f["category"], f["objects"]) for f in rep["findings"]] == [
        ("OPERATOR_DEGRADED", "apiserver", ["kube-apiserver: OPERATOR_DEGRADED"])]


@pytest.mark.parametrize("name", ["systemctl-status-kubelet-failed-kubelet-4.txt",
                                  "systemctl-status-kubelet-collapsed-k8s-55942.txt"])
def test_a_kubelet_systemd_keeps_restarting_is_a_finding(name):
    rep = report(str(REAL / name))
    found = [(f["id"], f["objects"]) for f in rep["findings"]]
    assert found == [("SERVICE_NOT_RUNNING", ["kubelet.service"])]


def test_a_running_unit_is_no_finding_and_not_green():
    rep = report(str(REAL / "systemctl-status-docker-german-journal-website-8668.txt"))
    assert rep["findings"] == [] and rep["verdict"]["kind"] == "partial"


def test_a_tools_preamble_belongs_to_its_output():
    """kubeadm's `[check-expiration] Reading configuration ...` lines and the blank line before the
    table are read with the table, not left over as text nobody understood."""
    [account] = report(str(REAL / "kubeadm-certs-external-etcd-kubeadm-2866.txt"))["inputs"]
    assert account["scanned"] == 0 and {t for _, _, t in account["segments"]} == {"kubeadm-certs"}


def test_bootstrap_csrs_pending_for_hours_are_an_error_naming_them():
    rep = report(str(REAL / "kubectl-get-csr-bootstrap-pending-k8s-65843.txt"))
    [finding] = rep["findings"]
    assert (finding["id"], finding["severity"]) == ("CSR_PENDING", "error")
    approved = "node-csr-0k4pYdZvY1zzt2OeL2wqqzeGKnVyymqMoSBh1kk2_as"
    assert finding["category"] == "certificates" and approved not in finding["objects"]


def test_etcdctl_json_after_its_stderr_line_reads_both():
    """etcdctl prints a failing endpoint on stderr before the JSON of the others: both are read, and
    the endpoint that did not answer is named."""
    rep = report(str(REAL / "etcdctl-status-json-after-stderr-etcd-9531.txt"))
    assert types_read(rep) == ["etcdctl-status"]
    assert [(f["id"], f["objects"][0]) for f in rep["findings"]] == [
        ("ETCD_ENDPOINT_UNHEALTHY", "http://127.0.0.1:20002")]


def test_a_ticket_with_a_log_line_prose_and_an_openssl_fragment():
    """kubernetes/apiserver#102 as pasted: the API server's CRI line (etcd's certificate expired), a
    sentence, and `openssl ... | grep fter` in a fence: each part read as what it is; the certificate
    the fragment shows (valid to April 2024) is judged at the log's time, December 2023."""
    rep = report(str(REAL / "cri-and-openssl-grep-not-after-apiserver-102.txt"))
    assert set(types_read(rep)) == {"cri-log", "x509-text"}
    # the etcd client's `x509: certificate has expired` is a certificates finding too (issue 12)
    assert [f["id"] for f in rep["findings"]] == ["APISERVER_ETCD_CONNECTION_FAILED", "CERT_EXPIRED_LOG"]
    assert rep["nodes"][0]["collected_at"].startswith("2023-12-16")


@pytest.mark.parametrize("name, category, severity", [
    ("kubectl-refused-6443-website-19461.txt", "apiserver", "critical"),
    ("kubectl-unable-to-connect-x509-expired-microk8s-2638.txt", "certificates", "critical"),
])
def test_kubectls_own_errors_are_findings_in_the_causes_category(name, category, severity):
    rep = report(str(REAL / name))
    assert [(f["id"], f["category"], f["severity"]) for f in rep["findings"]] == [
        ("KUBECTL_CANNOT_REACH_API", category, severity)]


def test_a_failed_kubeadm_init_is_a_finding():
    rep = report(str(REAL / "kubeadm-init-kubelet-check-timeout-techiescamp-11.txt"))
    assert [(f["id"], f["severity"], f["objects"]) for f in rep["findings"]] == [
        ("KUBEADM_FAILED", "critical", ["kubeadm:control-plane-not-up"])]


def test_a_user_at_host_tilde_prompt_is_a_command_line_not_a_row():
    rep = report(str(REAL / "docker-ps-grep-coreos-prompt-kcm-exited-k8s-75726.txt"))
    assert [f["id"] for f in rep["findings"]] == ["CONTROLLER_MANAGER_CRASHLOOP"]
    [account] = rep["inputs"]
    assert (account["parsed"], account["ignored"]) == (2, 1)


@pytest.mark.parametrize("item, severity", [
    # before 1.18 the table has no SIGNERNAME: a node's own request may renew its client certificate
    ("csr-pending-system-node-openshift-azure-1827.txt", "error"),
    # a kubelet-serving request only breaks logs/exec to that node
    ("csr-kubelet-serving-pending-eks-perf-tests-189.txt", "warning"),
])
def test_pending_csrs_are_judged_by_what_they_would_give_the_node(item: str, severity: str):
    rep = report(str(Path(__file__).parent / "corpus" / "apiserver-certs" / item))
    assert {(f["id"], f["severity"]) for f in rep["findings"] if f["category"] == "certificates"} == {
        ("CSR_PENDING", severity)}
