"""Custom rules: known problems a support team declares in YAML, without code (docs/custom-rules.md).

A rule file is validated against analyzer/schema/custom-rule.schema.json, then becomes a `Rule` like
the built-in ones: a log rule adds a signature to the one log scan (analyzer/logs/scan.py), an
evidence rule judges the parsed records of one evidence type (analyzer/facts/records.py). Its
findings go through the same pipeline (reports, SARIF, waivers, --fail-on) and carry the file they
came from. Each file carries example evidence that `kubetriage rules --test` analyzes as a paste.

>>> c = Condition("restart_count", "above", 5.0)
>>> c.holds(("3", "12")), c.holds(("x",)), c.describe()
(True, False, 'restart_count above 5.0')
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import InputError, read_bounded
from .evidence.types import TYPES
from .facts import ClusterView
from .facts.records import Record
from .findings import Category, Evidence, Finding, Remediation, Severity
from .logs.scan import CUSTOM_MATCH_CHARS
from .logs.signatures import Signature
from .report import analyze
from .rules import Rule, all_rules
from .rules.logs import LOG_ITEMS, _finding, _summary
from .validate import load_yaml_file, validate

MAX_RULE_BYTES = 256 * 1024
MAX_RULE_FILES = 1000
RULE_SUFFIXES = (".yaml", ".yml")
OPERATORS = ("equals", "contains", "matches", "above", "below")


@dataclass(frozen=True)
class Condition:
    """One test on one field of a record; the field holds when any of its values passes."""

    field: str
    op: str
    value: str | float | bool
    regex: re.Pattern[str] | None = None

    def holds(self, values: tuple[str, ...]) -> bool:
        return any(self._passes(v) for v in values)

    def _passes(self, value: str) -> bool:
        if self.op == "equals":
            if isinstance(self.value, bool):
                return value == ("true" if self.value else "false")
            if isinstance(self.value, int | float):
                return _number(value) == float(self.value)
            return value == self.value
        if self.op == "contains":
            return str(self.value) in value
        if self.op == "matches":
            return self.regex is not None and self.regex.search(value[:CUSTOM_MATCH_CHARS]) is not None
        number = _number(value)
        if number is None or isinstance(self.value, bool | str):
            return False
        return number > self.value if self.op == "above" else number < self.value

    def describe(self) -> str:
        return f"{self.field} {self.op} {self.value}"


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


@dataclass(frozen=True)
class Example:
    """Evidence a rule file carries: text the rule must find (or must not), and where it came from."""

    text: str
    must_match: bool
    source: str = ""


@dataclass(frozen=True)
class CustomRule:
    """A rule read from a file, with what the facts must gather for it."""

    id: str
    category: Category
    severity: Severity
    title: str
    checks: str
    needs: tuple[str, ...]
    path: Path
    remediation: Remediation
    examples: tuple[Example, ...]
    signature: Signature | None = None
    min_count: int = 1
    evidence_type: str = ""
    conditions: tuple[Condition, ...] = ()

    @cached_property
    def rule(self) -> Rule:
        """The registry's view of it: what runs, lists, explains and is covered like a built-in rule."""
        return Rule(self.id, self.category, self.severity, self.title, self.checks, self.needs, self.check,
                    source=str(self.path))

    def check(self, view: ClusterView) -> Iterator[Finding]:
        yield from (self._log_findings(view) if self.signature else self._record_findings(view))

    def _log_findings(self, view: ClusterView) -> Iterator[Finding]:
        found = view.logs.select(self.id)
        for node in sorted({f.node for f in found}):
            facts = [f for f in found if f.node == node]
            if sum(f.count for f in facts) < self.min_count:
                continue
            writers = sorted({f.component for f in facts} - {"unknown"})
            where = f" in the log of {', '.join(writers)}" if writers else ""
            yield _finding(view, self.rule, self.severity, self.category, f"{self.title} ({node})",
                           f"{_summary(facts)}{where}: {self.title}.", self.remediation, facts,
                           [f"{f.component}: {self.id}" for f in facts])

    def _record_findings(self, view: ClusterView) -> Iterator[Finding]:
        hits = [r for r in view.records if r.type == self.evidence_type and self.holds(r)]
        named = ["name", *(c.field for c in self.conditions)]
        for node in sorted({r.node for r in hits}):
            mine = [r for r in hits if r.node == node]
            quoted = [r.excerpt(named) for r in mine]
            yield self.rule.finding(
                f"{self.title} ({node})",
                f"{len(mine)} {self.evidence_type} record(s) where "
                f"{' and '.join(c.describe() for c in self.conditions)}: {'; '.join(quoted[:5])}"
                + (f" and {len(quoted) - 5} more" if len(quoted) > 5 else "") + ".",
                self.remediation,
                evidence=[Evidence(node, r.path, r.line, q, r.item_id)
                          for r, q in zip(mine[:8], quoted[:8], strict=True)],
                nodes=[node], objects=sorted(set(quoted))[:20])

    def holds(self, record: Record) -> bool:
        return all(c.field in record.fields and c.holds(record.fields[c.field]) for c in self.conditions)


