"""SARIF 2.1.0 for CI systems: one run, the rule registry as the tool's rules, one result per
finding located at its evidence (bundle path + line), baseline state when a baseline was given."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from .. import __version__
from ..findings import Evidence, Finding, Severity
from ..report import Report

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {Severity.CRITICAL: "error", Severity.ERROR: "error", Severity.WARNING: "warning",
          Severity.INFO: "note"}
#: partialFingerprints name: the finding key is stable across runs on the same cluster
FINGERPRINT = "kubetriageKey/v1"


def _location(evidence: Evidence) -> dict[str, Any]:
    # a member name is not a URI: percent-encoded, "javascript:x" or "a b#c" stays a relative path
    uri = quote(evidence.path, safe="/")
    physical: dict[str, Any] = {"artifactLocation": {"uri": uri, "uriBaseId": evidence.node}}
    if evidence.line is not None:
        physical["region"] = {"startLine": evidence.line, "snippet": {"text": evidence.excerpt}}
    return {"physicalLocation": physical,
            "logicalLocations": [{"name": evidence.node, "kind": "module"}]}


def _result(finding: Finding, rule_index: dict[str, int], state: str | None) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": finding.id,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.title}. {finding.detail}".strip()},
        "locations": [_location(e) for e in finding.evidence]
        or [{"logicalLocations": [{"name": n, "kind": "module"} for n in finding.nodes]}],
        "partialFingerprints": {FINGERPRINT: finding.key},
        "properties": {"severity": finding.severity.value, "category": finding.category.value,
                       "nodes": finding.nodes, "objects": finding.objects,
                       "remediation": finding.remediation.to_dict(),
                       "caused_by": finding.caused_by, "causes": finding.causes,
                       **({"rule_source": finding.rule_source} if finding.rule_source else {})},
    }
    if finding.id in rule_index:
        result["ruleIndex"] = rule_index[finding.id]
    if state:
        result["baselineState"] = state
    return result


def to_sarif(report: Report) -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log."""
    rules = [c.rule for c in report.coverage]  # the built-in rules, then the custom ones of this run
    rule_index = {r.id: i for i, r in enumerate(rules)}
    results = [_result(f, rule_index, report.status(f)) for f in report.active]
    delta = report.delta
    for gone in delta.resolved if delta else []:
        absent: dict[str, Any] = {
            "ruleId": gone.id, "level": LEVELS[gone.severity], "baselineState": "absent",
            "message": {"text": f"{gone.title} (resolved since the baseline)"},
            "partialFingerprints": {FINGERPRINT: gone.key}}
        if gone.id in rule_index:
            absent["ruleIndex"] = rule_index[gone.id]
        results.append(absent)
    notifications = [{"level": "note", "message": {"text": f"not checked: {c.reason}"},
                      "associatedRule": {"id": c.rule.id, "index": rule_index[c.rule.id]}}
                     for c in report.coverage if not c.checked and c.rule.id in rule_index]
    notifications += [{"level": "warning", "message": {"text": p}} for p in report.view.problems]
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "kubetriage", "version": __version__, "semanticVersion": __version__,
                "rules": [{"id": r.id, "name": r.id.title().replace("_", ""),
                           "shortDescription": {"text": r.title},
                           "fullDescription": {"text": r.checks},
                           "defaultConfiguration": {"level": LEVELS[r.severity]},
                           "properties": {"category": r.category.value, "severity": r.severity.value,
                                          "needs": list(r.needs),
                                          **({"source": r.source} if r.source else {})}} for r in rules]}},
            "originalUriBaseIds": {n.name: {"description": {"text": f"bundle of node {n.name}: "
                                                                    f"{n.bundle_source}"}}
                                   for n in report.view.nodes},
            "invocations": [{"executionSuccessful": True,
                             "endTimeUtc": report.generated_at.strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                             "toolExecutionNotifications": notifications}],
            "results": results,
            "properties": {"verdict": report.verdict, "root_causes": [f.key for f in report.root_causes]},
        }],
    }
