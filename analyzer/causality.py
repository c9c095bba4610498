"""Root cause, not a wall of symptoms: link findings by known causal relations and rank the causes.

Control-plane failures cascade (an expired etcd certificate -> etcd rejects the API server -> the
API server crash-loops -> controller-manager and scheduler lose their leases). `RELATIONS` says
which finding can cause which; `link` fills `caused_by`/`causes` and `rank` orders the findings that
nothing explains, with a confidence and what would confirm it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from .findings import Finding

Condition = Callable[[Finding], bool]

#: Layers from the bottom up: a lower layer can explain a higher one, never the reverse.
LAYER = {"node": 0, "certificates": 1, "connectivity": 1, "etcd": 2, "ha": 2, "apiserver": 3,
         "controller-manager": 4, "scheduler": 4}


def _always(_: Finding) -> bool:
    return True


def _about(*needles: str) -> Condition:
    """The cause's objects (paths, ports, members) mention one of the needles."""
    def check(finding: Finding) -> bool:
        text = " ".join(finding.objects + [finding.title])
        return any(n in text for n in needles)
    return check


@dataclass(frozen=True)
class Relation:
    """`cause` (when `condition` holds for it) can explain every finding whose id is in `effects`."""

    cause: str
    effects: tuple[str, ...]
    why: str
    confirm: str
    condition: Condition = _always


ETCD_SYMPTOMS = ("ETCD_ENDPOINT_UNHEALTHY", "ETCD_UNREACHABLE", "ETCD_NO_LEADER", "ETCD_TLS_REJECTED",
                 "ETCD_CRASHLOOP",
                 "ETCD_RAFT_DIVERGENCE", "ETCD_QUORUM_AT_RISK", "ETCD_LEADER_CHURN", "ETCD_PEER_UNREACHABLE",
                 "ETCD_LEADER_LOST_LOG", "ETCD_REQUESTS_FAILING", "ETCD_UNHEALTHY_REPORTED")
APISERVER_SYMPTOMS = ("APISERVER_ETCD_CONNECTION_FAILED", "APISERVER_CRASHLOOP",
                      "APISERVER_HEALTH_CHECK_FAILED", "CONTROL_PLANE_PORT_NOT_LISTENING",
                      "CONTROL_PLANE_CONNECTION_REFUSED", "APISERVER_UNREACHABLE")
TLS_SYMPTOMS = ("X509_ERRORS_BETWEEN_COMPONENTS", "TLS_HANDSHAKE_ERRORS")
LEADER_SYMPTOMS = ("LEASE_STALE", "LEASE_CHURN", "LEADER_ELECTION_LOST", "CONTROLLER_MANAGER_CRASHLOOP",
                   "SCHEDULER_CRASHLOOP", "PODS_PENDING_UNSCHEDULABLE", "RBAC_ERRORS_PERSISTENT",
                   "LEASE_UPDATE_FAILING")
#: what the logs say about a certificate that the certificate files show directly
CERT_LOG_SYMPTOMS = ("CERT_EXPIRED_LOG", "CERT_UNTRUSTED_LOG", "CERT_NAME_MISMATCH_LOG")

