"""Log facts: what the known log signatures say, per node, component and signature, and when.

Every log item (ids `logs.*`, `journal.*`, `cri.logs*`) is streamed once by analyzer/logs/scan.py.
The component comes from the item (the pod log's container folder, the journal unit, a component
name in the source) or, per line, from the journald/syslog identifier; else it is guessed from the
content.

Interface (`view.logs`, a `LogFacts`), for rules and report templates:

- `view.logs.signatures`: list of `LogSignatureFact`, one per (node, component, signature id), with
  `count`, `first_seen` / `last_seen` (aware UTC datetimes, None when no line had a timestamp),
  `examples` (up to 4 `findings.Evidence`: the first three lines and the latest one, each with node,
  bundle path, 1-based line number, excerpt and item id), `details` ({who/why text: lines}, e.g. the
  client etcd rejected and the TLS reason) and `signature` (the `logs.signatures.Signature`: id,
  meaning, severity hint).
- `view.logs.select(*signature_ids, node=None, components=None)`: the facts matching those filters.
- `view.logs.timeline()`: a pandas DataFrame of minute-level counts with columns
  [minute (datetime64, UTC), node, component, signature, count], sorted by minute.
- `view.logs.scanned`: list of `ScannedLog` (node, item id, bundle path, component, lines, bytes,
  newest timestamp, error) — what was read, for the report's inventory.
- `view.logs.newest(node, component=None)`: the latest timestamp seen in that node's logs.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..bundle import ItemRecord
from ..errors import InputError
from ..evidence.reader import notice
from ..findings import Evidence
from ..logs.formats import known_components, normalize_component, to_datetime
from ..logs.scan import ScanResult, SignatureCount, scan_stream

if TYPE_CHECKING:
    import pandas as pd
from ..logs.signatures import Signature
from ..logs.templates import Template, UnknownLines, mine
from .source import Source

LOG_ITEM_PREFIXES = ("logs.", "journal.", "cri.logs")
#: pasted text the log scan read (a parsed paste is scanned too, so the log rules can judge it)
PASTED = "logs.pasted"
#: what a journal item holds when its lines do not name their writer
_JOURNAL_UNITS = {"journal.kubelet": "kubelet", "journal.etcd": "etcd", "journal.runtime": "containerd"}
#: /var/log/pods/<namespace>_<pod>_<uid>/<container>/<n>.log
_POD_LOG = re.compile(r"/var/log/pods/[^/]+_[^/]+_[^/]+/([^/]+)/[^/]+$")
TIMELINE_COLUMNS = ["minute", "node", "component", "signature", "count"]


@dataclass(frozen=True)
class ScannedLog:
    """One log item as read: where, whose, how much, and whether reading stopped early."""

    node: str
    item_id: str
    path: str
    component: str
    lines: int
    bytes: int
    newest: dt.datetime | None
    error: str | None


@dataclass(frozen=True)
class UnknownTemplate:
    """Lines no signature knows, clustered: where, the template, and how often and when."""

    node: str
    component: str
    template: Template

    @property
    def first_seen(self) -> dt.datetime | None:
        return _when(self.template.first)

    @property
    def last_seen(self) -> dt.datetime | None:
        return _when(self.template.last)


@dataclass
class LogSignatureFact:
    """One signature in one component's logs on one node."""

    node: str
    component: str
    signature: Signature
    count: int
    first_seen: dt.datetime | None
    last_seen: dt.datetime | None
    examples: list[Evidence] = field(default_factory=list)
    details: dict[str, int] = field(default_factory=dict)
    #: the longest duration one line reported, in seconds (signatures that measure one)
    peak: float = 0.0

    @property
    def id(self) -> str:
        return self.signature.id

    @property
    def span(self) -> dt.timedelta:
        """Time between the first and the last occurrence (zero when unknown)."""
        if self.first_seen is None or self.last_seen is None:
            return dt.timedelta(0)
        return self.last_seen - self.first_seen


def _when(ts: float | None) -> dt.datetime | None:
    return None if ts is None else to_datetime(ts)


