"""Generate docs/rules.md from the rules' own metadata: `python -m analyzer.rulesdoc > docs/rules.md`."""

from __future__ import annotations

import sys

from .logs.signatures import SIGNATURES
from .rules import all_rules


def _cell(text: str) -> str:
    """Table-safe text: pipes escaped, and a real log line in a code span that survives backticks."""
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    fence = "``" if "`" in text else "`"
    return f"{fence} {_cell(text)} {fence}"


def markdown() -> str:
    """Every registered rule as a Markdown table, grouped by category, then every log signature."""
    lines = [
        "# Rules",
        "",
        "Generated from the rule registry by `python -m analyzer.rulesdoc > docs/rules.md`; "
        "tests/test_conformance.py fails when this file is out of date.",
        "",
        "A rule runs when at least one of the bundle items it needs was read without problems on some "
        "node; otherwise the report lists it as *not checked*, with the reason (missing, timed out, failed, "
        "did not parse).",
        "",
    ]
    rules = all_rules()
    for category in dict.fromkeys(r.category for r in rules):
        lines += [f"## {category.value}", "", "| id | severity | what it checks | evidence it needs |",
                  "|---|---|---|---|"]
        for r in (r for r in rules if r.category is category):
            needs = ", ".join(f"`{n}`" for n in r.needs)
            lines.append(f"| `{r.id}` | {r.severity.value} | {r.checks.replace('|', '/')} | {needs} |")
        lines.append("")
    readers: dict[str, list[str]] = {}
    for r in rules:
        for sig_id in r.signatures:
            readers.setdefault(sig_id, []).append(r.id)
    lines += [
        f"## Log signatures ({len(SIGNATURES)})",
        "",
        "The log scan counts each line for the first signature (in this order) it matches; the rules named "
        "judge the counts. Every signature carries a real line it matches and where that line was seen "
        "(tests/test_signatures.py scans each example and checks it counts for its own row).",
        "",
        "| id | severity | meaning | read by | real example | source |",
        "|---|---|---|---|---|---|",
    ]
    for sig in SIGNATURES:
        used = ", ".join(f"`{r}`" for r in readers.get(sig.id, []))
        lines.append(f"| `{sig.id}` | {sig.severity.value} | {_cell(sig.meaning)} | {used} | "
                     f"{_code(sig.example)} | {_cell(sig.source)} |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown())
