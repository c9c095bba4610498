"""Golden regression: every sample in bundles/samples/ gives exactly its expected findings.

`pytest tests/test_samples.py --regen-goldens` rewrites expected.json on purpose; review the diff.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from analyzer.render import render
from analyzer.report import analyze
from tests.conftest import REPO, SAMPLES

SCHEMA = json.loads((REPO / "analyzer" / "schema" / "report.schema.json").read_text())
SAMPLE_DIRS = sorted(p for p in SAMPLES.iterdir() if p.is_dir())


def summary(report_json: dict) -> dict:
    keys = {f["key"]: f["id"] for f in report_json["findings"]}
    return {
        "verdict": report_json["verdict"]["summary"],
        "findings": [{"id": f["id"], "severity": f["severity"], "category": f["category"],
                      "nodes": f["nodes"], "objects": f["objects"]} for f in report_json["findings"]],
        "root_causes": sorted(keys[k] for k in report_json["verdict"]["root_causes"]),
    }


def test_there_are_samples():
    assert SAMPLE_DIRS, "bundles/samples/ must hold at least one sample"


@pytest.mark.parametrize("sample", SAMPLE_DIRS, ids=lambda p: p.name)
def test_sample_matches_golden(sample: Path, request: pytest.FixtureRequest):
    assert (sample / "README.md").is_file(), f"{sample.name} needs a README.md"
    report = analyze([sample])
    data = json.loads(render(report, "json"))
    jsonschema.validate(data, SCHEMA)
    got = summary(data)
    golden = sample / "expected.json"
    if request.config.getoption("--regen-goldens"):
        golden.write_text(json.dumps(got, indent=2) + "\n")
    assert golden.is_file(), f"no golden for {sample.name}: run with --regen-goldens and review"
    assert got == json.loads(golden.read_text())
    for finding in data["findings"]:  # every finding cites evidence and says what to do
        assert finding["evidence"] and all(e["path"] for e in finding["evidence"]), finding["key"]
        assert finding["remediation"]["text"].strip(), finding["key"]
        assert not any("rollout restart" in c for c in finding["remediation"]["commands"]), finding["key"]
    for fmt in ("html", "md"):
        assert render(report, fmt).strip()
