"""The analysis result as one object: inputs, findings, coverage; and its JSON form."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import __version__
from .bundle import open_bundles
from .causality import RootCause, link, rank
from .facts import ClusterView, build_view
from .findings import Finding, Severity
from .rules import Coverage, run_rules

SCHEMA_ID = "https://kubetriage.dev/schema/report-v1.json"
VERDICTS = {
    Severity.CRITICAL: "Control plane broken",
    Severity.ERROR: "Control plane degraded",
    Severity.WARNING: "Control plane working, with risks",
    Severity.INFO: "No problems found",
}


@dataclass
class Report:
    """Everything a renderer needs."""

    view: ClusterView
    findings: list[Finding]
    coverage: list[Coverage]
    #: root causes, most important first (analyzer/causality.py)
    ranking: list[RootCause] = field(default_factory=list)
    generated_at: dt.datetime = field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))

    @property
    def worst(self) -> Severity | None:
        return min((f.severity for f in self.findings), key=lambda s: s.rank, default=None)

    @property
    def verdict(self) -> str:
        return VERDICTS[self.worst or Severity.INFO]

    @property
    def root_causes(self) -> list[Finding]:
        return [r.finding for r in self.ranking]

    def symptoms_of(self, finding: Finding) -> list[Finding]:
        return [f for f in self.findings if f.key in finding.causes]

    def counts(self) -> dict[str, int]:
        return {s.value: sum(1 for f in self.findings if f.severity is s) for s in Severity}

    def to_dict(self) -> dict[str, Any]:
        return {
            "$schema": SCHEMA_ID,
            "kubetriage_version": __version__,
            "generated_at": self.generated_at.isoformat(),
            "verdict": {"summary": self.verdict,
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
                       "redactions": n.manifest.redactions_total} for n in self.view.nodes],
            "findings": [f.to_dict() for f in self.findings],
            "coverage": [{"rule": c.rule.id, "checked": c.checked, "reason": c.reason,
                          "findings": c.findings} for c in self.coverage],
            "problems": self.view.problems,
        }


def analyze(paths: list[Path]) -> Report:
    """Open the bundles, build the cluster view, run the rules."""
    bundles = open_bundles(paths)
    try:
        view = build_view(bundles)
    finally:
        for bundle in bundles:
            bundle.close()
    findings, coverage = run_rules(view)
    link(findings)
    return Report(view, findings, coverage, rank(findings))