RELATIONS: tuple[Relation, ...] = (
    Relation("CERT_EXPIRED", CERT_LOG_SYMPTOMS,
             "the logs' x509 errors are the expired certificate the files show",
             "the certificate named by the log's peer against the file's notAfter"),
    Relation("CERT_CA_MISMATCH", CERT_LOG_SYMPTOMS,
             "the logs' unknown-authority errors are the certificate from another CA the files show",
             "`openssl verify` of the file against the CA the rejecting side uses"),
    Relation("CERT_SAN_MISSING", CERT_LOG_SYMPTOMS,
             "the logs' name errors are the SAN the certificate file lacks",
             "`openssl x509 -ext subjectAltName` of the file"),
    Relation("CERT_EXPIRED_LOG", ETCD_SYMPTOMS + APISERVER_SYMPTOMS + LEADER_SYMPTOMS + TLS_SYMPTOMS,
             "an expired certificate makes every TLS handshake that presents it fail",
             "`kubeadm certs check-expiration` or openssl on the certificate the log names"),
    Relation("CERT_EXPIRED", ETCD_SYMPTOMS + APISERVER_SYMPTOMS + TLS_SYMPTOMS,
             "an expired etcd certificate makes every TLS handshake with etcd fail",
             "etcd's own log shows `rejected connection ... certificate has expired`",
             _about("/etcd/", "apiserver-etcd-client")),
    Relation("CERT_EXPIRED", APISERVER_SYMPTOMS + LEADER_SYMPTOMS + TLS_SYMPTOMS,
             "an expired API server or client certificate breaks every client of the API server",
             "component logs show `x509: certificate has expired or is not yet valid`",
             _about("apiserver.crt", "front-proxy", ".conf", "kubelet")),
    Relation("CERT_NOT_YET_VALID", ETCD_SYMPTOMS + APISERVER_SYMPTOMS + TLS_SYMPTOMS,
             "a certificate that is not valid yet is rejected like an expired one",
             "the node clock at collection against the certificate's notBefore"),
    Relation("CERT_CA_MISMATCH", ETCD_SYMPTOMS + APISERVER_SYMPTOMS + TLS_SYMPTOMS,
             "a certificate signed by the wrong CA is rejected as `unknown authority`/`bad certificate`",
             "the rejecting side's log names `x509: certificate signed by unknown authority`"),
    Relation("CERT_SAN_MISSING", ETCD_SYMPTOMS + APISERVER_SYMPTOMS + LEADER_SYMPTOMS + TLS_SYMPTOMS,
             "clients reject a serving certificate that does not name the address they dial",
             "client logs: `x509: certificate is valid for ..., not ...`"),
    Relation("ETCD_TLS_REJECTED", APISERVER_SYMPTOMS + LEADER_SYMPTOMS,
             "etcd refusing the API server's TLS connections leaves the API server without storage",
             "etcd's log names the rejected client and the x509 reason"),
    Relation("ETCD_CRASHLOOP", ("ETCD_UNREACHABLE", "ETCD_ENDPOINT_UNHEALTHY", "ETCD_QUORUM_AT_RISK")
             + APISERVER_SYMPTOMS + LEADER_SYMPTOMS,
             "an etcd container that keeps exiting leaves its clients without storage",
             "etcd's previous container log (`crictl logs --previous`) says why it exits"),
    Relation("ETCD_UNREACHABLE", APISERVER_SYMPTOMS + LEADER_SYMPTOMS,
             "etcd not answering on this node leaves its API server without storage",
             "etcd's container state (`crictl ps -a`) and its log's last lines on that node"),
    Relation("ETCD_ENDPOINT_UNHEALTHY", ("ETCD_QUORUM_AT_RISK", "CONTROL_PLANE_CONNECTION_REFUSED",
                                         "APISERVER_ETCD_CONNECTION_FAILED", "ETCD_PEER_UNREACHABLE"),
             "a member that is down leaves the cluster one failure from losing quorum, and its peers and "
             "local API server are refused", "the down member's own log and container state"),
    Relation("ETCD_QUORUM_LOST", ETCD_SYMPTOMS + APISERVER_SYMPTOMS + LEADER_SYMPTOMS,
             "without quorum etcd has no leader and refuses every write and linearizable read",
             "the failed members' own logs show why they stopped"),
    Relation("ETCD_NOSPACE_ALARM", ("ETCD_DB_SPACE_EXCEEDED_LOG", "ETCD_DB_NEAR_QUOTA") + APISERVER_SYMPTOMS
             + LEADER_SYMPTOMS,
             "with the NOSPACE alarm raised etcd refuses writes, so lease renewals and updates fail",
             "`etcdctl alarm list` shows `alarm:NOSPACE`; the API server log shows "
             "`database space exceeded`"),
    Relation("ETCD_DB_NEAR_QUOTA", ("ETCD_DB_SPACE_EXCEEDED_LOG",),
             "a database at its quota refuses writes with `database space exceeded`",
             "db size against --quota-backend-bytes"),
    Relation("FIREWALL_BLOCKS_CONTROL_PLANE_PORT", ETCD_SYMPTOMS + ("ETCD_QUORUM_LOST",) + APISERVER_SYMPTOMS
             + ("ETCD_MEMBER_LIST_MISMATCH",),
             "a firewall rule on the etcd ports cuts members and the API server off from etcd",
             "the rule's packet counters grow (`iptables -L -n -v`) while clients time out",
             _about("2379", "2380")),
    Relation("FIREWALL_BLOCKS_CONTROL_PLANE_PORT", LEADER_SYMPTOMS + ("CNI_PODS_NOT_READY",
                                                                       "CONTROL_PLANE_CONNECTION_REFUSED"),
             "a firewall rule on the API server port cuts its clients off",
             "clients log `connection refused` (REJECT) or timeouts (DROP) to :6443", _about("6443")),
    Relation("DISK_FULL", ("ETCD_NOSPACE_ALARM", "ETCD_DB_SPACE_EXCEEDED_LOG", "ETCD_SLOW_DISK",
                           "NO_SPACE_LEFT_ON_DEVICE_LOG", "ETCD_CORRUPTION_LOG")
             + ETCD_SYMPTOMS + APISERVER_SYMPTOMS,
             "a full disk stops etcd writing its WAL (`no space left on device`)",
             "`df` of the etcd data dir at 100% and etcd's log"),
    Relation("ETCD_SLOW_DISK", ("ETCD_NO_LEADER", "ETCD_LEADER_CHURN", "LEASE_CHURN", "LEADER_ELECTION_LOST",
                                "LEASE_STALE"),
             "slow fdatasync delays heartbeats, which triggers elections and slow lease renewals",
             "etcd's `slow fdatasync` and `failed to send out heartbeat on time` before the elections"),
    Relation("CLOCK_NOT_SYNCHRONIZED", ("CERT_NOT_YET_VALID", "LEASE_STALE", "CLOCK_SKEW_BETWEEN_NODES"),
             "a drifting clock makes valid certificates look invalid and leases look stale",
             "chrony/timedatectl offsets on each node"),
    Relation("CLOCK_SKEW_BETWEEN_NODES", ("CERT_NOT_YET_VALID", "LEASE_STALE"),
             "nodes that disagree on the time disagree on certificate and lease validity",
             "the offsets between nodes' clocks at collection"),
    Relation("APISERVER_ETCD_CONNECTION_FAILED", ("APISERVER_CRASHLOOP", "APISERVER_HEALTH_CHECK_FAILED")
             + LEADER_SYMPTOMS,
             "an API server that cannot reach etcd fails its health checks and is restarted",
             "the API server's log: the etcd dial errors come before each exit"),
    Relation("APISERVER_BIND_ADDRESS_IN_USE", ("APISERVER_CRASHLOOP", "APISERVER_HEALTH_CHECK_FAILED")
             + LEADER_SYMPTOMS,
             "an API server that cannot bind :6443 exits at once",
             "`ss -ltnp` shows which process holds :6443"),
    Relation("APISERVER_CRASHLOOP", LEADER_SYMPTOMS + ("APISERVER_HEALTH_CHECK_FAILED",
                                                       "CONTROL_PLANE_PORT_NOT_LISTENING",
                                                       "CONTROL_PLANE_CONNECTION_REFUSED"),
             "with the API server down, controller-manager and scheduler cannot renew their leases",
             "their logs show `failed to renew lease` / `error retrieving resource lock` after the "
             "API server's restarts"),
    Relation("APISERVER_REMOVED_FLAG", ("APISERVER_CRASHLOOP", "COMPONENT_FLAG_REJECTED") + LEADER_SYMPTOMS,
             "the API server refuses to start with a flag its version removed",
             "its log's last lines: `unknown flag`"),
    Relation("CONTROLLER_MANAGER_REMOVED_FLAG", ("CONTROLLER_MANAGER_CRASHLOOP", "COMPONENT_FLAG_REJECTED"),
             "the controller-manager refuses to start with a flag its version removed",
             "its log's last line: `Error: unknown flag`"),
    Relation("CSR_NOT_APPROVED", ("CSR_PENDING", "CSR_PENDING_LOG"),
             "the approver recognises the nodes' client CSRs but may not approve them (the bootstrap group "
             "lacks its nodeclient binding), so they stay Pending",
             "the controller-manager's `subject access review was not approved` names the pending CSRs"),
    Relation("SCHEDULER_CONFIG_INVALID",
             ("SCHEDULER_CRASHLOOP", "PODS_PENDING_UNSCHEDULABLE", "SERVICE_FAILING"),
             "a scheduler with an invalid config exits at start", "the scheduler's log at start"),
)


