"""Read one log line of any format the control plane writes: its time, level, writer and message.

A line is an optional *wrapper* (the runtime's or journald's prefix) around a *payload* (what the
component printed). Wrappers: CRI (`<RFC3339Nano> stdout|stderr F|P `), docker json-file
(`{"log": ..., "time": ...}`), journald `short-iso` / `short` and syslog files
(`<time> <host> <ident>[pid]: `). Payloads: klog, etcd zap JSON, etcd 3.4 capnslog text, raft's
and gRPC's Go `log` lines. klog and `short` stamps carry no year: it comes from the wrapper or
from a reference time (the bundle's collection time), and a date more than a day past the
reference belongs to the previous year.

>>> p = parse_line('2022-01-12T21:16:43.834720026+00:00 stderr F W0112 21:16:43.831033       1 '
...                'clientconn.go:1331] [core] grpc: addrConn.createTransport failed', REF)
>>> p.level, p.text[:10], iso(p.ts)
('W', 'clientconn', '2022-01-12T21:16:43.834720+00:00')
>>> p = parse_line('Jan 18 17:33:58 aura kubelet[1457370]: E0118 17:33:58.888700 1457370 '
...                'bootstrap.go:265] part of the existing bootstrap client certificate is expired', REF)
>>> p.level, p.ident, p.host, iso(p.ts)
('E', 'kubelet', 'aura', '2021-01-18T17:33:58.888700+00:00')
>>> p = parse_line('{"level":"warn","ts":"2023-01-28T06:40:37.477Z","caller":"wal/wal.go:802",'
...                '"msg":"slow fdatasync","took":"1.460378765s","expected-duration":"1s"} ', REF)
>>> p.level, iso(p.ts)
('W', '2023-01-28T06:40:37.477000+00:00')
>>> iso(parse_line('2026-11-27 02:01:45.624752 I | etcdmain: etcd Version: 3.4.23', REF).ts)
'2026-11-27T02:01:45.624752+00:00'
>>> p = parse_line('2021-08-03T09:25:50.762794605Z {"level":"warn","ts":"2021-08-03T09:25:50.762Z",'
...                '"caller":"etcdserver/util.go:163","msg":"apply request took too long","took":'
...                '"101.844699ms","expected-duration":"100ms"}', REF)
>>> p.level, iso(p.ts)
('W', '2021-08-03T09:25:50.762794+00:00')
>>> iso(parse_line('E1231 23:59:59.000001       1 x.go:1] late in the year', REF).ts)
'2020-12-31T23:59:59.000001+00:00'
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from ..parsers.yamlsafe import load_json

#: reference time of the doctests above
REF = dt.datetime(2021, 6, 1, tzinfo=dt.timezone.utc)

MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}

_CRI = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (?:stdout|stderr) [FP] ")
#: `kubectl logs --timestamps` (must-gather's pod logs): the runtime's time, then the payload
_TS_WRAP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) (?=\S)")
_ISO_WRAP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?) (\S+) "
                       r"([^\s\[:]+)(?:\[\d+\])?: ")
_SHORT_WRAP = re.compile(r"(?:([A-Z][a-z]{2})|(\d{1,2})月) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(?:\.\d+)? (\S+) "
                         r"([^\s\[:]+)(?:\[\d+\])?: ")
_KLOG = re.compile(r"([IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) +\d+ ")
_ZAP = re.compile(r'\{"level":"(\w+)","ts":(?:"([^"]+)"|([\d.e+]+))')
_CAPNS = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{6}) ([A-Z]) \| ")
_GOLOG = re.compile(r"(?:raft|(WARNING|ERROR|INFO): )(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) (?:(\w+): )?")

_ZAP_LEVELS = {"debug": "D", "info": "I", "warn": "W", "error": "E", "dpanic": "E", "panic": "F",
               "fatal": "F"}


@dataclass(frozen=True)
class ParsedLine:
    """What one line says: when (epoch seconds, UTC), how severe (I/W/E/F, '' unknown), who wrote
    it (the journald identifier or host, when the wrapper names them) and the payload text."""

    ts: float | None
    level: str
    text: str
    ident: str | None = None
    host: str | None = None


def iso(ts: float | None) -> str | None:
    """An epoch timestamp as ISO-8601 UTC (for doctests and excerpts)."""
    return None if ts is None else to_datetime(ts).isoformat()


def to_datetime(ts: float) -> dt.datetime:
    return dt.datetime.fromtimestamp(ts, dt.timezone.utc)


@lru_cache(maxsize=4096)
def _epoch_of_second(stamp: str) -> float | None:
    """`YYYY-MM-DDTHH:MM:SS[+hh:mm|Z]` (no fraction) to epoch seconds; cached because thousands of
    lines share one second."""
    try:
        moment = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.timezone.utc)
    return moment.timestamp()


def parse_iso(stamp: str) -> float | None:
    """RFC 3339 with any number of fraction digits and an optional offset, to epoch seconds."""
    head, frac, tz = stamp[:19], 0.0, stamp[19:]
    if tz[:1] in ".,":
        digits = len(tz) - len(tz[1:].lstrip("0123456789"))
        frac = float("0." + (tz[1:digits] or "0"))
        tz = tz[digits:]
    if len(tz) == 5 and tz[0] in "+-":  # journald writes +0000
        tz = tz[:3] + ":" + tz[3:]
    base = _epoch_of_second(head + tz)
    return None if base is None else base + frac


def _year_for(month: int, day: int, ref: dt.datetime) -> int:
    """Year-less dates belong to the reference's year, unless that puts them over a day past it."""
    try:
        candidate = dt.datetime(ref.year, month, day, tzinfo=dt.timezone.utc)
    except ValueError:  # 29 February of a non-leap reference year
        return ref.year - 1
    return ref.year - 1 if candidate - ref > dt.timedelta(days=1) else ref.year


