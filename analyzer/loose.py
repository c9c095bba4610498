"""Loose evidence: one log or command output (plain or gzip) analysed as a one-item pseudo-bundle.

The artifact type is detected from the content (or given with `--as TYPE`) and mapped to the
collector item id that holds the same output in a real bundle, so every fact builder reads it
unchanged; types the collector has no id for get `loose.<type>`. A loose file has no collection
time: its "now" is the newest timestamp inside it (log scans raise it further), for kubeadm's
expiration table the moment its EXPIRES minus RESIDUAL TIME columns imply, or, when it holds none,
the analyst's clock — and the report's notices say which.

>>> detect("https://127.0.0.1:2379 is healthy: successfully committed proposal: took = 8.8ms\\n")
'etcdctl-health'
>>> detect("Status: active\\nLogging: on (low)\\n")
'ufw-status'
>>> detect("just some words\\n") is None
True
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from . import gz
from .bundle import Bundle, ItemRecord, Manifest, NodeIdentity, _Opener
from .errors import InputError
from .logs.formats import parse_line
from .parsers.jsonsafe import load_json
from .parsers.kubeadm_certs import PrintedAt, parse_check_expiration

HEAD_BYTES = 256 * 1024
_ISO = re.compile(r"\b(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d))")
_KLOG = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d\.\d{6} +\d+ \S+:\d+\]", re.M)
_CRI = re.compile(r"^\d{4}-\d\d-\d\dT\S+ (?:stdout|stderr) [FP] ", re.M)
_JOURNAL = re.compile(r"^(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\S* |(?:[A-Z][a-z]{2}|\d{1,2}月) +\d{1,2} "
                      r"\d\d:\d\d:\d\d )\S+ ([^\s\[:]+)(?:\[\d+\])?: ", re.M)
#: etcd mixes zap JSON, capnslog, raft's and gRPC's Go log lines in one stream (field note 8)
_ETCD = re.compile(r'^(?:\{"level":"\w+","ts":|(?:WARNING|ERROR|INFO): \d{4}/\d\d/\d\d |raft\d{4}/|'
                   r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6} [A-Z] \| |\[WARNING\] )", re.M)
_EVENT_ROW = re.compile(r"^\s*(?:Normal|Warning)\s+[A-Z]\w+\s+\S", re.M)
_SS_ROW = re.compile(r"^LISTEN\s+\d+\s+\d+\s+\S+:\d+\s", re.M)
_DOCKER_PS = re.compile(r"^[0-9a-f]{12} +\S+ +\".*\" +.+ (?:Up |Exited \(|Created)", re.M)


class UnknownEvidence(InputError):
    """A loose file whose type is none of TYPES (and no --as said otherwise)."""


@dataclass(frozen=True)
class EvidenceType:
    """A kind of loose evidence: its --as name, the item id it becomes, and whether it is a log."""

    name: str
    item_id: str
    what: str
    is_log: bool = False


TYPES: dict[str, EvidenceType] = {t.name: t for t in (
    EvidenceType("klog", "logs.pod", "klog lines (kube-apiserver, controller-manager, scheduler, kubelet)",
                 True),
    EvidenceType("etcd-zap", "logs.pod", "etcd's zap JSON log", True),
    EvidenceType("etcd-capnslog", "logs.pod", "etcd 3.4's capnslog text log", True),
    EvidenceType("cri-log", "logs.pod", "a container log in CRI format (/var/log/pods)", True),
    EvidenceType("docker-json-log", "logs.pod", "a docker json-file container log", True),
    EvidenceType("journald", "journal.control_plane", "journalctl output (short or short-iso)", True),
    EvidenceType("etcdctl-status", "etcd.endpoint_status", "etcdctl endpoint status (table, simple, JSON)"),
    EvidenceType("etcdctl-health", "etcd.endpoint_health", "etcdctl endpoint health (plain, table, JSON)"),
    EvidenceType("etcdctl-members", "etcd.member_list", "etcdctl member list (table, simple, JSON)"),
    EvidenceType("etcdctl-alarms", "etcd.alarm_list", "etcdctl alarm list (plain, JSON)"),
    EvidenceType("kubeadm-certs", "loose.kubeadm_certs", "kubeadm certs check-expiration"),
    EvidenceType("kubectl-pods", "k8s.pods", "kubectl get pods (table, YAML, JSON)"),
    EvidenceType("kubectl-nodes", "k8s.nodes", "kubectl get nodes (table, YAML, JSON)"),
    EvidenceType("kubectl-events", "k8s.events", "kubectl get events / describe's Events"),
    EvidenceType("kubectl-leases", "k8s.leases", "kubectl get leases (table, YAML, JSON)"),
    EvidenceType("kubectl-componentstatuses", "k8s.componentstatuses", "kubectl get componentstatuses"),
    EvidenceType("static-pod-manifest", "k8s.static_pod_manifest", "a static pod manifest"),
    EvidenceType("kubeconfig", "k8s.kubeconfig", "a kubeconfig"),
    EvidenceType("health-verbose", "k8s.readyz", "/healthz, /livez or /readyz?verbose output"),
    EvidenceType("x509-text", "loose.x509_text", "openssl x509 -text without the PEM block"),
    EvidenceType("pem", "pki.cert", "PEM certificates (also openssl x509 -text with its PEM block)"),
    EvidenceType("iptables-save", "net.iptables_save", "iptables-save"),
    # the network facts read an `iptables -L` listing from the same item (facts/network.py)
    EvidenceType("iptables-list", "net.iptables_save", "iptables -L -n [-v]"),
    EvidenceType("nft-ruleset", "net.nft_ruleset", "nft list ruleset"),
    EvidenceType("ufw-status", "net.ufw_status", "ufw status [verbose]"),
    EvidenceType("crictl-ps", "cri.ps", "crictl ps -a"),
    EvidenceType("crictl-ps-json", "cri.ps_json", "crictl ps -a -o json"),
    EvidenceType("crictl-inspect", "cri.inspect", "crictl inspect CONTAINER"),
    EvidenceType("docker-ps", "loose.docker_ps", "docker ps -a"),
    EvidenceType("df", "host.df", "df -h / df -P -k"),
    EvidenceType("ss-listening", "net.listening", "ss -ltnp"),
    EvidenceType("timedatectl", "host.timedatectl", "timedatectl status"),
    EvidenceType("chrony", "host.chrony", "chronyc tracking"),
)}
#: command outputs that etcdctl prints on stderr (field note 1): the item's stderr is the file too
_STDERR_TOO = {"etcdctl-health"}


def _lines(head: str, limit: int = 60) -> list[str]:
    return [ln for ln in head.splitlines() if ln.strip() and not ln.startswith("-- ")][:limit]


def _share(pattern: re.Pattern[str], head: str) -> float:
    lines = _lines(head)
    return len(pattern.findall("\n".join(lines))) / len(lines) if lines else 0.0


def _json_type(head: str) -> str | None:
    try:
        data = load_json(head)
    except ValueError:
        return None
    first = data[0] if isinstance(data, list) and data else data
    if not isinstance(first, dict):
        return None
    if isinstance(first.get("containers"), list):
        return "crictl-ps-json"
    if isinstance(first.get("status"), dict) and "state" in first["status"] and "metadata" in first["status"]:
        return "crictl-inspect"
    if "Status" in first and "Endpoint" in first:
        return "etcdctl-status"
    if "health" in first and "endpoint" in first:
        return "etcdctl-health"
    if "members" in first:
        return "etcdctl-members"
    if "alarms" in first or set(first) <= {"header"}:
        return "etcdctl-alarms"
    return _kind_type(str(first.get("kind", "")), head)


def _kind_type(kind: str, text: str) -> str | None:
    if kind == "List":
        found = re.search(r"""^\s*(?:- )?"?kind"?:\s*"?(\w+)""", text[text.find("items"):], re.M)
        kind = found.group(1) if found else ""
    kind = kind.removesuffix("List")
    if kind == "Pod":
        # a static manifest has no status, or kubeadm's `status: {}`
        static = "tier: control-plane" in text and not re.search(r"^status:\s*$", text, re.M)
        return "static-pod-manifest" if static else "kubectl-pods"
    return {"Node": "kubectl-nodes", "Event": "kubectl-events", "Lease": "kubectl-leases",
            "ComponentStatus": "kubectl-componentstatuses", "Config": "kubeconfig"}.get(kind)