@dataclass(frozen=True)
class RootCause:
    """A finding nothing else explains, with how sure the ranking is."""

    finding: Finding
    confidence: str  # high | medium | low
    reason: str
    confirm: str


def _relations_for(cause: Finding) -> list[Relation]:
    return [r for r in RELATIONS if r.cause == cause.id and r.condition(cause)]


def _before(a: dt.datetime | None, b: dt.datetime | None) -> bool | None:
    """True when a is not after b, None when either time is unknown."""
    return None if a is None or b is None else a <= b


def link(findings: list[Finding]) -> None:
    """Fill caused_by/causes from RELATIONS (an acyclic table); a cause seen after its effect does
    not explain it. Only direct links are kept: A->C goes when A->B->C already says it."""
    edges: dict[str, list[Finding]] = {f.key: [] for f in findings}
    for cause in findings:
        for relation in _relations_for(cause):
            for effect in findings:
                if effect is cause or effect.id not in relation.effects or effect in edges[cause.key]:
                    continue
                if _before(cause.first_seen, effect.first_seen) is False:
                    continue
                edges[cause.key].append(effect)
    for cause in findings:
        for effect in edges[cause.key]:
            others = [e for e in edges[cause.key] if e is not effect]
            if not any(effect.key in _reachable(edges, e) for e in others):
                cause.causes.append(effect.key)
                effect.caused_by.append(cause.key)


