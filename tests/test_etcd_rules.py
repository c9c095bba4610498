"""etcd rules on bundles holding real etcdctl output (tests/fixtures/etcd/), as the collector stores it."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from analyzer.bundle import open_bundles
from analyzer.facts import ClusterView, build_view
from analyzer.facts.etcd import EtcdFacts, NodeEtcd, StatusFact
from analyzer.findings import Evidence, Finding
from analyzer.parsers.etcdctl import parse_endpoint_status
from analyzer.report import analyze
from analyzer.rules import all_rules, run_rules
from analyzer.rules.etcd import raft_divergence
from tests.bundle_builder import BundleBuilder

FIXTURES = Path(__file__).parent / "fixtures" / "etcd"
#: collector item id -> capture label in the reference scenarios (same command, explicit --endpoints)
#: this module's rules (ha.py has an ETCD_ prefixed rule about API server flags)
MINE = {r.id for r in all_rules() if r.check.__module__ == "analyzer.rules.etcd"}
ITEMS = {"etcd.endpoint_health": "endpoint_health_json", "etcd.endpoint_status": "endpoint_status_json",
         "etcd.member_list": "member_list_json", "etcd.alarm_list": "alarm_list_json"}


def capture(scenario: str, label: str) -> tuple[str, str, int]:
    """(stdout, stderr, exit code) of one reference capture."""
    commands = json.loads((FIXTURES / scenario / "commands.json").read_text())["commands"]
    rc = next(c["rc"] for c in commands if c["label"] == label)
    out, err = (FIXTURES / scenario / f"{label}.stdout"), (FIXTURES / scenario / f"{label}.stderr")
    return (out.read_text() if out.exists() else "", err.read_text() if err.exists() else "", rc)


def etcd_node(scenario: str, node: str = "cp-1", labels: dict[str, str] | None = None,
              endpoint: str = "https://127.0.0.1:2379", **spec: object) -> BundleBuilder:
    """A kubeadm node whose etcdctl items hold one scenario's captures."""
    builder = BundleBuilder(node).kubeadm_manifests(**spec)
    for item_id, label in (ITEMS if labels is None else labels).items():
        out, err, rc = capture(scenario, label)
        builder.command(item_id, builder.argv(item_id, endpoint), out, err, rc)
    return builder


def findings(tmp_path: Path, *nodes: BundleBuilder) -> list[Finding]:
    report = analyze([n.write(tmp_path) for n in nodes])
    return [f for f in report.findings if f.id in MINE]


def summary(found: list[Finding]) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((f.id, f.severity.value, tuple(f.objects)) for f in found)


def test_healthy_cluster_gives_no_etcd_findings(tmp_path):
    nodes = [etcd_node("00-healthy", name) for name in ("cp-1", "cp-2")]
    assert findings(tmp_path, *nodes) == []
    view = build_view(open_bundles([tmp_path / "cp-1"]))
    assert {s.state for s in view.etcd.states()} == {"up"}
    _, coverage = run_rules(view)
    checked = {c.rule.id for c in coverage if c.checked}
    assert {"ETCD_QUORUM_LOST", "ETCD_NOSPACE_ALARM", "ETCD_UNREACHABLE", "ETCD_MEMBER_COUNT"} <= checked


def test_one_member_down_puts_quorum_at_risk(tmp_path):
    found = findings(tmp_path, etcd_node("a-one-member-down"))
    assert summary(found) == [("ETCD_ENDPOINT_UNHEALTHY", "error", ("https://127.0.0.1:22379",)),
                              ("ETCD_QUORUM_AT_RISK", "error", ("cp-3",))]
    unhealthy = found[0] if found[0].id == "ETCD_ENDPOINT_UNHEALTHY" else found[1]
    assert "connect: connection refused" in unhealthy.detail  # from the gRPC warning, not the health line
    assert {(e.path, e.line) for e in unhealthy.evidence} >= {("commands/etcd.endpoint_health.out", 1),
                                                              ("commands/etcd.endpoint_status.err", 2)}


