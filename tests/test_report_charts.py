"""The report's inline SVG pictures: certificate lifetimes, the log timeline, etcd members."""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from analyzer.facts.logs import LogFacts, ScannedLog
from analyzer.render import render
from analyzer.render.etcdchart import etcd_chart
from analyzer.render.logdata import cells_from_frame
from analyzer.render.svg import MAX_TIMELINE_ROWS, STATE_COLOURS, certificate_chart, timeline_chart
from analyzer.report import analyze
from tests.conftest import SAMPLES

SVG = "{http://www.w3.org/2000/svg}"
T0 = dt.datetime(2026, 11, 27, 1, 0, tzinfo=dt.timezone.utc)


def parse(markup: object) -> ET.Element:
    return ET.fromstring(str(markup))


def texts(svg: ET.Element) -> list[str]:
    """The visible words (a text's <title> tooltip excluded)."""
    return [t.text or "" for t in svg.iter(f"{SVG}text")]


def test_certificate_chart_draws_each_lifetime_against_collection_time():
    report = analyze([SAMPLES / "certificates-expired-apiserver"])
    certs = report.view.certificates
    now = {n.name: n.collected_at for n in report.view.nodes}
    svg = parse(certificate_chart(certs, now))
    bars = [r for r in svg.iter(f"{SVG}rect") if r.find(f"{SVG}title") is not None]
    assert len(bars) == len(certs)
    by_label = {t.split("  ", 1)[1].split(" ")[0]: t for t in texts(svg) if t.startswith("cp-1  ")}
    assert "apiserver" in by_label and "front-proxy-client" in by_label
    words = texts(svg)
    assert "expired 3 d ago" in words and "20 d left" in words
    colours = {r.findtext(f"{SVG}title", "").split("\n")[0]: r.get("fill") for r in bars}
    assert colours["cp-1: /etc/kubernetes/pki/apiserver.crt"] == STATE_COLOURS["expired"]
    assert colours["cp-1: /etc/kubernetes/pki/front-proxy-client.crt"] == STATE_COLOURS["expires soon"]
    assert colours["cp-1: /etc/kubernetes/pki/ca.crt"] == STATE_COLOURS["valid"]


def test_certificate_chart_absent_without_certificates():
    assert certificate_chart([], {}) is None


def frame(rows: list[tuple[int, str, str, str, int]]) -> pd.DataFrame:
    return pd.DataFrame([(T0 + dt.timedelta(minutes=m), n, c, s, k) for m, n, c, s, k in rows],
                        columns=["minute", "node", "component", "signature", "count"])


def test_timeline_orders_rows_by_first_appearance_so_the_cascade_reads_down():
    cells = cells_from_frame(frame([
        (5, "cp-1", "kube-scheduler", "leaderelection lost", 1),
        (0, "cp-1", "etcd", "rejected connection: certificate has expired", 40),
        (2, "cp-1", "kube-apiserver", "etcd dial failed", 12),
        (3, "cp-1", "kube-apiserver", "etcd dial failed", 30),
        (4, "cp-1", "kube-apiserver", "etcd dial failed", 0),
    ]))
    assert len(cells) == 4, "zero counts are no cells"
    svg = parse(timeline_chart(cells, {"cp-1": T0 + dt.timedelta(minutes=7)}))
    labels = [t for t in texts(svg) if "@cp-1: " in t]
    assert [label.split("@")[0] for label in labels] == ["etcd", "kube-apiserver", "kube-scheduler"]
    assert "42" in texts(svg) and "collected" in texts(svg)
    cells_drawn = [r for r in svg.iter(f"{SVG}rect") if r.get("opacity")]
    assert len(cells_drawn) == 4
    assert max(cells_drawn, key=lambda r: float(r.get("opacity", 0))).findtext(f"{SVG}title", "").endswith(
        "40 × rejected connection: certificate has expired")


def test_timeline_keeps_the_busiest_rows_and_says_how_many_it_left_out():
    rows = [(i, "cp-1", "kube-apiserver", f"signature {i}", i + 1) for i in range(MAX_TIMELINE_ROWS + 5)]
    svg = parse(timeline_chart(cells_from_frame(frame(rows)), {}))
    assert "5 rarer signatures not drawn" in texts(svg)
    assert not any(t.endswith(": signature 0") for t in texts(svg))


def test_timeline_rejects_a_frame_without_the_agreed_columns():
    with pytest.raises(ValueError, match="signature"):
        cells_from_frame(pd.DataFrame({"minute": [T0], "node": ["cp-1"], "component": ["etcd"],
                                       "count": [1]}))


