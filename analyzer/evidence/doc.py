"""Generate docs/evidence.md from the registry of evidence types:
`python -m analyzer.evidence.doc > docs/evidence.md` (tests/test_conformance.py fails when it is stale)."""

from __future__ import annotations

import sys
from pathlib import Path

from .types import TYPES, EvidenceType

FIXTURES = Path(__file__).resolve().parents[2] / "tests" / "fixtures"
EXAMPLE_LINES = 8

INTRO = """# What can be pasted

Generated from the registry of evidence types (`analyzer/evidence/types.py`) by
`python -m analyzer.evidence.doc > docs/evidence.md`; `kubetriage types` lists the same.

`kubetriage analyze FILE` (or `-` for stdin, or a folder of such files) reads logs and command outputs
as they arrive in tickets. A paste may hold several outputs: prompt and command lines (`$ kubectl get
pods -n kube-system`), Markdown fences and `>` quote markers, blank lines and changes of line format
split it into segments; the command line before an output says what it is, unless its content is
plainly something else (the `The connection to the server ... was refused` a `kubectl get` printed);
otherwise its content does. Common mangling is undone first: quote markers, fences, backticks or
double quotes around a line, a common indentation, `minikube logs`' `* ` prefix, `grep -n` line
numbers, a remote runner's prefix on every line (`172.16.112.205:22: `, `... (remote-exec): `),
carriage returns. Log lines keep their writer when a prefix names it (`kubectl logs --prefix`, stern)
and are read with journald `short`, `short-precise`, `short-iso`, RFC 3339 and locale month names
(`Mai 22`, `6月 25`), `--timestamps`, or a journal line cut down to `ident[pid]: `. A segment no type
recognises is still scanned for every log signature.

The report's inventory (JSON `inputs`, and a `read FILE:` line in the summary) says how many lines
were parsed, scanned only or ignored. Loose files belong to one node, "pasted evidence", unless
`--node NAME` says otherwise; their "now" is their newest timestamp, the year taken from a date in
the text that names one (a certificate's validity dates do not count).

The verdict is green ("No problems found") only when the evidence could have shown the problems it
rules out, which a paste never can: otherwise it says "No problems found in what could be checked: not
checked: ..." or "No problems found in what was given", "Not enough evidence to judge" with why, or
"Input not understood" (exit code 2). A rule counts as checked
only when the evidence it needs was read without problems; one whose item timed out, failed or did
not parse is listed as not checked, with the reason.

Each example below is real output (sources in `tests/fixtures/*/SOURCES.md` and `index.json`).
"""


def _section(evidence: EvidenceType) -> list[str]:
    parser = (f"`{evidence.parser.__module__.removeprefix('analyzer.')}.{evidence.parser.__name__}`"
              if evidence.parser else "none: scanned line by line for log signatures (`logs/scan.py`)")
    lines = [f"## `{evidence.name}` — {evidence.what}", "",
             f"Read as item `{evidence.item_id}`; parser: {parser}."]
    if evidence.commands:
        lines.append("Announced by command lines matching "
                     + ", ".join(f"`{c}`" for c in evidence.commands) + ".")
    lines.append("")
    if evidence.example:
        shown = (FIXTURES / evidence.example).read_text(errors="replace").splitlines()[:EXAMPLE_LINES]
        lines += [f"Example (`tests/fixtures/{evidence.example}`, first lines):", "", "```",
                  *(ln[:150].replace("```", "'''") for ln in shown), "```", ""]
    else:
        lines += [f"Example: the collector's own output (bundle item `{evidence.item_id}`).", ""]
    return lines


def markdown() -> str:
    lines = [INTRO]
    for evidence in TYPES.values():
        lines += _section(evidence)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(markdown())
