"""Custom rules as a support team uses them: YAML files loaded with --rules or kubetriage.yaml, checked
against the published schema, their findings in every report, `rules --test` over their examples."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from analyzer.cli import main

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "docs" / "examples" / "rules"
REAL = ROOT / "tests" / "fixtures" / "real"
KINE = REAL / "logrus-kine-compact-k3s-11269.txt"
POD_YAML = REAL / "kubectl-yaml-pod-status-runcontainererror-k8s-14491.yaml"
NOSPACE = ROOT / "bundles" / "samples" / "etcd-nospace"
REPORT_SCHEMA = json.loads((ROOT / "analyzer" / "schema" / "report.schema.json").read_text())
RULE_SCHEMA = ROOT / "analyzer" / "schema" / "custom-rule.schema.json"

ETCD_LAB = ROOT / "tests" / "fixtures" / "etcd" / "c-nospace"  # etcd 3.4.23 lab captures


def _block(path: Path) -> str:
    return "".join(f"      {line}\n" for line in path.read_text().splitlines())


# a rule on the etcd-nospace sample's own evidence: etcdctl endpoint status names the NOSPACE alarm;
# its examples are the lab's real etcdctl output before and after the alarm was disarmed
NOSPACE_RULE = f"""\
id: ACME.ETCD_ALARM_IN_STATUS
category: etcd
severity: error
title: etcd endpoint status reports an alarm
match:
  evidence:
    type: etcdctl-status
    where:
      - field: errors
        contains: "alarm:NOSPACE"
remediation:
  text: Free space in etcd, then disarm the alarm.
  diagnose: [etcdctl alarm list]
  destructive:
    when: only after a defragment freed space
    commands: [etcdctl alarm disarm]
