"""The analysis result as one object: inputs, findings, coverage; and its JSON form."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import __version__, progress
from .bundle import Bundle, open_bundles
from .causality import RootCause, link, rank
from .clusters import dedupe, groups, refuse_mixed
from .errors import InputError, read_bounded
from .facts import ClusterView, build_view
from .facts.logs import UnknownTemplate
from .findings import Finding, Severity
from .parsers.jsonsafe import load_json
from .rules import Coverage, run_rules
from .waivers import Waiver

if TYPE_CHECKING:
    from .custom import CustomRules

SCHEMA_ID = "https://kubetriage.dev/schema/report-v1.json"
VERDICTS = {
    Severity.CRITICAL: "Control plane broken",
    Severity.ERROR: "Control plane degraded",
    Severity.WARNING: "Control plane working, with risks",
    Severity.INFO: "No problems found",
}
SEVERITY_VALUES = {s.value for s in Severity}
#: a baseline file larger than this is not a report kubetriage wrote
MAX_BASELINE_BYTES = 64 * 1024 * 1024


#: items that cannot show a control-plane problem on their own: host and network state, text no type
#: recognised (analyzer/evidence/reader.py)
_NOT_CONTROL_PLANE = ("host.df", "host.timedatectl", "host.chrony", "net.", "logs.pasted")


@dataclass(frozen=True)
class Verdict:
    """What the report may honestly say. kind: findings | clean | partial | insufficient | not-understood."""

    kind: str
    summary: str
    why: str = ""


@dataclass(frozen=True)
class BaselineFinding:
    """A finding as a previous JSON report recorded it: enough to say what was resolved."""

    key: str
    id: str
    severity: Severity
    category: str
    title: str


@dataclass(frozen=True)
class Baseline:
    """A previous JSON report (`--baseline`): its findings, matched to the new ones by key."""

    source: str
    generated_at: str
    findings: tuple[BaselineFinding, ...]


@dataclass(frozen=True)
class Delta:
    """The report against its baseline: what appeared, what is still there, what went away."""

    new: list[Finding]
    unchanged: list[Finding]
    resolved: list[BaselineFinding]


@dataclass(frozen=True)
class CauseNode:
    """A finding with the symptoms it causes; `seen_elsewhere` are symptoms already shown under
    another cause (or a link back into a cycle), rendered as references."""

    finding: Finding
    symptoms: tuple[CauseNode, ...]
    seen_elsewhere: tuple[Finding, ...]


@dataclass
class Report:
    """Everything a renderer needs."""

    view: ClusterView
    findings: list[Finding]
    coverage: list[Coverage]
    #: root causes, most important first (analyzer/causality.py)
    ranking: list[RootCause] = field(default_factory=list)
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    baseline: Baseline | None = None
    #: finding key -> the waiver that accepts it (`--waivers`): shown, but not failing CI
    waived: dict[str, Waiver] = field(default_factory=dict)
    _unknown: list[UnknownTemplate] | None = field(default=None, init=False, repr=False)

    @property
    def active(self) -> list[Finding]:
        """The findings no waiver accepts: what --fail-on, SARIF and JUnit failures count."""
        return [f for f in self.findings if f.key not in self.waived]

    @property
    def worst(self) -> Severity | None:
        return min((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    @property
    def verdict(self) -> str:
        judged = self.judgement
        return judged.summary + (f": {judged.why}" if judged.why else "")

    @property
    def unchecked_categories(self) -> list[str]:
        """Categories none of whose rules could be checked."""
        checked = {c.rule.category.value for c in self.coverage if c.checked}
        return sorted({c.rule.category.value for c in self.coverage} - checked)

    @property
    def judgement(self) -> Verdict:
        """Green only when the evidence could have shown the problems it rules out."""
        if self.worst is not None and self.worst is not Severity.INFO:
            return Verdict("findings", VERDICTS[self.worst])
        view = self.view
        loose = all(n.manifest.options.get("loose") for n in view.nodes)
        if loose and not view.available - {"logs.pasted"}:
            lines = sum(a.get("lines", 0) for n in view.nodes for a in n.manifest.options.get("accounts", []))
            what = (f"none of its {lines} line(s) is a known evidence type (`kubetriage types` lists them)"
                    if lines else "nothing in it could be read as evidence")
            return Verdict("not-understood", "Input not understood", what)
        if not any(not i.startswith(_NOT_CONTROL_PLANE) for i in view.available):
            why = ("only host or network output was given (" + ", ".join(sorted(view.available)) + ")"
                   if loose else "the bundle holds no control-plane evidence (no static pod manifests, API "
                   "objects, etcd, certificates or control-plane logs): was it collected on a control-plane "
                   "node?")
            return Verdict("insufficient", "Not enough evidence to judge", why)
        if not any(c.checked for c in self.coverage):
            return Verdict("insufficient", "Not enough evidence to judge",
                           "no check applies to what was given (" + ", ".join(sorted(view.available)) + ")")
        missing = self.unchecked_categories
        if missing:
            return Verdict("partial", "No problems found in what could be checked",
                           "not checked: " + ", ".join(missing))
        if loose:
            # a paste is a fragment: rules may run on it, but it cannot show everything they rule out
            kinds = sorted({t for n in view.nodes for a in n.manifest.options.get("accounts", [])
                            for _, _, t in a["segments"] if t != "unrecognised"})
            return Verdict("partial", "No problems found in what was given",
                           "pasted evidence shows part of the control plane (" + ", ".join(kinds)
                           + "); a bundle from `kubetriage collect` can rule problems out")
        return Verdict("clean", VERDICTS[Severity.INFO])

    @property
    def root_causes(self) -> list[Finding]:
        """The ranked root causes; without a ranking, the findings nothing in this report explains."""
        if self.ranking:
            return [r.finding for r in self.ranking]
        return [f for f in self.findings if not self.causes_of(f)]

    def causes_of(self, finding: Finding) -> list[Finding]:
        """Findings of this report linked as causes of `finding`, from either side of the link;
        links to keys that are not in the report are ignored."""
        return [c for c in self.findings if c is not finding
                and (c.key in finding.caused_by or finding.key in c.causes)]

    def symptoms_of(self, finding: Finding) -> list[Finding]:
        return [s for s in self.findings if s is not finding
                and (s.key in finding.causes or finding.key in s.caused_by)]

    def explained_by(self, finding: Finding) -> list[Finding]:
        """Every finding below `finding` in the cause tree (symptoms of symptoms too), worst first:
        what "explains N other finding(s)" counts, so the list shown always has N entries."""
        found: dict[str, Finding] = {}
        todo = [finding]
        while todo:
            for symptom in self.symptoms_of(todo.pop()):
                if symptom is not finding and symptom.key not in found:
                    found[symptom.key] = symptom
                    todo.append(symptom)
        return sorted(found.values(), key=lambda f: (f.severity.rank, f.category.value, f.id, f.key))

    @property
    def has_links(self) -> bool:
        """Whether any two findings of this report are causally linked."""
        return any(self.symptoms_of(f) for f in self.findings)

    def cause_forest(self) -> list[CauseNode]:
        """Root causes with their symptoms folded under them. Every finding appears in full once;
        one caught only in a cycle of links becomes a root of its own."""
        placed: set[str] = set()

        def grow(finding: Finding, path: frozenset[str]) -> CauseNode:
            placed.add(finding.key)
            symptoms: list[CauseNode] = []
            elsewhere: list[Finding] = []
            for symptom in self.symptoms_of(finding):
                if symptom.key in placed or symptom.key in path:
                    elsewhere.append(symptom)
                else:
                    symptoms.append(grow(symptom, path | {finding.key}))
            return CauseNode(finding, tuple(symptoms), tuple(elsewhere))

        forest = [grow(f, frozenset()) for f in self.root_causes if f.key not in placed]
        forest.extend(grow(f, frozenset()) for f in self.findings if f.key not in placed)
        return forest

    def confidence(self, finding: Finding) -> RootCause | None:
        """The ranking entry of a root cause (confidence, reason, what would confirm it)."""
        return next((r for r in self.ranking if r.finding is finding), None)

    @property
    def delta(self) -> Delta | None:
        """New / unchanged / resolved findings against the baseline, matched by finding key."""
        if self.baseline is None:
            return None
        before = {b.key for b in self.baseline.findings}
        now = {f.key for f in self.findings}
        return Delta(new=[f for f in self.findings if f.key not in before],
                     unchanged=[f for f in self.findings if f.key in before],
                     resolved=[b for b in self.baseline.findings if b.key not in now])

    def status(self, finding: Finding) -> str | None:
        """'new' or 'unchanged' against the baseline; None without one."""
        if self.baseline is None:
            return None
        return "unchanged" if any(b.key == finding.key for b in self.baseline.findings) else "new"

    @property
    def unknown_errors(self) -> list[UnknownTemplate]:
        """Warning/error lines no signature knows, as templates (computed once)."""
        if self._unknown is None:
            self._unknown = self.view.logs.templates()
        return self._unknown

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for f in self.findings if f.severity is s) for s in Severity}

    def to_dict(self) -> dict[str, Any]:
        return {
            "$schema": SCHEMA_ID,
            "kubetriage_version": __version__,
            "generated_at": self.generated_at.isoformat(),
            "verdict": {"summary": self.verdict, "kind": self.judgement.kind,
                        "not_checked_categories": self.unchecked_categories,
                        "worst_severity": self.worst.value if self.worst else None,
                        "counts": self.counts(),
                        "root_causes": [f.key for f in self.root_causes],
                        "ranking": [{"key": r.finding.key, "confidence": r.confidence, "reason": r.reason,
                                     "confirm": r.confirm} for r in self.ranking]},
            "nodes": [{"name": n.name, "source": n.bundle_source,
                       "collected_at": n.collected_at.isoformat(),
                       "collector_version": n.manifest.collector_version,
                       "complete": n.manifest.complete,
                       "items": len(n.manifest.items),
                       "failed_items": [{"id": i.id, "source": i.source, "error": i.error}
                                        for i in n.manifest.items if i.error],
                       "skipped_items": [{"id": i.id, "source": i.source, "reason": i.skipped}
                                         for i in n.manifest.items if i.skipped],
                       "clock": {"timezone": str(n.manifest.clock.get("timezone") or ""),
                                 "ntp_synchronized": _bool_or_none(
                                     n.manifest.clock.get("ntp_synchronized"))},
                       "redactions": n.manifest.redactions_total} for n in self.view.nodes],
            "findings": [f.to_dict() for f in self.findings],
            "coverage": [{"rule": c.rule.id, "checked": c.checked, "reason": c.reason,
                          "findings": c.findings} for c in self.coverage],
            "problems": self.view.problems,
            "unknown_errors": [{"node": u.node, "component": u.component, "template": u.template.template,
                                "count": u.template.count,
                                "first_seen": u.first_seen.isoformat() if u.first_seen else None,
                                "last_seen": u.last_seen.isoformat() if u.last_seen else None,
                                "example": {"path": u.template.source, "line": u.template.line,
                                            "excerpt": u.template.example}}
                               for u in self.unknown_errors],
            "inputs": [a for n in self.view.nodes for a in n.manifest.options.get("accounts", [])],
            **({"baseline": self._delta_dict()} if self.baseline else {}),
            **({"waived": [{"key": key, "rule": w.rule, "reason": w.reason, "expires": w.expires.isoformat()}
                           for key, w in self.waived.items()]} if self.waived else {}),
        }

    def _delta_dict(self) -> dict[str, Any]:
        assert self.baseline is not None
        delta = self.delta
        assert delta is not None
        return {"source": self.baseline.source, "generated_at": self.baseline.generated_at,
                "new": [f.key for f in delta.new], "unchanged": [f.key for f in delta.unchanged],
                "resolved": [{"key": b.key, "id": b.id, "severity": b.severity.value,
                              "category": b.category, "title": b.title} for b in delta.resolved]}


def _bool_or_none(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def load_baseline(path: Path) -> Baseline:
    """Read a previous `--format json` report; InputError when it is not one."""
    data = read_bounded(path, MAX_BASELINE_BYTES, "baseline")
    try:
        raw = load_json(data.decode("utf-8", "replace"))
    except json.JSONDecodeError as exc:
        raise InputError(f"baseline {path}: not JSON ({exc.msg} at line {exc.lineno})") from exc
    except ValueError as exc:  # nests too deeply, or a number too long to convert
        raise InputError(f"baseline {path}: {exc}") from None
    if not isinstance(raw, dict) or raw.get("$schema") != SCHEMA_ID or not isinstance(
            raw.get("findings"), list):
        raise InputError(f"baseline {path}: not a kubetriage JSON report (write one with --format json)")
    findings: list[BaselineFinding] = []
    for item in raw["findings"]:
        fields = [item.get(k) if isinstance(item, dict) else None
                  for k in ("key", "id", "severity", "category", "title")]
        if not all(isinstance(v, str) for v in fields) or fields[2] not in SEVERITY_VALUES:
            raise InputError(f"baseline {path}: a finding lacks key, id, severity, category or title")
        key, rule_id, severity, category, title = (str(v) for v in fields)
        findings.append(BaselineFinding(key, rule_id, Severity(severity), category, title))
    return Baseline(str(path), str(raw.get("generated_at", "")), tuple(findings))


def analyze(paths: list[Path], as_type: str | None = None, node: str | None = None,
            stdin: bytes | None = None, one_cluster: bool = False,
            custom: CustomRules | None = None) -> Report:
    """Open the bundles (and loose files of node `node`, of type `as_type` when given; stdin's bytes
    for the path `-`), build the cluster view, run the rules (the built-in ones and `custom`). Repeats
    of one bundle are read once; nodes of different clusters are refused (InputError) unless
    `one_cluster` says they belong together."""
    bundles, repeats = dedupe(open_bundles(paths, as_type, node, stdin))
    if not one_cluster:
        try:
            refuse_mixed(groups(bundles))
        except BaseException:
            for bundle in bundles:
                bundle.close()
            raise
    return _judge(bundles, repeats, custom)


def analyze_clusters(paths: list[Path], as_type: str | None = None, node: str | None = None,
                     stdin: bytes | None = None,
                     custom: CustomRules | None = None) -> list[tuple[str, Report]]:
    """As `analyze`, but nodes of different clusters make one report per cluster, each with the
    cluster's name (its nodes); one cluster makes one report."""
    bundles, repeats = dedupe(open_bundles(paths, as_type, node, stdin))
    try:
        return [(g.name, _judge(g.bundles, repeats, custom)) for g in groups(bundles)]
    finally:
        for bundle in bundles:
            bundle.close()


def _judge(bundles: list[Bundle], repeats: list[str], custom: CustomRules | None) -> Report:
    """Build the view of these bundles (closed afterwards) and run the rules on it."""
    try:
        view = build_view(bundles, custom.signatures if custom else (),
                          custom.record_types if custom else frozenset())
    finally:
        for bundle in bundles:
            bundle.close()
    view.problems.extend(repeats)
    progress.step("running rules")
    findings, coverage = run_rules(view, custom.checks if custom else ())
    progress.step("linking root causes")
    link(findings)
    return Report(view, findings, coverage, rank(findings))
