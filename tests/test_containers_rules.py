"""Crash loops judged from the container runtime's listing when the API's pod objects are absent or older.

Real listings (tests/fixtures/real, tests/fixtures/runtime; sources in their SOURCES.md) placed under the
collector's item ids with tests/bundle_builder.py, or analysed as loose evidence. Where a test changes a
real text (a container id or pod renamed) the change is named at that line.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from analyzer.bundle import open_bundles
from analyzer.facts import ClusterView, build_view
from analyzer.facts.containers import containers, histories
from analyzer.facts.k8s import Origin, k8s_from_text
from analyzer.facts.source import Source
from analyzer.findings import Finding
from analyzer.report import analyze
from analyzer.rules import REGISTRY, all_rules, run_rules
from tests.bundle_builder import COLLECTED_AT, BundleBuilder
from tests.lab.curate import SPECS

FIXTURES = Path(__file__).parent / "fixtures"
RUNTIME, REAL = FIXTURES / "runtime", FIXTURES / "real"
CRICTL_9545 = (REAL / "crictl-ps-a-apiserver-exited-containerd-9545.txt").read_text()
CRICTL_2016 = (REAL / "crictl-ps-a-etcd-exited-crio-2016.txt").read_text()
ROW_7729 = (RUNTIME / "crictl-ps-a-row-apiserver-attempt5-containerd-7729.txt").read_text()
INSPECT_475 = (RUNTIME / "crictl-inspect-exited-255-containerd-cri-475.json").read_text()
INSPECT_0 = (RUNTIME / "crictl-inspect-completed-0-nydus.json").read_text()
CRASHLOOPS = ("APISERVER_CRASHLOOP", "ETCD_CRASHLOOP", "CONTROLLER_MANAGER_CRASHLOOP", "SCHEDULER_CRASHLOOP")
NOW = dt.datetime.fromisoformat(COLLECTED_AT.replace("Z", "+00:00"))


def node_with(*items: tuple[str, str], collected_at: str = COLLECTED_AT) -> BundleBuilder:
    node = BundleBuilder("cp-1", collected_at=collected_at)
    for item_id, stdout in items:
        node.command(item_id, SPECS[item_id].source, stdout=stdout)
    return node


def loops(findings: list[Finding]) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((f.id, f.severity.value, tuple(f.objects)) for f in findings if f.id in CRASHLOOPS)


def view_of(tmp_path: Path, node: BundleBuilder) -> ClusterView:
    return build_view(open_bundles([node.write(tmp_path)]))


def crashloop_findings(view: ClusterView) -> list[Finding]:
    return [f for rule_id in CRASHLOOPS for f in REGISTRY[rule_id].check(view)]


def test_apiserver_exited_with_none_running_and_a_replaced_controller_manager(tmp_path):
    """containerd#9545: kube-apiserver's only container exited; kube-controller-manager attempt 0 exited
    24 min before and attempt 1 runs since: a replaced container, not a crash loop."""
    report = analyze([node_with(("cri.ps", CRICTL_9545)).write(tmp_path)])
    assert loops(report.findings) == [("APISERVER_CRASHLOOP", "critical",
                                       ("kube-system/kube-apiserver-kiv-cp-zzh2f",))]
    (finding,) = [f for f in report.findings if f.id == "APISERVER_CRASHLOOP"]
    assert finding.title == "kube-apiserver exited and is not running on cp-1"
    assert [(e.item_id, e.path, e.line) for e in finding.evidence] == [("cri.ps", "commands/cri.ps.out", 2)]
    assert finding.evidence[0].excerpt.startswith("1e817d5a4c747 ")
    assert "crictl logs $(crictl ps -a --name kube-apiserver -q | head -n 1)" in finding.remediation.commands
    log_dir = "/var/log/pods/kube-system_kube-apiserver-kiv-cp-zzh2f_*/kube-apiserver/"
    assert log_dir in finding.remediation.text


def test_etcd_exited_at_attempt_25_in_the_old_layout(tmp_path):
    report = analyze([node_with(("cri.ps", CRICTL_2016)).write(tmp_path)])
    assert loops(report.findings) == [("ETCD_CRASHLOOP", "critical", ("pod sandbox 5c17fc84618de",))]
    (finding,) = report.findings
    assert "etcd attempt 25 exited, created 4 min before collection" in finding.detail
    assert finding.category.value == "etcd"


def test_docker_ps_pasted_apiserver_down_and_etcd_replaced():
    """kubernetes#89368 (loose docker ps -a): kube-apiserver _1 Exited (2) with none running is down; etcd
    _1 Exited (1) is followed by _2 Up 6 hours: not a loop."""
    report = analyze([REAL / "docker-ps-a-apiserver-exited-k8s-89368.txt"])
    assert loops(report.findings) == [("APISERVER_CRASHLOOP", "critical",
                                       ("kube-system/kube-apiserver-k8s-apiserver-bug",))]
    (finding,) = [f for f in report.findings if f.id == "APISERVER_CRASHLOOP"]
    assert "kube-apiserver attempt 1 exited, exit code 2, finished 6 h before collection" in finding.detail
    assert finding.evidence[0].item_id == "loose.docker_ps" and finding.evidence[0].line == 3
    # a dockershim node: the commands use docker, not crictl
    assert finding.remediation.commands[0] == "docker ps -a --filter name=k8s_kube-apiserver_"


def test_restarted_hundreds_of_times_within_the_hour():
    """kubernetes#103687 (docker ps): every component runs, but at attempt 484/61/127/121 and started
    7 s to 47 min before: restarting, not down."""
    report = analyze([REAL / "docker-ps-apiserver-restarting-k8s-103687.txt"])
    assert [(i, s) for i, s, _ in loops(report.findings)] == [
        ("APISERVER_CRASHLOOP", "error"), ("CONTROLLER_MANAGER_CRASHLOOP", "warning"),
        ("ETCD_CRASHLOOP", "error"), ("SCHEDULER_CRASHLOOP", "warning")]
    titles = {f.title for f in report.findings if f.id in CRASHLOOPS}
    assert "kube-apiserver is crash-looping on pasted evidence" in titles


def test_restarts_are_judged_against_the_collection_time(tmp_path):
    """The same docker listing, taken 2 h before the node's collection time: attempt 61 of etcd started
    2 h 9 min before collection is history, while nothing newer says it still restarts."""
    text = (REAL / "docker-ps-apiserver-restarting-k8s-103687.txt").read_text()
    node = BundleBuilder("cp-1", collected_at="2026-11-27T04:00:00Z")
    node.command("loose.docker_ps", ["docker", "ps", "-a"], stdout=text)
    node.items[-1]["started_at"] = COLLECTED_AT  # the listing ran 2 h before the collection time
    assert loops(analyze([node.write(tmp_path)]).findings) == []


def test_attempt_4_is_below_the_restart_threshold(tmp_path):
    """containerd#6704: all four components run at attempt 4 (10 s old): under RESTARTS, no finding."""
    listing = (RUNTIME / "crictl-ps-a-control-plane-attempt4-containerd-6704.txt").read_text()
    report = analyze([node_with(("cri.ps", listing)).write(tmp_path)])
    assert loops(report.findings) == []
    checked = {c.rule.id: c.checked for c in report.coverage if c.rule.id in CRASHLOOPS}
    assert checked == dict.fromkeys(CRASHLOOPS, True)