def _stamp(year: int, month: int, day: int, hms: tuple[str, str, str], frac: float) -> float | None:
    base = _epoch_of_second(f"{year:04d}-{month:02d}-{day:02d}T{hms[0]}:{hms[1]}:{hms[2]}+00:00")
    return None if base is None else base + frac


def _unwrap(line: str, ref: dt.datetime) -> tuple[str, float | None, str | None, str | None, bool]:
    """(payload, wrapper time, ident, host, whether that time is only to the second and had no year)
    with the runtime's or journald's prefix removed."""
    if line.startswith('{"log":'):
        try:
            record = load_json(line)
        except ValueError:
            return line, None, None, None, False
        if isinstance(record, dict) and isinstance(record.get("log"), str):
            stamp = record.get("time")
            ts = parse_iso(stamp) if isinstance(stamp, str) else None
            return record["log"].rstrip("\n"), ts, None, None, False
        return line, None, None, None, False
    if line[:1].isdigit():
        m = _CRI.match(line)
        if m:
            return line[m.end():], parse_iso(m.group(1)), None, None, False
        m = _ISO_WRAP.match(line)
        if m:
            return line[m.end():], parse_iso(m.group(1)), m.group(3), m.group(2), False
        m = _TS_WRAP.match(line)
        if m:
            return line[m.end():], parse_iso(m.group(1)), None, None, False
    m = _SHORT_WRAP.match(line)
    if m:
        month = MONTHS.get(m.group(1) or "") or int(m.group(2) or 0)
        day = int(m.group(3))
        ts = None
        if 1 <= month <= 12:
            ts = _stamp(_year_for(month, day, ref), month, day, (m.group(4), m.group(5), m.group(6)), 0.0)
        return line[m.end():], ts, m.group(8), m.group(7), True
    return line, None, None, None, False


