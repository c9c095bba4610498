"""Render a Report: HTML and Markdown pages (reports/templates/), JSON, SARIF 2.1.0, JUnit XML,
and the one-screen terminal summary."""

from __future__ import annotations

import json

from ..report import Report
from . import junit, pages, sarif

FORMATS = ("html", "md", "json", "sarif", "junit")


def render(report: Report, fmt: str) -> str:
    """The report in one of FORMATS."""
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif.to_sarif(report), indent=2) + "\n"
    if fmt == "junit":
        return junit.to_junit(report)
    return pages.page(report, fmt)