def test_without_any_listing_or_pods_crash_loops_are_not_checked(tmp_path):
    _, coverage = run_rules(view_of(tmp_path, node_with(("host.df", "Filesystem 1K-blocks Used\n"))))
    assert {c.rule.id: c.checked for c in coverage if c.rule.id in CRASHLOOPS} == dict.fromkeys(
        CRASHLOOPS, False)
    for rule in all_rules():
        if rule.id in CRASHLOOPS:
            assert {"k8s.pods", "cri.ps", "cri.ps_json", "cri.inspect", "loose.docker_ps"} <= set(rule.needs)


def test_inspect_gives_exit_code_and_reason(tmp_path):
    """The 7729 kube-apiserver row with the cri#475 inspect of it: the inspect's id is replaced by one
    starting with the row's 13 digits, so it stands for that container."""
    inspect = INSPECT_475.replace("98ad5842a6284", "38a0f753758c5")
    view = view_of(tmp_path, node_with(("cri.ps", ROW_7729), ("cri.inspect", inspect)))
    (fact,) = view.containers
    assert (fact.container.exit_code, fact.container.reason, fact.component) == (255, "Unknown",
                                                                                 "kube-apiserver")
    assert fact.finished == dt.datetime(2017, 12, 1, 20, 8, 56, 523559, tzinfo=dt.timezone.utc)
    (finding,) = crashloop_findings(view)
    assert "exit code 255 (Unknown)" in finding.detail
    assert [(e.item_id, e.line) for e in finding.evidence] == [("cri.ps", 1), ("cri.inspect", 12)]


