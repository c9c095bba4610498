"""Loose evidence (logs, command outputs, pasted tickets, stdin) read as one node's pseudo-bundle.

Each file is split into segments (analyzer/evidence/paste.py); each segment becomes an item under
the collector's id for the same output (analyzer/evidence/types.py), so every fact builder reads it
unchanged, and its lines keep their numbers in the file. A segment no type recognises becomes a
`logs.pasted` item: still scanned for every log signature. A large file is a log, read whole as
one type. Loose files have no collection time: "now" is the newest timestamp inside them (the
year, where lines carry none, from a date in the text that names one), for kubeadm's expiration
table the moment its EXPIRES minus RESIDUAL TIME columns imply, or else the analyst's clock — and
the report's notices say which.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from .. import gz
from ..bundle import Bundle, ItemRecord, Manifest, NodeIdentity, _Opener
from ..errors import InputError
from ..logs.formats import parse_line
from ..parsers.kubeadm_certs import PrintedAt, parse_check_expiration
from .paste import SPLIT_MAX_BYTES, Paste, Segment, read
from .recognise import detect
from .types import TYPES, type_names

HEAD_BYTES = 256 * 1024
#: the node loose evidence belongs to unless --node names it
DEFAULT_NODE = "pasted evidence"
#: what an unrecognised segment becomes: scanned for log signatures, parsed by nothing
PASTED_ITEM = "logs.pasted"
STDIN_NAME = "stdin"
_ISO = re.compile(r"\b(\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d| ?UTC)?)")
#: `date`, `systemctl status` and openssl print dates with their year
_VALIDITY = re.compile(r"Not (?:After|Before)|not(?:After|Before)=|EXPIRES|expir|BuildDate:", re.I)
_DATED = re.compile(r"\b([A-Z][a-z]{2}) +(\d{1,2}) (\d\d:\d\d:\d\d)(?: [A-Z]{3,4})? (\d{4})\b")


class UnknownEvidence(InputError):
    """A loose file of which nothing could be read."""


@dataclass(frozen=True)
class Account:
    """How one loose file was read: its segments and its lines parsed, scanned only or ignored."""

    file: str
    lines: int
    parsed: int
    scanned: int
    ignored: int
    segments: tuple[tuple[int, int, str], ...]  # (first line, last line, type or "unrecognised")

    def to_dict(self) -> dict[str, object]:
        return {"file": self.file, "lines": self.lines, "parsed": self.parsed, "scanned": self.scanned,
                "ignored": self.ignored, "segments": [list(s) for s in self.segments]}


class _LooseOpener(_Opener):
    """Members of a pseudo-bundle: segments held in memory, or a whole (maybe gzip) file streamed."""

    def __init__(self) -> None:
        self.warnings = []
        self.texts: dict[str, bytes] = {}
        self.files: dict[str, tuple[Path, bool]] = {}

    def open(self, path: str) -> IO[bytes]:
        if path in self.texts:
            return io.BytesIO(self.texts[path])
        if path not in self.files:
            raise InputError(f"loose evidence has no member {path!r}")
        file, compressed = self.files[path]
        return gz.open_gzip(str(file)) if compressed else file.open("rb")


@dataclass(frozen=True)
class LooseFile:
    """One loose input: a file, or stdin's bytes."""

    name: str
    path: Path | None
    data: bytes | None = None


def _read_head(path: Path) -> tuple[bytes, bool, int]:
    try:
        with path.open("rb") as handle:
            magic = handle.read(2)
        compressed = magic == b"\x1f\x8b"
        with (gz.open_gzip(str(path)) if compressed else path.open("rb")) as handle:
            return handle.read(SPLIT_MAX_BYTES + 1), compressed, path.stat().st_size
    except (OSError, EOFError) + gz.ERRORS as exc:
        raise InputError(f"{path}: cannot read it ({exc})") from None


def _reference(text: str, clock: dt.datetime) -> tuple[dt.datetime, bool]:
    """The latest full date (with its year) the text names, else the clock; and whether it was the text."""
    found: list[dt.datetime] = []
    # a certificate's validity (or a binary's build date) says nothing about when it was printed
    text = "\n".join(ln for ln in text.splitlines() if not _VALIDITY.search(ln))
    for stamp in _ISO.findall(text):
        try:
            plain = stamp.replace("Z", "+00:00").replace(" UTC", "").replace(" ", "T")
            moment = dt.datetime.fromisoformat(plain)
        except ValueError:
            continue
        found.append(moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc))
    for month, day, hms, year in _DATED.findall(text):
        try:
            found.append(dt.datetime.strptime(f"{month} {day} {hms} {year}", "%b %d %H:%M:%S %Y")
                         .replace(tzinfo=dt.timezone.utc))
        except ValueError:
            continue
    newest = max(found, default=None)
    return (newest, True) if newest is not None else (clock, False)


def _newest(text: str, ref: dt.datetime, named: bool) -> dt.datetime | None:
    """The newest timestamp of any line, year-less stamps placed relative to `ref` (itself a
    timestamp of the text when `named`)."""
    newest = None
    for line in text.splitlines()[:20000]:
        ts = parse_line(line, ref).ts
        if ts is not None and (newest is None or ts > newest):
            newest = ts
    moment = None if newest is None else dt.datetime.fromtimestamp(newest, dt.timezone.utc)
    return max((m for m in (moment, ref if named else None) if m is not None), default=None)


def _printed_at(text: str) -> PrintedAt | None:
    """kubeadm's expiration table carries its own clock in RESIDUAL TIME (EXPIRES minus its now)."""
    return parse_check_expiration(text).printed_at()