def _table_type(lines: list[str]) -> str | None:
    """kubectl/crictl/docker/df/ss tables by their header row."""
    for line in lines[:3]:
        cols = line.split()
        header = " ".join(cols)
        if "ENDPOINT" in cols and ("IS LEADER" in header or "DB SIZE" in header):
            return "etcdctl-status"
        if "ENDPOINT" in cols and "HEALTH" in cols:
            return "etcdctl-health"
        if "PEER ADDRS" in header:
            return "etcdctl-members"
        if cols[:1] == ["CERTIFICATE"] and "RESIDUAL TIME" in header:
            return "kubeadm-certs"
        if "CONTAINER" in cols and "ATTEMPT" in cols:
            return "crictl-ps"
        if cols[:2] == ["CONTAINER", "ID"] and "NAMES" in cols:
            return "docker-ps"
        if cols[:1] == ["Filesystem"] and "Mounted" in cols:
            return "df"
        if cols[:1] == ["State"] and "Local" in cols:
            return "ss-listening"
        if "LAST" in cols and "REASON" in cols or cols[:2] == ["Type", "Reason"]:
            return "kubectl-events"
        if "NAME" in cols[:2] and "HOLDER" in cols:
            return "kubectl-leases"
        if "NAME" in cols[:2] and "ROLES" in cols and "VERSION" in cols:
            return "kubectl-nodes"
        if "NAME" in cols[:2] and "READY" in cols and "STATUS" in cols:
            return "kubectl-pods"
        if cols[:4] == ["NAME", "STATUS", "MESSAGE", "ERROR"]:
            return "kubectl-componentstatuses"
    return None


