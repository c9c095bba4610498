"""Stream one log once and count every known signature in it, without holding the log in memory.

The log is read in large blocks by a reader thread (decompression in zlib releases the GIL, so it
overlaps the matching). Each block is searched for the signatures' anchors with glibc's memmem
(about 3x `bytes.find`, which stands in where libc has none); only the lines holding an anchor (a
few percent) are decoded, parsed and matched against the signature patterns. Per (component,
signature) it keeps counts, first/last seen, a few example lines with their line numbers, and
minute-level counts for the timeline.

>>> import io
>>> log = (b'I0201 22:24:12.687007       1 leaderelection.go:260] successfully acquired lease '
...        b'kube-system/kube-controller-manager\\n' * 2 + b'plain line\\n')
>>> result = scan_stream(io.BytesIO(log), "kube-controller-manager", REF)
>>> stats = result.stats[("kube-controller-manager", "LEASE_ACQUIRED")]
>>> result.lines, stats.count, [e.line for e in stats.examples]
(3, 2, [1, 2])
"""

from __future__ import annotations

import ctypes
import ctypes.util
import datetime as dt
import queue
import tarfile
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import IO

from .. import gz
from .formats import REF, guess_component, normalize_component, parse_line
from .signatures import ANCHORS, Signature, match_line
from .templates import LEVEL_ANCHORS, UnknownLines, is_problem

__all__ = ["REF", "Example", "ScanResult", "SignatureCount", "scan_stream"]

BLOCK_BYTES = 8 * 1024 * 1024
#: a line longer than this is cut (a runaway line must not grow the carry-over without bound)
MAX_LINE_BYTES = 1024 * 1024
#: how much of a candidate line is decoded and matched
MATCH_BYTES = 16 * 1024
EXCERPT_CHARS = 400
#: how much of a line a custom rule's regex sees: a user's pattern never meets a runaway line whole
CUSTOM_MATCH_CHARS = 4096
FIRST_EXAMPLES = 3
MAX_DETAILS = 50
#: the signatures' anchors, then the level markers that make a line an unknown-error candidate (a
#: signature may anchor on a level marker too: each is searched once)
_ANCHOR_BYTES = tuple(a.encode() for a in dict.fromkeys(ANCHORS + LEVEL_ANCHORS))


@dataclass(frozen=True)
class Example:
    """One matching line: its 1-based line number in the item, its time, and the text (cut)."""

    line: int
    ts: float | None
    excerpt: str


@dataclass
class SignatureCount:
    """One signature in one component's log: how often, when, and a few lines to cite."""

    signature: Signature
    component: str
    count: int = 0
    first: float | None = None
    last: float | None = None
    #: the first FIRST_EXAMPLES lines, then the latest one
    examples: list[Example] = field(default_factory=list)
    details: Counter[str] = field(default_factory=Counter)
    #: the longest duration a line reported (seconds; rows with a `duration` only)
    peak: float = 0.0

    def add(self, example: Example, detail: str, seconds: float = 0.0) -> None:
        self.count += 1
        self.peak = max(self.peak, seconds)
        ts = example.ts
        if ts is not None:
            self.first = ts if self.first is None or ts < self.first else self.first
            self.last = ts if self.last is None or ts > self.last else self.last
        if len(self.examples) <= FIRST_EXAMPLES:
            self.examples.append(example)
        else:
            self.examples[-1] = example
        if detail and (detail in self.details or len(self.details) < MAX_DETAILS):
            self.details[detail] += 1


@dataclass
class ScanResult:
    """Everything one pass over one log item found."""

    component: str
    stats: dict[tuple[str, str], SignatureCount] = field(default_factory=dict)
    #: (minute as epoch seconds, component, signature id) -> lines
    minutes: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    lines: int = 0
    bytes: int = 0
    #: newest timestamp seen (matching lines and the log's last line): "now" for loose evidence
    newest: float | None = None
    untimed: int = 0
    long_lines: int = 0
    error: str | None = None
    #: per component: warning/error lines no signature knows (logs/templates.py)
    unknown: dict[str, UnknownLines] = field(default_factory=dict)


Finder = Callable[[bytes, bytes], Iterator[int]]


def _find_all_bytes(block: bytes, anchor: bytes) -> Iterator[int]:
    """Positions of the anchor, one per line (the search resumes after the line it was found on)."""
    find = block.find
    pos = find(anchor)
    while pos >= 0:
        yield pos
        end = block.find(b"\n", pos)
        if end < 0:
            return
        pos = find(anchor, end + 1)


def _memmem_finder() -> Finder | None:
    """The same search through the C library's memmem, when there is one.

    The anchor scan is the whole cost of every line that matches nothing, and glibc's memmem
    (vectorised) runs it about three times faster than `bytes.find` on log text."""
    name = ctypes.util.find_library("c")
    try:
        memmem = ctypes.CDLL(name).memmem if name else None
    except (OSError, AttributeError):
        return None
    if memmem is None:
        return None
    memmem.restype = ctypes.c_void_p
    memmem.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p, ctypes.c_size_t]

    def find_all(block: bytes, anchor: bytes) -> Iterator[int]:
        # c_char_p points into the bytes object itself (no copy); `block` outlives the loop
        base = ctypes.cast(ctypes.c_char_p(block), ctypes.c_void_p).value or 0
        size, length, offset = len(block), len(anchor), 0
        while offset < size:
            found = memmem(base + offset, size - offset, anchor, length)
            if not found:
                return
            pos = found - base
            yield pos
            end = block.find(b"\n", pos)
            if end < 0:
                return
            offset = end + 1

    return find_all


FIND_ALL: Finder = _memmem_finder() or _find_all_bytes


