"""The finding model: what a rule reports, with evidence and remediation (docs/findings.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    """How bad a finding is; ordered from worst to mildest."""

    CRITICAL = "critical"
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 for critical ... 3 for info: smaller is worse."""
        return list(Severity).index(self)

    def at_least(self, other: Severity) -> bool:
        return self.rank <= other.rank


class Category(str, Enum):
    """The seed guide's seven control-plane areas, plus node-level problems."""

    APISERVER = "apiserver"
    ETCD = "etcd"
    CONTROLLER_MANAGER = "controller-manager"
    SCHEDULER = "scheduler"
    CONNECTIVITY = "connectivity"
    HA = "ha"
    CERTIFICATES = "certificates"
    NODE = "node"


@dataclass(frozen=True)
class Evidence:
    """One cited line: which node, which bundle item (path inside the bundle), which line."""

    node: str
    path: str
    line: int | None
    excerpt: str
    item_id: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"node": self.node, "item_id": self.item_id, "path": self.path, "line": self.line,
                "excerpt": self.excerpt}


@dataclass(frozen=True)
class Remediation:
    """What to do: prose, then the exact commands in order. Read-only checks to run first
    (`diagnose`) and steps that destroy data or state (`destructive`, only when `destructive_when`
    holds) are kept apart from the fix, so one copy never runs them together."""

    text: str
    commands: tuple[str, ...] = ()
    diagnose: tuple[str, ...] = ()
    destructive: tuple[str, ...] = ()
    destructive_when: str = ""
    #: a knowledge-base article about the problem (custom rules: an http(s) address)
    link: str = ""

    def __post_init__(self) -> None:
        if self.destructive and not self.destructive_when:
            raise ValueError("destructive steps need the condition under which to run them")

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"text": self.text, "commands": list(self.commands)}
        if self.diagnose:
            out["diagnose"] = list(self.diagnose)
        if self.destructive:
            out["destructive"] = {"when": self.destructive_when, "commands": list(self.destructive)}
        if self.link:
            out["link"] = self.link
        return out


@dataclass
class Finding:
    """One diagnosed problem. `key` is unique in a report; `id` is the rule's stable id."""

    id: str
    severity: Severity
    category: Category
    title: str
    detail: str
    remediation: Remediation
    evidence: list[Evidence] = field(default_factory=list)
    nodes: list[str] = field(default_factory=list)
    objects: list[str] = field(default_factory=list)
    caused_by: list[str] = field(default_factory=list)
    causes: list[str] = field(default_factory=list)
    #: when the evidence first shows the problem (log rules set it); orders causes before effects
    first_seen: dt.datetime | None = None
    #: when the evidence last shows it
    last_seen: dt.datetime | None = None
    #: when the same evidence shows the component recovered (history, not the present)
    recovered_at: dt.datetime | None = None
    #: the custom rule file the finding's rule was read from ('' for a built-in rule)
    rule_source: str = ""
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            subject = "|".join(sorted(self.nodes) + sorted(self.objects))
            self.key = f"{self.id}-{hashlib.sha256(subject.encode()).hexdigest()[:8]}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "id": self.id, "severity": self.severity.value,
            "category": self.category.value, "title": self.title, "detail": self.detail,
            "nodes": self.nodes, "objects": self.objects,
            "evidence": [e.to_dict() for e in self.evidence],
            "remediation": self.remediation.to_dict(),
            "caused_by": self.caused_by, "causes": self.causes,
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "recovered_at": self.recovered_at.isoformat() if self.recovered_at else None,
            **({"rule_source": self.rule_source} if self.rule_source else {}),
        }