def test_quorum_lost_no_leader_and_restore_for_3_4(tmp_path):
    found = findings(tmp_path, etcd_node("b-quorum-lost"))
    assert summary(found) == [
        ("ETCD_ENDPOINT_UNHEALTHY", "error", ("https://127.0.0.1:12379",)),
        ("ETCD_ENDPOINT_UNHEALTHY", "error", ("https://127.0.0.1:22379",)),
        ("ETCD_ENDPOINT_UNHEALTHY", "error", ("https://127.0.0.1:2379",)),
        ("ETCD_NO_LEADER", "critical", ("https://127.0.0.1:2379",)),
        ("ETCD_QUORUM_LOST", "critical", ("cp-2", "cp-3"))]
    lost = next(f for f in found if f.id == "ETCD_QUORUM_LOST")
    restore = [c for c in lost.remediation.commands if "snapshot restore" in c]
    assert len(restore) == 3 and all(c.startswith("ETCDCTL_API=3 etcdctl snapshot restore") for c in restore)
    assert "--initial-cluster cp-1=https://127.0.0.1:2380,cp-2=https://127.0.0.1:12380," in restore[0]
    assert not any("--endpoints" in c or "--cacert" in c for c in restore)  # restore is offline
    survivor = next(f for f in found if f.objects == ["https://127.0.0.1:2379"] and f.id != "ETCD_NO_LEADER")
    assert "cannot commit" in survivor.detail
    assert not any("manifests" in c for c in survivor.remediation.commands)


def test_restore_uses_etcdutl_from_3_5(tmp_path):
    """Without status output the version comes from the manifest's image (etcd 3.5.12)."""
    labels = {"etcd.endpoint_health": "endpoint_health_json", "etcd.member_list": "member_list_json"}
    found = findings(tmp_path, etcd_node("b-quorum-lost", labels=labels))
    lost = next(f for f in found if f.id == "ETCD_QUORUM_LOST")
    assert sum(c.startswith("etcdutl snapshot restore") for c in lost.remediation.commands) == 3


def test_nospace_alarm_and_quota(tmp_path):
    node = etcd_node("c-nospace", labels={k: v for k, v in ITEMS.items() if k != "etcd.member_list"},
                     endpoint="https://127.0.0.1:3379", etcd_client_port=3379,
                     extra_flags={"etcd": {"quota-backend-bytes": "1048576"}})
    found = findings(tmp_path, node)
    assert summary(found) == [("ETCD_DB_NEAR_QUOTA", "error", ("22f5e75e02bf3a02",)),
                              ("ETCD_NOSPACE_ALARM", "critical", ("22f5e75e02bf3a02",))]
    quota = next(f for f in found if f.id == "ETCD_DB_NEAR_QUOTA")
    assert "116%" in quota.title
    assert any(e.excerpt == "--quota-backend-bytes=1048576" for e in quota.evidence)
    commands = next(f for f in found if f.id == "ETCD_NOSPACE_ALARM").remediation.commands
    steps = [next(i for i, c in enumerate(commands) if word in c)
             for word in ("compaction", "defrag", "disarm")]
    assert steps == sorted(steps)
    assert all("--endpoints=https://127.0.0.1:3379 --cacert=/etc/kubernetes/pki/etcd/ca.crt "
               "--cert=/etc/kubernetes/pki/etcd/server.crt --key=/etc/kubernetes/pki/etcd/server.key" in c
               for c in commands[:3])


