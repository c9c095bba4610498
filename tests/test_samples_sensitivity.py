"""Breaking any rule that a sample's golden names makes that sample's regression fail.

This guards the regression suite itself: a golden that would still pass with the rule switched off
is not testing the rule.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from analyzer import rules as registry
from analyzer.render import render
from analyzer.report import analyze
from tests.test_samples import SAMPLE_DIRS, summary


def _golden_rules(sample: Path) -> list[str]:
    golden = sample / "expected.json"
    return sorted({f["id"] for f in json.loads(golden.read_text())["findings"]}) if golden.is_file() else []


CASES = [(sample, rule_id) for sample in SAMPLE_DIRS for rule_id in _golden_rules(sample)]


def test_goldens_name_rules():
    assert CASES, "no sample golden names any rule"
    assert any(rule_id == "ETCD_NOSPACE_ALARM" for _, rule_id in CASES)


@pytest.mark.parametrize("sample, rule_id", CASES, ids=[f"{s.name}:{r}" for s, r in CASES])
def test_disabling_a_rule_breaks_the_golden(sample: Path, rule_id: str, monkeypatch: pytest.MonkeyPatch):
    registry.all_rules()
    disabled = replace(registry.REGISTRY[rule_id], check=lambda view: [])
    monkeypatch.setitem(registry.REGISTRY, rule_id, disabled)
    got = summary(json.loads(render(analyze([sample]), "json")))
    assert got != json.loads((sample / "expected.json").read_text())
