"""Inline SVG pictures for the HTML report, drawn in Python: certificate lifetimes against the
collection time, error signatures over time per component and node, etcd members across nodes.

Every piece of text and every attribute value goes through `_esc`: labels come from bundles
(certificate names, log signatures) and must never become markup, nor hide or reorder text.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

from ..facts.pki import CertificateFact
from ..safetext import visible

DAY = dt.timedelta(days=1)
#: certificates expiring within this many days of collection are drawn as "soon"
SOON_DAYS = 30
#: the certificate window reaches at most this far either side of the collection time
CERT_WINDOW = 2 * 365 * DAY
MAX_CERT_ROWS = 60
MAX_TIMELINE_ROWS = 40
#: the timeline shows at most this long a stretch before the newest log line
TIMELINE_WINDOW = dt.timedelta(hours=24)

INK = "#1d2330"
MUTED = "#5a6272"
GRID = "#d5d9e0"
STATE_COLOURS = {"expired": "#a3162b", "not yet valid": "#7b3fa0", "expires soon": "#d19a00",
                 "valid": "#2e8b57"}
COMPONENT_COLOURS = {"kube-apiserver": "#c2481b", "etcd": "#3a7bd5", "kube-controller-manager": "#8e44ad",
                     "kube-scheduler": "#16a085", "kubelet": "#b07f00", "containerd": "#5a6272",
                     "crio": "#5a6272", "docker": "#5a6272"}
FALLBACK_COLOURS = ("#d35400", "#2c3e50", "#27ae60", "#c0392b", "#7f8c8d", "#1abc9c")


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".")


def _esc(value: object) -> Markup:
    """Escaped for SVG, with control characters shown as escapes (newlines kept: tooltips have lines)."""
    return escape(value if isinstance(value, Markup) else visible(str(value)))


class Canvas:
    """An SVG document built from escaped parts."""

    def __init__(self, width: float, height: float, title: str) -> None:
        self.width, self.height, self.title = width, height, title
        self.parts: list[str] = []

    @staticmethod
    def _attrs(attrs: Mapping[str, object]) -> str:
        return "".join(f' {k.replace("_", "-")}="{_esc(_num(v) if isinstance(v, float) else v)}"'
                       for k, v in attrs.items() if v is not None)

    def _shape(self, tag: str, tip: str | None, attrs: Mapping[str, object]) -> None:
        if tip:
            self.parts.append(f"<{tag}{self._attrs(attrs)}><title>{_esc(tip)}</title></{tag}>")
        else:
            self.parts.append(f"<{tag}{self._attrs(attrs)}/>")

    def rect(self, x: float, y: float, w: float, h: float, fill: str, tip: str | None = None,
             **attrs: object) -> None:
        self._shape("rect", tip, {"x": float(x), "y": float(y), "width": float(max(w, 0.5)),
                                  "height": float(h), "fill": fill, **attrs})

    def line(self, x1: float, y1: float, x2: float, y2: float, stroke: str = GRID, **attrs: object) -> None:
        self._shape("line", None, {"x1": float(x1), "y1": float(y1), "x2": float(x2), "y2": float(y2),
                                   "stroke": stroke, **attrs})

    def circle(self, cx: float, cy: float, r: float, fill: str, tip: str | None = None,
               **attrs: object) -> None:
        self._shape("circle", tip, {"cx": float(cx), "cy": float(cy), "r": float(r), "fill": fill, **attrs})

    def text(self, x: float, y: float, content: str, size: int = 11, fill: str = INK,
             anchor: str = "start", tip: str | None = None, **attrs: object) -> None:
        inner = _esc(content) + (Markup("<title>{}</title>").format(_esc(tip)) if tip else "")
        attributes = self._attrs({"x": float(x), "y": float(y), "font_size": size, "fill": fill,
                                  "text_anchor": anchor, **attrs})
        self.parts.append(f"<text{attributes}>{inner}</text>")

    def markup(self, css_class: str) -> Markup:
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(css_class)}" role="img" '
                f'viewBox="0 0 {_num(self.width)} {_num(self.height)}" width="{_num(self.width)}" '
                f'height="{_num(self.height)}" font-family="system-ui, sans-serif">'
                f"<title>{_esc(self.title)}</title>")
        return Markup(head + "".join(self.parts) + "</svg>")


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _days(delta: dt.timedelta) -> str:
    days = abs(delta) / DAY
    return f"{days:.0f} d" if days >= 1 else f"{abs(delta).total_seconds() / 3600:.0f} h"


@dataclass(frozen=True)
class TimeAxis:
    """A linear time scale onto [left, left + width]."""

    start: dt.datetime
    end: dt.datetime
    left: float
    width: float

    def x(self, moment: dt.datetime) -> float:
        span = (self.end - self.start).total_seconds() or 1.0
        frac = (moment - self.start).total_seconds() / span
        return self.left + min(max(frac, 0.0), 1.0) * self.width

    def ticks(self) -> list[tuple[dt.datetime, str]]:
        """About six gridlines at round moments, labelled at a precision that fits the span."""
        span = self.end - self.start
        if span > 120 * DAY:
            return self._month_ticks(span)
        steps = [1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 10080, 20160]
        minutes = next((s for s in steps if span / dt.timedelta(minutes=s) <= 8), steps[-1])
        step = dt.timedelta(minutes=minutes)
        epoch = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
        first = epoch + math.ceil((self.start - epoch) / step) * step
        fmt = "%H:%M" if span <= DAY else ("%m-%d %H:%M" if minutes < 1440 else "%Y-%m-%d")
        out: list[tuple[dt.datetime, str]] = []
        moment = first
        while moment <= self.end:
            out.append((moment, moment.strftime(fmt)))
            moment += step
        return out

    def _month_ticks(self, span: dt.timedelta) -> list[tuple[dt.datetime, str]]:
        months = next(m for m in (1, 2, 3, 6, 12, 24, 60, 120) if span / (m * 30.4 * DAY) <= 8)
        year, month = self.start.year, self.start.month + 1
        out: list[tuple[dt.datetime, str]] = []
        while True:
            year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
            moment = dt.datetime(year, month, 1, tzinfo=dt.timezone.utc)
            if moment > self.end:
                return out
            if (year * 12 + month - 1) % months == 0:
                out.append((moment, moment.strftime("%Y" if months >= 12 else "%Y-%m")))
            month += 1

    def draw(self, canvas: Canvas, top: float, bottom: float) -> None:
        for moment, label in self.ticks():
            x = self.x(moment)
            canvas.line(x, top, x, bottom)
            canvas.text(x, bottom + 14, label, size=10, fill=MUTED, anchor="middle")


def _cert_label(cert: CertificateFact) -> str:
    name = cert.kubeadm_name or "/".join(cert.location.split("/")[-2:])
    if "#" in cert.location and cert.kubeadm_name:
        name += "#" + cert.location.split("#", 1)[1]
    if cert.info.line > 1 and "#" not in cert.location:
        name += f" (line {cert.info.line})"
    return name + (" (CA)" if cert.info.is_ca else "")


def cert_state(cert: CertificateFact, now: dt.datetime) -> tuple[str, str]:
    """(state, words) of a certificate at its node's collection time."""
    if now > cert.info.not_after:
        return "expired", f"expired {_days(now - cert.info.not_after)} ago"
    if cert.info.not_before is not None and now < cert.info.not_before:
        return "not yet valid", f"valid only in {_days(cert.info.not_before - now)}"
    left = cert.info.not_after - now
    return ("expires soon" if left <= SOON_DAYS * DAY else "valid"), f"{_days(left)} left"


