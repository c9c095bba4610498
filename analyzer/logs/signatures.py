"""The log signatures kubetriage knows: a declarative table, one row per known failure message.

Each signature names the *anchors* (plain substrings, at least one of which every matching line
contains) and a *pattern* that confirms it on the line. The scanner searches large blocks for the
anchors only, so the set of distinct anchors is kept small: it is the whole cost of a log line that
matches nothing. A line counts for the first signature (in table order) it matches, so specific
rows (the API server's etcd client errors) come before generic ones (any x509 error).
`detail`, when set, captures who/why from the line (e.g. the rejected client and the TLS reason).

Patterns come from real logs: tests/fixtures/real, tests/fixtures/logs and the etcd 3.4 lab
captures in /work/shared/reference (SOURCES.md in each names where every line was seen).

>>> match_line('W0322 19:19:08.265649 1 clientconn.go:1120] grpc: addrConn.createTransport '
...  'failed to connect to {https://127.0.0.1:2379 0  <nil>}. Err :connection error: desc = "transport: '
...  'Error while dialing dial tcp 127.0.0.1:2379: connect: connection refused". Reconnecting...',
...  "kube-apiserver").id
'APISERVER_ETCD_REFUSED'
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..findings import Severity

APISERVER, ETCD = ("kube-apiserver",), ("etcd",)
#: control-plane ports whose refusal means a component is down or firewalled
CONTROL_PLANE_PORTS = ("6443", "2379", "2380", "10250", "10257", "10259")


@dataclass(frozen=True)
class Signature:
    """A known log message: what to search for, whose logs it matters in, and what it means."""

    id: str
    anchors: tuple[str, ...]
    pattern: str
    meaning: str
    severity: Severity
    #: the components whose logs it is judged in; () = any ('unknown' writers always qualify)
    components: tuple[str, ...] = ()
    #: a regex whose groups, joined by ' ', describe the occurrence (peer, reason, port)
    detail: str = ""
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    detail_regex: re.Pattern[str] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "regex", re.compile(self.pattern))
        object.__setattr__(self, "detail_regex", re.compile(self.detail) if self.detail else None)

    def applies_to(self, component: str) -> bool:
        return not self.components or component in self.components or component == "unknown"

    def describe(self, line: str) -> str:
        """The detail groups found on the line, or '' when the signature has none."""
        if self.detail_regex is None:
            return ""
        m = self.detail_regex.search(line)
        return " ".join(g for g in m.groups() if g) if m else ""


_REJECT_DETAIL = (r'(?:remote-addr":"|rejected connection from ")\[?([0-9a-fA-F.:]+?)\]?(?::\d+)?".*?'
                  r'(?:"error":"|\(error ")((?:[^"\\]|\\.)*)')

SIGNATURES: tuple[Signature, ...] = (
    # -- the API server and its etcd ------------------------------------------------------------
    Signature("APISERVER_ETCD_REFUSED", ("refused",), r":2379\b.*connection refused",
              "the API server's etcd client is refused on 2379: etcd is down or a REJECT rule is in the way",
              Severity.CRITICAL, APISERVER),
    Signature("APISERVER_ETCD_TLS", ("x509",),
              r"authentication handshake failed: x509|:2379\b.*x509",
              "the TLS handshake between the API server and etcd fails (expired certificate, wrong CA)",
              Severity.CRITICAL, APISERVER, r"(x509: [^\"]*)"),
    Signature("APISERVER_ETCD_TIMEOUT", ("exceeded",),
              r"(?:[Ss]torage backend|storage factory|:2379\b|etcdserver: request timed out).*"
              r"deadline exceeded",
              "the API server's requests to etcd time out: etcd unreachable (DROP rule), no leader or "
              "overloaded", Severity.CRITICAL, APISERVER),
    Signature("APISERVER_BIND_IN_USE", ("in use",), r":6443\b.*address already in use",
              "the API server cannot listen on 6443: another process holds the port", Severity.CRITICAL,
              APISERVER),
    Signature("APISERVER_ENDPOINT_RESET", ("Resetting endpoints",),
              r'Resetting endpoints for master service "kubernetes"',
              "the API server rewrote the `kubernetes` Endpoints without the other API servers: before 1.9 "
              "(endpoint reconciler `master-count`) each must run with --apiserver-count = the number of API "
              "servers", Severity.WARNING, APISERVER),
    # -- etcd ----------------------------------------------------------------------------------
    Signature("ETCD_DB_SPACE_EXCEEDED", ("exceeded", "alarm"),
              r"database space exceeded|alarm raised.*NOSPACE|alarm NOSPACE",
              "etcd reached its backend quota and raised NOSPACE: it refuses writes", Severity.CRITICAL),
    Signature("ETCD_REQUEST_TIMEOUT", ("request timed out",), r"etcdserver: request timed out",
              "etcd did not commit a request in time (leader change, lost quorum, slow disk); the client "
              "(API server, leader lock update) got an error", Severity.WARNING),
    Signature("ETCD_HEARTBEAT_LATE", ("too long", "exceeded"), r"failed to send out heartbeat on time",
              "the etcd leader could not send heartbeats in time: slow disk or overloaded node",
              Severity.WARNING, ETCD),
    Signature("ETCD_SLOW_APPLY", ("too long",),
              r"apply request took too long|apply entries took too long|request .* took too long .* to "
              r"execute", "etcd applied requests slower than expected (100ms): slow disk or overload",
              Severity.WARNING, ETCD),
    Signature("ETCD_SLOW_FDATASYNC", ("sync",), r"slow fdatasync|sync duration of",
              "etcd's WAL fsync took longer than 1s: the disk is too slow for etcd", Severity.WARNING, ETCD),
    Signature("ETCD_CORRUPTION", ("panic", "mismatch", "alarm"),
              r"crc mismatch|checksum mismatch|alarm raised.*CORRUPT|found data inconsistency|"
              r"panic: .*(?:page|freelist|bolt|corrupt)",
              "etcd found corrupted data (WAL CRC, bbolt pages, or hashes that differ between members)",
              Severity.CRITICAL, ETCD),
    Signature("ETCD_REJECTED_CONNECTION", ("rejected",), r"rejected connection",
              "etcd refused a client's TLS connection (expired, unknown CA, bad or missing certificate)",
              Severity.ERROR, ETCD, _REJECT_DETAIL),
    Signature("ETCD_LOST_LEADER", ("lost",), r"lost leader",
              "this etcd member lost its leader: an election follows", Severity.INFO, ETCD),
    Signature("ETCD_ELECTED_LEADER", ("leader ",), r"elected leader|became leader at term",
              "an etcd election finished", Severity.INFO, ETCD),
    Signature("ETCD_NO_LEADER", ("leader ",), r"\bno leader\b|has no leader",
              "etcd has no leader: quorum is lost or elections keep failing", Severity.ERROR),
    # -- node ------------------------------------------------------------------------------------
    Signature("NO_SPACE_LEFT", ("space left",), r"no space left on device",
              "a write failed because the filesystem is full", Severity.CRITICAL),
    # -- leader election, RBAC, configuration -----------------------------------------------------
    Signature("RBAC_FORBIDDEN", ("forbidden",), r'is forbidden: User "[^"]*" cannot',
              "a component's identity lacks an RBAC permission it needs", Severity.ERROR, (),
              r'User "([^"]*)" cannot (\w+ resource "[^"]*")'),
    Signature("AUTHN_FAILED", ("authenticate",), r"Unable to authenticate the request",
              "the API server rejects a client's credentials (often an expired client certificate)",
              Severity.ERROR, APISERVER, r"due to an error: (.{0,120})"),
    Signature("LEADER_ELECTION_LOST", ("lost",), r"(?i)leaderelection lost|\blost master\b|^lost lease$",
              "the component lost its leader lease and exits (the kubelet restarts it)", Severity.ERROR),
    Signature("LEASE_RENEW_FAILED", ("lease ",), r"failed to renew lease",
              "the leader could not renew its lease in time (API server or etcd slow or down)",
              Severity.ERROR, (), r"renew lease (\S+?):"),
    Signature("LEASE_ACQUIRED", ("lease ",), r"successfully acquired lease",
              "the component became leader", Severity.INFO, (), r"acquired lease (\S+)"),
    Signature("RESOURCE_LOCK_ERROR", (" lock",), r"error retrieving resource lock|[Ff]ailed to update lock",
              "the component cannot read or update its leader-election lease", Severity.WARNING),
    Signature("SCHEDULER_CONFIG_NOT_REGISTERED", ("no kind",), r'no kind "[^"]+" is registered for version',
              "the scheduler's --config uses an API version this release does not know", Severity.CRITICAL,
              (), r'(no kind "[^"]+" is registered for version "[^"]+")'),
    Signature("CSR_NOT_APPROVED", ("not approved",),
              r'recognized csr "[^"]+" as \[[^\]]*\] but subject access review was not approved',
              "the CSR approver recognised a kubelet's certificate request but its requester may not "
              "self-approve it (missing RBAC for node bootstrap): the node cannot get its certificate",
              Severity.WARNING, (), r'recognized csr "([^"]+)" as \[([^\]]*)\]'),
    # -- communication -----------------------------------------------------------------------------
    Signature("TLS_HANDSHAKE_ERROR", ("handshake",),
              r"TLS handshake error from|failed to complete security handshake|does not look like a TLS "
              r"handshake", "a client's TLS handshake failed (bad certificate, wrong CA, or plain HTTP)",
              Severity.WARNING, (), r'handshake (?:error )?from "?\[?([0-9a-fA-F.:]+?)\]?:\d+"?: (.{0,80})'),
    Signature("X509_ERROR", ("x509",), r"x509: ",
              "a TLS peer's certificate was rejected (expired, unknown authority, wrong name)",
              Severity.ERROR, (), r"(x509: [^\"]{0,100})"),
    Signature("CONTROL_PLANE_REFUSED", ("refused",),
              r":(?:" + "|".join(CONTROL_PLANE_PORTS) + r")\b.*connection refused",
              "nothing listens on a control-plane port (component down) or a REJECT rule answers",
              Severity.ERROR, (), r"dial tcp \[?([0-9a-fA-F.:]*?)\]?:(\d+): \S*:? ?connection refused"),
)

#: every distinct anchor, in a fixed order; a signature's bit mask says which it uses
ANCHORS: tuple[str, ...] = tuple(dict.fromkeys(a for s in SIGNATURES for a in s.anchors))
ANCHOR_MASKS: tuple[int, ...] = tuple(
    sum(1 << ANCHORS.index(a) for a in s.anchors) for s in SIGNATURES)


def match_line(text: str, component: str, anchor_mask: int = -1) -> Signature | None:
    """The signature this line counts for, given which anchors the scanner found on it."""
    for sig, mask in zip(SIGNATURES, ANCHOR_MASKS, strict=True):
        if mask & anchor_mask and sig.applies_to(component) and sig.regex.search(text):
            return sig
    return None