def _segments(loose: LooseFile, as_type: str | None, opener: _LooseOpener,
              items: list[ItemRecord], texts: list[str]) -> Account:
    """Split one input into items; the account says what became of its lines."""
    if loose.path is not None:
        data, compressed, size = _read_head(loose.path)
    else:
        data, compressed, size = loose.data or b"", False, len(loose.data or b"")
    text = data.decode("utf-8", "replace")
    if len(data) > SPLIT_MAX_BYTES or compressed and loose.path is not None and size > SPLIT_MAX_BYTES // 8:
        # a log file, not a paste: one type for all of it, streamed from disk
        kind = as_type or detect(text[:HEAD_BYTES])
        if kind is None:
            raise UnknownEvidence(f"{loose.name}: unknown evidence type (use --as TYPE; types: "
                                  f"{type_names()})")
        assert loose.path is not None
        opener.files[loose.name] = (loose.path, compressed)
        items.append(_item(kind, loose.name, str(loose.path), size))
        texts.append(text[:HEAD_BYTES])
        lines = text.count("\n")
        return Account(loose.name, lines, lines, 0, 0, ((1, lines, kind),))
    paste = Paste([Segment(1, max(1, text.count("\n")), as_type, None, text)], text.count("\n")) if as_type \
        else read(text)
    for segment in paste.segments:
        member = loose.name if len(paste.segments) == 1 else f"{loose.name} [{segment.start}-{segment.end}]"
        body = ("\n" * (segment.start - 1) + segment.text + "\n").encode()
        opener.texts[member] = body
        source = str(loose.path or loose.name) + (f" lines {segment.start}-{segment.end}"
                                                  if len(paste.segments) > 1 else "")
        if segment.command:
            source += f" (output of: {segment.command[:200]})"
        items.append(_item(segment.type, member, source, len(body)))
        texts.append(segment.text)
    return Account(loose.name, paste.lines, paste.parsed, paste.scanned, paste.ignored,
                   tuple((s.start, s.end, s.type or "unrecognised") for s in paste.segments))


def _item(kind: str | None, member: str, source: str, size: int) -> ItemRecord:
    evidence = TYPES[kind] if kind else None
    return ItemRecord(
        id=evidence.item_id if evidence else PASTED_ITEM, kind="file", source=source, path=member, size=size,
        sha256=None, exit_code=0, started_at="", duration_s=0.0, timed_out=False, truncated=False,
        redactions=0, error=None, skipped=None,
        stderr_path=member if evidence and evidence.stderr_too else None)


def open_loose(inputs: list[LooseFile], as_type: str | None = None, node: str | None = None) -> Bundle:
    """One pseudo-bundle for loose inputs of one node; InputError when an input cannot be read."""
    if as_type is not None and as_type not in TYPES:
        raise InputError(f"--as {as_type}: unknown evidence type; types: {type_names()}")
    opener = _LooseOpener()
    items: list[ItemRecord] = []
    texts: list[str] = []
    accounts = [_segments(loose, as_type, opener, items, texts) for loose in inputs]
    clock = dt.datetime.now(dt.timezone.utc)
    whole = "\n".join(texts)
    ref, named = _reference(whole, clock)
    newest = _newest(whole, ref, named)
    kinds = sorted({a for acc in accounts for _, _, a in acc.segments})
    printed = _printed_at(whole) if newest is None and "kubeadm-certs" in kinds else None
    options: dict[str, object] = {
        "loose": True, "evidence_type": ", ".join(kinds), "year_from_text": named,
        "now_source": "evidence" if newest else "residual" if printed else "clock",
        "accounts": [a.to_dict() for a in accounts]}
    if printed and printed.within is not None:
        options["now_within_s"] = printed.within.total_seconds()
    manifest = Manifest(
        format_version=1, collector_version="", node=NodeIdentity(hostname=node or DEFAULT_NODE),
        collected_at=newest or (printed.earliest if printed else clock), clock={}, options=options,
        complete=True, redactions_total=0, items=items)
    source = inputs[0].path if len(inputs) == 1 and inputs[0].path else Path(inputs[0].name)
    bundle = Bundle(source, manifest, opener)
    bundle.warnings.append(notice(manifest))
    return bundle


def _span(seconds: float) -> str:
    for unit, size in (("year", 365 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:.0f} seconds"


def notice(manifest: Manifest) -> str:
    """What the report must say about loose evidence's missing collection time."""
    kind = manifest.options.get("evidence_type", "?")
    now = manifest.collected_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if manifest.options.get("now_source") == "evidence":
        year = ("" if manifest.options.get("year_from_text") else
                " Lines without a year (klog, syslog) were placed in "
                f"{manifest.collected_at.year}, the analyst's year: nothing in the text names one.")
        return (f"loose evidence ({kind}): no collection time; judged as of {now}, the newest timestamp "
                f"inside it.{year}")
    if manifest.options.get("now_source") == "residual":
        within = manifest.options.get("now_within_s")
        later = f", at most {_span(within)} before kubeadm printed it" if isinstance(within, float) else ""
        return (f"loose evidence ({kind}): no collection time; judged as of {now}, derived from the table's "
                f"EXPIRES minus RESIDUAL TIME (the earliest moment consistent with every row{later}), not "
                f"from the analyst's clock")
    return (f"loose evidence ({kind}): no collection time and no timestamp inside it; judged against the "
            f"analyst's clock ({now}), so expiry and age findings are relative to when you ran this")