def certificate_chart(certs: Sequence[CertificateFact], now: Mapping[str, dt.datetime]) -> Markup | None:
    """Each certificate's lifetime as a bar, its node's collection time as a line across it."""
    certs = [c for c in certs if c.node in now]
    if not certs:
        return None
    omitted = max(0, len(certs) - MAX_CERT_ROWS)
    if omitted:  # keep the most urgent ones
        certs = sorted(certs, key=lambda c: c.info.not_after - now[c.node])[:MAX_CERT_ROWS]
    certs = sorted(certs, key=lambda c: (c.node, c.info.is_ca, c.info.not_after, c.location))
    first_now, last_now = min(now[c.node] for c in certs), max(now[c.node] for c in certs)
    # kubeadm's expiration table gives no start: such bars begin at the chart's left edge
    start = max(min((c.info.not_before for c in certs if c.info.not_before), default=first_now),
                first_now - CERT_WINDOW)
    end = min(max(c.info.not_after for c in certs), last_now + CERT_WINDOW)
    start, end = min(start, first_now - 30 * DAY), max(end, last_now + 60 * DAY)

    row, top, label_w, plot_w, status_w = 18, 24, 300, 520, 150
    bottom = top + row * len(certs)
    height = bottom + 42 + (16 if omitted else 0)
    canvas = Canvas(label_w + plot_w + status_w, height,
                    "Certificate lifetimes against each node's collection time")
    axis = TimeAxis(start, end, label_w, plot_w)
    axis.draw(canvas, top - 6, bottom)
    for (label, colour), x in zip(STATE_COLOURS.items(), (0, 80, 180, 280), strict=True):
        canvas.rect(label_w + x, bottom + 24, 10, 10, colour)
        canvas.text(label_w + x + 14, bottom + 33, label, size=10)
    for i, cert in enumerate(certs):
        y = top + i * row
        node_now = now[cert.node]
        state, words = cert_state(cert, node_now)
        since = f"{cert.info.not_before:%Y-%m-%d %H:%M} UTC" if cert.info.not_before else "unknown"
        tip = (f"{cert.node}: {cert.location}\nsubject: {cert.info.subject}\n"
               f"not before {since}, not after "
               f"{cert.info.not_after:%Y-%m-%d %H:%M} UTC\n{words} at collection "
               f"({node_now:%Y-%m-%d %H:%M} UTC)")
        canvas.text(4, y + 13, _short(f"{cert.node}  {_cert_label(cert)}", 46), tip=tip)
        x0, x1 = axis.x(cert.info.not_before or start), axis.x(cert.info.not_after)
        canvas.rect(x0, y + 3, x1 - x0, row - 6, STATE_COLOURS[state], tip=tip, rx="2",
                    opacity="0.55" if cert.info.is_ca else None)
        canvas.line(axis.x(node_now), y + 1, axis.x(node_now), y + row - 1, stroke=INK, stroke_width="2")
        canvas.text(label_w + plot_w + 8, y + 13, words,
                    fill=STATE_COLOURS[state] if state != "valid" else MUTED)
    for moment in sorted({now[c.node] for c in certs}):
        marker = axis.x(moment)
        canvas.line(marker, top - 10, marker, bottom, stroke=INK, stroke_dasharray="3 3")
    canvas.text(axis.x(first_now), top - 12, "collected", size=10, anchor="middle")
    if omitted:
        canvas.text(4, height - 6, f"{omitted} more certificates not drawn (the least urgent)", fill=MUTED)
    return canvas.markup("chart certs")


