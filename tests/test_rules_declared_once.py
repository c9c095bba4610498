"""Rules declare once: id, category and severity live in the `@rule` decorator only, findings are
built from it (`Rule.finding`), and rule modules are discovered, not listed by hand."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from analyzer import rules
from analyzer.report import analyze
from tests.test_samples import SAMPLE_DIRS

RULES_DIR = Path(rules.__file__).parent


def test_no_rule_module_builds_a_finding_by_hand() -> None:
    for path in sorted(RULES_DIR.glob("*.py")):
        if path.name == "__init__.py":
            continue
        text = path.read_text()
        assert not re.search(r"\bFinding\(", text), f"{path.name}: build findings with Rule.finding"
        assert "id=" not in re.sub(r"\bid=\w+\.id\b", "", text).replace("item_id=", ""), \
            f"{path.name}: a rule id belongs in its decorator"


def test_every_rule_module_is_discovered_and_every_rule_runs_from_one() -> None:
    modules = {p.stem for p in RULES_DIR.glob("*.py") if not p.name.startswith("_")}
    assert set(rules.rule_modules()) == modules
    for r in rules.all_rules():
        assert r.check.__module__.rsplit(".", 1)[-1] in modules, r.id


@pytest.mark.parametrize("sample", SAMPLE_DIRS, ids=lambda p: p.name)
def test_findings_carry_their_rules_declaration(sample: Path) -> None:
    for finding in analyze([sample]).findings:
        declared = rules.REGISTRY[finding.id]
        assert finding.category == declared.category or finding.category in declared.also, finding.id
        assert finding.severity.rank >= declared.severity.rank, finding.id


def test_a_finding_worse_than_declared_is_refused() -> None:
    declared = rules.REGISTRY["ETCD_SLOW_DISK"]
    with pytest.raises(ValueError, match="declares severity"):
        declared.finding("t", "d", rules.Remediation("r"), severity=rules.Severity.CRITICAL)
    with pytest.raises(ValueError, match="declares category"):
        declared.finding("t", "d", rules.Remediation("r"), category=rules.Category.NODE)