def _blocks(stream: IO[bytes], size: int) -> Iterator[bytes]:
    """The stream's content in blocks, read ahead by one thread (at most two blocks queued)."""
    chunks: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def produce() -> None:
        try:
            while not stop.is_set():
                data = stream.read(size)
                while not stop.is_set():
                    try:
                        chunks.put(data, timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if not data:
                    return
        except BaseException as exc:  # handed to the consumer, which decides
            chunks.put(exc)

    reader = threading.Thread(target=produce, name="log-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = chunks.get()
            if isinstance(item, BaseException):
                raise item
            if not item:
                return
            yield item
    finally:
        stop.set()
        reader.join(timeout=5)


class _Scanner:
    def __init__(self, component: str, ref: dt.datetime, extra: tuple[Signature, ...]) -> None:
        self.result = ScanResult(component)
        self.unknown = component == "unknown"
        self.ref = ref
        self.last_line = b""
        # custom rules' anchors follow the built-in ones, so the built-in bit masks stay valid
        added = tuple(a.encode() for s in extra for a in s.anchors)
        self.anchors = tuple(dict.fromkeys(_ANCHOR_BYTES + added))
        self.extra = tuple((s, sum(1 << self.anchors.index(a.encode()) for a in s.anchors)) for s in extra)

    def block(self, work: bytes) -> None:
        """Match one block that ends with a newline."""
        candidates: dict[int, int] = {}
        for bit, anchor in enumerate(self.anchors):
            for pos in FIND_ALL(work, anchor):
                start = work.rfind(b"\n", 0, pos) + 1
                candidates[start] = candidates.get(start, 0) | (1 << bit)
        line, prev = self.result.lines, 0
        for start in sorted(candidates):
            line += work.count(b"\n", prev, start)
            prev = start
            end = work.find(b"\n", start)
            self.line(work[start:min(end, start + MATCH_BYTES)], line + 1, candidates[start])
        self.result.lines = line + work.count(b"\n", prev)
        tail = work.rfind(b"\n", 0, len(work) - 1) + 1
        self.last_line = work[tail:tail + MATCH_BYTES]

    def guess(self, text: str) -> str:
        """An item of unknown writer: the line's content names it where it can (per line, so that
        concatenated logs of several components stay apart), else the log's head does."""
        if self.unknown:
            named = guess_component(text)
            if named != "unknown":
                return named
        return self.result.component

    def line(self, raw: bytes, number: int, anchors: int) -> None:
        parsed = parse_line(raw.decode("utf-8", "replace").rstrip("\r\n"), self.ref)
        # the line's own writer (a pod prefix, etcd's fields, the journald unit) before the item's
        component = (parsed.component or (normalize_component(parsed.ident) if parsed.ident else None)
                     or self.guess(parsed.text))
        sig = match_line(parsed.text, component, anchors)
        # a custom rule counts a line whatever built-in row it also counts for: it adds, never takes
        custom = [s for s, mask in self.extra if mask & anchors and s.applies_to(component)
                  and s.regex.search(parsed.text[:CUSTOM_MATCH_CHARS])] if self.extra else []
        if sig is None and not custom:
            if is_problem(parsed.level, parsed.text):
                self.result.unknown.setdefault(component, UnknownLines()).add(parsed.text, parsed.ts, number)
            return
        result, ts, text = self.result, parsed.ts, parsed.text
        for counted in ([sig] if sig else []) + custom:
            key = (component, counted.id)
            stats = result.stats.get(key)
            if stats is None:
                stats = result.stats[key] = SignatureCount(counted, component)
            stats.add(Example(number, ts, text[:EXCERPT_CHARS]), counted.describe(text),
                      counted.seconds(text))
            if ts is not None:
                result.minutes[(int(ts // 60) * 60, component, counted.id)] += 1
        if ts is None:
            result.untimed += 1
        elif result.newest is None or ts > result.newest:
            result.newest = ts

    def finish(self) -> ScanResult:
        if self.last_line:
            ts = parse_line(self.last_line.decode("utf-8", "replace").rstrip("\r\n"), self.ref).ts
            if ts is not None and (self.result.newest is None or ts > self.result.newest):
                self.result.newest = ts
        return self.result


def scan_stream(stream: IO[bytes], component: str, ref: dt.datetime,
                block_bytes: int = BLOCK_BYTES, extra: tuple[Signature, ...] = ()) -> ScanResult:
    """Scan a binary stream (plain, or decompressing as it is read). `component` is the writer when
    the item's path names it, else 'unknown' (guessed from the first block). `ref` dates year-less
    stamps. `extra`: custom rules' signatures, counted besides the built-in ones. A read error
    (truncated gzip, corrupt tar member) ends the scan with what was read."""
    scanner = _Scanner(component, ref, extra)
    result = scanner.result
    carry = b""
    try:
        for block in _blocks(stream, block_bytes):
            result.bytes += len(block)
            if result.component == "unknown" and not carry and result.lines == 0:
                result.component = guess_component(block[:256 * 1024].decode("utf-8", "replace"))
            data = carry + block if carry else block
            cut = data.rfind(b"\n") + 1
            if cut == 0 and len(data) >= MAX_LINE_BYTES:
                data, cut = data[:MAX_LINE_BYTES] + b"\n", MAX_LINE_BYTES + 1
                result.long_lines += 1
            carry = data[cut:]
            if cut:
                scanner.block(data[:cut])
    except (OSError, EOFError, ValueError, tarfile.TarError) + gz.ERRORS as exc:
        result.error = f"read stopped after {result.bytes} bytes: {exc or type(exc).__name__}"
    if carry:
        scanner.block(carry + b"\n")
    return scanner.finish()