def _reachable(edges: dict[str, list[Finding]], start: Finding) -> set[str]:
    """Keys of every finding `start` explains, directly or through others."""
    seen: set[str] = set()
    todo = [start]
    while todo:
        for effect in edges[todo.pop().key]:
            if effect.key not in seen:
                seen.add(effect.key)
                todo.append(effect)
    return seen


def _explained(by_key: dict[str, Finding], root: Finding) -> list[Finding]:
    """Every finding below root in the cause tree."""
    found: dict[str, Finding] = {}
    todo = [root]
    while todo:
        for key in todo.pop().causes:
            if key in by_key and key not in found:
                found[key] = by_key[key]
                todo.append(by_key[key])
    return list(found.values())


def rank(findings: list[Finding]) -> list[RootCause]:
    """Findings no other finding explains, most important first, each with a confidence."""
    by_key = {f.key: f for f in findings}
    roots = [f for f in findings if not f.caused_by]
    out: list[RootCause] = []
    for root in roots:
        effects = _explained(by_key, root)
        relations = _relations_for(root)
        confirm = "; ".join(dict.fromkeys(r.confirm for r in relations)) or \
            "no other finding depends on it; check it on its own"
        timed = [_before(root.first_seen, e.first_seen) for e in effects]
        if effects and timed and all(t is True for t in timed):
            confidence, reason = "high", f"explains {len(effects)} other finding(s), and was seen first"
        elif effects:
            confidence, reason = "medium", f"explains {len(effects)} other finding(s) by known relations"
        else:
            confidence, reason = "low", "independent: no other finding depends on it"
        out.append(RootCause(root, confidence, reason, confirm))
    order = {"high": 0, "medium": 1, "low": 2}
    never = dt.datetime.max.replace(tzinfo=dt.timezone.utc)
    size = {r.finding.key: len(_explained(by_key, r.finding)) for r in out}
    out.sort(key=lambda r: (r.finding.severity.rank, order[r.confidence], -size[r.finding.key],
                            LAYER[r.finding.category.value], r.finding.first_seen or never, r.finding.key))
    return out
