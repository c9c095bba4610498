"""The log formats and the one-pass scanner, on real lines (tests/fixtures/real, tests/fixtures/logs)."""

from __future__ import annotations

import datetime as dt
import gzip
import io
from pathlib import Path

import pytest

from analyzer.logs import scan
from analyzer.logs.formats import parse_line
from analyzer.logs.scan import scan_stream
from analyzer.logs.signatures import ANCHORS, SIGNATURES

REAL = Path(__file__).parent / "fixtures" / "real"
LOGS = Path(__file__).parent / "fixtures" / "logs"
REF = dt.datetime(2026, 11, 27, 3, 0, tzinfo=dt.timezone.utc)


def _scan(data: bytes, component: str = "unknown", **kw: int) -> scan.ScanResult:
    return scan_stream(io.BytesIO(data), component, REF, **kw)


def _counts(result: scan.ScanResult) -> dict[tuple[str, str], int]:
    return {k: v.count for k, v in result.stats.items()}


@pytest.mark.parametrize("line, ts, level, ident", [
    # CRI with a +01:00 offset (k8s 122639): the runtime's stamp wins, converted to UTC
    ((REAL / "cri-apiserver-etcd-cert-expired-k8s-122639.log").read_text().splitlines()[0],
     "2023-12-16T06:35:01.426020+00:00", "", None),
    # docker json-file (k8s 74223): the klog level inside, docker's time
    ((REAL / "docker-json-kcm-leaderelection-etcd-noleader-k8s-74223.log").read_text().splitlines()[0],
     "2019-02-18T03:22:53.752514+00:00", "E", None),
    # journald short with a zh_CN month (k8s 110787): year from the reference, klog's microseconds
    ((REAL / "journald-kcm-leaderelection-rejected-k8s-110787.log").read_text().splitlines()[0],
     "2026-06-25T22:29:55.127157+00:00", "E", "kube-controller-manager"),
    # capnslog and raft's Go log (etcd 3.4 lab)
    ("2026-11-27 02:01:45.628226 W | auth: simple token is not cryptographically signed",
     "2026-11-27T02:01:45.628226+00:00", "W", None),
    ("raft2026/11/27 02:01:45 INFO: 2ae0e97cc7322297 became leader at term 2",
     "2026-11-27T02:01:45+00:00", "I", None),
])
def test_formats_give_time_level_and_writer(line, ts, level, ident):
    parsed = parse_line(line, REF)
    assert parsed.ts is not None
    assert dt.datetime.fromtimestamp(parsed.ts, dt.timezone.utc).isoformat() == ts
    assert (parsed.level, parsed.ident) == (level, ident)


def test_klog_without_year_takes_the_reference_year_and_rolls_back_over_new_year():
    december = parse_line("E1231 23:59:59.000001       1 x.go:1] m", REF).ts
    assert december is not None and dt.datetime.fromtimestamp(december, dt.timezone.utc).year == 2025
    november = parse_line("E1127 02:59:00.000000       1 x.go:1] m", REF).ts
    assert november is not None and dt.datetime.fromtimestamp(november, dt.timezone.utc).year == 2026


@pytest.mark.parametrize("junk", ["", "\x00\x01garbage", '{"log": 3}', '{"log":"unterminated',
                                  "E9999 99:99:99.999999 1 x.go:1] bad date", "Feb 30 10:00:00 h x: y"])
def test_malformed_lines_are_text_not_errors(junk):
    parsed = parse_line(junk, REF)
    assert parsed.text is not None


def test_counts_line_numbers_examples_and_minutes_on_a_real_etcd_log():
    data = (LOGS / "etcd-zap-tls-wrong-ca-cp-1.log").read_bytes()
    result = _scan(data, "etcd")
    stats = result.stats[("etcd", "ETCD_REJECTED_CONNECTION")]
    lines = data.decode().splitlines()
    expected = [n for n, text in enumerate(lines, 1) if "rejected connection" in text]
    assert stats.count == len(expected) == 40
    assert [e.line for e in stats.examples] == expected[:3] + expected[-1:]
    assert all("rejected connection" in lines[e.line - 1] for e in stats.examples)
    assert result.lines == len(lines)
    assert sum(n for (_, _, sig), n in result.minutes.items() if sig == "ETCD_REJECTED_CONNECTION") == 40
    assert any("unknown authority" in d for d in stats.details)


def test_block_boundaries_do_not_change_results():
    data = (LOGS / "etcd-zap-quorum-lost-cp-1.log").read_bytes() * 3
    whole, tiny = _scan(data, "etcd"), _scan(data, "etcd", block_bytes=997)
    assert _counts(tiny) == _counts(whole) and tiny.lines == whole.lines == data.count(b"\n")
    assert {k: [e.line for e in v.examples] for k, v in tiny.stats.items()} == \
        {k: [e.line for e in v.examples] for k, v in whole.stats.items()}


def test_the_c_finder_and_the_bytes_finder_agree():
    data = (LOGS / "etcd-zap-expired-server-cert-1.log").read_bytes()
    for anchor in (a.encode() for a in ANCHORS):
        assert list(scan.FIND_ALL(data, anchor)) == list(scan._find_all_bytes(data, anchor))


def test_truncated_gzip_keeps_what_was_read(tmp_path):
    data = (LOGS / "etcd-zap-tls-wrong-ca-cp-1.log").read_bytes() * 50
    packed = gzip.compress(data)
    with gzip.GzipFile(fileobj=io.BytesIO(packed[: len(packed) // 2])) as stream:
        result = scan_stream(stream, "etcd", REF, block_bytes=4096)
    assert result.error and "read stopped" in result.error
    assert 0 < result.stats[("etcd", "ETCD_REJECTED_CONNECTION")].count < 40 * 50


def test_a_runaway_line_is_cut_not_held():
    result = _scan(b"x" * (scan.MAX_LINE_BYTES + 10) + b"\nE0101 00:00:00.000000 1 a.go:1] x509: boom\n",
                   "kube-scheduler", block_bytes=256 * 1024)
    assert result.long_lines == 1
    assert result.stats[("kube-scheduler", "X509_ERROR")].count == 1


def test_journald_lines_are_attributed_to_their_identifier():
    result = _scan((REAL / "journald-scheduler-config-nokind-opsnull-453.log").read_bytes(), "unknown")
    assert ("kube-scheduler", "SCHEDULER_CONFIG_NOT_REGISTERED") in result.stats


def test_every_signature_has_an_anchor_its_pattern_needs():
    for sig in SIGNATURES:
        assert sig.anchors and all(a in ANCHORS for a in sig.anchors), sig.id