_CONTENT_CHECKS: tuple[tuple[str, Callable[[str, list[str]], bool]], ...] = (
    ("docker-json-log", lambda h, ls: ls[0].startswith('{"log":')),
    ("etcd-zap", lambda h, ls: _share(_ETCD, h) >= 0.5 and '{"level":' in h),
    ("cri-log", lambda h, ls: _share(_CRI, h) >= 0.5),
    ("journald", lambda h, ls: _share(_JOURNAL, h) >= 0.5),
    ("klog", lambda h, ls: _share(_KLOG, h) >= 0.3 and _share(_ETCD, h) < 0.5),
    ("etcd-capnslog", lambda h, ls: _share(_ETCD, h) >= 0.5),
    ("x509-text", lambda h, ls: "Validity" in h and "Not After" in h and "BEGIN CERTIFICATE" not in h),
    ("pem", lambda h, ls: "-----BEGIN CERTIFICATE-----" in h),
    ("iptables-save", lambda h, ls: bool(re.search(r"^\*(?:filter|nat|mangle|raw)\s*$", h, re.M))
     and "COMMIT" in h),
    ("iptables-list", lambda h, ls: bool(re.search(r"^Chain \S+ \((?:policy \w+|\d+ references)", h, re.M))),
    ("nft-ruleset", lambda h, ls: bool(re.match(r"table (?:inet|ip|ip6|arp|bridge|netdev) \S+ \{", ls[0]))),
    ("ufw-status", lambda h, ls: ls[0].startswith("Status: ")),
    ("etcdctl-health", lambda h, ls: bool(re.search(r"^\S+ is (?:un)?healthy: ", h, re.M))),
    ("etcdctl-alarms", lambda h, ls: ls[0].startswith("memberID:") and " alarm:" in ls[0]),
    ("etcdctl-members", lambda h, ls: bool(re.match(r"[0-9a-f]{16}, (?:started|unstarted), ", ls[0]))),
    ("etcdctl-status", lambda h, ls: bool(re.match(r"\S+://\S+, [0-9a-f]{16}, \d+\.\d+\.\d+, ", ls[0]))),
    ("health-verbose", lambda h, ls: bool(re.match(r"\[[+-]\]\w", ls[0]))),
    ("docker-ps", lambda h, ls: _share(_DOCKER_PS, h) >= 0.5),
    ("kubectl-events", lambda h, ls: _share(_EVENT_ROW, h) >= 0.5),
    ("ss-listening", lambda h, ls: _share(_SS_ROW, h) >= 0.5),
    ("timedatectl", lambda h, ls: "System clock synchronized:" in h or "NTP synchronized:" in h),
    ("chrony", lambda h, ls: "Reference ID" in h and "System time" in h),
)


def detect(head: str) -> str | None:
    """The evidence type of a file from its first lines, or None when it is none of TYPES."""
    lines = _lines(head)
    if not lines:
        return None
    if lines[0].lstrip().startswith(("{", "[")):
        found = _json_type(head)
        if found:
            return found
    for name, check in _CONTENT_CHECKS:
        if check(head, lines):
            return name
    kind = re.search(r"^kind:\s*(\w+)", head, re.M)
    if kind or re.search(r"^(?:status|spec|metadata):\s*$", head, re.M):
        return _kind_type(kind.group(1) if kind else "Pod", head)
    return _table_type([ln for ln in lines if not ln.startswith(("Warning:", "[check-expiration]"))])