@dataclass
class LogFacts:
    """Signature counts across every node's logs, and the minute-level timeline behind them."""

    signatures: list[LogSignatureFact] = field(default_factory=list)
    scanned: list[ScannedLog] = field(default_factory=list)
    #: (minute epoch seconds, node, component, signature id) -> lines
    minutes: Counter[tuple[int, str, str, str]] = field(default_factory=Counter)
    #: (node, component) -> warning/error lines no signature knows (bounded; logs/templates.py)
    unknown: dict[tuple[str, str], UnknownLines] = field(default_factory=dict)

    def add(self, node: str, item: ItemRecord, result: ScanResult) -> None:
        """Merge one item's scan (rotated files of one container add up under one key)."""
        assert item.path is not None
        self.scanned.append(ScannedLog(node, item.id, item.path, result.component, result.lines,
                                       result.bytes, _when(result.newest), result.error))
        for (component, _), counted in result.stats.items():
            self._merge(node, item, component, counted)
        for (minute, component, sig), count in result.minutes.items():
            self.minutes[(minute, node, component, sig)] += count
        for component, lines in result.unknown.items():
            self.unknown.setdefault((node, component), UnknownLines()).merge(lines, item.path)

    def templates(self) -> list[UnknownTemplate]:
        """The most frequent unrecognised templates of each component on each node (Drain3)."""
        return [UnknownTemplate(node, component, t)
                for (node, component), lines in sorted(self.unknown.items()) for t in mine(lines)]

    def _merge(self, node: str, item: ItemRecord, component: str, counted: SignatureCount) -> None:
        assert item.path is not None
        examples = [Evidence(node, item.path, e.line, e.excerpt, item.id) for e in counted.examples]
        first, last = _when(counted.first), _when(counted.last)
        for fact in self.signatures:
            if (fact.node, fact.component, fact.id) == (node, component, counted.signature.id):
                fact.count += counted.count
                fact.first_seen = min((t for t in (fact.first_seen, first) if t), default=None)
                fact.last_seen = max((t for t in (fact.last_seen, last) if t), default=None)
                fact.examples = (fact.examples + examples)[:4]
                fact.peak = max(fact.peak, counted.peak)
                for text, n in counted.details.items():
                    fact.details[text] = fact.details.get(text, 0) + n
                return
        self.signatures.append(LogSignatureFact(node, component, counted.signature, counted.count, first,
                                                last, examples, dict(counted.details), counted.peak))

    def extend(self, other: LogFacts) -> None:
        self.signatures.extend(other.signatures)
        self.unknown.update(other.unknown)
        self.scanned.extend(other.scanned)
        self.minutes.update(other.minutes)

    def select(self, *signature_ids: str, node: str | None = None,
               components: tuple[str, ...] | None = None) -> list[LogSignatureFact]:
        return [f for f in self.signatures
                if (not signature_ids or f.id in signature_ids) and (node is None or f.node == node)
                and (components is None or f.component in components)]

    def newest(self, node: str, component: str | None = None) -> dt.datetime | None:
        times = [s.newest for s in self.scanned if s.node == node and s.newest
                 and (component is None or s.component == component)]
        return max(times, default=None)

    def timeline(self) -> pd.DataFrame:
        import pandas as pd  # only reports with a log chart pay for importing pandas (~0.4 s)

        rows = [(minute, node, component, sig, count)
                for (minute, node, component, sig), count in self.minutes.items()]
        frame = pd.DataFrame(rows, columns=TIMELINE_COLUMNS)
        frame["minute"] = pd.to_datetime(frame["minute"].astype("int64"), unit="s", utc=True)
        frame["count"] = frame["count"].astype("int64")
        ordered: pd.DataFrame = frame.sort_values(["minute", "node", "component", "signature"],
                                                  ignore_index=True)
        return ordered


def is_log_item(item_id: str) -> bool:
    return item_id.startswith(LOG_ITEM_PREFIXES)


def component_of(item: ItemRecord) -> str:
    """The writer an item's location names, or 'unknown' (then lines or content decide)."""
    m = _POD_LOG.search(item.source)
    if m:
        return normalize_component(m.group(1))
    if item.id in _JOURNAL_UNITS:
        return _JOURNAL_UNITS[item.id]
    named = known_components(item.source)
    return named.pop() if len(named) == 1 else "unknown"


def log_facts(src: Source, extra: tuple[Signature, ...] = ()) -> LogFacts:
    """Scan every log item of one node's bundle once; pasted evidence is scanned whatever its type
    (a known failure line in a command's output, `kubectl get cs` or `etcdctl cluster-health`, is
    never lost because a parser read the rest). `extra`: custom rules' signatures, each in the items
    it names."""
    facts = LogFacts()
    manifest = src.bundle.manifest
    loose = bool(manifest.options.get("loose"))
    for item in (i for i in manifest.items if i.collected and i.path and (loose or is_log_item(i.id))):
        assert item.path is not None
        try:
            with src.bundle.open(item.path) as stream:
                result = scan_stream(stream, component_of(item), manifest.collected_at,
                                     extra=tuple(s for s in extra if s.read_in(item.id)))
        except InputError as exc:
            src.problem(str(exc))
            continue
        if result.error:
            src.item_problem(item, f"{result.error}")
        facts.add(src.node, item, result)
        _raise_loose_now(src, result)
    return facts


def _raise_loose_now(src: Source, result: ScanResult) -> None:
    """Loose evidence has no collection time: its "now" is the newest timestamp in it, which only
    the full scan knows (the reader saw the head)."""
    manifest = src.bundle.manifest
    if not manifest.options.get("loose") or result.newest is None:
        return
    newest = to_datetime(result.newest)
    if manifest.options.get("now_source") == "clock" or newest > manifest.collected_at:
        old = notice(manifest)
        manifest.collected_at, manifest.options["now_source"] = newest, "evidence"
        src.bundle.warnings = [notice(manifest) if w == old else w for w in src.bundle.warnings]