link: https://etcd.io/docs/v3.5/op-guide/maintenance/#space-quota
examples:
  match:
    - |
{_block(ETCD_LAB / "endpoint_status_table.stdout")}  no_match:
    - |
{_block(ETCD_LAB / "recover_6_endpoint_status_table.stdout")}"""


def run(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    runner = CliRunner()
    if cwd is None:
        result = runner.invoke(main, list(args), catch_exceptions=False)
    else:
        with runner.isolated_filesystem(temp_dir=cwd):
            result = runner.invoke(main, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


def rules_dir(tmp_path: Path, *texts: str) -> Path:
    folder = tmp_path / "rules"
    folder.mkdir(exist_ok=True)
    for n, text in enumerate(texts):
        (folder / f"rule{n}.yaml").write_text(text)
    return folder


def example_rule(name: str) -> str:
    return (EXAMPLES / name).read_text()


# -- the examples shipped in docs run as `rules --test` runs them -------------------------------------
def test_rules_test_passes_the_documented_examples() -> None:
    code, out, _ = run("rules", "--test", str(EXAMPLES))
    assert code == 0, out
    assert "PASS  EXAMPLE.KINE_COMPACT_DATABASE_LOCKED" in out
    assert "PASS  EXAMPLE.POD_RUN_CONTAINER_ERROR" in out
    assert "2 passed, 0 failed" in out


def test_every_documented_example_validates_against_the_published_schema() -> None:
    import yaml

    schema = json.loads(RULE_SCHEMA.read_text())
    for path in sorted(EXAMPLES.glob("*.yaml")):
        jsonschema.validate(yaml.safe_load(path.read_text()), schema)


@pytest.mark.parametrize(("old", "new", "why"), [
    ("equals: RunContainerError", "equals: CrashLoopBackOff", "example 1 (match) gave no finding"),
    ("field: containers.waiting_reason", "field: containers.reason", "no field 'containers.reason'"),
])
def test_rules_test_fails_a_rule_whose_example_it_does_not_find(tmp_path: Path, old: str, new: str,
                                                                 why: str) -> None:
    folder = rules_dir(tmp_path, example_rule("pod-run-container-error.yaml").replace(old, new))
    code, out, _ = run("rules", "--test", str(folder))
    assert code == 1
    assert "FAIL  EXAMPLE.POD_RUN_CONTAINER_ERROR" in out and why in out


def test_rules_test_fails_a_rule_that_finds_its_no_match_example(tmp_path: Path) -> None:
    # without its regex the rule matches every line holding "COMPACT"... the no_match example too
    text = example_rule("kine-compact-locked.yaml").replace('contains: ["Compact failed"]',
                                                            'contains: ["COMPACT"]')
    text = text.replace("    regex: 'Compact failed: .*database is locked'\n", "")
    code, out, _ = run("rules", "--test", str(rules_dir(tmp_path, text)))
    assert code == 1 and "example 2 (no_match) gave a finding" in out


# -- findings through the same pipeline as the built-in ones -----------------------------------------
def test_a_log_rule_finds_real_output_and_every_report_marks_it_custom(tmp_path: Path) -> None:
    code, out, err = run("analyze", str(KINE), "--rules", str(EXAMPLES), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    jsonschema.validate(report, REPORT_SCHEMA)
    (found,) = [f for f in report["findings"] if f["id"] == "EXAMPLE.KINE_COMPACT_DATABASE_LOCKED"]
    assert found["rule_source"].endswith("kine-compact-locked.yaml")
    assert found["evidence"][0]["line"] == 8 and "database is locked" in found["evidence"][0]["excerpt"]
    assert found["remediation"]["link"] == "https://github.com/k3s-io/k3s/issues/11269"
    kine = "EXAMPLE.KINE_COMPACT_DATABASE_LOCKED"
    assert any(c["rule"] == kine and c["checked"] for c in report["coverage"])
    for fmt, marker in (("text", "custom rule: "), ("md", "custom rule from "),
                        ("html", "custom rule</span>"), ("junit", "custom rule: ")):
        code, out, _ = run("analyze", str(KINE), "--rules", str(EXAMPLES), "--format", fmt)
        assert marker in out and "kine-compact-locked.yaml" in out, fmt
    code, out, _ = run("analyze", str(KINE), "--rules", str(EXAMPLES))  # the terminal summary
    assert "custom rule: " in out
    code, out, _ = run("analyze", str(KINE), "--rules", str(EXAMPLES), "--format", "sarif")
    run_ = json.loads(out)["runs"][0]
    rules = {r["id"]: r for r in run_["tool"]["driver"]["rules"]}
    assert rules[kine]["properties"]["source"].endswith("kine-compact-locked.yaml")
    result = next(r for r in run_["results"] if r["ruleId"] == kine)
    assert run_["tool"]["driver"]["rules"][result["ruleIndex"]]["id"] == result["ruleId"]


def test_an_evidence_rule_judges_a_bundle_and_counts_for_fail_on_and_waivers(tmp_path: Path) -> None:
    folder = rules_dir(tmp_path, NOSPACE_RULE)
    code, out, _ = run("rules", "--test", str(folder))
    assert code == 0 and "PASS  ACME.ETCD_ALARM_IN_STATUS  (2 example(s)" in out
    code, out, _ = run("analyze", str(NOSPACE), "--rules", str(folder), "--format", "json")
    findings = [f for f in json.loads(out)["findings"] if f["id"] == "ACME.ETCD_ALARM_IN_STATUS"]
    assert sorted(n for f in findings for n in f["nodes"]) == ["cp-1", "cp-2", "cp-3"]
    assert findings[0]["evidence"][0]["path"] == "commands/etcd.endpoint_status.out"
    assert findings[0]["remediation"]["destructive"]["commands"] == ["etcdctl alarm disarm"]
    # the built-in findings are critical: fail-on critical would fail anyway; waive them all but ours
    # and check that ours alone (an error) fails --fail-on error, and that a waiver on it passes
    code, out, _ = run("analyze", str(NOSPACE), "--rules", str(folder), "--format", "json")
    others = sorted({f["id"] for f in json.loads(out)["findings"]} - {"ACME.ETCD_ALARM_IN_STATUS"})
    entries = "".join(f"  - {{rule: {i}, reason: known, expires: 2999-01-01}}\n" for i in others)
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text("waivers:\n" + entries)
    code, _, err = run("analyze", str(NOSPACE), "--rules", str(folder), "--waivers", str(waivers),
                       "--fail-on", "error", "-q")
    assert code == 1, err
    waivers.write_text("waivers:\n" + entries + "  - {rule: ACME.ETCD_ALARM_IN_STATUS, reason: quota raised, "
                       "expires: 2999-01-01}\n")
    code, out, err = run("analyze", str(NOSPACE), "--rules", str(folder), "--waivers", str(waivers),
                         "--fail-on", "error", "--format", "sarif")
    assert code == 0, err
    sarif = json.loads(out)["runs"][0]
    assert "ACME.ETCD_ALARM_IN_STATUS" in {r["id"] for r in sarif["tool"]["driver"]["rules"]}
    assert not [r for r in sarif["results"] if r["ruleId"] == "ACME.ETCD_ALARM_IN_STATUS"]


def test_a_custom_rule_adds_to_the_built_in_ones_never_takes_their_lines() -> None:
    code, out, _ = run("analyze", str(KINE), "--format", "json")
    before = {f["id"] for f in json.loads(out)["findings"]}
    code, out, _ = run("analyze", str(KINE), "--rules", str(EXAMPLES), "--format", "json")
    after = {f["id"] for f in json.loads(out)["findings"]}
    assert "DATASTORE_UNAVAILABLE" in before
    assert after == before | {"EXAMPLE.KINE_COMPACT_DATABASE_LOCKED"}


def test_the_regex_sees_a_bounded_part_of_a_line(tmp_path: Path) -> None:
    line = KINE.read_text().splitlines()[7]
    assert line.startswith("ERRO[0600] Compact failed")
    padded = line.replace("Compact failed:", "Compact failed:" + " " * 5000)
    paste = tmp_path / "long.txt"
    paste.write_text(padded + "\n")
    code, out, _ = run("analyze", str(paste), "--rules", str(EXAMPLES), "--format", "json")
    assert "EXAMPLE.KINE_COMPACT_DATABASE_LOCKED" not in {f["id"] for f in json.loads(out)["findings"]}


# -- listing and explaining ------------------------------------------------------------------------
def test_rules_lists_and_explains_custom_rules_with_rules_dir() -> None:
    code, out, _ = run("rules")
    assert "EXAMPLE." not in out
    code, out, _ = run("rules", "--rules", str(EXAMPLES))
    line = next(r for r in out.splitlines() if r.startswith("EXAMPLE.POD_RUN_CONTAINER_ERROR"))
    assert "error" in line and "(custom: " in line and "pod-run-container-error.yaml" in line
    code, out, _ = run("rules", "EXAMPLE.KINE_COMPACT_DATABASE_LOCKED", "--rules", str(EXAMPLES))
    assert code == 0
    assert "needs any of: logs.pod" in out
    assert "knowledge base: https://github.com/k3s-io/k3s/issues/11269" in out
    assert "check first: fuser -v /var/lib/rancher/k3s/server/db/state.db" in out


# -- config file -------------------------------------------------------------------------------------
def test_kubetriage_yaml_in_the_current_folder_sets_rules_waivers_and_fail_on(tmp_path: Path) -> None:
    work = tmp_path / "team"
    work.mkdir()
    shutil.copytree(EXAMPLES, work / "kb")
    shutil.copy(POD_YAML, work / "pod.yaml")
    (work / "kubetriage.yaml").write_text("rules: [kb]\nfail-on: error\nformat: json\n")
    runner = CliRunner()
    import os

    old = os.getcwd()
    os.chdir(work)
    try:
        result = runner.invoke(main, ["analyze", "pod.yaml"], catch_exceptions=False)
        listed = runner.invoke(main, ["rules"], catch_exceptions=False)
    finally:
        os.chdir(old)
    assert result.exit_code == 1  # fail-on error from the config; the custom rule's finding is an error
    assert "EXAMPLE.POD_RUN_CONTAINER_ERROR" in {f["id"] for f in json.loads(result.stdout)["findings"]}
    assert "EXAMPLE.KINE_COMPACT_DATABASE_LOCKED" in listed.stdout


def test_config_given_with_config_resolves_paths_beside_it(tmp_path: Path) -> None:
    config = tmp_path / "etc" / "kubetriage.yaml"
    config.parent.mkdir()
    shutil.copytree(EXAMPLES, config.parent / "rules")
    config.write_text("rules: [rules]\n")
    code, out, _ = run("analyze", str(POD_YAML), "--config", str(config), "--format", "json")
    assert "EXAMPLE.POD_RUN_CONTAINER_ERROR" in {f["id"] for f in json.loads(out)["findings"]}


@pytest.mark.parametrize(("text", "message"), [
    ("rules: rules\n", "$.rules: 'rules' is not of type 'array'"),
    ("fail_on: error\n", "Additional properties are not allowed ('fail_on' was unexpected)"),
    ("format: pdf\n", "$.format: 'pdf' is not one of"),
    ("rules: [\n", "not valid YAML"),
])
def test_a_bad_config_is_one_line_naming_the_field(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "kubetriage.yaml"
    config.write_text(text)
    code, out, err = run("analyze", str(POD_YAML), "--config", str(config))
    assert code == 2 and not out
    assert err.count("\n") == 1 and str(config) in err and message in err, err


# -- bad rule files: one line naming the file and the field, exit 2 ---------------------------------
GOOD = example_rule("kine-compact-locked.yaml")


@pytest.mark.parametrize(("text", "message"), [
    (GOOD.replace("severity: warning", "severity: major"), "$.severity: 'major' is not one of"),
    (GOOD.replace("id: EXAMPLE.KINE_COMPACT_DATABASE_LOCKED", "id: kine-locked"),
     "$.id: 'kine-locked' does not match"),
    (GOOD.replace("id: EXAMPLE.KINE_COMPACT_DATABASE_LOCKED", "id: DATASTORE_UNAVAILABLE"),
     "$.id: DATASTORE_UNAVAILABLE is a built-in rule id"),
    (GOOD.replace("regex: 'Compact failed: .*database is locked'", "regex: 'Compact (failed'"),
     "$.match.log.regex: bad regular expression: missing ), unterminated subpattern"),
    (GOOD.replace("title: k3s' SQLite datastore is locked during compaction\n", ""),
     "$: 'title' is a required property"),
    (GOOD.replace("    regex: ", "    colour: red\n    regex: "),
     "$.match.log: Additional properties are not allowed ('colour' was unexpected)"),
    (GOOD.replace("link: https://github.com/k3s-io/k3s/issues/11269", "link: javascript:alert(1)"),
     "$.link: 'javascript:alert(1)' does not match"),
    (NOSPACE_RULE.replace("type: etcdctl-status", "type: etcdctl-stats"), "no evidence type 'etcdctl-stats'"),
    (NOSPACE_RULE.replace("type: etcdctl-status", "type: klog"), "klog is a log, read line by line"),
    (NOSPACE_RULE.replace('contains: "alarm:NOSPACE"', 'matches: "alarm:(NOSPACE"'),
     "$.match.evidence.where[0].matches: bad regular expression"),
    ("- just\n- a list\n", "$: ['just', 'a list'] is not of type 'object'"),
    ("id: [unclosed\n", "not valid YAML"),
])
def test_a_bad_rule_file_is_one_line_naming_file_and_field(tmp_path: Path, text: str, message: str) -> None:
    folder = rules_dir(tmp_path, text)
    for args in (["analyze", str(KINE), "--rules", str(folder)], ["rules", "--test", str(folder)],
                 ["rules", "--rules", str(folder)]):
        code, out, err = run(*args)
        assert code == 2 and not out, (args, out)
        assert err.count("\n") == 1 and "rule0.yaml" in err and message in err, err


def test_two_files_with_one_id_and_an_empty_folder_are_refused(tmp_path: Path) -> None:
    folder = rules_dir(tmp_path, GOOD, GOOD)
    code, _, err = run("analyze", str(KINE), "--rules", str(folder))
    assert code == 2 and "rule1.yaml: $.id: EXAMPLE.KINE_COMPACT_DATABASE_LOCKED is also the id of" in err
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run("analyze", str(KINE), "--rules", str(empty))
    assert code == 2 and "no rule files (*.yaml) in it" in err


def test_text_from_a_rule_file_reaches_the_terminal_escaped(tmp_path: Path) -> None:
    hostile = GOOD.replace("title: k3s' SQLite datastore is locked during compaction",
                           'title: "locked \\e[31mRED\\e]0;owned\\a"')
    folder = rules_dir(tmp_path, hostile)
    for args in (["analyze", str(KINE), "--rules", str(folder)], ["rules", "--rules", str(folder)],
                 ["analyze", str(KINE), "--rules", str(folder), "--format", "text"]):
        code, out, _ = run(*args)
        assert "\x1b" not in out and "\x07" not in out and "\\x1b[31mRED" in out, args
