"""Render a Report: HTML and Markdown pages (reports/templates/), JSON, SARIF 2.1.0, JUnit XML,
and the one-screen terminal summary."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..report import Report

FORMATS = ("html", "md", "json", "sarif", "junit")


def render(report: Report, fmt: str) -> str:
    """The report in one of FORMATS."""
    from . import junit, pages, sarif  # here, so the command line starts without them

    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2) + "\n"
    if fmt == "sarif":
        return json.dumps(sarif.to_sarif(report), indent=2) + "\n"
    if fmt == "junit":
        return junit.to_junit(report)
    return pages.page(report, fmt)
