"""The whole report as plain text for a terminal or a ticket (`--format text`): what the one-screen
summary shortens, with every finding's detail, evidence and commands. No colours, so it reads the
same in a file; bundle text goes through `one_line`/`visible` like everything printed.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from ..safetext import one_line, visible

if TYPE_CHECKING:
    from ..findings import Finding
    from ..report import Report

WIDTH = 100
INDENT = "    "


def _wrap(text: str, indent: str = INDENT) -> list[str]:
    return textwrap.wrap(one_line(" ".join(text.split())), WIDTH, initial_indent=indent,
                         subsequent_indent=indent, break_long_words=False, break_on_hyphens=False) or [indent]


def _finding(report: Report, finding: Finding) -> list[str]:
    nodes = f" [{', '.join(finding.nodes)}]" if finding.nodes else ""
    status = report.status(finding)
    out = [one_line(f"{finding.severity.value.upper():8} {finding.id}  {finding.title}{nodes}"
                    + (f"  ({status})" if status else ""))]
    waiver = report.waived.get(finding.key)
    if waiver:
        out.append(one_line(f"{INDENT}waived: {waiver.reason}"))
    if finding.rule_source:
        out.append(one_line(f"{INDENT}custom rule: {finding.rule_source}"))
    causes = report.causes_of(finding)
    if causes:
        out.append(one_line(f"{INDENT}caused by: " + "; ".join(f"{c.id} {c.title}" for c in causes)))
    symptoms = report.symptoms_of(finding)
    if symptoms:
        out.append(one_line(f"{INDENT}explains: " + ", ".join(dict.fromkeys(s.id for s in symptoms))))
    out += _wrap(finding.detail)
    if finding.evidence:
        out.append(f"{INDENT}evidence:")
    for e in finding.evidence:
        out.append(one_line(f"{INDENT}  {e.node}: {e.path}" + (f":{e.line}" if e.line else "")))
        out += [f"{INDENT}    | {visible(line)}" for line in e.excerpt.splitlines() or [""]]
    fix = finding.remediation
    out.append(f"{INDENT}fix:")
    out += _wrap(fix.text, INDENT + "  ")
    if fix.link:
        out.append(one_line(f"{INDENT}  knowledge base: {fix.link}"))
    for title, steps in (("check first (read-only):", fix.diagnose),
                         ("then:" if fix.diagnose else "", fix.commands),
                         (f"DESTRUCTIVE, only {fix.destructive_when}:", fix.destructive)):
        if steps and title:
            out += _wrap(title, INDENT + "  ")
        out += [f"{INDENT}  $ {visible(line)}" for command in steps for line in command.splitlines()]
    return out


def text_report(report: Report) -> str:
    """Verdict, nodes, root causes, every finding in full, coverage and reading problems."""
    c = report.counts()
    out = [f"{report.verdict} — {c['critical']} critical, {c['error']} error, {c['warning']} warning, "
           f"{c['info']} info",
           one_line("nodes: " + ", ".join(f"{n.name} (collected {n.collected_at:%Y-%m-%d %H:%M} UTC"
                                          f"{'' if n.manifest.complete else ', PARTIAL'})"
                                          for n in report.view.nodes))]
    delta = report.delta
    if delta is not None:
        out.append(f"against the baseline: {len(delta.new)} new, {len(delta.resolved)} resolved, "
                   f"{len(delta.unchanged)} unchanged")
    if report.has_links:
        out += ["", "ROOT CAUSES"]
        for tree in report.cause_forest():
            rank = report.confidence(tree.finding)
            out.append(one_line(f"  {tree.finding.id}  {tree.finding.title}"))
            if rank:
                out += _wrap(f"{rank.confidence} confidence: {rank.reason}. Would confirm it: {rank.confirm}")
    out += ["", f"FINDINGS ({len(report.findings)})" if report.findings else
            "No problems found in the evidence checked."]
    for finding in report.findings:
        out += ["", *_finding(report, finding)]
    if delta is not None and delta.resolved:
        out += ["", "RESOLVED SINCE THE BASELINE"]
        out += [one_line(f"  {b.severity.value:8} {b.id}  {b.title}") for b in delta.resolved]
    unchecked = [cov for cov in report.coverage if not cov.checked]
    out += ["", f"COVERAGE: {len(report.coverage) - len(unchecked)} rule(s) checked, {len(unchecked)} not "
            "checked"]
    out += [f"  not checked: {cov.rule.id} ({cov.reason})" for cov in unchecked]
    if report.view.problems:
        out += ["", f"PROBLEMS READING THE EVIDENCE ({len(report.view.problems)})"]
        out += [one_line(f"  {p}") for p in report.view.problems]
    return "\n".join(out) + "\n"
