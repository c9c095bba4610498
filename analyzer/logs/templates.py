"""Unknown errors: error and warning lines no signature knows, mined into templates.

While a log streams, each such line is reduced to a *key* by masking what varies (numbers, hex ids,
addresses, durations, quoted values); keys are counted with first/last time and one example line, at
most MAX_KEYS per component (the rest count as one overflow key), so memory stays bounded whatever
the log's size. After the scan, Drain3 (the standard log-template miner, logpai/Drain3) clusters the
keys of each component into templates (`<*>` where they differ), weighted by their counts.

>>> key_of('E0101 12:00:00.000001 1 x.go:1] dial 10.0.0.7:2379 took 2.5s, id 8e9e05c52164694d')
'E<NUM> <NUM>:<NUM>:<NUM>.<NUM> <NUM> x.go:<NUM>] dial <IP> took <DUR>, id <HEX>'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

#: distinct keys kept per component while streaming; further new ones count in the overflow key
MAX_KEYS = 500
#: templates a report shows per component
TOP = 5
OVERFLOW = "<other unrecognised lines>"
EXAMPLE_CHARS = 300

#: what varies between two occurrences of one message, masked in order (plain (pattern, replacement)
#: rows, as Drain3's masking does)
MASKS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), r) for p, r in (
    (r'=\\?"(?:[^"\\]|\\.){0,300}?\\?"', "=<STR>"),
    (r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b", "<IP>"),
    (r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b", "<UUID>"),
    (r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{8,}\b", "<HEX>"),
    (r"\b\d+(?:\.\d+)?(?:ns|µs|us|ms|s|m|h)\b", "<DUR>"),
    (r"\d+", "<NUM>"),
))
#: what marks a warning or error line: the level word of zap, logrus and capnslog, and klog's E level
#: (after a runtime/journald prefix, or at a line's start); klog's W lines that matter hold an error
#: word the signatures' anchors find already
LEVEL_ANCHORS = ('"level":"warn"', '"level":"error"', "level=error", "level=warn", " W | ", " E | ", " C | ",
                 " E0", " E1", "\nE0", "\nE1")
#: error words that make a line without a level worth mining
_ERROR_WORDS = re.compile(r"(?i)\b(?:error|failed|failure|fatal|panic|refused|timed? ?out|unable|cannot)\b")


_ZAP_MSG = re.compile(r'"msg":"((?:[^"\\]|\\.)*)"')
_ZAP_ERROR = re.compile(r'"error":"((?:[^"\\]|\\.)*)"')


def key_of(text: str) -> str:
    """The line with its variable parts masked: lines of one message share a key (a zap JSON line's
    message and error, not its field values)."""
    if text.startswith("{"):
        msg, error = _ZAP_MSG.search(text), _ZAP_ERROR.search(text)
        if msg:
            text = msg.group(1) + (f" error={error.group(1)}" if error else "")
    for pattern, replacement in MASKS:
        text = pattern.sub(replacement, text)
    return text.strip()


def is_problem(level: str, text: str) -> bool:
    """A warning or error by its level, or (no level) by the words it uses."""
    return level in ("W", "E", "F") or (not level and bool(_ERROR_WORDS.search(text)))


@dataclass
class KeyCount:
    """One masked message: how often, when, and the first line seen (1-based line number)."""

    count: int
    first: float | None
    last: float | None
    example: str
    line: int
    #: where the example is (the bundle path; set when an item's scan is merged)
    source: str = ""


@dataclass
class UnknownLines:
    """A component's unrecognised problem lines while a log streams (bounded)."""

    keys: dict[str, KeyCount] = field(default_factory=dict)

    def add(self, text: str, ts: float | None, line: int) -> None:
        key = key_of(text)
        counted = self.keys.get(key)
        if counted is None:
            if len(self.keys) >= MAX_KEYS:
                key = OVERFLOW
                counted = self.keys.get(key)
            if counted is None:
                counted = self.keys[key] = KeyCount(0, ts, ts, text[:EXAMPLE_CHARS], line)
        counted.count += 1
        if ts is not None:
            counted.first = ts if counted.first is None else min(counted.first, ts)
            counted.last = ts if counted.last is None else max(counted.last, ts)

    def merge(self, other: UnknownLines, source: str) -> None:
        """Add another item's lines (`source`: where that item's examples are)."""
        for key, theirs in other.keys.items():
            mine = self.keys.get(key)
            if mine is None:
                if len(self.keys) < MAX_KEYS or key == OVERFLOW:
                    self.keys[key] = KeyCount(theirs.count, theirs.first, theirs.last, theirs.example,
                                              theirs.line, source)
                    continue
                mine = self.keys.setdefault(
                    OVERFLOW, KeyCount(0, theirs.first, theirs.last, theirs.example, theirs.line, source))
            mine.count += theirs.count
            times = [t for t in (mine.first, theirs.first) if t is not None]
            mine.first = min(times, default=None)
            times = [t for t in (mine.last, theirs.last) if t is not None]
            mine.last = max(times, default=None)


@dataclass(frozen=True)
class Template:
    """A cluster of unrecognised lines: the template, how many lines, when, and one real line."""

    template: str
    count: int
    first: float | None
    last: float | None
    example: str
    line: int
    source: str


def mine(unknown: UnknownLines, top: int = TOP) -> list[Template]:
    """Cluster the keys into templates with Drain3, most frequent first."""
    from drain3 import TemplateMiner  # only where used: the import costs ~0.1 s
    from drain3.template_miner_config import TemplateMinerConfig

    config = TemplateMinerConfig()
    config.profiling_enabled = False
    config.drain_sim_th = 0.5
    miner = TemplateMiner(config=config)
    members: dict[int, list[KeyCount]] = {}
    for key, counted in unknown.keys.items():
        if key == OVERFLOW:
            continue
        result = miner.add_log_message(key)
        members.setdefault(int(result["cluster_id"]), []).append(counted)
    templates = []
    for cluster in miner.drain.clusters:
        counts = members.get(cluster.cluster_id, [])
        if not counts:
            continue
        firsts = [c.first for c in counts if c.first is not None]
        lasts = [c.last for c in counts if c.last is not None]
        sample = min(counts, key=lambda c: c.line)
        templates.append(Template(cluster.get_template(), sum(c.count for c in counts),
                                  min(firsts, default=None), max(lasts, default=None), sample.example,
                                  sample.line, sample.source))
    overflow = unknown.keys.get(OVERFLOW)
    if overflow:
        templates.append(Template(OVERFLOW, overflow.count, overflow.first, overflow.last, overflow.example,
                                  overflow.line, overflow.source))
    return sorted(templates, key=lambda t: (-t.count, t.template))[:top]