def test_a_clean_exit_is_not_a_crash(tmp_path):
    """The 7729 row with an inspect saying exit code 0 (nydus docstring, id replaced as above): a
    container stopped cleanly, as `crictl stop` leaves it, is not reported."""
    inspect = INSPECT_0.replace("4098985ed9665", "38a0f753758c5")
    view = view_of(tmp_path, node_with(("cri.ps", ROW_7729), ("cri.inspect", inspect)))
    assert view.containers[0].container.exit_code == 0
    assert crashloop_findings(view) == []


def test_json_listing_is_preferred_and_the_table_is_not_read_twice(tmp_path):
    """flightctl's CRI-O JSON, its busybox container renamed kube-scheduler (same fields otherwise)."""
    listing = (RUNTIME / "crictl-ps-a-json-crio-flightctl.json").read_text().replace(
        '"name": "busybox"', '"name": "kube-scheduler"')
    node = node_with(("cri.ps_json", listing), ("cri.ps", CRICTL_9545))
    bundle = open_bundles([node.write(tmp_path)])[0]
    facts = containers(Source("cp-1", bundle))
    assert [(f.container.name, f.origin.item_id, f.origin.line) for f in facts] == [
        ("alpine", "cri.ps_json", 4), ("kube-scheduler", "cri.ps_json", 24)]
    (history,) = histories(facts, "kube-scheduler")
    assert history.newest.created == dt.datetime(2024, 4, 11, 10, 52, 12, 952358, tzinfo=dt.timezone.utc)


def test_fresher_pod_objects_judge_alone_older_ones_yield_to_the_runtime(tmp_path):
    """kubernetes#117293's pod table (kube-apiserver-mango 0/1, 14 restarts, 12 s ago) with the 9545
    listing, its pods renamed from kiv-cp-zzh2f to mango so both name the same pods. Pod objects as new
    as the listing judge (one finding, from the pods); an hour older, the runtime judges instead."""
    listing = CRICTL_9545.replace("kiv-cp-zzh2f", "mango")
    table = (REAL / "kubectl-get-pods-restart-loop-k8s-117293.txt").read_text()

    def judged(pods_at: dt.datetime) -> list[tuple[str, str, str]]:
        view = view_of(tmp_path / pods_at.strftime("%H"), node_with(("cri.ps", listing)))
        view.k8s.merge(k8s_from_text(table, Origin("cp-1", "k8s.pods", "pods.txt", None, pods_at)))
        return sorted((f.id, f.severity.value, f.evidence[0].item_id) for f in crashloop_findings(view)
                      if f.id == "APISERVER_CRASHLOOP")

    assert judged(NOW) == [("APISERVER_CRASHLOOP", "critical", "k8s.pods")]
    assert judged(NOW - dt.timedelta(hours=1)) == [("APISERVER_CRASHLOOP", "critical", "cri.ps")]


def test_cni_agent_from_the_runtime(tmp_path):
    """containerd#9545's exited kube-apiserver row with its NAME column changed to kube-flannel (the only
    edit): a CNI agent whose only container exited, none running, is reported from the runtime."""
    lines = CRICTL_9545.splitlines()
    row = next(line for line in lines if "kube-apiserver " in line)
    flannel = row.replace("kube-apiserver ", "kube-flannel   ", 1)
    node = node_with(("cri.ps", "\n".join([lines[0], flannel]) + "\n"))
    found = [f for f in analyze([node.write(tmp_path)]).findings if f.id == "CNI_PODS_NOT_READY"]
    assert [(f.severity.value, f.title) for f in found] == [
        ("error", "CNI agent kube-flannel exited and is not running on cp-1")]
    assert found[0].evidence[0].path == "commands/cri.ps.out"


def test_cni_agent_replaced_long_ago_is_not_reported(tmp_path):
    """A calico-node at attempt 12 running for 3 hours (its attempt 11 exited 3 weeks ago) is healthy."""
    node = node_with(("cri.ps", (RUNTIME / "crictl-ps-a-namespace-calico-replaced-blog.txt").read_text()))
    report = analyze([node.write(tmp_path)])
    assert not [f for f in report.findings if f.id == "CNI_PODS_NOT_READY"]
    assert any(c.rule.id == "CNI_PODS_NOT_READY" and c.checked for c in report.coverage)
