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

journald `short-precise` in a German locale, stern's `POD CONTAINER ` prefix (kube-vip/kube-vip#318),
a journal line cut down to its identifier (k3s-io/k3s#9954) and logrus (k3s-io/k3s#11269):

>>> iso(parse_line('Mai 22 08:07:35.540590 kuber-master-01 dockerd[1058]: up', REF).ts)
'2021-05-22T08:07:35.540590+00:00'
>>> p = parse_line('kube-vip-k8s-2 kube-vip E1122 22:09:59.060398       1 leaderelection.go:330] error '
...                'retrieving resource lock kube-system/plndr-cp-lock', REF)
>>> p.component, p.level, p.text[:5]
('kube-vip', 'E', 'leade')
>>> p = parse_line('k3s[561950]: E0416 14:51:35.168336  561950 authentication.go:63] "Unable to '
...                'authenticate the request"', REF)
>>> p.ident, p.level
('k3s', 'E')
>>> parse_line('INFO[0300] COMPACT compactRev=0 targetCompactRev=2 currentRev=17811', REF).level
'I'

A klog line labelled with its writer's name (kubernetes/kubernetes#116289):

>>> p = parse_line('kube-apiserver: W0306 09:03:23.593207    1202 watcher.go:229] watch chan error: '
...                'etcdserver: mvcc: required revision has been compacted', REF)
>>> p.component, p.level, iso(p.ts)
('kube-apiserver', 'W', '2021-03-06T09:03:23.593207+00:00')
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from functools import lru_cache

from ..parsers.jsonsafe import load_json

#: reference time of the doctests above
REF = dt.datetime(2021, 6, 1, tzinfo=dt.timezone.utc)

MONTHS = {m: i for i, m in enumerate(calendar.month_abbr) if m}
#: journald prints month names in the node's locale: English in any case, German, French, Spanish,
#: Italian, Dutch, Portuguese abbreviations (`Mai 22`, `janv. 5`, `dic 3`); Chinese `6月` is numeric
_LOCALE_MONTHS = {name: number for number, names in enumerate((
    (), ("jan", "janv", "ene", "gen", "jän"), ("feb", "févr", "fev", "fév"), ("mar", "mär", "mars", "mrt"),
    ("apr", "avr", "abr"), ("may", "mai", "mag", "mei"), ("jun", "juin", "giu"), ("jul", "juil", "lug"),
    ("aug", "août", "ago"), ("sep", "sept", "set"), ("oct", "okt", "ott", "out"), ("nov",),
    ("dec", "dez", "déc", "dic")), start=0) for name in names}

_CRI = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (?:stdout|stderr) [FP] ")
#: `kubectl logs --timestamps` (must-gather's pod logs), `docker logs -t`: the runtime's time, then
#: the payload
_TS_WRAP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)) (?=\S)")
_ISO_WRAP = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)?) (\S+) "
                       r"([^\s\[:]+)(?:\[\d+\])?: ")
_SHORT_WRAP = re.compile(r"(?:([^\W\d_]{3,5})\.?|(\d{1,2})月) +(\d{1,2}) (\d\d):(\d\d):(\d\d)(\.\d+)? "
                         r"(\S+) ([^\s\[:]+)(?:\[\d+\])?: ")
#: a syslog identifier without its time, or its host too (`k3s[561950]: E0416 ...`,
#: `kubnod01.huffnet.org kubelet[7388]: E0615 ...`), as users cut journal lines
_IDENT_ONLY = re.compile(r"(?:[\w.-]+ )?([\w.-]+)\[\d+\]: ")
#: `kubectl logs --prefix` (`[pod/NAME/CONTAINER] `) and stern (`POD CONTAINER ` before a log line)
_POD_PREFIX = re.compile(r"\[pod/([^/\]\s]+)/([^\]\s]+)\] ")
_STERN = re.compile(r"([a-z0-9][\w.-]*) ([a-z0-9][\w.-]*) "
                    r"(?=[IWEF]\d{4} \d\d:|\{\"level\"|time=\"|\d{4}-\d\d-\d\d )")
