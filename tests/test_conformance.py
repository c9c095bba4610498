"""Conformance over the registries: every rule is complete and documented, every reference resolves."""

from __future__ import annotations

import re
from pathlib import Path

from analyzer.causality import RELATIONS
from analyzer.evidence.paste import split
from analyzer.evidence.reader import PASTED_ITEM
from analyzer.evidence.types import TYPES
from analyzer.foreign import FOREIGN_ITEMS
from analyzer.rules import all_rules
from analyzer.rulesdoc import markdown
from collector.kubetriage_collect import SPECS
from tests.conftest import REPO

RULES = all_rules()
ITEM_IDS = {s.id for s in SPECS}


def test_every_rule_has_complete_metadata():
    assert len({r.id for r in RULES}) == len(RULES)
    for r in RULES:
        assert re.fullmatch(r"[A-Z][A-Z0-9]*(_[A-Z0-9]+)+", r.id), r.id
        assert r.title.strip() and r.checks.strip(), r.id
        assert r.needs, f"{r.id} declares no evidence"


EVIDENCE_ITEMS = {t.item_id for t in TYPES.values()} | {PASTED_ITEM}


def test_every_needed_item_is_collected_or_loose():
    for r in RULES:
        for need in r.needs:
            assert need in ITEM_IDS or need in EVIDENCE_ITEMS or need in FOREIGN_ITEMS, \
                f"{r.id} needs unknown item {need}"


def test_every_evidence_type_has_a_parser_or_is_scanned_and_a_real_example_read_as_it():
    """The registry's rows: each example exists (real output, tests/fixtures) and the product reads it
    as that type (the per-type CLI tests are in tests/test_evidence_paste.py and test_loose_detect.py)."""
    fixtures = Path(__file__).parent / "fixtures"
    for evidence in TYPES.values():
        assert evidence.parser is not None or evidence.is_log, evidence.name
        if evidence.example:
            text = (fixtures / evidence.example).read_text(errors="replace")
            assert evidence.name in {s.type for s in split(text)}, evidence.name


def test_causal_relations_name_real_rules_and_have_no_cycle():
    known = {r.id for r in RULES}
    edges: dict[str, set[str]] = {}
    for relation in RELATIONS:
        assert relation.cause in known, f"relation cause {relation.cause} is not a rule"
        for effect in relation.effects:
            assert effect in known, f"relation effect {effect} is not a rule"
            edges.setdefault(relation.cause, set()).add(effect)

    def reaches(start: str, goal: str, seen: set[str]) -> bool:
        return any(nxt == goal or (nxt not in seen and reaches(nxt, goal, seen | {nxt}))
                   for nxt in edges.get(start, ()))

    for cause in edges:
        assert not reaches(cause, cause, set()), f"causal cycle through {cause}"


def test_rules_doc_is_up_to_date():
    assert (REPO / "docs" / "rules.md").read_text() == markdown(), \
        "docs/rules.md is stale: python -m analyzer.rulesdoc > docs/rules.md"


def test_docs_evidence_lists_every_type():
    doc = (REPO / "docs" / "evidence.md").read_text()
    for name in TYPES:
        assert f"## `{name}`" in doc, f"docs/evidence.md misses {name}"
