"""etcdctl parsers on real etcd 3.4.23 output (tests/fixtures/etcd/SOURCES.md), and broken variants."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from analyzer.parsers.etcdctl import (
    parse_alarm_list,
    parse_client_errors,
    parse_endpoint_health,
    parse_endpoint_status,
    parse_member_list,
    parse_version,
)

FIXTURES = Path(__file__).parent / "fixtures" / "etcd"
CP1, CP2, CP3 = 3550716309028429110, 8268246579286135389, 9767779437885145862


def text(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_health_json_and_plain_lines_agree():
    json_rows = parse_endpoint_health(text("a-one-member-down/endpoint_health_json.stdout"))
    plain = parse_endpoint_health(text("a-one-member-down/endpoint_health.stderr"))
    for parsed in (json_rows, plain):
        assert not parsed.problems
        assert {(h.endpoint, h.healthy, h.error) for h in parsed.rows} == {
            ("https://127.0.0.1:2379", True, ""), ("https://127.0.0.1:12379", True, ""),
            ("https://127.0.0.1:22379", False, "context deadline exceeded")}
    assert [h.line for h in plain.rows] == [2, 3, 4]  # line 1 is a clientv3 warning


def test_health_without_scheme_and_quorum_lost():
    rows = parse_endpoint_health(text("f-wrong-port/f6_default_endpoint_no_flags.stderr")).rows
    assert [(h.endpoint, h.healthy) for h in rows] == [("127.0.0.1:2379", False)]
    lost = parse_endpoint_health(text("b-quorum-lost/endpoint_health_json.stdout")).rows
    assert not any(h.healthy for h in lost) and len(lost) == 3


def test_status_json_ids_stay_exact_integers():
    rows = parse_endpoint_status(text("00-healthy/endpoint_status_json.stdout")).rows
    assert [(s.member_id, s.leader_id, s.is_leader) for s in rows] == [
        (CP1, CP2, False), (CP2, CP2, True), (CP3, CP2, False)]
    assert all(type(s.member_id) is int for s in rows)
    solo = parse_endpoint_status(text("local-solo/endpoint_status_json.stdout")).rows[0]
    assert solo.member_id == 17767816877210000001 > 2**63  # a float would end ...0000384


def test_status_table_simple_and_json_name_the_same_members():
    forms = ["endpoint_status_table.stdout", "endpoint_status_simple.stdout", "endpoint_status_json.stdout"]
    for form in forms:
        parsed = parse_endpoint_status(text(f"00-healthy/{form}"))
        assert not parsed.problems
        assert [s.member_id for s in parsed.rows] == [CP1, CP2, CP3]
        assert [s.is_leader for s in parsed.rows] == [False, True, False]
        assert all(s.version == "3.4.23" and s.raft_term == 2 for s in parsed.rows)


def test_status_no_leader_and_nospace_errors():
    lost = parse_endpoint_status(text("b-quorum-lost/endpoint_status_json.stdout")).rows[0]
    assert (lost.leader_id, lost.errors, lost.raft_term) == (0, ("etcdserver: no leader",), 5)
    table = parse_endpoint_status(text("b-quorum-lost/endpoint_status_table.stdout")).rows[0]
    assert (table.leader_id, table.errors) == (None, ("etcdserver: no leader",))
    nospace = parse_endpoint_status(text("c-nospace/endpoint_status_table.stdout")).rows[0]
    assert nospace.errors == ("memberID:2519173957542689282 alarm:NOSPACE",)
    assert nospace.member_id == 2519173957542689282
    json_row = parse_endpoint_status(text("c-nospace/endpoint_status_json.stdout")).rows[0]
    assert (json_row.db_size, json_row.db_size_in_use, json_row.revision) == (1216512, 819200, 9)


@pytest.mark.parametrize("name", ["d-tls-wrong-ca/d1_client_cert_from_other_ca_status.stdout",
                                  "d-tls-wrong-ca/d2_client_trusts_other_ca_status.stdout",
                                  "e-expired-server-cert/endpoint_status_table.stdout"])
def test_status_with_no_answer_is_empty_not_a_problem(name):
    parsed = parse_endpoint_status(text(name))
    assert parsed.rows == [] and parsed.problems == []


def test_member_list_forms_agree_and_learner():
    forms = [parse_member_list(text(f"00-healthy/member_list_{f}.stdout"))
             for f in ("json", "table", "simple")]
    for parsed in forms:
        assert not parsed.problems
        assert [(m.id, m.name, m.client_urls, m.is_learner) for m in parsed.members] == [
            (CP1, "cp-1", ("https://127.0.0.1:2379",), False),
            (CP2, "cp-2", ("https://127.0.0.1:12379",), False),
            (CP3, "cp-3", ("https://127.0.0.1:22379",), False)]
    assert (forms[0].cluster_id, forms[0].responder_id) == (8072683597529085533, CP1)
    for form in ("json", "table", "simple"):
        learner = parse_member_list(text(f"local-solo/member_list_learner_{form}.stdout")).members
        assert [(m.hex_id, m.name, m.is_learner, m.client_urls) for m in learner][0] == (
            "c888f6da19e201c0", "", True, ())


def test_alarms_json_plain_and_none():
    for name in ("c-nospace/alarm_list_json.stdout", "c-nospace/alarm_list.stdout"):
        parsed = parse_alarm_list(text(name))
        assert [(a.member_id, a.alarm) for a in parsed.rows] == [(2519173957542689282, "NOSPACE")]
    for name in ("00-healthy/alarm_list_json.stdout", "00-healthy/alarm_list.stdout",
                 "c-nospace/recover_4_alarm_list.stdout"):
        parsed = parse_alarm_list(text(name))
        assert parsed.rows == [] and parsed.problems == []


def test_versions():
    client = parse_version(text("00-healthy/etcdctl_version.stdout"))
    server = parse_version(text("00-healthy/etcd_version.stdout"))
    assert (client.etcdctl, client.api, server.server) == ("3.4.23", "3.4", "3.4.23")


@pytest.mark.parametrize("name, target, kind, needle", [
    ("a-one-member-down/endpoint_status_json.stderr", "https://127.0.0.1:22379", "refused",
     "connection refused"),
    ("d-tls-wrong-ca/d2_client_trusts_other_ca_status.stderr", "https://127.0.0.1:2379", "tls",
     "x509: certificate signed by unknown authority (possibly because of \"crypto/rsa: verification error\""),
    ("d-tls-wrong-ca/d1_client_cert_from_other_ca_status.stderr", "https://127.0.0.1:2379", "rejected",
     "broken pipe"),
    ("e-expired-server-cert/endpoint_status_table.stderr", "https://127.0.0.1:4379", "tls",
     "certificate has expired or is not yet valid"),
    ("f-wrong-port/f2_peer_port_status.stderr", "https://127.0.0.1:2380", "closed", "connection closed"),
    ("d-tls-wrong-ca/d3_no_client_cert_health.stderr", "https://127.0.0.1:2379", "timeout",
     "TransientFailure"),
])
def test_client_errors_name_the_real_cause(name, target, kind, needle):
    errors = parse_client_errors(text(name))
    cause = errors.cause_for(target)
    assert cause is not None and cause.kind == kind and needle in cause.cause


def test_client_errors_failures_and_final_error():
    errors = parse_client_errors(text("b-quorum-lost/endpoint_status_json.stderr"))
    assert [(f.endpoint, f.error, f.line) for f in errors.failures] == [
        ("https://127.0.0.1:12379", "context deadline exceeded", 2),
        ("https://127.0.0.1:22379", "context deadline exceeded", 4)]
    final = parse_client_errors(text("a-one-member-down/endpoint_health.stderr"))
    assert (final.error, final.error_line) == ("unhealthy cluster", 5)


# -- broken input: never an exception; a problem instead of rows ---------------------------------------
JSON_FIXTURES = [
    ("00-healthy/endpoint_health_json.stdout", parse_endpoint_health),
    ("00-healthy/endpoint_status_json.stdout", parse_endpoint_status),
    ("00-healthy/member_list_json.stdout", parse_member_list),
    ("c-nospace/alarm_list_json.stdout", parse_alarm_list),
]


def _problems(parsed: object) -> list[str]:
    return parsed.problems  # type: ignore[attr-defined,no-any-return]


@pytest.mark.parametrize("name, parse", JSON_FIXTURES)
@pytest.mark.parametrize("cut", [0.1, 0.5, 0.9, 0.99])
def test_truncated_json_is_a_problem(name, parse, cut):
    full = text(name).rstrip()
    problems = _problems(parse(full[: int(len(full) * cut)]))
    assert problems and problems[0].startswith("not valid JSON")


@pytest.mark.parametrize("name, parse", JSON_FIXTURES)
def test_collector_kept_the_end_of_a_truncated_output(name, parse):
    """The collector keeps the tail of over-long output: the text starts mid-object."""
    full = text(name)
    parse(full[len(full) // 3:])  # no exception, whatever it makes of it


HUGE_ID = '[{"Endpoint": "x", "Status": {"header": {"member_id": ' + "9" * 5000 + "}}}]"


@pytest.mark.parametrize("bad", ["[" * 100_000, HUGE_ID, "\x00\xff garbage", "{}", '[1, "a", null]', "null"])
def test_hostile_json_does_not_raise(bad):
    for parse in (parse_endpoint_health, parse_endpoint_status, parse_member_list, parse_alarm_list):
        parse(bad)


def test_a_float_id_is_refused_not_rounded():
    raw = json.loads(text("local-solo/member_list_json.stdout"))
    raw["members"][0]["ID"] = float(raw["members"][0]["ID"])  # what a float-parsing tool would write
    parsed = parse_member_list(json.dumps(raw))
    assert parsed.members == [] and any("not a non-negative integer" in p for p in parsed.problems)


def test_truncated_table_keeps_whole_rows():
    lines = text("00-healthy/member_list_table.stdout").splitlines()
    cut_end = parse_member_list("\n".join(lines[:5]) + "\n| 878e1fa5978")
    assert [m.name for m in cut_end.members] == ["cp-1", "cp-2"]
    assert cut_end.problems == ["line 6: row cut short"]
    cut_start = parse_member_list("\n".join(lines[4:]))  # the collector keeps the end: header gone
    assert [m.name for m in cut_start.members] == ["cp-2", "cp-3"] and not cut_start.problems
