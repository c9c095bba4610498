"""The rule registry: each rule declares its metadata and the evidence it needs, then judges facts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module

from ..facts import ClusterView
from ..findings import Category, Finding, Severity

Check = Callable[[ClusterView], Iterable[Finding]]

#: rule modules, imported once so their @rule decorators register
MODULES = ("certificates", "apiserver", "controllers", "ha", "config", "etcd", "connectivity", "node", "logs",
           "csr")


@dataclass(frozen=True)
class Rule:
    """A check's metadata (docs/rules.md is generated from it) and its function."""

    id: str
    category: Category
    severity: Severity
    title: str
    checks: str
    needs: tuple[str, ...]
    check: Check


@dataclass(frozen=True)
class Coverage:
    """Whether a rule could run: 'checked' or 'not checked' with the missing evidence."""

    rule: Rule
    checked: bool
    reason: str
    findings: int


REGISTRY: dict[str, Rule] = {}


def rule(id: str, category: Category, severity: Severity, title: str, checks: str,
         needs: tuple[str, ...]) -> Callable[[Check], Check]:
    """Register a check. `needs`: manifest item ids, any one of which makes the rule checkable."""

    def register(check: Check) -> Check:
        if id in REGISTRY:
            raise ValueError(f"rule {id} registered twice")
        REGISTRY[id] = Rule(id, category, severity, title, checks, needs, check)
        return check

    return register


def all_rules() -> list[Rule]:
    for name in MODULES:
        import_module(f"{__name__}.{name}")
    return sorted(REGISTRY.values(), key=lambda r: (r.category.value, r.id))


def run_rules(view: ClusterView) -> tuple[list[Finding], list[Coverage]]:
    """Run every rule whose evidence was read without problems; report the others as not checked, with
    the reason (missing, or there but timed out, failed or unparsed)."""
    findings: list[Finding] = []
    coverage: list[Coverage] = []
    for r in all_rules():
        if not any(n in view.available for n in r.needs):
            reasons = [view.unusable[n] for n in r.needs if n in view.unusable]
            reason = "; ".join(reasons[:2]) if reasons else "no " + " or ".join(r.needs) + " in the evidence"
            coverage.append(Coverage(r, False, reason, 0))
            continue
        found = list(r.check(view))
        findings.extend(found)
        coverage.append(Coverage(r, True, "checked", len(found)))
    findings.sort(key=lambda f: (f.severity.rank, f.category.value, f.id, f.key))
    return findings, coverage
