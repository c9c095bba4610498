"""Root causes first, symptoms folded under them: the reports render whatever the causal links say,
including no links, links to missing findings and cycles."""

from __future__ import annotations

import re

import pytest

from analyzer.findings import Category, Finding, Remediation, Severity
from analyzer.render import render
from analyzer.render.terminal import summary
from analyzer.report import Report, analyze
from tests.conftest import SAMPLES


def finding(rule: str, severity: Severity, category: Category, obj: str) -> Finding:
    return Finding(rule, severity, category, f"{rule} on {obj}", "detail", Remediation("fix it"),
                   nodes=["cp-1"], objects=[obj])


def link(cause: Finding, effect: Finding) -> None:
    cause.causes.append(effect.key)
    effect.caused_by.append(cause.key)


@pytest.fixture
def cascade() -> Report:
    """expired cert -> apiserver crash loop -> (stale lease, scheduler crash loop); the cert also
    explains the lease directly; a dangling link; and two findings that blame each other."""
    report = analyze([SAMPLES / "certificates-expired-apiserver"])
    cert = finding("CERT_EXPIRED", Severity.CRITICAL, Category.CERTIFICATES,
                   "/etc/kubernetes/pki/etcd/server.crt")
    crash = finding("APISERVER_CRASHLOOP", Severity.CRITICAL, Category.APISERVER, "kube-apiserver")
    lease = finding("LEASE_STALE", Severity.ERROR, Category.CONTROLLER_MANAGER, "kube-controller-manager")
    sched = finding("SCHEDULER_CRASHLOOP", Severity.ERROR, Category.SCHEDULER, "kube-scheduler")
    left = finding("CLOCK_SKEW_BETWEEN_NODES", Severity.WARNING, Category.HA, "cp-1")
    right = finding("CLOCK_NOT_SYNCHRONIZED", Severity.WARNING, Category.NODE, "cp-1")
    link(cert, crash)
    link(crash, lease)
    link(crash, sched)
    link(cert, lease)
    link(left, right)
    link(right, left)
    sched.caused_by.append("GONE-12345678")
    report.findings[:] = [cert, crash, lease, sched, left, right]
    report.ranking.clear()
    return report


def test_forest_shows_every_finding_once_under_its_first_cause(cascade: Report):
    forest = cascade.cause_forest()
    roots = [node.finding.id for node in forest]
    assert roots[0] == "CERT_EXPIRED"
    assert set(roots) == {"CERT_EXPIRED", "CLOCK_SKEW_BETWEEN_NODES"}, "the cycle gets a root of its own"
    cert = forest[0]
    assert [s.finding.id for s in cert.symptoms] == ["APISERVER_CRASHLOOP"]
    assert [f.id for f in cert.seen_elsewhere] == ["LEASE_STALE"]
    assert {s.finding.id for s in cert.symptoms[0].symptoms} == {"LEASE_STALE", "SCHEDULER_CRASHLOOP"}

    def walk(nodes: list) -> list[str]:
        return [k for n in nodes for k in [n.finding.key, *walk(list(n.symptoms))]]

    assert sorted(walk(forest)) == sorted(f.key for f in cascade.findings)


def test_html_nests_symptoms_inside_their_cause(cascade: Report):
    page = render(cascade, "html")
    for f in cascade.findings:
        assert page.count(f'id="f-{f.key}"') == 1
    cert, crash, lease = cascade.findings[:3]
    cert_card = page.index(f'id="f-{cert.key}"')
    crash_card = page.index(f'id="f-{crash.key}"')
    lease_card = page.index(f'id="f-{lease.key}"')
    assert cert_card < crash_card < lease_card
    # the crash loop's card is inside the certificate's article: no </article> closes it in between
    assert "</article>" not in page[cert_card:crash_card]
    assert f'Also explains <a href="#f-{lease.key}">' in page
    causes = page.split('id="causes"', 1)[1].split("</section>", 1)[0]
    assert "Root causes" in causes and cert.title in causes
    assert "GONE-12345678" not in page


def test_markdown_lists_the_cascade_as_a_tree(cascade: Report):
    text = render(cascade, "md")
    tree = text.split("## Root causes", 1)[1].split("## Findings", 1)[0]
    lines = [line for line in tree.splitlines() if line.strip()]
    assert lines[0].startswith("- **CRITICAL** `CERT_EXPIRED`")
    assert lines[1].startswith("  - **CRITICAL** `APISERVER_CRASHLOOP`")
    assert any(re.match(r"    - \*\*ERROR\*\* `SCHEDULER_CRASHLOOP`", line) for line in lines)
    assert "| `CERT_EXPIRED` |" in text.replace("`CERT_EXPIRED`, ", "`CERT_EXPIRED` |")


def test_terminal_summary_leads_with_root_causes(cascade: Report):
    text = summary(cascade)
    assert "root causes:" in text
    # the crash loop's own symptom (the scheduler) counts too: everything below the root, worst first
    explains = text.index("explains 3 other finding(s), worst critical: APISERVER_CRASHLOOP, LEASE_STALE, "
                          "SCHEDULER_CRASHLOOP")
    assert text.index("CERT_EXPIRED") < explains


def test_without_links_findings_stand_alone():
    report = analyze([SAMPLES / "certificates-expired-apiserver"])
    for f in report.findings:
        f.causes.clear()
        f.caused_by.clear()
    report.ranking.clear()
    assert not report.has_links
    assert "No causal links between these findings" in render(report, "html")
    assert "No causal links between the findings" in render(report, "md")
    assert "top findings:" in summary(report)


def test_ranking_confidence_is_shown(cascade: Report):
    from analyzer.causality import RootCause

    cert = cascade.findings[0]
    cascade.ranking[:] = [RootCause(cert, "high", "explains 2 other finding(s), and was seen first",
                                    "etcd's own log shows `rejected connection`")]
    page = render(cascade, "html")
    assert "high confidence</span> explains 2 other finding(s)" in page
    assert "_high confidence_: explains 2" in render(cascade, "md")


def test_a_root_cause_lists_every_finding_it_explains_worst_first() -> None:
    """The HTML said "explains 5 other finding(s)" and listed 2 (the direct symptoms only)."""
    import re
    from pathlib import Path

    from click.testing import CliRunner

    from analyzer.cli import main

    sample = Path(__file__).resolve().parents[1] / "bundles/samples/cascade-etcd-server-cert-expired"
    page = CliRunner().invoke(main, ["analyze", str(sample), "--format", "html"]).stdout
    causes = page[page.index('<ol class="causes">'):page.index("</ol>")]
    first = causes[:causes.index("</ul>")]  # the first root cause and its list
    said = re.findall(r"explains (\d+) other finding", first, re.I)
    assert said and int(said[0]) == first.count("<li>") - 1  # minus the root cause's own item
    listed = re.findall(r'<span class="sev (\w+)"', first.split("<ul>", 1)[1])
    ranks = ["critical", "error", "warning", "info"]
    assert [ranks.index(s) for s in listed] == sorted(ranks.index(s) for s in listed)
    summary = CliRunner().invoke(main, ["analyze", str(sample)]).stdout
    assert f"explains {said[0]} other finding(s), worst critical" in summary
