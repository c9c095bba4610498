"""Causal linking: known relations, time order, only direct links, ranking with confidence."""

from __future__ import annotations

import datetime as dt

from analyzer.causality import link, rank
from analyzer.findings import Category, Finding, Remediation, Severity

T0 = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)


def finding(rule_id: str, category: Category, severity: Severity, minute: int | None,
            objects: tuple[str, ...] = ()) -> Finding:
    return Finding(rule_id, severity, category, rule_id, "", Remediation("fix"), nodes=["cp-1"],
                   objects=list(objects),
                   first_seen=None if minute is None else T0 + dt.timedelta(minutes=minute))


def cascade(cert_minute: int | None = 0) -> dict[str, Finding]:
    found = [
        finding("CERT_EXPIRED", Category.CERTIFICATES, Severity.CRITICAL, cert_minute,
                ("/etc/kubernetes/pki/etcd/server.crt",)),
        finding("ETCD_TLS_REJECTED", Category.ETCD, Severity.ERROR, 1),
        finding("APISERVER_ETCD_CONNECTION_FAILED", Category.APISERVER, Severity.CRITICAL, 2),
        finding("APISERVER_CRASHLOOP", Category.APISERVER, Severity.CRITICAL, 3),
        finding("LEASE_STALE", Category.HA, Severity.ERROR, 4),
    ]
    link(found)
    return {f.id: f for f in found}


def test_chain_keeps_only_direct_links():
    f = cascade()
    key = {i: x.key for i, x in f.items()}
    assert f["CERT_EXPIRED"].causes == [key["ETCD_TLS_REJECTED"]]
    assert f["ETCD_TLS_REJECTED"].causes == [key["APISERVER_ETCD_CONNECTION_FAILED"]]
    assert f["APISERVER_ETCD_CONNECTION_FAILED"].causes == [key["APISERVER_CRASHLOOP"]]
    assert f["LEASE_STALE"].caused_by == [key["APISERVER_CRASHLOOP"]]


def test_root_is_ranked_first_with_high_confidence_when_seen_first():
    f = cascade()
    [root] = rank(list(f.values()))
    assert root.finding.id == "CERT_EXPIRED"
    assert root.confidence == "high" and "explains 4 other finding(s)" in root.reason
    assert "rejected connection" in root.confirm


def test_a_cause_seen_after_its_effect_does_not_explain_it():
    f = cascade(cert_minute=10)  # the certificate "expired" after everything else happened
    assert f["CERT_EXPIRED"].causes == []
    roots = {r.finding.id: r.confidence for r in rank(list(f.values()))}
    assert roots["CERT_EXPIRED"] == "low"
    assert roots["ETCD_TLS_REJECTED"] == "high"


def test_unknown_times_link_with_medium_confidence():
    f = cascade(cert_minute=None)
    ranking = rank(list(f.values()))
    assert [r.finding.id for r in ranking] == ["CERT_EXPIRED"]
    assert ranking[0].confidence == "medium"


def test_relation_conditions_look_at_the_cause():
    """An expired API server certificate does not explain etcd rejecting TLS clients."""
    apiserver = finding("CERT_EXPIRED", Category.CERTIFICATES, Severity.CRITICAL, 0,
                        ("/etc/kubernetes/pki/apiserver.crt",))
    rejected = finding("ETCD_TLS_REJECTED", Category.ETCD, Severity.ERROR, 1)
    link([apiserver, rejected])
    assert apiserver.causes == [] and rejected.caused_by == []


def test_a_removed_controller_manager_flag_explains_its_crash_loop():
    flag = finding("CONTROLLER_MANAGER_REMOVED_FLAG", Category.CONTROLLER_MANAGER, Severity.CRITICAL, None,
                   ("/etc/kubernetes/manifests/kube-controller-manager.yaml",))
    loop = finding("CONTROLLER_MANAGER_CRASHLOOP", Category.CONTROLLER_MANAGER, Severity.ERROR, None)
    link([flag, loop])
    assert loop.caused_by == [flag.key]
    [root] = rank([flag, loop])
    assert root.finding is flag and "unknown flag" in root.confirm


def test_an_approver_refusing_node_csrs_explains_them_pending():
    refused = finding("CSR_NOT_APPROVED", Category.CERTIFICATES, Severity.WARNING, 0, ("csr/csr-b2jkb",))
    pending = finding("CSR_PENDING", Category.CERTIFICATES, Severity.ERROR, None, ("csr-b2jkb",))
    link([refused, pending])
    assert pending.caused_by == [refused.key]
    assert [r.finding.id for r in rank([refused, pending])] == ["CSR_NOT_APPROVED"]