@dataclass(frozen=True)
class CustomRules:
    """Every custom rule of one run, and what the log scan and the records must gather for them."""

    rules: tuple[CustomRule, ...] = ()

    @property
    def signatures(self) -> tuple[Signature, ...]:
        return tuple(r.signature for r in self.rules if r.signature)

    @property
    def record_types(self) -> frozenset[str]:
        return frozenset(r.evidence_type for r in self.rules if r.evidence_type)

    @property
    def checks(self) -> tuple[Rule, ...]:
        return tuple(r.rule for r in self.rules)


def _compile(pattern: str, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except (re.error, RecursionError, OverflowError) as exc:
        raise InputError(f"{where}: bad regular expression: {exc}") from None


def _examples(raw: dict[str, Any]) -> tuple[Example, ...]:
    found: list[Example] = []
    for key, must in (("match", True), ("no_match", False)):
        for entry in raw.get(key, []):
            text, source = (entry, "") if isinstance(entry, str) else (entry["text"], entry.get("source", ""))
            found.append(Example(text, must, source))
    return tuple(found)


def _remediation(raw: dict[str, Any], link: str) -> Remediation:
    destructive = raw.get("destructive") or {}
    return Remediation(raw["text"], tuple(raw.get("commands", ())), tuple(raw.get("diagnose", ())),
                       tuple(destructive.get("commands", ())), destructive.get("when", ""), link)


def _log_rule(doc: dict[str, Any], where: str) -> tuple[Signature, tuple[str, ...], str]:
    log = doc["match"]["log"]
    contains = tuple(log["contains"])
    pattern = log.get("regex") or "|".join(re.escape(c) for c in contains)
    _compile(pattern, f"{where}: $.match.log.regex")
    items = tuple(log.get("items", ()))
    sig = Signature(doc["id"], contains, pattern, doc["title"], Severity(doc["severity"]),
                    tuple(log.get("components", ())), example="", source=where, items=items)
    needs = tuple(dict.fromkeys([*(i for i in LOG_ITEMS if sig.read_in(i)), *items]))
    shown = " or ".join(repr(c) for c in contains)
    checks = f"lines holding {shown}" + (f" and matching /{log['regex']}/" if log.get("regex") else "")
    return sig, needs, checks


def _evidence_rule(doc: dict[str, Any], where: str) -> tuple[str, tuple[Condition, ...], str]:
    evidence = doc["match"]["evidence"]
    name = evidence["type"]
    if name not in TYPES:
        raise InputError(f"{where}: $.match.evidence.type: no evidence type {name!r} (`kubetriage types` "
                         "lists them)")
    if TYPES[name].parser is None:
        raise InputError(f"{where}: $.match.evidence.type: {name} is a log, read line by line: match it "
                         "with match.log")
    conditions: list[Condition] = []
    for n, raw in enumerate(evidence["where"]):
        op = next(o for o in OPERATORS if o in raw)
        at = f"{where}: $.match.evidence.where[{n}].matches"
        regex = _compile(raw[op], at) if op == "matches" else None
        conditions.append(Condition(raw["field"], op, raw[op], regex))
    checks = f"{name} records where " + " and ".join(c.describe() for c in conditions)
    return name, tuple(conditions), checks


def load_rule(path: Path) -> CustomRule:
    """One rule file, validated; InputError (one line naming the file and the field) otherwise."""
    where = str(path)
    doc = load_yaml_file(read_bounded(path, MAX_RULE_BYTES, "rule file"), where)
    if isinstance(doc, dict) and doc.get("id") in {r.id for r in all_rules()}:
        raise InputError(f"{where}: $.id: {doc['id']} is a built-in rule id: name custom rules "
                         "NAMESPACE.RULE_NAME (e.g. ACME.{doc['id']})")
    validate(doc, "custom-rule.schema.json", where)
    assert isinstance(doc, dict)
    signature: Signature | None = None
    evidence_type, min_count = "", 1
    conditions: tuple[Condition, ...] = ()
    if "log" in doc["match"]:
        signature, needs, checks = _log_rule(doc, where)
        min_count = doc["match"]["log"].get("min_count", 1)
    else:
        evidence_type, conditions, checks = _evidence_rule(doc, where)
        needs = (TYPES[evidence_type].item_id,)
    return CustomRule(doc["id"], Category(doc["category"]), Severity(doc["severity"]), doc["title"],
                      doc.get("checks") or checks, needs, path,
                      _remediation(doc["remediation"], doc.get("link", "")), _examples(doc["examples"]),
                      signature, min_count, evidence_type, conditions)


def rule_files(folder: Path) -> list[Path]:
    """The rule files of a folder (*.yaml, *.yml; sub-folders too), in name order."""
    if not folder.is_dir():
        raise InputError(f"rules {folder}: no such folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix in RULE_SUFFIXES and p.is_file())
    if not files:
        raise InputError(f"rules {folder}: no rule files (*.yaml) in it")
    if len(files) > MAX_RULE_FILES:
        raise InputError(f"rules {folder}: more than {MAX_RULE_FILES} rule files")
    return files


def load_rules(folders: list[Path]) -> CustomRules:
    """Every rule file of the folders; an id in two files is an error."""
    loaded: dict[str, CustomRule] = {}
    for folder in folders:
        for path in rule_files(folder):
            custom = load_rule(path)
            rule_id = custom.id
            if rule_id in loaded:
                raise InputError(f"{path}: $.id: {rule_id} is also the id of {loaded[rule_id].path}")
            loaded[rule_id] = custom
    return CustomRules(tuple(loaded.values()))


def _why_not(custom: CustomRule, view: ClusterView, text: str) -> str:
    """What the analysis of an example saw, to say why a rule did not find it."""
    if custom.signature is not None:
        counted = sum(f.count for f in view.logs.select(custom.id))
        if counted:
            return f"{counted} line(s) matched, fewer than min_count {custom.min_count}"
        if not any(a in text for a in custom.signature.anchors):
            return f"no line holds {' or '.join(map(repr, custom.signature.anchors))}"
        return "a line holds the text but does not match the regex (or the components or items filter)"
    mine = [r for r in view.records if r.type == custom.evidence_type]
    if not mine:
        read = ", ".join(sorted(view.available)) or "nothing"
        return f"no {custom.evidence_type} record was read (read: {read})"
    fields = sorted({name for r in mine for name in r.fields})
    missing = [c.field for c in custom.conditions if c.field not in fields]
    if missing:
        return f"no field {missing[0]!r} in its {custom.evidence_type} records; fields: {', '.join(fields)}"
    return f"{len(mine)} {custom.evidence_type} record(s), none meets every condition"


def run_examples(custom: CustomRule) -> list[str]:
    """Analyze each example of a rule file as a paste (`kubetriage analyze -`, the type given for an
    evidence rule) with that rule; what went wrong, one line per example (empty: all passed)."""
    failures: list[str] = []
    only = CustomRules((custom,))
    for n, example in enumerate(custom.examples, 1):
        report = analyze([Path("-")], custom.evidence_type or None, "example", example.text.encode(),
                         custom=only)
        found = any(f.id == custom.id for f in report.findings)
        if found == example.must_match:
            continue
        if example.must_match:
            why = _why_not(custom, report.view, example.text)
            failures.append(f"example {n} (match) gave no finding: {why}")
        else:
            failures.append(f"example {n} (no_match) gave a finding: "
                            + next(f.detail for f in report.findings if f.id == custom.id))
    return failures
