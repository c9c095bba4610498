"""Waivers: findings a team has accepted, for a reason and until a date (`--waivers FILE`).

A waived finding is still shown, marked with its reason, but it no longer counts for `--fail-on`
or `--fail-on-new` and is left out of SARIF and JUnit failures. A waiver past its expiry date stops
waiving and says so. Expiry is policy, so it is judged by today's date, not the bundle's.

The file is YAML:

    waivers:
      - rule: ETCD_DB_SIZE_HIGH           # required: the rule id
        reason: quota raised in CHG-1234  # required
        expires: 2027-03-31               # required: YYYY-MM-DD, the last day it waives
        node: cp-1                        # optional: only findings on this node
        match: kube-system/etcd-cp-1      # optional: text in the finding's objects or evidence

>>> w = Waiver("ETCD_DB_SIZE_HIGH", "quota raised", dt.date(2027, 3, 31), node="cp-1")
>>> w.expired(dt.date(2027, 4, 1)), w.expired(dt.date(2027, 3, 31))
(True, False)
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from .errors import InputError, read_bounded
from .findings import Finding
from .validate import load_yaml_file

MAX_WAIVER_BYTES = 1024 * 1024
#: a built-in rule id, or a custom rule's NAMESPACE.NAME
_RULE_ID = re.compile(r"^[A-Z][A-Z0-9_]*(\.[A-Z][A-Z0-9_]*)?$")
_FIELDS = {"rule", "reason", "expires", "node", "match"}


@dataclass(frozen=True)
class Waiver:
    """One accepted finding (or family of findings)."""

    rule: str
    reason: str
    expires: dt.date
    node: str | None = None
    match: str | None = None

    def expired(self, today: dt.date) -> bool:
        return today > self.expires

    def covers(self, finding: Finding) -> bool:
        if finding.id != self.rule or (self.node is not None and self.node not in finding.nodes):
            return False
        if self.match is None:
            return True
        texts = [*finding.objects, *(f"{e.path} {e.excerpt}" for e in finding.evidence)]
        return any(self.match in text for text in texts)

    def describe(self) -> str:
        scope = "".join(f" {k}={v!r}" for k, v in (("node", self.node), ("match", self.match)) if v)
        return f"{self.rule}{scope} (until {self.expires.isoformat()})"


def _waiver(raw: object, where: str) -> Waiver:
    if not isinstance(raw, dict):
        raise InputError(f"{where}: a waiver is a mapping with rule, reason and expires")
    unknown = sorted(str(k) for k in raw if k not in _FIELDS)
    if unknown:
        raise InputError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(sorted(_FIELDS))})")
    rule, reason, expires = raw.get("rule"), raw.get("reason"), raw.get("expires")
    if not isinstance(rule, str) or not _RULE_ID.match(rule):
        raise InputError(f"{where}: 'rule' must be a rule id such as ETCD_DB_SIZE_HIGH")
    if not isinstance(reason, str) or not reason.strip():
        raise InputError(f"{where}: 'reason' is required: say why the finding is accepted")
    if isinstance(expires, str):
        try:
            expires = dt.date.fromisoformat(expires)
        except ValueError:
            expires = None
    if not isinstance(expires, dt.date) or isinstance(expires, dt.datetime):
        raise InputError(f"{where}: 'expires' must be a date, YYYY-MM-DD")
    scope = {k: raw.get(k) for k in ("node", "match")}
    for key, value in scope.items():
        if value is not None and not isinstance(value, str | int):
            raise InputError(f"{where}: '{key}' must be text")
    return Waiver(rule, reason.strip(), expires,
                  **{k: str(v) if v is not None else None for k, v in scope.items()})


def load_waivers(path: Path) -> list[Waiver]:
    """Read and validate a waivers file; InputError (one line) on anything wrong with it."""
    doc = load_yaml_file(read_bounded(path, MAX_WAIVER_BYTES, "waivers"), f"waivers {path}")
    entries = doc.get("waivers") if isinstance(doc, dict) else None
    if not isinstance(entries, list):
        raise InputError(f"waivers {path}: expected a top-level 'waivers:' list")
    return [_waiver(raw, f"waivers {path}: entry {n}") for n, raw in enumerate(entries, 1)]


def apply_waivers(findings: list[Finding], waivers: list[Waiver],
                  today: dt.date) -> tuple[dict[str, Waiver], list[str]]:
    """Which findings (by key) an unexpired waiver covers, and one notice per expired waiver
    that would still have matched something (so a lapsed acceptance is not silent)."""
    waived: dict[str, Waiver] = {}
    notices: list[str] = []
    for waiver in waivers:
        matched = [f for f in findings if waiver.covers(f)]
        if waiver.expired(today):
            if matched:
                notices.append(f"waiver {waiver.describe()} expired: {len(matched)} finding(s) "
                               "count again")
            continue
        for finding in matched:
            waived.setdefault(finding.key, waiver)
    return waived, notices
