"""Render a Report as HTML, Markdown or JSON; templates live in reports/templates/."""

from __future__ import annotations

import json

import jinja2

from .report import Report

FORMATS = ("html", "md", "json")


def _environment(html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=html, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    env.filters["mdcell"] = lambda text: str(text).replace("|", "\\|").replace("\n", " ")
    return env


def render(report: Report, fmt: str) -> str:
    """The report in one of FORMATS."""
    if fmt == "json":
        return json.dumps(report.to_dict(), indent=2) + "\n"
    template = {"html": "report.html.j2", "md": "report.md.j2"}[fmt]
    return _environment(fmt == "html").get_template(template).render(report=report)
