"""`kubetriage analyze` output options: the terminal summary, progress on stderr, baselines and their
exit codes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer import cli
from analyzer.cli import main
from tests.conftest import SAMPLES

FAILING = SAMPLES / "certificates-expired-apiserver"


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture(scope="module")
def current() -> dict:
    code, out, _ = run("analyze", str(FAILING), "-f", "json")
    assert code == 0
    return json.loads(out)


def test_without_output_a_one_screen_summary(current: dict, monkeypatch):
    monkeypatch.setenv("COLUMNS", "100")  # a 100-column terminal
    code, out, err = run("analyze", str(FAILING))
    assert code == 0 and err == ""
    lines = out.splitlines()
    assert len(lines) <= 24 and max(map(len, lines)) <= 100
    assert lines[0].startswith(current["verdict"]["summary"])
    for finding in current["findings"]:
        assert finding["id"] in out
    assert "-o report.html" in lines[-1]
    assert "# kubetriage report" not in out


def test_piped_summary_keeps_titles_whole(current: dict, monkeypatch):
    monkeypatch.delenv("COLUMNS", raising=False)
    code, out, _ = run("analyze", str(FAILING))
    assert code == 0 and "…" not in out
    for finding in current["findings"]:
        if finding["key"] in current["verdict"]["root_causes"]:
            assert finding["title"] in out


def test_markdown_to_stdout_when_asked():
    code, out, _ = run("analyze", str(FAILING), "--format", "md")
    assert code == 0 and out.startswith("# kubetriage report")


def test_progress_on_stderr_for_big_inputs_unless_quiet(monkeypatch: pytest.MonkeyPatch):
    code, _, err = run("analyze", str(FAILING), "-f", "json")
    assert code == 0 and err == "", "a small input gets no progress lines"
    monkeypatch.setattr(cli, "PROGRESS_MIN_BYTES", 1)
    code, out, err = run("analyze", str(FAILING), "-f", "json")
    assert code == 0 and json.loads(out)
    phases = [line for line in err.splitlines() if line.startswith("kubetriage: [")]
    assert any("cp-1: " in p for p in phases), err
    assert any("rules" in p for p in phases) and phases[-1].endswith("rendering json")
    code, _, err = run("analyze", str(FAILING), "-f", "json", "--quiet")
    assert code == 0 and err == ""


def _baseline(tmp_path: Path, current: dict, drop: int, extra: bool) -> Path:
    """A previous report: the current one without finding `drop`, plus one that is gone now."""
    previous = json.loads(json.dumps(current))
    previous["findings"].pop(drop)
    if extra:
        previous["findings"].append({**current["findings"][0], "key": "CERT_EXPIRED-00000000",
                                     "title": "Certificate expired: /etc/kubernetes/pki/old.crt"})
    path = tmp_path / "previous.json"
    path.write_text(json.dumps(previous))
    return path


def test_baseline_marks_new_unchanged_and_resolved_in_every_format(tmp_path: Path, current: dict):
    warning = next(i for i, f in enumerate(current["findings"]) if f["severity"] == "warning")
    new_key = current["findings"][warning]["key"]
    baseline = _baseline(tmp_path, current, warning, extra=True)
    code, out, _ = run("analyze", str(FAILING), "-f", "json", "--baseline", str(baseline))
    assert code == 0
    delta = json.loads(out)["baseline"]
    assert delta["new"] == [new_key]
    assert sorted(delta["unchanged"]) == sorted(f["key"] for f in current["findings"] if f["key"] != new_key)
    assert [r["key"] for r in delta["resolved"]] == ["CERT_EXPIRED-00000000"]

    sarif = json.loads(run("analyze", str(FAILING), "-f", "sarif", "--baseline", str(baseline))[1])
    states = {r["partialFingerprints"]["kubetriageKey/v1"]: r["baselineState"]
              for r in sarif["runs"][0]["results"]}
    assert states[new_key] == "new" and states["CERT_EXPIRED-00000000"] == "absent"
    assert set(states.values()) == {"new", "unchanged", "absent"}

    junit = ET.fromstring(run("analyze", str(FAILING), "-f", "junit", "--baseline", str(baseline))[1])
    props = {p.get("name"): p.get("value") for p in junit.iter("property")}
    assert props["baseline.new"] == new_key and props["baseline.resolved"] == "CERT_EXPIRED-00000000"
    assert any(f.get("message", "").startswith("[new] ") for f in junit.iter("failure"))

    md = run("analyze", str(FAILING), "-f", "md", "--baseline", str(baseline))[1]
    assert "**1 new** · 1 resolved" in md and "## Resolved since the baseline" in md and "old.crt" in md
    page = run("analyze", str(FAILING), "-f", "html", "--baseline", str(baseline))[1]
    assert "<strong>1 new</strong> · 1 resolved" in page and 'class="badge new"' in page
    summary = run("analyze", str(FAILING), "--baseline", str(baseline))[1]
    assert "against the baseline: 1 new, 1 resolved" in summary


@pytest.mark.parametrize("args, code", [
    (["--fail-on-new", "warning"], 1),     # the new finding is a warning
    (["--fail-on-new", "error"], 0),       # ... which is below error
    (["--fail-on", "critical"], 1),        # --fail-on still counts every finding
    ([], 0),
])
def test_fail_on_new_counts_only_new_findings(tmp_path: Path, current: dict, args: list[str], code: int):
    warning = next(i for i, f in enumerate(current["findings"]) if f["severity"] == "warning")
    baseline = _baseline(tmp_path, current, warning, extra=False)
    assert run("analyze", str(FAILING), "-f", "json", "--baseline", str(baseline), *args)[0] == code


def test_unchanged_findings_do_not_fail_on_new(tmp_path: Path, current: dict):
    path = tmp_path / "same.json"
    path.write_text(json.dumps(current))
    code = run("analyze", str(FAILING), "-f", "json", "--baseline", str(path), "--fail-on-new", "info")[0]
    assert code == 0


@pytest.mark.parametrize("content, message", [
    ("not json", "not JSON"),
    ('{"findings": []}', "not a kubetriage JSON report"),
    ('{"$schema": "https://kubetriage.dev/schema/report-v1.json", "findings": [{"key": 1}]}', "lacks key"),
])
def test_bad_baseline_exits_2_with_one_line(tmp_path: Path, content: str, message: str):
    path = tmp_path / "previous.json"
    path.write_text(content)
    code, _, err = run("analyze", str(FAILING), "--baseline", str(path))
    assert code == 2 and message in err and err.count("\n") == 1


def test_fail_on_new_needs_a_baseline():
    code, _, err = run("analyze", str(FAILING), "--fail-on-new", "error")
    assert code == 2 and "--baseline" in err
