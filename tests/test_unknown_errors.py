"""Errors no signature knows still reach the engineer: mined into templates in every report format.

The log is a real MicroK8s kubelite journal (tests/corpus/control-ha-node, source in its .yaml): the
kubelet logs `Missing actuated resource record`, which no signature knows, then panics (a known
signature, GO_PANIC).
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.logs import templates
from analyzer.logs.formats import parse_line
from analyzer.logs.scan import REF
from analyzer.logs.templates import UnknownLines

REPO = Path(__file__).resolve().parents[1]
LOG = REPO / "tests" / "corpus" / "control-ha-node" / "microk8s-kubelite-kubelet-panic-microk8s-5057.txt"
SCHEMA = json.loads((REPO / "analyzer" / "schema" / "report.schema.json").read_text())


def _run(fmt: str) -> str:
    result = CliRunner().invoke(main, ["analyze", str(LOG), "--format", fmt, "--quiet"])
    assert result.exit_code == 0, result.output
    return result.stdout


def test_unknown_errors_in_json_with_counts_times_and_example() -> None:
    report = json.loads(_run("json"))
    jsonschema.validate(report, SCHEMA)
    unknown = report["unknown_errors"]
    [u] = [u for u in unknown if "Missing actuated resource record" in u["example"]["excerpt"]]
    assert u["component"] == "microk8s.daemon-kubelite" and u["count"] >= 1
    assert u["first_seen"].startswith(("2025-01-06T15:04:03", "2026-01-06T15:04:03"))
    assert u["example"]["line"] == 1 and u["example"]["path"]
    assert "pod=<STR>" in u["template"]  # the variable parts are masked
    # the panic that follows is known: it is a finding, not an unknown template
    assert not any("Observed a panic" in v["example"]["excerpt"] for v in unknown)
    assert "COMPONENT_PANIC" in {f["id"] for f in report["findings"]}


@pytest.mark.parametrize("fmt, heading", [("md", "### Errors no signature knows"),
                                          ("html", 'id="unknown-errors"')])
def test_unknown_errors_in_markdown_and_html(fmt: str, heading: str) -> None:
    text = _run(fmt)
    assert heading in text and "Missing actuated resource record" in text


def test_memory_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_KEYS distinct messages, new ones add up in one overflow key: all lines still count."""
    monkeypatch.setattr(templates, "MAX_KEYS", 3)
    lines = [parse_line(t, REF) for t in LOG.read_text().splitlines()]
    unknown = UnknownLines()
    for n, p in enumerate(lines, 1):
        unknown.add(p.text, p.ts, n)
    assert len(unknown.keys) <= 4
    assert sum(k.count for k in unknown.keys.values()) == len(lines)
    assert templates.OVERFLOW in unknown.keys