def test_nospace_revision_command_reads_the_real_status_json():
    """The remediation's `rev=$(... | grep ...)` pipeline, run on the real status JSON, gives the revision."""
    from analyzer.rules.etcd import _reclaim

    view = ClusterView(etcd=EtcdFacts())
    pipeline = _reclaim(view)[0].split(" | ", 1)[1].rstrip(")")
    status = (FIXTURES / "c-nospace" / "endpoint_status_json_for_rev.stdout").read_text()
    result = subprocess.run(["bash", "-c", pipeline], input=status, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "10"


@pytest.mark.parametrize("scenario, labels, needle, command", [
    ("d-tls-wrong-ca", {"etcd.endpoint_health": "d2_client_trusts_other_ca_health",
                        "etcd.endpoint_status": "d2_client_trusts_other_ca_status"},
     "x509: certificate signed by unknown authority", "openssl verify -CAfile "
                                                      "/etc/kubernetes/pki/etcd/ca.crt"),
    ("d-tls-wrong-ca", {"etcd.endpoint_health": "d1_client_cert_from_other_ca_health",
                        "etcd.endpoint_status": "d1_client_cert_from_other_ca_status"},
     "write: broken pipe", "openssl verify -CAfile /etc/kubernetes/pki/etcd/ca.crt "
                           "/etc/kubernetes/pki/apiserver-etcd-client.crt"),
    ("e-expired-server-cert", {"etcd.endpoint_health": "endpoint_health",
                               "etcd.endpoint_status": "endpoint_status_table",
                               "etcd.member_list": "member_list_table"},
     "certificate has expired or is not yet valid", "kubeadm certs renew etcd-server"),
    ("f-wrong-port", {"etcd.endpoint_health": "f1_nothing_listening_health",
                      "etcd.endpoint_status": "f1_nothing_listening_status",
                      "etcd.member_list": "f1_nothing_listening_member_list"},
     "connect: connection refused", "mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/"),
])
def test_unreachable_shows_the_real_cause(tmp_path, scenario, labels, needle, command):
    found = findings(tmp_path, etcd_node(scenario, labels=labels))
    assert [(f.id, f.severity.value) for f in found] == [("ETCD_UNREACHABLE", "error")]
    assert needle in found[0].detail and "context deadline exceeded" in found[0].detail
    assert any(c.startswith(command) for c in found[0].remediation.commands)


def test_one_node_cannot_reach_etcd_that_others_see_healthy(tmp_path):
    """Liveness from all nodes together: cp-1's TLS failure is cp-1's problem, not a dead member."""
    broken = etcd_node("d-tls-wrong-ca", labels={"etcd.endpoint_health": "d3_no_client_cert_health"})
    found = findings(tmp_path, broken, etcd_node("00-healthy", "cp-2"))
    assert [(f.id, f.nodes) for f in found] == [("ETCD_UNREACHABLE", ["cp-1"])]


def test_etcdctl_missing_is_not_checked_not_unreachable(tmp_path):
    node = BundleBuilder("cp-1").kubeadm_manifests()
    for item_id in ITEMS:
        node.not_collected(item_id, node.argv(item_id), error="cannot run etcdctl: No such file or directory")
    view = build_view(open_bundles([node.write(tmp_path)]))
    found, coverage = run_rules(view)
    assert not [f for f in found if f.id in MINE]
    # 11: ETCD_CRASHLOOP (rules/etcd.py) reads the pods and the runtime's listing, not etcdctl
    assert all(not c.checked for c in coverage if c.rule.id in MINE) and len(MINE) == 11


def test_nodes_seeing_different_clusters(tmp_path):
    other = etcd_node("local-solo", "cp-2", labels={"etcd.member_list": "member_list_json"},
                      endpoint="http://127.0.0.1:47379")
    found = findings(tmp_path, etcd_node("00-healthy"), other)
    assert summary(found) == [("ETCD_MEMBER_LIST_MISMATCH", "error", ("cp-1", "cp-2"))]
    mismatch = next(f for f in found if f.id == "ETCD_MEMBER_LIST_MISMATCH")
    assert "cp-2 sees cluster 643a162628888632 with solo-1" in mismatch.detail


def test_learners_do_not_count(tmp_path):
    node = etcd_node("local-solo", labels={"etcd.member_list": "member_list_learner_json"})
    found = findings(tmp_path, node)
    assert summary(found) == [("ETCD_MEMBER_COUNT", "warning", ("solo-1",))]
    assert "1 learner(s) not counted" in found[0].detail


def _status_view(rows: str) -> ClusterView:
    """Rule logic for divergence, which no capture shows: real status rows with edited counters."""
    node = NodeEtcd("cp-1")
    for status in parse_endpoint_status(rows).rows:
        node.statuses.append(StatusFact(status, "commands/etcd.endpoint_status.out",
                                        Evidence("cp-1", "commands/etcd.endpoint_status.out", 1, status.raw)))
    view = ClusterView()
    view.etcd.add(node)
    return view


def test_raft_divergence_only_past_the_gaps():
    healthy = (FIXTURES / "00-healthy" / "endpoint_status_json.stdout").read_text()
    assert list(raft_divergence(_status_view(healthy))) == []
    lagging = healthy.replace('"raftIndex":16,"raftTerm":2,"raftAppliedIndex":16,"dbSizeInUse":16384}},'
                              '{"Endpoint":"https://127.0.0.1:12379"',
                              '"raftIndex":16,"raftTerm":2,"raftAppliedIndex":16,"dbSizeInUse":16384}},'
                              '{"Endpoint":"https://127.0.0.1:12379"', 1)
    lagging = lagging.replace('"raftIndex":16', '"raftIndex":9016', 2).replace('"raftAppliedIndex":16',
                                                                               '"raftAppliedIndex":9016', 2)
    found = list(raft_divergence(_status_view(lagging)))
    assert [(f.severity.value, f.objects) for f in found] == [("warning", ["lag-878e1fa597824306"])]
    split = healthy.replace('"leader":8268246579286135389', '"leader":3550716309028429110', 1)
    assert [f.severity.value for f in raft_divergence(_status_view(split))] == ["error"]
