"""`kubeadm certs check-expiration` output (and `kubeadm alpha certs check-expiration` before 1.20).

Current kubeadm prints a certificate table and a CERTIFICATE AUTHORITY table; 1.15 and 1.16 printed
no CERTIFICATE AUTHORITY column nor CA table, and false/true for EXTERNALLY MANAGED. RESIDUAL TIME
is apimachinery's ShortHumanDuration of EXPIRES minus kubeadm's clock, truncated to its unit (s, m,
h, d, or y of 365 days); `<invalid>` means expired more than a second ago. A real sample (expired
leaves; tests/fixtures/certs/SOURCES.md names each sample's source):

>>> table = parse_check_expiration(
...     "CERTIFICATE                EXPIRES                  RESIDUAL TIME   "
...     "CERTIFICATE AUTHORITY   EXTERNALLY MANAGED\\n"
...     "admin.conf                 Apr 01, 2026 01:26 UTC   <invalid>       ca                      no\\n"
...     "front-proxy-client         Apr 01, 2026 01:26 UTC   <invalid>       front-proxy-ca          no\\n"
...     "\\n"
...     "CERTIFICATE AUTHORITY   EXPIRES                  RESIDUAL TIME   EXTERNALLY MANAGED\\n"
...     "ca                      Mar 30, 2035 01:26 UTC   8y              no\\n")
>>> [(r.name, r.authority, r.expired, r.is_ca, r.line) for r in table.rows]
[('admin.conf', 'ca', True, False, 2), ('front-proxy-client', 'front-proxy-ca', True, False, 3), \
('ca', '', False, True, 6)]
>>> printed = table.printed_at()
>>> str(printed.earliest), printed.latest is None
('2026-04-01 01:26:02+00:00', False)
>>> parse_check_expiration("!MISSING! etcd-ca\\n").missing
('etcd-ca',)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

UTC = dt.timezone.utc
_EXPIRES = r"[A-Z][a-z]{2} \d{1,2}, \d{4} \d{1,2}:\d\d (?:UTC|GMT)"
_ROW = re.compile(rf"^\s*(?P<name>[\w.-]+)\s+(?P<expires>{_EXPIRES})\s+(?P<residual>\S+)"
                  r"(?:\s+(?P<authority>[\w.-]+))??\s+(?P<external>yes|no|true|false)\s*$")
_MISSING = re.compile(r"^\s*!MISSING!\s+(\S+)")
_RESIDUAL = re.compile(r"^(\d+)([smhdy])$")
INVALID = "<invalid>"
UNITS = {"s": dt.timedelta(seconds=1), "m": dt.timedelta(minutes=1), "h": dt.timedelta(hours=1),
         "d": dt.timedelta(days=1), "y": dt.timedelta(days=365)}
#: ShortHumanDuration prints <invalid> only below -1 s; EXPIRES drops the seconds
_INVALID_AFTER = dt.timedelta(seconds=2)
_MINUTE = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class ExpirationRow:
    """One row of either table."""

    name: str  # kubeadm's name: apiserver, admin.conf, etcd-server, ca, ...
    expires: dt.datetime
    residual: str  # as printed: '364d', '9y', '<invalid>'
    authority: str  # the signing CA's kubeadm name; '' when not printed
    externally_managed: bool
    is_ca: bool  # a row of the CERTIFICATE AUTHORITY table
    line: int
    text: str

    @property
    def expired(self) -> bool:
        return self.residual == INVALID

    def printed_window(self) -> tuple[dt.datetime, dt.datetime | None] | None:
        """When kubeadm's clock read this row: (earliest, latest or None when unbounded), or None
        when RESIDUAL TIME is unreadable."""
        if self.expired:
            return self.expires + _INVALID_AFTER, None
        found = _RESIDUAL.match(self.residual)
        if not found:
            return None
        unit = UNITS[found.group(2)]
        residual = int(found.group(1)) * unit
        # the true expiry lies in [EXPIRES, EXPIRES + 1 min), the true residual in [residual, residual + unit)
        return self.expires - residual - unit, self.expires + _MINUTE - residual


@dataclass(frozen=True)
class PrintedAt:
    """When the table was printed, as far as its rows tell."""

    earliest: dt.datetime
    latest: dt.datetime | None  # None when only expired rows bound it

    @property
    def within(self) -> dt.timedelta | None:
        return None if self.latest is None else max(self.latest - self.earliest, dt.timedelta())


@dataclass(frozen=True)
class CheckExpiration:
    """Both tables' rows, the certificates kubeadm reported missing, and lines it could not read."""

    rows: tuple[ExpirationRow, ...]
    missing: tuple[str, ...]
    problems: tuple[str, ...]

    def printed_at(self) -> PrintedAt | None:
        """The earliest moment consistent with every row's EXPIRES - RESIDUAL TIME (None without rows);
        `latest` is the latest such moment (rows that disagree make it precede `earliest`)."""
        windows = [w for w in (r.printed_window() for r in self.rows) if w is not None]
        if not windows:
            return None
        uppers = [hi for _, hi in windows if hi is not None]
        return PrintedAt(max(lo for lo, _ in windows), min(uppers) if uppers else None)


def _expires(value: str) -> dt.datetime:
    """'Apr 01, 2026 01:26 UTC' (Go's "Jan 02, 2006 15:04 MST"; kubeadm prints UTC)."""
    return dt.datetime.strptime(value[:-4], "%b %d, %Y %H:%M").replace(tzinfo=UTC)


def parse_check_expiration(text: str) -> CheckExpiration:
    """Rows of both tables; preamble, warnings and shell prompts around them are skipped."""
    rows: list[ExpirationRow] = []
    missing: list[str] = []
    problems: list[str] = []
    in_ca_table: bool | None = None  # None until a header is seen
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if words[:1] == ["CERTIFICATE"] and "RESIDUAL" in words:
            in_ca_table = words[1:2] == ["AUTHORITY"]
            continue
        gone = _MISSING.match(line)
        if gone:
            missing.append(gone.group(1))
            continue
        row = _ROW.match(line)
        if row is None or in_ca_table is None:
            continue
        try:
            expires = _expires(row.group("expires"))
        except ValueError:
            problems.append(f"line {number}: unreadable EXPIRES {row.group('expires')!r}")
            continue
        rows.append(ExpirationRow(
            name=row.group("name"), expires=expires, residual=row.group("residual"),
            authority=row.group("authority") or "",
            externally_managed=row.group("external") in ("yes", "true"),
            is_ca=in_ca_table, line=number, text=line.strip()))
    return CheckExpiration(tuple(rows), tuple(missing), tuple(problems))