def test_etcd_chart_shows_leader_down_member_and_db_size():
    report = analyze([SAMPLES / "etcd-one-member-down"])
    etcd = report.view.etcd
    svg = parse(etcd_chart(etcd))
    words = texts(svg)
    observers = [n.node for n in etcd.nodes if n.runs]
    assert [w for w in words if w.startswith("seen from")] == [f"seen from {n}" for n in observers]
    leaders = len({(n.node, s.status.member_id) for n in etcd.nodes if n.runs for s in n.statuses
                   if s.status.is_leader})
    assert leaders and words.count("leader") == leaders
    states = [s.state for s in etcd.states()]
    assert "down" in states and "up" in states
    assert [w for w in words if w in ("up", "down", "unverified", "unknown")] == states
    sized = {s.status.member_id for n in etcd.nodes for s in n.statuses if s.status.db_size is not None}
    assert sum(1 for w in words if w.endswith("/ 2.0 GiB (0%)")) == len(sized)
    assert sum(1 for w in words if w == "unknown / 2.0 GiB") == len(states) - len(sized)
    assert len(list(svg.iter(f"{SVG}circle"))) == len(states) * len(observers)


def test_html_says_what_is_missing_instead_of_drawing_nothing():
    page = render(analyze([SAMPLES / "certificates-expired-apiserver"]), "html")
    assert "No log evidence." in page
    assert "No etcdctl output in the evidence." in page
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart certs"') == 1


SCANNED = ScannedLog("cp-1", "logs.pod", "files/var/log/pods/x/etcd/0.log", "etcd", 10, 900, T0, None)


@pytest.mark.parametrize("available, scanned, note", [
    (set(), False, "No log evidence."),
    ({"pki.cert"}, False, "No log evidence."),
    ({"logs.pod"}, False, "Logs were collected (logs.pod), but this analysis has no log facts to draw."),
    ({"logs.pod", "journal.kubelet"}, True,
     "The logs (journal.kubelet, logs.pod) hold no known error signature."),
])
def test_timeline_note_says_why_there_is_no_timeline(available, scanned, note):
    from analyzer.facts import ClusterView
    from analyzer.render.pages import charts

    view = ClusterView(available=available, logs=LogFacts(scanned=[SCANNED] if scanned else []))
    drawn = charts(view)
    assert drawn.timeline is None and drawn.timeline_note == note


@pytest.mark.parametrize("sample, folded, problems", [
    ("certificates-expired-apiserver", False, {"expired": 1, "expires soon": 1}),
    ("healthy-1-node", True, {}),
])
def test_certificate_chart_is_folded_only_when_every_certificate_is_valid(sample, folded, problems):
    report = analyze([SAMPLES / sample])
    page = render(report, "html")
    figure = page.split('id="chart-certificates"', 1)[1].split("</figure>", 1)[0]
    total = len(report.view.certificates)
    words = [f"{n} {state}" for state, n in problems.items()] + [f"{total - sum(problems.values())} valid"]
    assert f"<summary>{total} certificates: {', '.join(words)}</summary>" in figure
    assert ("<details open>" not in figure) is folded


def test_timeline_window_ends_at_the_newest_line_and_counts_what_it_leaves_out():
    stray = [(-3 * 365 * 24 * 60, "cp-1", "kube-controller-manager", "RESOURCE_LOCK_ERROR", 2)]
    recent = [(m, "cp-1", "etcd", "ETCD_LOST_LEADER", 1) for m in range(0, 30, 3)]
    svg = parse(timeline_chart(cells_from_frame(frame(stray + recent)), {}))
    words = texts(svg)
    assert "2 earlier line(s), from 2023-11-28 01:00 UTC, not drawn" in words
    assert not any(w.startswith("kube-controller-manager@") for w in words)
    ticks = [w for w in words if w[:2].isdigit() and ":" in w]
    assert ticks and all(w.startswith("01:") for w in ticks), "the axis spans the half hour of the incident"


def test_charts_say_what_was_seen_and_draw_no_normal_events() -> None:
    """Issue 15: a firewalled member is not 'down'; a 10-year CA bar says where it goes; a leader
    election is not an error signature."""
    from click.testing import CliRunner

    from analyzer.cli import main

    def page(sample: str) -> str:
        return CliRunner().invoke(main, ["analyze", str(SAMPLES / sample), "--format", "html"]).stdout

    firewalled = page("connectivity-firewall-drop-etcd")
    etcd = firewalled[firewalled.index("chart etcd"):]
    assert ">isolated<" in etcd and ">down<" not in etcd
    assert "beyond the chart&#39;s right edge" in firewalled or "beyond the chart's right edge" in firewalled
    healthy = page("healthy-3-node-ha")
    timeline = healthy[healthy.index('id="chart-timeline"'):]
    assert "ETCD_ELECTED_LEADER" not in timeline and "hold no known error signature" in timeline
