"""The rule registry: each rule declares its metadata and the evidence it needs, then judges facts.

A rule's id, category and severity are declared once, in its `@rule(...)` decorator; its findings are
built by `Rule.finding`, which takes them from there (a finding may be milder than the declared
severity, never worse, and may carry another category only if the rule declares it in `also`).
Rule modules are every module of this package, found by `pkgutil`: a new module is picked up
without being listed anywhere.

>>> from analyzer.findings import Remediation
>>> r = Rule("DEMO", Category.ETCD, Severity.ERROR, "t", "c", ("logs.pod",), lambda view: ())
>>> f = r.finding("title", "detail", Remediation("fix"), nodes=["cp-1"], severity=Severity.WARNING)
>>> (f.id, f.category.value, f.severity.value)
('DEMO', 'etcd', 'warning')
>>> r.finding("title", "detail", Remediation("fix"), severity=Severity.CRITICAL)
Traceback (most recent call last):
...
ValueError: DEMO declares severity error; a finding cannot be critical
"""

from __future__ import annotations

import datetime as dt
import pkgutil
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from importlib import import_module

from ..facts import ClusterView
from ..findings import Category, Evidence, Finding, Remediation, Severity

Check = Callable[[ClusterView], Iterable[Finding]]


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
    #: other categories its findings may carry (the category of the component or cause they name)
    also: tuple[Category, ...] = ()
    #: the log signatures it reads (analyzer/logs/signatures.py); docs/rules.md lists them with the rule
    signatures: tuple[str, ...] = ()
    #: the file a custom rule was read from (analyzer/custom.py); '' for the built-in rules
    source: str = ""

    def __call__(self, view: ClusterView) -> Iterable[Finding]:
        return self.check(view)

    def finding(self, title: str, detail: str, remediation: Remediation, *,
                evidence: Iterable[Evidence] = (), nodes: Iterable[str] = (), objects: Iterable[str] = (),
                severity: Severity | None = None, category: Category | None = None,
                first_seen: dt.datetime | None = None, last_seen: dt.datetime | None = None,
                recovered_at: dt.datetime | None = None) -> Finding:
        """A finding of this rule: id, category and severity come from the declaration."""
        severity = severity or self.severity
        if severity.rank < self.severity.rank:
            raise ValueError(f"{self.id} declares severity {self.severity.value}; a finding cannot be "
                             f"{severity.value}")
        category = category or self.category
        if category != self.category and category not in self.also:
            raise ValueError(f"{self.id} declares category {self.category.value}; a finding cannot be "
                             f"{category.value}")
        return Finding(id=self.id, severity=severity, category=category, title=title, detail=detail,
                       remediation=remediation, evidence=list(evidence), nodes=list(nodes),
                       objects=list(objects), first_seen=first_seen, last_seen=last_seen,
                       recovered_at=recovered_at, rule_source=self.source)


@dataclass(frozen=True)
class Coverage:
    """Whether a rule could run: 'checked' or 'not checked' with the missing evidence."""

    rule: Rule
    checked: bool
    reason: str
    findings: int


REGISTRY: dict[str, Rule] = {}


def rule(id: str, category: Category, severity: Severity, title: str, checks: str,
         needs: tuple[str, ...], also: tuple[Category, ...] = (),
         signatures: tuple[str, ...] = ()) -> Callable[[Check], Rule]:
    """Register a check. `needs`: manifest item ids, any one of which makes the rule checkable.

    The decorated name becomes the `Rule`, so the check's body builds its findings with
    `<its own name>.finding(...)`."""

    def register(check: Check) -> Rule:
        if id in REGISTRY:
            raise ValueError(f"rule {id} registered twice")
        registered = REGISTRY[id] = Rule(id, category, severity, title, checks, needs, check, also,
                                         signatures)
        return registered

    return register


def rule_modules() -> list[str]:
    """Every module of this package: each holds rules."""
    return sorted(m.name for m in pkgutil.iter_modules(__path__) if not m.name.startswith("_"))


def all_rules() -> list[Rule]:
    for name in rule_modules():
        import_module(f"{__name__}.{name}")
    return sorted(REGISTRY.values(), key=lambda r: (r.category.value, r.id))


#: rule -> the rules that report the same failure from the same text (a paste is parsed and scanned
#: both): where both fire on one file, only the first is kept
SUPERSEDES: dict[str, tuple[str, ...]] = {
    "ETCD_ENDPOINT_UNHEALTHY": ("ETCD_UNHEALTHY_REPORTED",),
    # an `oc get co` table: the table's own row, with its age, judges severity by how long it lasted
    "OPERATOR_DEGRADED": ("OPENSHIFT_OPERATOR_DEGRADED",),
    "SERVICE_NOT_RUNNING": ("SERVICE_FAILING",),
    "KUBEADM_FAILED": ("KUBEADM_CONTROL_PLANE_NOT_HEALTHY", "KUBEADM_PREFLIGHT_FAILED"),
    "KUBECTL_CANNOT_REACH_API": ("APISERVER_UNREACHABLE", "CERT_EXPIRED_LOG", "CERT_UNTRUSTED_LOG",
                                 "CERT_NAME_MISMATCH_LOG", "KUBECTL_NOT_CONFIGURED"),
    "CSR_PENDING": ("CSR_PENDING_LOG",),
}


def _files(finding: Finding) -> set[str]:
    """The files a finding cites; a paste's segments ('ticket.txt [2-9]') count as their file."""
    return {re.sub(r" \[\d+-\d+\]$", "", e.path) for e in finding.evidence}


def _superseded(findings: list[Finding]) -> set[str]:
    """Keys of log-family findings whose every cited file a superseding finding cites too."""
    dropped: set[str] = set()
    for winner in findings:
        for loser in findings:
            same_nodes = set(loser.nodes) <= set(winner.nodes) or not winner.nodes
            if loser.id in SUPERSEDES.get(winner.id, ()) and same_nodes and _files(loser) <= _files(winner):
                dropped.add(loser.key)
    return dropped


def run_rules(view: ClusterView, extra: Iterable[Rule] = ()) -> tuple[list[Finding], list[Coverage]]:
    """Run every rule (the built-in ones, then `extra`: custom rules) whose evidence was read without
    problems; report the others as not checked, with the reason (missing, or there but timed out,
    failed or unparsed)."""
    findings: list[Finding] = []
    coverage: list[Coverage] = []
    for r in [*all_rules(), *extra]:
        if not any(n in view.available for n in r.needs):
            reasons = [view.unusable[n] for n in r.needs if n in view.unusable]
            reason = "; ".join(reasons[:2]) if reasons else "no " + " or ".join(r.needs) + " in the evidence"
            coverage.append(Coverage(r, False, reason, 0))
            continue
        found = list(r.check(view))
        findings.extend(found)
        coverage.append(Coverage(r, True, "checked", len(found)))
    dropped = _superseded(findings)
    findings = [f for f in findings if f.key not in dropped]
    findings.sort(key=lambda f: (f.severity.rank, f.category.value, f.id, f.key))
    return findings, coverage
