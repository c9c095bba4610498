"""The one-screen summary `kubetriage analyze` prints when no output file is given, and progress lines.

Everything taken from the evidence (node names, titles) goes through `one_line` before it is styled:
only the colours this module adds reach the terminal as escape sequences.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..findings import Finding, Severity
from ..safetext import one_line

if TYPE_CHECKING:
    from ..report import Report

COLOURS = {Severity.CRITICAL: "red", Severity.ERROR: "red", Severity.WARNING: "yellow",
           Severity.INFO: "blue"}
#: findings listed at most; the rest are counted
TOP = 8


def _line(finding: Finding, width: int, indent: str = "  ") -> str:
    sev = click.style(f"{finding.severity.value.upper():8}", fg=COLOURS[finding.severity], bold=True)
    nodes = one_line(f" [{', '.join(finding.nodes)}]") if finding.nodes else ""
    rule_id, title = one_line(finding.id), one_line(finding.title)
    room = max(20, width - len(indent) - 9 - len(rule_id) - 2 - len(nodes))
    title = title if len(title) <= room else title[: room - 1] + "…"
    return f"{indent}{sev} {rule_id}  {title}{nodes}"


def _shown(report: Report, finding: Finding, width: int) -> list[str]:
    waiver = report.waived.get(finding.key)
    return ([_line(finding, width)] + ([f"      waived: {one_line(waiver.reason)}"] if waiver else [])
            + ([f"      custom rule: {one_line(finding.rule_source)}"] if finding.rule_source else []))


def _cut(text: str, width: int) -> str:
    """One line of evidence text, controls made visible, cut to the width."""
    text = one_line(text)
    return text if len(text) <= max(width, 20) else text[: max(width, 20) - 1] + "…"


def summary(report: Report, width: int = 100) -> str:
    """Verdict, counts, the root causes and top findings with their ids, and where to go next."""
    c = report.counts()
    judged = report.judgement
    colour = (COLOURS[report.worst] if report.worst else "green" if judged.kind == "clean" else "yellow")
    out = [click.style(report.verdict, fg=colour, bold=True)
           + f" — {c['critical']} critical, {c['error']} error, {c['warning']} warning, {c['info']} info",
           "nodes: " + ", ".join(f"{one_line(n.name)} (collected {n.collected_at:%Y-%m-%d %H:%M} UTC"
                                 f"{'' if n.manifest.complete else ', PARTIAL'})" for n in report.view.nodes)]
    delta = report.delta
    if delta is not None:
        out.append(f"against the baseline: {len(delta.new)} new, {len(delta.resolved)} resolved, "
                   f"{len(delta.unchanged)} unchanged")
    shown: set[str] = set()
    if report.has_links:
        out.append("root causes:")
        for tree in report.cause_forest()[:TOP]:
            out.extend(_shown(report, tree.finding, width))
            symptoms = report.explained_by(tree.finding)
            if symptoms:
                worst = symptoms[0].severity.value
                out.append(f"      explains {len(symptoms)} other finding(s), worst {worst}: "
                           + one_line(", ".join(dict.fromkeys(s.id for s in symptoms))))
            shown.update(f.key for f in [tree.finding, *symptoms])
    elif report.findings:
        out.append("top findings:")
        for finding in report.findings[:TOP]:
            out.extend(_shown(report, finding, width))
        shown.update(f.key for f in report.findings[:TOP])
    rest = len(report.findings) - len(shown)
    if rest > 0:
        out.append(f"  … and {rest} more finding(s)")
    if report.waived:
        out.append(f"{len(report.waived)} finding(s) waived (--waivers): shown, not failing --fail-on")
    unchecked = sum(1 for cov in report.coverage if not cov.checked)
    out.append(f"coverage: {len(report.coverage) - unchecked} rule(s) checked, {unchecked} not checked")
    for reason in list(dict.fromkeys(report.view.unusable.values()))[:TOP]:
        out.append(f"  not checked: {_cut(reason, width - 16)}")
    for account in (a for n in report.view.nodes for a in n.manifest.options.get("accounts", [])):
        kinds = ", ".join(dict.fromkeys(s[2] for s in account["segments"]))
        out.append(_cut(f"read {account['file']}: {account['parsed']} line(s) parsed, "
                        f"{account['scanned']} scanned only, {account['ignored']} ignored ({kinds})", width))
    problems = report.view.problems
    if problems:
        out.append(f"{len(problems)} problem(s) reading the evidence:")
        out.extend(f"  {_cut(one_line(p), width - 2)}" for p in problems[:TOP])
        if len(problems) > TOP:
            out.append(f"  … and {len(problems) - TOP} more (in the full report)")
    out.append("The whole report: --format text, or -o report.html (md, json, sarif, junit).")
    return "\n".join(out) + "\n"


def input_size(paths: Iterable[Path], enough: int) -> int:
    """Bytes in the inputs, counted until `enough` is reached (a big folder is not walked to the end)."""
    total = 0
    for path in paths:
        if path.is_file():
            total += path.stat().st_size
        for folder, _, names in os.walk(path) if path.is_dir() else ():
            for name in names:
                candidate = Path(folder, name)
                total += candidate.stat().st_size if candidate.is_file() else 0
                if total >= enough:
                    return total
    return total


class ProgressPrinter:
    """A progress listener printing one stderr line per phase, with the time since the start."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.started = time.monotonic()

    def __call__(self, phase: str, node: str | None) -> None:
        if self.enabled:
            where = f"{node}: " if node else ""
            click.echo(f"kubetriage: [{time.monotonic() - self.started:6.1f}s] {one_line(where + phase)}",
                       err=True)
