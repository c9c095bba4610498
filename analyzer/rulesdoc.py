"""Generate docs/rules.md from the rules' own metadata: `python -m analyzer.rulesdoc > docs/rules.md`."""

from __future__ import annotations

import sys

from .rules import all_rules


def markdown() -> str:
    """Every registered rule as a Markdown table, grouped by category."""
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
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown())
