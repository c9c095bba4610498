"""The HTML and Markdown reports: Jinja2 templates in reports/templates/, with the pictures and a
Content-Security-Policy that lets only the page's own inline style and script run."""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from importlib.resources import files

import jinja2
from markupsafe import Markup

from .. import __version__
from ..facts import ClusterView
from ..facts.etcd import EtcdFacts
from ..facts.logs import is_log_item
from ..report import Report
from . import svg
from .etcdchart import etcd_chart
from .logdata import log_cells, meanings

TEMPLATES = {"html": "report.html.j2", "md": "report.md.j2"}


@dataclass(frozen=True)
class Asset:
    """An inline stylesheet or script and the CSP source that allows exactly it."""

    text: Markup
    csp: str

    @classmethod
    def load(cls, name: str) -> Asset:
        text = files("reports").joinpath("templates").joinpath(name).read_text(encoding="utf-8")
        digest = base64.b64encode(hashlib.sha256(text.encode()).digest()).decode()
        return cls(Markup(text), f"'sha256-{digest}'")


@dataclass(frozen=True)
class Charts:
    """The pictures of the HTML report; None where the evidence has nothing to draw."""

    certificates: Markup | None
    #: e.g. "54 certificates: 1 expired, 53 valid"; the chart starts folded when all are valid
    certificate_summary: str
    certificates_valid: bool
    timeline: Markup | None
    timeline_note: str
    etcd: Markup | None
    etcd_note: str


def _timeline_note(view: ClusterView, cells: list[svg.MinuteCount] | None) -> str:
    """Why there is no timeline."""
    logs = sorted(i for i in view.available if is_log_item(i))
    if not logs:
        return "No log evidence."
    if cells is None:
        return f"Logs were collected ({', '.join(logs)}), but this analysis has no log facts to draw."
    return f"The logs ({', '.join(logs)}) hold no known error signature."


def charts(view: ClusterView) -> Charts:
    now = {n.name: n.collected_at for n in view.nodes}
    states = Counter(svg.cert_state(c, now[c.node])[0] for c in view.certificates if c.node in now)
    summary = ", ".join(f"{states[s]} {s}" for s in svg.STATE_COLOURS if states[s])
    cells = log_cells(view)
    etcd = getattr(view, "etcd", None)
    etcd_svg = etcd_chart(etcd) if isinstance(etcd, EtcdFacts) else None
    return Charts(certificates=svg.certificate_chart(view.certificates, now),
                  certificate_summary=f"{sum(states.values())} certificates: {summary}",
                  certificates_valid=set(states) <= {"valid"},
                  timeline=svg.timeline_chart(cells or [], now, meanings(view)),
                  timeline_note=_timeline_note(view, cells),
                  etcd=etcd_svg,
                  etcd_note="No etcdctl output in the evidence." if isinstance(etcd, EtcdFacts)
                  else "This analysis has no etcd facts.")


def _fence(text: str) -> str:
    """A backtick fence longer than any backtick run inside `text`."""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def _mdtext(text: object) -> str:
    """Text for a Markdown line: no raw HTML, no line breaks."""
    return " ".join(str(text).split()).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mdcell(text: object) -> str:
    return _mdtext(text).replace("|", "\\|")


def _environment(html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=html, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )
    env.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    env.filters["mdtext"] = _mdtext
    env.filters["mdcell"] = _mdcell
    env.filters["fence"] = _fence
    env.globals["version"] = __version__
    return env


def page(report: Report, fmt: str) -> str:
    """The report as an HTML page or a Markdown document."""
    template = _environment(fmt == "html").get_template(TEMPLATES[fmt])
    if fmt != "html":
        return template.render(report=report)
    css, js = Asset.load("report.css"), Asset.load("report.js")
    csp = (f"default-src 'none'; style-src {css.csp}; script-src {js.csp}; img-src 'none'; "
           "base-uri 'none'; form-action 'none'")
    return template.render(report=report, css=css.text, js=js.text, csp=csp, charts=charts(report.view))
