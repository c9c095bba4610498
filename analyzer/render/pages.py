"""The HTML and Markdown reports: Jinja2 templates in reports/templates/, with the pictures and a
Content-Security-Policy that lets only the page's own inline style and script run.

Bundle text is text on both: HTML is autoescaped, Markdown goes through the filters below (code
spans that no backtick ends early, no link, image or raw HTML from the evidence), and in both every
control character is shown as an escape (\\x1b, \\u202e) so none can reorder or hide what is read.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections import Counter
from dataclasses import dataclass
from importlib.resources import files

import jinja2
from markupsafe import Markup, escape

from .. import __version__
from ..facts import ClusterView
from ..facts.etcd import EtcdFacts
from ..facts.logs import is_log_item
from ..report import Report
from ..safetext import visible
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


#: characters that start Markdown inline syntax (emphasis, code, links, images, strikethrough)
_MD_INLINE = re.compile(r"([\\`*_\[\]~!])")
#: what makes the start of a line a heading, list item or quote
_MD_BLOCK_START = re.compile(r"^([#+=-]|\d+(?=[.)]))")


def _mdtext(text: object) -> str:
    """Text for a Markdown line, shown as written: no raw HTML, link, emphasis or line break."""
    flat = visible(" ".join(str(text).split()))
    escaped = _MD_INLINE.sub(r"\\\1", flat).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _MD_BLOCK_START.sub(lambda m: m.group() + "\\" if m.group()[0].isdigit() else "\\" + m.group(),
                               escaped)


def _mdcell(text: object) -> str:
    return _mdtext(text).replace("|", "\\|")


def _code(text: object) -> str:
    """An inline code span holding `text` exactly: its fence is longer than any backtick run inside.

    >>> _code("cp-1"), _code("a`<img src=x>`b"), _code("`x")
    ('`cp-1`', '``a`<img src=x>`b``', '`` `x ``')
    """
    flat = visible(" ".join(str(text).split()))
    fence = "`" * (max((len(m) for m in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat[:1] in ("`", " ") or flat[-1:] in ("`", " ") else ""
    return f"{fence}{pad}{flat}{pad}{fence}"


def _codecell(text: object) -> str:
    """A code span in a table cell: GFM splits cells at `|` before it sees code spans."""
    return _code(text).replace("|", "\\|")


def _htmltext(text: object) -> str:
    """Text inside the raw HTML the Markdown report holds (<summary>): escaped for HTML, not Markdown."""
    return str(escape(visible(" ".join(str(text).split()))))


def _shown(value: object) -> object:
    """Every value a template prints: control characters made visible, our own markup left alone."""
    return visible(value) if isinstance(value, str) and not isinstance(value, Markup) else value


def _environment(html: bool) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("reports", "templates"),
        autoescape=html, trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True, finalize=_shown,
    )
    env.filters["when"] = lambda moment: moment.strftime("%Y-%m-%d %H:%M:%S UTC")
    env.filters["mdtext"] = _mdtext
    env.filters["mdcell"] = _mdcell
    env.filters["fence"] = _fence
    env.filters["code"] = _code
    env.filters["codecell"] = _codecell
    env.filters["htmltext"] = _htmltext
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