class _LooseOpener(_Opener):
    """The single member of a pseudo-bundle: the file itself, decompressed when it is gzip."""

    def __init__(self, path: Path, member: str, compressed: bool) -> None:
        self.warnings = []
        self.path, self.member, self.compressed = path, member, compressed

    def open(self, path: str) -> IO[bytes]:
        if path != self.member:
            raise InputError(f"loose evidence {self.path.name} has no member {path!r}")
        if self.compressed:
            return gz.open_gzip(str(self.path))
        return self.path.open("rb")


def _read_head(path: Path) -> tuple[bytes, bool]:
    with path.open("rb") as handle:
        magic = handle.read(2)
    compressed = magic == b"\x1f\x8b"
    try:
        with (gz.open_gzip(str(path)) if compressed else path.open("rb")) as handle:
            return handle.read(HEAD_BYTES), compressed
    except (OSError, EOFError) + gz.ERRORS as exc:
        raise InputError(f"{path}: cannot read it ({exc})") from None


def _newest(head: str, evidence: EvidenceType, clock: dt.datetime) -> dt.datetime | None:
    """The newest timestamp in the head: log lines' own stamps, else ISO stamps in the text."""
    if evidence.is_log:
        stamps = [parse_line(ln, clock).ts for ln in _lines(head, 2000)]
        newest = max((s for s in stamps if s is not None), default=None)
        return None if newest is None else dt.datetime.fromtimestamp(newest, dt.timezone.utc)
    found = []
    for stamp in _ISO.findall(head):
        try:
            found.append(dt.datetime.fromisoformat(stamp.replace("Z", "+00:00")))
        except ValueError:
            continue
    return max(found, default=None)


def _printed_at(head: str, name: str) -> PrintedAt | None:
    """kubeadm's expiration table carries its own clock in RESIDUAL TIME (EXPIRES minus its now)."""
    return parse_check_expiration(head).printed_at() if name == "kubeadm-certs" else None


def _span(seconds: float) -> str:
    for unit, size in (("year", 365 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = round(seconds / size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:.0f} seconds"


def type_names() -> str:
    return ", ".join(TYPES)


def open_loose(path: Path, as_type: str | None = None) -> Bundle:
    """A pseudo-bundle for one loose file; InputError when its type is unknown or not readable."""
    if as_type is not None and as_type not in TYPES:
        raise InputError(f"--as {as_type}: unknown evidence type; types: {type_names()}")
    data, compressed = _read_head(path)
    head = data.decode("utf-8", "replace")
    name = as_type or detect(head)
    if name is None:
        raise UnknownEvidence(f"{path}: unknown evidence type (use --as TYPE; types: {type_names()})")
    evidence = TYPES[name]
    clock = dt.datetime.now(dt.timezone.utc)
    newest = _newest(head, evidence, clock)
    printed = None if newest else _printed_at(head, name)
    options: dict[str, object] = {"loose": True, "evidence_type": name,
                                  "now_source": "evidence" if newest else "residual" if printed else "clock"}
    if printed and printed.within is not None:
        options["now_within_s"] = printed.within.total_seconds()
    member = path.name
    item = ItemRecord(
        id=evidence.item_id, kind="file", source=str(path), path=member, size=path.stat().st_size,
        sha256=None, exit_code=0, started_at="", duration_s=0.0, timed_out=False, truncated=False,
        redactions=0, error=None, skipped=None, stderr_path=member if name in _STDERR_TOO else None)
    manifest = Manifest(
        format_version=1, collector_version="", node=NodeIdentity(hostname=path.name),
        collected_at=newest or (printed.earliest if printed else clock), clock={}, options=options,
        complete=True, redactions_total=0, items=[item])
    bundle = Bundle(path, manifest, _LooseOpener(path, member, compressed))
    bundle.warnings.append(notice(manifest))
    return bundle


def notice(manifest: Manifest) -> str:
    """What the report must say about a loose file's missing collection time."""
    kind = manifest.options.get("evidence_type", "?")
    now = manifest.collected_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if manifest.options.get("now_source") == "evidence":
        year = (f" klog lines carry no year: {manifest.collected_at.year} assumed (the analyst's clock)."
                if kind == "klog" else "")
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