def parse_line(line: str, ref: dt.datetime) -> ParsedLine:
    """Parse one line; anything unrecognised is kept as untimed text, never an error."""
    text, ts, ident, host, coarse = _unwrap(line, ref)
    m = _KLOG.match(text)
    if m:
        month, day = int(m.group(2)), int(m.group(3))
        if (ts is None or coarse) and 1 <= month <= 12:
            year = _year_for(month, day, to_datetime(ts) if ts is not None else ref)
            ts = _stamp(year, month, day, (m.group(4), m.group(5), m.group(6)), int(m.group(7)) / 1e6)
        return ParsedLine(ts, m.group(1), text[m.end():], ident, host)
    m = _ZAP.match(text)
    if m:
        if ts is None:
            ts = parse_iso(m.group(2)) if m.group(2) else float(m.group(3))
        return ParsedLine(ts, _ZAP_LEVELS.get(m.group(1), ""), text, ident, host)
    m = _CAPNS.match(text)
    if m:
        if ts is None:
            ts = parse_iso(f"{m.group(1)}T{m.group(2)}.{m.group(3)}")
        return ParsedLine(ts, m.group(4), text[m.end():], ident, host)
    m = _GOLOG.match(text)
    if m:
        if ts is None:
            ts = _stamp(int(m.group(2)), int(m.group(3)), int(m.group(4)),
                        (m.group(5), m.group(6), m.group(7)), 0.0)
        word = m.group(1) or m.group(8) or ""
        return ParsedLine(ts, word[:1] if word[:1] in "IWEF" else "", text[m.end():], ident, host)
    return ParsedLine(ts, "", text, ident, host)


#: components by the journald identifier or container name they run under
COMPONENTS = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd", "kubelet",
              "kube-proxy", "containerd", "crio", "dockerd", "cloud-controller-manager")
_ALIASES = {"docker": "dockerd", "crio": "crio", "cri-o": "crio", "apiserver": "kube-apiserver",
            "controller-manager": "kube-controller-manager", "scheduler": "kube-scheduler"}


def known_components(text: str) -> set[str]:
    """The COMPONENTS a name, path or command line mentions."""
    text = text.lower()
    return {c for c in COMPONENTS if c in text} | {c for alias, c in _ALIASES.items() if alias in text}


def normalize_component(name: str) -> str:
    """A container/unit/identifier name as one of COMPONENTS when it is one of them."""
    named = known_components(name)
    return named.pop() if len(named) == 1 else (name.lower() or "unknown")


#: substrings that betray the writer of a log whose path does not name it (loose evidence)
_CONTENT_HINTS: tuple[tuple[str, str], ...] = (
    ('"caller":"etcdserver/', "etcd"), ('"caller":"embed/', "etcd"), (" | etcdserver: ", "etcd"),
    (" | etcdmain: ", "etcd"), ("raft.node: ", "etcd"),
    ("httplog.go", "kube-apiserver"), ("authentication.go", "kube-apiserver"),
    ("storage_factory.go", "kube-apiserver"), ("cacher.go", "kube-apiserver"),
    (":2379", "kube-apiserver"), (":6443: bind", "kube-apiserver"), ("kube-apiserver", "kube-apiserver"),
    ("controllermanager.go", "kube-controller-manager"), ("lock kube-system/kube-controller-manager",
                                                          "kube-controller-manager"),
    ("lease kube-system/kube-controller-manager", "kube-controller-manager"),
    ("lease kube-system/kube-scheduler", "kube-scheduler"), ("lock kube-system/kube-scheduler",
                                                            "kube-scheduler"),
    ("KubeSchedulerConfiguration", "kube-scheduler"), ("schedule_one.go", "kube-scheduler"),
    ("kubelet_node_status.go", "kubelet"), ("kubelet.go", "kubelet"),
)


def guess_component(sample: str) -> str:
    """The component that most likely wrote this text (a log's head), or 'unknown'."""
    scores: dict[str, int] = {}
    for needle, component in _CONTENT_HINTS:
        hits = sample.count(needle)
        if hits:
            scores[component] = scores.get(component, 0) + hits
    return max(scores, key=lambda c: scores[c]) if scores else "unknown"