@dataclass(frozen=True)
class MinuteCount:
    """One cell of the log timeline: how often a signature was seen in one minute."""

    minute: dt.datetime
    node: str
    component: str
    signature: str
    count: int


def component_colour(component: str) -> str:
    if component in COMPONENT_COLOURS:
        return COMPONENT_COLOURS[component]
    return FALLBACK_COLOURS[sum(component.encode()) % len(FALLBACK_COLOURS)]


def timeline_chart(cells: Sequence[MinuteCount], now: Mapping[str, dt.datetime],
                   meanings: Mapping[str, str] | None = None) -> Markup | None:
    """Rows of (component, node, signature) ordered by first appearance, so a cascade reads top
    down; each minute with matches is a cell whose darkness grows with the count."""
    if not cells:
        return None
    # the window before the newest line: a stray old log (rotated, or a wrong clock) must not
    # squeeze the incident into a sliver
    newest = max(c.minute for c in cells) + dt.timedelta(minutes=1)
    early = [c for c in cells if c.minute < newest - TIMELINE_WINDOW]
    cells = [c for c in cells if c.minute >= newest - TIMELINE_WINDOW]
    rows: dict[tuple[str, str, str], list[MinuteCount]] = {}
    for cell in cells:
        rows.setdefault((cell.component, cell.node, cell.signature), []).append(cell)
    keys = sorted(rows, key=lambda k: -sum(c.count for c in rows[k]))
    omitted = max(0, len(keys) - MAX_TIMELINE_ROWS)
    keys = sorted(keys[:MAX_TIMELINE_ROWS], key=lambda k: (min(c.minute for c in rows[k]), k))
    start = min(c.minute for c in cells)
    end = max(c.minute for c in cells) + dt.timedelta(minutes=1)
    nodes_now = [now[n] for n in {k[1] for k in keys} if n in now]
    # the collection time belongs on the axis when it is near the logs, not days after them
    near = [t for t in nodes_now if start <= t <= end + (end - start) / 2 + dt.timedelta(minutes=5)]
    end = max([end, *near])
    peak = max(c.count for c in cells)

    notes = [f"{omitted} rarer signatures not drawn"] if omitted else []
    if early:
        notes.append(f"{sum(c.count for c in early)} earlier line(s), from "
                     f"{min(c.minute for c in early):%Y-%m-%d %H:%M} UTC, not drawn")
    row, top, label_w, plot_w, count_w = 20, 14, 380, 480, 70
    height = top + row * len(keys) + 34 + 16 * len(notes)
    canvas = Canvas(label_w + plot_w + count_w, height, "Error signatures over time, per component and node")
    axis = TimeAxis(start, end, label_w, plot_w)
    axis.draw(canvas, top - 4, top + row * len(keys))
    minute_w = plot_w / max((end - start) / dt.timedelta(minutes=1), 1.0)
    for i, key in enumerate(keys):
        component, node, signature = key
        y = top + i * row
        colour = component_colour(component)
        total = sum(c.count for c in rows[key])
        first = min(c.minute for c in rows[key])
        last = max(c.minute for c in rows[key])
        meaning = (meanings or {}).get(signature)
        tip = (f"{component} on {node}: {signature}{f' ({meaning})' if meaning else ''}\n{total} line(s), "
               f"first {first:%Y-%m-%d %H:%M}, last {last:%Y-%m-%d %H:%M} UTC")
        canvas.rect(2, y + 4, 8, row - 8, colour)
        canvas.text(14, y + 14, _short(f"{component}@{node}: {signature}", 58), tip=tip)
        for cell in rows[key]:
            opacity = 0.3 + 0.7 * math.log1p(cell.count) / math.log1p(peak)
            canvas.rect(axis.x(cell.minute), y + 3, max(minute_w, 2.0), row - 6, colour,
                        tip=f"{cell.minute:%H:%M} UTC: {cell.count} × {signature}", opacity=f"{opacity:.2f}")
        canvas.text(label_w + plot_w + 12, y + 14, str(total), fill=MUTED)
    for moment in sorted(set(near)):
        x = axis.x(moment)
        canvas.line(x, top - 8, x, top + row * len(keys), stroke=INK, stroke_dasharray="3 3")
    if near:  # one label: the lines of nodes collected a few seconds apart would overprint theirs
        canvas.text(axis.x(min(near)) - 3, top - 4, "collected", size=10, anchor="end")
    for i, note in enumerate(notes):
        canvas.text(4, height - 6 - 16 * (len(notes) - 1 - i), note, fill=MUTED)
    return canvas.markup("chart timeline")

