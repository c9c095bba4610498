"""--waivers: accepted findings are shown as waived but do not fail CI; expired waivers count again."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from click.testing import CliRunner

from analyzer.cli import main

SAMPLE = Path(__file__).resolve().parent.parent / "bundles" / "samples" / "etcd-nospace"
FUTURE = (dt.date.today() + dt.timedelta(days=30)).isoformat()
PAST = (dt.date.today() - dt.timedelta(days=1)).isoformat()


def analyze(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["analyze", str(SAMPLE), *args])
    return result.exit_code, result.stdout, result.stderr


def write(tmp_path: Path, body: str) -> str:
    path = tmp_path / "waivers.yaml"
    path.write_text(body)
    return str(path)


def every_finding(tmp_path: Path, expires: str) -> str:
    report = json.loads(analyze("--format", "json")[1])
    rules = sorted({f["id"] for f in report["findings"]})
    return write(tmp_path, "waivers:\n" + "".join(
        f"  - rule: {r}\n    reason: accepted for the test\n    expires: {expires}\n" for r in rules))


def test_waived_findings_do_not_fail_ci_but_stay_visible(tmp_path: Path) -> None:
    assert analyze("--fail-on", "error", "--format", "json")[0] == 1
    waivers = every_finding(tmp_path, FUTURE)
    code, out, _ = analyze("--fail-on", "error", "--waivers", waivers, "--format", "json")
    assert code == 0
    report = json.loads(out)
    assert report["findings"]
    assert {w["key"] for w in report["waived"]} == {f["key"] for f in report["findings"]}
    sarif = json.loads(analyze("--waivers", waivers, "--format", "sarif")[1])
    assert sarif["runs"][0]["results"] == []
    assert "<failure" not in analyze("--waivers", waivers, "--format", "junit")[1]
    assert "waived: accepted for the test" in analyze("--waivers", waivers, "--format", "html")[1]
    assert "waived: accepted for the test" in analyze("--waivers", waivers)[1]


def test_scope_by_node_waives_only_that_node(tmp_path: Path) -> None:
    waivers = write(tmp_path, f"waivers:\n- {{rule: ETCD_NOSPACE_ALARM, node: cp-9, reason: other node, "
                              f"expires: '{FUTURE}'}}\n")
    report = json.loads(analyze("--waivers", waivers, "--format", "json")[1])
    assert "waived" not in report
    assert analyze("--waivers", waivers, "--fail-on", "critical")[0] == 1


def test_expired_waiver_stops_waiving_and_says_so(tmp_path: Path) -> None:
    waivers = every_finding(tmp_path, PAST)
    code, out, _ = analyze("--fail-on", "error", "--waivers", waivers, "--format", "json")
    assert code == 1
    report = json.loads(out)
    assert "waived" not in report
    assert any("expired" in p and "count again" in p for p in report["problems"])


def test_bad_waiver_files_are_one_line_errors(tmp_path: Path) -> None:
    cases = {
        "rules: []\n": "expected a top-level 'waivers:' list",
        "waivers:\n- {rule: x, reason: r, expires: 2030-01-01}\n": "'rule' must be a rule id",
        "waivers:\n- {rule: ETCD_NOSPACE_ALARM, expires: 2030-01-01}\n": "'reason' is required",
        "waivers:\n- {rule: ETCD_NOSPACE_ALARM, reason: r, expires: soon}\n": "'expires' must be a date",
        "waivers:\n- {rule: ETCD_NOSPACE_ALARM, reason: r, expires: 2030-01-01, nod: a}\n": "unknown field",
        "waivers: [\n": "not valid YAML",
    }
    for body, message in cases.items():
        code, _, err = analyze("--waivers", write(tmp_path, body))
        assert code == 2, body
        assert err.startswith("kubetriage: error: waivers ") and message in err and err.count("\n") == 1, err