#: a component's name before its klog line, as users label what they paste (`kube-apiserver: W0306 ...`,
#: kubernetes/kubernetes#116289)
_NAMED = re.compile(r"([a-z][\w.-]*): (?=[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} )")
#: a CI runner's time before each line (GitHub Actions: `2023-07-09T18:49:19.8194902Z I0709 ...`): for
#: recognition only, parse_line reads it as the line's wrapper time
_STAMPED_KLOG = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z (?=[IWEF]\d{4} \d\d:)")
#: lines that name their writer whatever wraps them: etcd's zap caller packages and capnslog packages
_SELF_NAMED = re.compile(r'"caller":"(?:etcdserver|embed|etcdmain|rafthttp|raft|wal|mvcc|backend)/|'
                         r" [A-Z] \| (?:etcdserver|etcdmain|embed|rafthttp|raft|wal|mvcc|auth)[/:]")
_KLOG = re.compile(r"([IWEF])(\d\d)(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) +\d+ ")
_ZAP = re.compile(r'\{"level":"(\w+)","ts":(?:"([^"]+)"|([\d.e+]+))')
_CAPNS = re.compile(r"(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d)\.(\d{6}) ([A-Z]) \| ")
_GOLOG = re.compile(r"(?:raft|(WARNING|ERROR|INFO): )?(\d{4})/(\d\d)/(\d\d) (\d\d):(\d\d):(\d\d) "
                    r"(?:(\w+): )?")

#: logrus (k3s, kine, k0s, containerd, dockerd): `time="..." level=info msg="..."`, or on a terminal
#: `INFO[0300] message` (seconds since start: no time)
_LOGRUS = re.compile(r'time="([^"]+)" level=(\w+) ')
_LOGRUS_TTY = re.compile(r"(INFO|WARN|ERRO|FATA|DEBU|PANI|TRAC)\[\d+\] ")
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
    #: the container a prefix names (`kubectl logs --prefix`, stern), or etcd when the line is
    #: etcd's by its own fields: the writer of this line, whatever the log around it is
    component: str | None = None


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
    m = _IDENT_ONLY.match(line)
    if m:
        return line[m.end():], None, m.group(1), None, False
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
        word = (m.group(1) or "").lower()
        month = MONTHS.get(word.title()) or _LOCALE_MONTHS.get(word, 0) or int(m.group(2) or 0)
        day = int(m.group(3))
        ts = None
        if 1 <= month <= 12:
            frac = float(m.group(7)) if m.group(7) else 0.0
            ts = _stamp(_year_for(month, day, ref), month, day, (m.group(4), m.group(5), m.group(6)), frac)
        return line[m.end():], ts, m.group(9), m.group(8), not m.group(7)
    return line, None, None, None, False


def strip_writer_prefix(line: str) -> str:
    """The line without a `kubectl logs --prefix`, stern or component-name prefix, or a CI runner's
    time before a klog line (recognition looks past them)."""
    m = _POD_PREFIX.match(line) or _STERN.match(line) or _NAMED.match(line) or _STAMPED_KLOG.match(line)
    return line[m.end():] if m else line


def parse_line(line: str, ref: dt.datetime) -> ParsedLine:
    """Parse one line; anything unrecognised is kept as untimed text, never an error."""
    writer = None
    m = _POD_PREFIX.match(line) or _STERN.match(line) or _NAMED.match(line)
    if m:
        name = m.group(m.re.groups)  # the container (stern prints `-` when it has none), or the name
        writer = normalize_component(name if name != "-" else m.group(1))
        line = line[m.end():]
    parsed = _parse(line, ref)
    if writer is None and _SELF_NAMED.search(parsed.text):
        writer = "etcd"
    return parsed if writer is None else ParsedLine(parsed.ts, parsed.level, parsed.text, parsed.ident,
                                                    parsed.host, writer)


def _parse(line: str, ref: dt.datetime) -> ParsedLine:
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
    m = _LOGRUS.match(text)
    if m:
        if ts is None:
            ts = parse_iso(m.group(1).replace(" ", "T"))
        level = _ZAP_LEVELS.get(m.group(2).replace("warning", "warn"), "")
        return ParsedLine(ts, level, text[m.end():], ident, host)
    m = _LOGRUS_TTY.match(text)
    if m:
        level = "F" if m.group(1) in ("FATA", "PANI") else m.group(1)[0]
        return ParsedLine(ts, level, text[m.end():], ident, host)
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
    (" | etcdmain: ", "etcd"), ("raft.node: ", "etcd"), (" etcdserver: ", "etcd"), (" etcdhttp: ", "etcd"),
    ("go.etcd.io/", "etcd"), ("github.com/coreos/etcd/", "etcd"),
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
