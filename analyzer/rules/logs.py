"""Log rules: what the components' own logs say (signature counts from facts/logs.py).

A signature seen once at startup is not a failure: rules look at how long it lasted, whether it
was still there at the end of the log, and whether the component recovered after it (e.g. an RBAC
error followed by the lease being acquired). `episode()` separates the present from resolved
history for every log rule: when the problem started and ended, and when the same evidence shows
the component recovered; a recovered problem is reported milder, as "recovered at T".
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..facts import ClusterView
from ..facts.logs import PASTED, LogSignatureFact
from ..findings import Category, Evidence, Finding, Remediation, Severity
from . import Rule, rule
from .certificates import restart_static_pod
from .etcd import _config, _endpoints, _reclaim, etcdctl
from .shell import comment, quote

LOG_ITEMS = ("logs.pod", "logs.syslog", "journal.control_plane", "journal.etcd", "journal.kubelet",
             "journal.runtime", "logs.kubeadm", "logs.kubectl", PASTED,
             # the units of the other distributions (the collector's journal.<distribution> rows)
             "journal.k3s", "journal.rke2", "journal.microk8s", "journal.k0s", "journal.charmed")
#: a signature still seen this close to the end of its log has not stopped
STILL_THERE = dt.timedelta(minutes=2)
#: a signature that lasted this long is not a startup blip
LASTED = dt.timedelta(minutes=1)
PERSISTENT_MIN = 3
#: how far apart two lines may be stamped and still count as the same moment
PRECISION = dt.timedelta(seconds=1)
#: slow etcd requests: a burst shorter than this many lines, all sub-second, is start-up load
PERSISTENT_SLOW = 10
#: seconds one request may take before it is a warning by itself, and an error
SLOW_WARN, SLOW_ERROR = 1.0, 5.0
SLOW = ("ETCD_SLOW_FDATASYNC", "ETCD_WAL_SYNC_SLOW", "ETCD_HEARTBEAT_LATE", "ETCD_OVERLOADED",
        "ETCD_SLOW_APPLY", "ETCD_SLOW_REQUEST_CAPNSLOG", "ETCD_READINDEX_SLOW", "ETCD3_SLOW_TRACE",
        "ETCD_SLOW_REQUEST_STATS")
DISK = ("ETCD_SLOW_FDATASYNC", "ETCD_WAL_SYNC_SLOW", "ETCD_HEARTBEAT_LATE", "ETCD_OVERLOADED")
#: a signature whose component logged on this long after its last occurrence is past history
RESOLVED_AFTER = dt.timedelta(minutes=5)
#: slow applies within this span and over are one episode (a member joining), not a slow disk
BURST = dt.timedelta(hours=1)
CATEGORY = {"kube-controller-manager": Category.CONTROLLER_MANAGER, "kube-scheduler": Category.SCHEDULER,
            "kube-apiserver": Category.APISERVER, "etcd": Category.ETCD}
LEASES = {"kube-controller-manager": "kube-controller-manager", "kube-scheduler": "kube-scheduler"}


def _stamp(moment: dt.datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "unknown time"


def _summary(facts: list[LogSignatureFact]) -> str:
    count = sum(f.count for f in facts)
    first = min((f.first_seen for f in facts if f.first_seen), default=None)
    last = max((f.last_seen for f in facts if f.last_seen), default=None)
    return f"{count} line(s) from {_stamp(first)} to {_stamp(last)}"


def _top(facts: Iterable[LogSignatureFact], limit: int = 4) -> str:
    details: dict[str, int] = {}
    for fact in facts:
        for text, n in fact.details.items():
            details[text] = details.get(text, 0) + n
    ranked = sorted(details.items(), key=lambda kv: -kv[1])[:limit]
    return "; ".join(f"{text} ({n}x)" for text, n in ranked)


def _lasting(view: ClusterView, facts: list[LogSignatureFact]) -> bool:
    """Seen over more than a startup blip, or still seen at the end of the log."""
    for fact in facts:
        # a line's own writer (a journald identifier) may differ from the item's: then the node's end
        end = view.logs.newest(fact.node, fact.component) or view.logs.newest(fact.node)
        if fact.span >= LASTED or (fact.last_seen and end and end - fact.last_seen <= STILL_THERE):
            return True
    return False


def _stopped(view: ClusterView, facts: list[LogSignatureFact]) -> dt.datetime | None:
    """When the signature last occurred, if it is past history: each component logged on for
    RESOLVED_AFTER after it, and none of it came in the RESOLVED_AFTER before collection (clients retry
    every few seconds while the problem lasts). None when it may still be going on; also when its log
    ends right after it (a paste's "now" may come from a stamp in another time zone)."""
    last: list[dt.datetime] = []
    for fact in facts:
        # a journal line's writer (e.g. hyperkube) may differ from the component its item names
        end = view.logs.newest(fact.node, fact.component) or view.logs.newest(fact.node)
        if (fact.last_seen is None or end is None or end - fact.last_seen < RESOLVED_AFTER
                or view.now(fact.node) - fact.last_seen < RESOLVED_AFTER):
            return None
        last.append(fact.last_seen)
    return max(last, default=None)


@dataclass(frozen=True)
class Episode:
    """One problem's time line in the evidence: when it started and ended, and whether the same
    evidence shows the component recovered afterwards."""

    first: dt.datetime | None
    last: dt.datetime | None
    #: the first sign of recovery after the last failure line (None: not recovered, as far as we see)
    recovered: dt.datetime | None
    #: timed, shorter than LASTED and over well before its log ends: a start-up blip
    blip: bool

    def note(self) -> str:
        """What the detail says about the present: '' while current, else when it recovered."""
        if self.recovered is None:
            return ""
        return f" Recovered at {_stamp(self.recovered)}: this is history, not the present state."


def episode(view: ClusterView, facts: list[LogSignatureFact], recovery: tuple[str, ...] = ()) -> Episode:
    """Separate the present from resolved history for facts of one component on one node."""
    first = min((f.first_seen for f in facts if f.first_seen), default=None)
    last = max((f.last_seen for f in facts if f.last_seen), default=None)
    recovered: dt.datetime | None = None
    if last is not None and recovery:
        # lines of one writer can carry stamps of different precision (etcd's raft lines: seconds)
        since = last - PRECISION
        signs = [r for r in view.logs.select(*recovery, node=facts[0].node,
                                             components=tuple({f.component for f in facts}))
                 if r.last_seen and r.last_seen >= since]
        if signs:
            recovered = min((r.first_seen if r.first_seen and r.first_seen >= since else r.last_seen)
                            for r in signs if r.last_seen)
    blip = not _lasting(view, facts) and all(f.first_seen for f in facts)
    return Episode(first, last, recovered, blip)


def milder(severity: Severity) -> Severity:
    """How bad a problem that recovered still is: worth a warning, or only a note."""
    return Severity.WARNING if severity.rank <= Severity.ERROR.rank else Severity.INFO


def _finding(view: ClusterView, rule: Rule, severity: Severity, category: Category, title: str, detail: str,
             remediation: Remediation, facts: list[LogSignatureFact], objects: Iterable[str],
             recovery: tuple[str, ...] = (), stopped: dt.datetime | None = None) -> Finding:
    """A log rule's finding: its evidence lines, and when the problem started, ended and recovered
    (a problem the same evidence shows recovered is reported milder). `stopped`: the problem's lines
    ended long before collection while its writer logged on (see `_stopped`): history too."""
    evidence: list[Evidence] = list(dict.fromkeys(e for f in facts for e in f.examples))
    when = episode(view, facts, recovery)
    recovered = when.recovered
    if recovered:
        severity, detail = milder(severity), detail + when.note()
    elif stopped:
        recovered = stopped
        severity = milder(severity)
        detail += (f" None since {_stamp(stopped)} while the component logged on: resolved before "
                   "collection, history rather than the present state.")
    return rule.finding(title, detail, remediation, evidence=evidence[:8],
                        nodes=sorted({f.node for f in facts}), objects=sorted(set(objects)),
                        severity=severity, category=category,
                        first_seen=when.first, last_seen=when.last, recovered_at=recovered)


def _by(facts: list[LogSignatureFact], *, component: bool = True) -> Iterator[list[LogSignatureFact]]:
    groups: dict[tuple[str, str], list[LogSignatureFact]] = {}
    for fact in facts:
        groups.setdefault((fact.node, fact.component if component else ""), []).append(fact)
    yield from groups.values()


def _logs(component: str) -> str:
    return f"crictl logs --tail 200 $(crictl ps -a --name {quote(component)} -q | head -n 1)"


@rule("APISERVER_ETCD_CONNECTION_FAILED", Category.ETCD, Severity.CRITICAL,
      "API server cannot reach etcd",
      "The API server's log has no lasting etcd client errors: connection refused, deadline exceeded or "
      "x509 failures to :2379. Its category is the cause the errors name: etcd (refused, timing out), or "
      "certificates (the TLS handshake fails).", LOG_ITEMS, also=(Category.CERTIFICATES,),
      signatures=("APISERVER_ETCD_REFUSED", "APISERVER_ETCD_TLS", "APISERVER_ETCD_CERT_EXPIRED",
                  "APISERVER_ETCD_TIMEOUT"))
def apiserver_etcd(view: ClusterView) -> Iterator[Finding]:
    found = view.logs.select(*apiserver_etcd.signatures)
    for facts in _by(found):
        kinds = {f.id for f in facts}
        lasting = _lasting(view, facts)
        commands = [comment(f"on {facts[0].node}"), "crictl ps -a --name etcd", _logs("etcd"),
                    f"{etcdctl(_config(view, facts[0].node), _endpoints(view))} endpoint health"]
        tls = bool(kinds & {"APISERVER_ETCD_TLS", "APISERVER_ETCD_CERT_EXPIRED"})
        if tls:
            why = (f"TLS to etcd fails: {_top(facts)}. The API server's etcd client certificate "
                   "(apiserver-etcd-client) or etcd's server certificate is expired or from another CA.")
            commands += ["kubeadm certs check-expiration",
                         "openssl x509 -noout -subject -issuer -enddate -in "
                         "/etc/kubernetes/pki/apiserver-etcd-client.crt",
                         "openssl verify -CAfile /etc/kubernetes/pki/etcd/ca.crt "
                         "/etc/kubernetes/pki/apiserver-etcd-client.crt",
                         "kubeadm certs renew apiserver-etcd-client", restart_static_pod("kube-apiserver")]
        elif "APISERVER_ETCD_REFUSED" in kinds:
            why = ("Nothing accepts connections on etcd's client port: etcd is down or restarting (see its "
                   "own log), or a REJECT firewall rule answers for it.")
            commands += ["ss -ltnp | grep -E ':2379|:2380'", "iptables-save | grep -E '2379|2380'"]
        else:
            why = ("Requests to etcd time out: etcd is unreachable (a DROP rule, a dead member), has no "
                   "leader, or is too slow.")
            commands += ["iptables-save | grep -E '2379|2380'"]
        severity = Severity.CRITICAL if lasting else Severity.WARNING
        when = "" if lasting else " Seen only briefly (e.g. while etcd was starting with it)."
        yield _finding(
            view, apiserver_etcd, severity, Category.CERTIFICATES if tls else Category.ETCD,
            "API server cannot reach etcd", f"{_summary(facts)} in the API server's log. {why}{when}",
            Remediation("Fix etcd first: the API server recovers on its own once etcd answers. Check that "
                        "the etcd container runs and what its log says, then the path between them.",
                        tuple(commands)), facts, ["kube-apiserver->etcd:2379"])


@rule("APISERVER_COUNT_MISMATCH", Category.HA, Severity.WARNING,
      "API servers overwrite each other's `kubernetes` endpoints",
      "No API server logs `Resetting endpoints for master service` (the `master-count` "
      "reconciler with --apiserver-count below the number of API servers).", LOG_ITEMS,
      signatures=("APISERVER_ENDPOINT_RESET",))
def apiserver_count(view: ClusterView) -> Iterator[Finding]:
    # the reconciler logs this only while API servers fight over the endpoints: one line says it
    found = view.logs.select("APISERVER_ENDPOINT_RESET")
    if not found:
        return
    nodes = sorted({f.node for f in found})
    yield _finding(
        view, apiserver_count, Severity.WARNING, Category.HA,
        f"API servers on {', '.join(nodes)} keep resetting the `kubernetes` endpoints",
        f"{_summary(found)}: each API server keeps rewriting the `kubernetes` Service's Endpoints with only "
        "its own address, as if it were alone. The `master-count` endpoint reconciler (the default before "
        "1.9) expects --apiserver-count to equal the number of API servers; with a lower value they "
        "evict each other, and clients of the `kubernetes` Service flap between masters.",
        Remediation("Set --apiserver-count to the number of API servers on every kube-apiserver (or, from "
                    "1.9, --endpoint-reconciler-type=lease, the default since 1.11).",
                    ("kubectl -n default get endpoints kubernetes -o yaml",
                     "grep -E 'apiserver-count|endpoint-reconciler-type' "
                     "/etc/kubernetes/manifests/kube-apiserver.yaml")),
        found, ["endpoints/kubernetes"])


@rule("ETCD_REQUESTS_TIMING_OUT", Category.ETCD, Severity.WARNING, "etcd requests time out",
      "No component logs `etcdserver: request timed out`.", LOG_ITEMS,
      signatures=("ETCD_REQUEST_TIMED_OUT",))
def etcd_request_timeouts(view: ClusterView) -> Iterator[Finding]:
    found = view.logs.select("ETCD_REQUEST_TIMED_OUT")
    if not found:
        return
    who = ", ".join(sorted({f"{f.component} on {f.node} ({f.count}x)" for f in found}))
    stopped = _stopped(view, found)
    past = f" None since {_stamp(stopped)}: resolved before collection." if stopped else ""
    yield _finding(
        view, etcd_request_timeouts, Severity.WARNING, Category.ETCD, "etcd requests time out",
        f"{_summary(found)} ({who}). etcd did not commit requests in time: its leader changed or failed, "
        "it lost quorum for a moment, or its disk or network is slow. Writes of leader locks fail with it, "
        f"so controller-manager and scheduler may lose their leases.{past}",
        Remediation("Look at etcd's own log and status around those times (leader changes, slow applies, "
                    "heartbeats).", (f"{etcdctl(_config(view), _endpoints(view))} endpoint status -w table",
                                     _logs("etcd"))),
        found, ["etcd requests"])


@rule("CSR_NOT_APPROVED", Category.CERTIFICATES, Severity.WARNING, "Kubelet CSRs not approved",
      f"The controller-manager's CSR approver does not refuse {PERSISTENT_MIN} or more times to approve "
      "node client certificate requests (`subject access review was not approved`).", LOG_ITEMS,
      signatures=("CSR_NOT_APPROVED",))
def csr_not_approved(view: ClusterView) -> Iterator[Finding]:
    found = [f for f in view.logs.select("CSR_NOT_APPROVED") if f.count >= PERSISTENT_MIN]
    if not found:
        return
    csrs = sorted({t.split(" ")[0] for f in found for t in f.details})
    yield _finding(
        view, csr_not_approved, Severity.WARNING, Category.CERTIFICATES,
        f"{len(csrs) or 'Some'} kubelet certificate request(s) are not auto-approved",
        f"{_summary(found)}: {', '.join(csrs[:8])}. The approver recognised node client CSRs but the "
        "requester is not allowed to have them approved (the ClusterRoleBinding of the bootstrap token "
        "group to system:certificates.k8s.io:certificatesigningrequests:nodeclient is missing): nodes "
        "joining or renewing their client certificate stay without one.",
        Remediation("Bind the bootstrap group to the node-client approval role (kubeadm does this on "
                    "`kubeadm init phase bootstrap-token`), or approve the pending CSRs by hand.",
                    ("kubectl get csr",
                     "kubectl get clusterrolebinding -o wide | grep -E 'nodeclient|bootstrap'",
                     "kubeadm init phase bootstrap-token",
                     "# for each pending request: kubectl certificate approve CSR_NAME")),
        found, [f"csr/{c}" for c in csrs] or ["csr"])


@rule("APISERVER_BIND_ADDRESS_IN_USE", Category.APISERVER, Severity.CRITICAL,
      "API server cannot bind its port",
      "The API server's log has no `bind: address already in use` on 6443.",
      LOG_ITEMS,
      signatures=("APISERVER_BIND_IN_USE",))
def bind_in_use(view: ClusterView) -> Iterator[Finding]:
    for facts in _by(view.logs.select(*bind_in_use.signatures)):
        node = facts[0].node
        yield _finding(
            view, bind_in_use, Severity.CRITICAL, Category.APISERVER,
            "API server cannot listen on 6443: address already in use",
            f"{_summary(facts)}: another process holds :6443 (a second kube-apiserver left from an old "
            "container or a manually started one, or a load balancer such as haproxy bound to 6443 on this "
            "control-plane node). The API server exits at once and the kubelet keeps restarting it.",
            Remediation("Find the process that holds 6443 and stop it (or move the load balancer to another "
                        "port), then let the kubelet restart the API server.",
                        (comment(f"on {node}"), "ss -ltnp 'sport = :6443'",
                         "crictl ps -a --name kube-apiserver",
                         restart_static_pod("kube-apiserver"))), facts, [":6443"])


@rule("ETCD_SLOW_DISK", Category.ETCD, Severity.ERROR, "etcd disk too slow",
      f"etcd's log has no `slow fdatasync` or `failed to send out heartbeat on time`, no request or apply "
      f"taking {SLOW_WARN:g} s or more, and fewer than {PERSISTENT_SLOW} slow requests (without lost "
      f"quorum). "
      f"A finding is an error when one took {SLOW_ERROR:g} s or more.", LOG_ITEMS,
      signatures=SLOW + ("ETCD_NO_LEADER", "ETCD_LOST_LEADER"))
def slow_disk(view: ClusterView) -> Iterator[Finding]:
    for facts in _by(view.logs.select(*SLOW), component=False):
        node = facts[0].node
        leaderless = view.logs.select("ETCD_NO_LEADER", "ETCD_LOST_LEADER", node=node)
        # stalled linearizable reads say the same as a late heartbeat, unless the leader is gone
        disk = [f for f in facts if f.id in DISK or (f.id == "ETCD_READINDEX_SLOW" and not leaderless)]
        peak = max(f.peak for f in facts)
        count = sum(f.count for f in facts)
        # apply delays under lost quorum are quorum's symptom, not the disk's (field note 5); a short
        # burst of sub-second requests is install-time load
        if not disk and (leaderless or (count < PERSISTENT_SLOW and peak < SLOW_WARN)):
            continue
        # magnitude counts as much as numbers: one 6 s apply is worse than ten 120 ms ones
        severity = (Severity.ERROR if peak >= SLOW_ERROR or sum(f.count for f in disk) >= PERSISTENT_SLOW
                    else Severity.WARNING)
        # a burst of slow applies long over (e.g. members joining during installation) is history
        burst = not disk and all(f.span < BURST for f in facts)
        stopped = _stopped(view, facts) if burst else None
        past = (f" None since {_stamp(stopped)}: a past burst (such as members joining during "
                "installation), not a standing disk problem." if stopped else "")
        names = ", ".join(sorted({f.signature.id for f in facts}))
        yield _finding(
            view, slow_disk, Severity.INFO if stopped else severity, Category.ETCD,
            "etcd's disk is too slow" if not stopped else "etcd applied requests slowly for a while",
            f"{_summary(facts)} ({names}), the slowest {peak:.2f} s. etcd fsyncs its WAL on every write: a "
            "disk slower than ~10 ms per fdatasync delays heartbeats, triggers elections and slows every API "
            f"request.{past}",
            Remediation("Give etcd a fast, dedicated disk (SSD/NVMe; not shared with container images or "
                        "logs) and check what else writes to it. Measure the fsync latency etcd sees.",
                        (comment(f"on {node}"), "iostat -x 1 5",
                         "curl -s http://127.0.0.1:2381/metrics | grep -E "
                         "'etcd_disk_wal_fsync_duration_seconds_(sum|count)'",
                         "fio --rw=write --ioengine=sync --fdatasync=1 --directory=/var/lib/etcd "
                         "--size=22m --bs=2300 --name=etcd-fsync-check")), facts, ["etcd data dir"])


@rule("ETCD_DB_SPACE_EXCEEDED_LOG", Category.ETCD, Severity.CRITICAL, "etcd database space exceeded (log)",
      "No log shows `database space exceeded` or etcd raising the NOSPACE alarm.", LOG_ITEMS,
      signatures=("ETCD_DB_SPACE_EXCEEDED", "ETCD_DB_SPACE_EXCEEDED_CLIENT"))
def space_exceeded(view: ClusterView) -> Iterator[Finding]:
    facts = view.logs.select(*space_exceeded.signatures)
    if not facts:
        return
    ctl = etcdctl(_config(view), _endpoints(view))
    who = ", ".join(sorted({f"{f.component} on {f.node}" for f in facts}))
    yield _finding(
            view, space_exceeded, Severity.CRITICAL, Category.ETCD, "etcd refuses writes: database space "
        "exceeded", f"{_summary(facts)} ({who}). etcd reached its backend quota (default 2 GiB, "
        "--quota-backend-bytes) and raised NOSPACE: every write fails, so leases cannot be renewed and "
        "nothing can be created or updated.",
        Remediation("Compact the history, defragment each member in turn, then disarm the alarm. If the "
                    "data really needs more room, raise --quota-backend-bytes in "
                    "/etc/kubernetes/manifests/etcd.yaml on every member.",
                    (*_reclaim(view), f"{ctl} alarm disarm", f"{ctl} alarm list")), facts, ["NOSPACE"])


@rule("NO_SPACE_LEFT_ON_DEVICE_LOG", Category.NODE, Severity.CRITICAL, "Filesystem full (log)",
      "No log shows `no space left on device`.", LOG_ITEMS,
      signatures=("NO_SPACE_LEFT", "ETCD_WAL_NO_SPACE"))
def no_space_left(view: ClusterView) -> Iterator[Finding]:
    for facts in _by(view.logs.select(*no_space_left.signatures), component=False):
        node = facts[0].node
        who = ", ".join(sorted({f.component for f in facts}))
        yield _finding(
            view, no_space_left, Severity.CRITICAL, Category.NODE,
            f"Writes fail on {node}: no space left on device",
            f"{_summary(facts)} in the logs of {who}. A full filesystem stops etcd writing its WAL and the "
            "kubelet/runtime creating containers.",
            Remediation("Free space on the filesystem that is full (etcd's data dir: /var/lib/etcd; images "
                        "and logs: /var/lib/containerd, /var/log).",
                        (comment(f"on {node}"), "df -h", "du -xh --max-depth=2 /var | sort -h | tail -n 20",
                         "crictl rmi --prune", "journalctl --vacuum-size=500M")), facts, [f"{node}:disk"])


_REASONS = (("expired", "its client certificate has expired (or is not yet valid)"),
            ("unknown authority", "its client certificate is signed by a CA etcd does not trust"),
            ("bad certificate", "the client rejected etcd's server certificate (expired, from a CA it does "
                                "not trust, or not naming the address it dialled)"),
            ("didn't provide a certificate", "it sent no client certificate"),
            ("does not look like a TLS handshake", "it speaks plain HTTP to a TLS port"))


def _reason(text: str) -> str | None:
    for needle, meaning in _REASONS:
        if needle in text:
            return meaning
    return None  # EOF and resets: a client hanging up, not a rejection worth a finding


@rule("ETCD_TLS_REJECTED", Category.ETCD, Severity.ERROR, "etcd rejects clients' TLS connections",
      "etcd's own log has no `rejected connection` for certificate reasons (expired, unknown CA, bad or "
      "missing certificate, plain HTTP).", LOG_ITEMS,
      signatures=("ETCD_REJECTED_CONNECTION",), also=(Category.CONNECTIVITY,))
def etcd_rejected(view: ClusterView) -> Iterator[Finding]:
    for facts in _by(view.logs.select("ETCD_REJECTED_CONNECTION", components=("etcd", "unknown"))):
        who: dict[str, int] = {}
        for fact in facts:
            for text, n in fact.details.items():
                peer, _, error = text.partition(" ")
                meaning = _reason(error)
                if meaning:
                    key = f"{peer}: {meaning}"
                    who[key] = who.get(key, 0) + n
        scanners = {k: n for k, n in who.items() if _is_public(k.partition(": ")[0])}
        if scanners:
            yield _exposed(view, facts, scanners)
        who = {k: n for k, n in who.items() if k not in scanners}
        if not who:
            continue
        listing = "; ".join(f"{k} ({n}x)" for k, n in sorted(who.items(), key=lambda kv: -kv[1]))
        local = any(k.startswith("127.0.0.1") and "expired" in k for k in who)
        note = (" A rejection from 127.0.0.1 for an expired certificate can also mean etcd's own server "
                "certificate expired: etcd's gateway dials itself with server.crt." if local else "")
        yield _finding(
            view, etcd_rejected, Severity.ERROR, Category.ETCD, "etcd rejects clients' TLS connections",
            f"{_summary(facts)}. Rejected: {listing}.{note}",
            Remediation("Give the rejected client a certificate signed by etcd's CA "
                        "(/etc/kubernetes/pki/etcd/ca.crt) and within its validity; for kubeadm, renew the "
                        "etcd and API server client certificates and restart the static pods that use them.",
                        (comment(f"on {facts[0].node}"), "kubeadm certs check-expiration",
                         "openssl verify -CAfile /etc/kubernetes/pki/etcd/ca.crt "
                         "/etc/kubernetes/pki/apiserver-etcd-client.crt /etc/kubernetes/pki/etcd/server.crt",
                         "kubeadm certs renew apiserver-etcd-client", "kubeadm certs renew etcd-server",
                         restart_static_pod("etcd"), restart_static_pod("kube-apiserver"))),
            facts, sorted(who))


def _is_public(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_global
    except ValueError:
        return False


def _exposed(view: ClusterView, facts: list[LogSignatureFact], scanners: dict[str, int]) -> Finding:
    """Rejections of internet addresses: no cluster client, but scanners reaching etcd's ports."""
    listing = "; ".join(f"{k} ({n}x)" for k, n in sorted(scanners.items(), key=lambda kv: -kv[1])[:8])
    peers = sorted({k.partition(": ")[0] for k in scanners})
    return _finding(
        view, etcd_rejected, Severity.WARNING, Category.CONNECTIVITY,
        f"etcd's ports are reachable from the internet ({len(peers)} public address(es) rejected)",
        f"{_summary(facts)}. Rejected public addresses: {listing}. No cluster member or API server connects "
        "from there: these are internet scanners reaching etcd's client or peer port. etcd refused them, "
        "but the port must not be exposed.",
        Remediation("Allow 2379/2380 only from the control-plane nodes (and the API servers) in the "
                    "host firewall or the cloud security group.",
                    (f"# on {facts[0].node}", "iptables -S INPUT | grep -E '2379|2380'",
                     "ss -ltnp | grep -E ':2379|:2380'")),
        facts, [f"{facts[0].node}:etcd exposed"])


@rule("LEADER_ELECTION_LOST", Category.CONTROLLER_MANAGER, Severity.ERROR,
      "Leader election lost (controller-manager, scheduler)",
      "No controller-manager or scheduler log shows `leaderelection lost`, `lost master` or `failed to renew "
      "lease` (findings carry the component's own category; a lease acquired again afterwards makes it a "
      "warning: recovered).", LOG_ITEMS,
      signatures=("LEADER_ELECTION_LOST", "LEASE_RENEW_FAILED", "LEASE_RENEW_TIMEOUT", "RESOURCE_LOCK_ERROR",
                  "LEASE_ACQUIRED"),
      also=(Category.SCHEDULER, Category.APISERVER, Category.ETCD))
def leader_lost(view: ClusterView) -> Iterator[Finding]:
    found = view.logs.select("LEADER_ELECTION_LOST", "LEASE_RENEW_FAILED", "LEASE_RENEW_TIMEOUT")
    for facts in _by([f for f in found if f.component != "etcd"]):
        component = facts[0].component
        lease = LEASES.get(component, component)
        locks = view.logs.select("RESOURCE_LOCK_ERROR", node=facts[0].node, components=(component,))
        recovered = all(_recovered(view, f) for f in facts) and _stopped(view, facts)
        past = (f" It acquired its lease again afterwards and has not lost it since {_stamp(recovered)}: "
                "resolved before collection." if recovered else "")
        yield _finding(
            view, leader_lost, Severity.ERROR, CATEGORY.get(component, Category.CONTROLLER_MANAGER),
            f"{component} lost its leader lease",
            f"{_summary(facts)}; {sum(f.count for f in locks)} lease read/update error(s). It could not "
            "renew its lease through the API server in time (API server down or slow, etcd slow or without "
            "leader), so it exited; the kubelet restarts it. Look at why the API server was unavailable "
            f"at that time.{past}",
            Remediation("The component recovers by itself once the API server answers promptly; fix the API "
                        "server / etcd problem first, then check the lease is renewed again.",
                        (f"kubectl -n kube-system get lease {quote(lease)} -o yaml",
                         "kubectl get --raw='/readyz?verbose'", comment(f"on {facts[0].node}"),
                         _logs(component))),
            facts + locks, [component], recovery=("LEASE_ACQUIRED",))


def _recovered(view: ClusterView, fact: LogSignatureFact,
               signs: tuple[str, ...] = ("LEASE_ACQUIRED",)) -> bool:
    """The component showed a sign of working (by default: it acquired its lease) after the last error:
    a startup race, not a standing problem."""
    later = view.logs.select(*signs, node=fact.node, components=(fact.component,))
    return any(a.last_seen and fact.last_seen and a.last_seen >= fact.last_seen for a in later)


#: signs that a component's API calls are authorised again: it became leader, or its informers' lists
#: succeeded (the API server's authorizer denies everything for a moment while it starts)
AUTHORISED = ("LEASE_ACQUIRED", "INFORMER_CACHES_SYNCED")


@rule("RBAC_ERRORS_PERSISTENT", Category.CONTROLLER_MANAGER, Severity.ERROR,
      "Persistent RBAC / authentication errors",
      f"No component logs `is forbidden: User ... cannot` or `Unable to authenticate the request` at least "
      f"{PERSISTENT_MIN} times without recovering (acquiring its lease, or its informers' caches syncing) "
      "afterwards; forbidden lists at start-up followed by synced caches or an acquired lease are normal.",
      LOG_ITEMS,
      signatures=("RBAC_FORBIDDEN", "AUTHN_FAILED", "AUTHN_CERT_EXPIRED", *AUTHORISED),
      also=(Category.SCHEDULER, Category.APISERVER, Category.ETCD))
def rbac(view: ClusterView) -> Iterator[Finding]:
    for facts in _by(view.logs.select("RBAC_FORBIDDEN", "AUTHN_FAILED", "AUTHN_CERT_EXPIRED")):
        # the API server's own informers syncing says nothing about the clients it fails to authenticate
        lasting = [f for f in facts if f.count >= PERSISTENT_MIN
                   and not _recovered(view, f, AUTHORISED if f.id == "RBAC_FORBIDDEN" else AUTHORISED[:1])]
        if not lasting:
            continue
        component = facts[0].component
        stopped = _stopped(view, lasting)
        authn = any(f.id in ("AUTHN_FAILED", "AUTHN_CERT_EXPIRED") for f in lasting)
        commands = [comment(f"on {facts[0].node}"), "kubeadm certs check-expiration"]
        if any(f.id == "RBAC_FORBIDDEN" for f in lasting):
            commands += [f"kubectl auth can-i --list --as {quote('system:' + component)}",
                         f"kubectl get clusterrolebinding {quote('system:' + component)} -o yaml",
                         "grep -A3 'users:' "
                         + quote("/etc/kubernetes/" + component.removeprefix("kube-") + ".conf")]
        yield _finding(
            view, rbac, Severity.WARNING if stopped else Severity.ERROR,
            CATEGORY.get(component, Category.CONTROLLER_MANAGER),
            f"{component}: persistent {'authentication' if authn else 'RBAC'} errors",
            f"{_summary(lasting)}: {_top(lasting)}. "
            + ("Clients present credentials the API server rejects (often an expired client certificate "
               "in a kubeconfig)." if authn else
               "The component's identity lacks permissions it needs: its kubeconfig uses the wrong user, or "
               "the default system:* ClusterRoleBindings were changed.")
            + (f" None since {_stamp(stopped)}: resolved before collection." if stopped else ""),
            Remediation("Check the identity in the component's kubeconfig and its bindings; renew expired "
                        "client certificates with `kubeadm certs renew` and restart the static pod.",
                        tuple(commands)), lasting, [component])


@rule("SCHEDULER_CONFIG_INVALID", Category.SCHEDULER, Severity.CRITICAL, "Scheduler configuration invalid",
      "The scheduler's log has no `no kind ... is registered for version` (an unknown config API version).",
      LOG_ITEMS,
      signatures=("SCHEDULER_CONFIG_NOT_REGISTERED",))
def scheduler_config(view: ClusterView) -> Iterator[Finding]:
    for facts in _by(view.logs.select(*scheduler_config.signatures), component=False):
        node = facts[0].node
        # the manifest line that names the file: what to fix, next to the log saying it is wrong
        passing = [c for c in view.components
                   if c.node == node and c.component == "kube-scheduler" and c.flags.get("config")]
        files = sorted({c.flags["config"] for c in passing})
        what = f"The apiVersion in {', '.join(files)}" if files else "The file's apiVersion"
        finding = _finding(
            view, scheduler_config, Severity.CRITICAL, Category.SCHEDULER,
            "kube-scheduler rejects its --config file",
            f"{_summary(facts)}: {_top(facts)}. {what} is not one this release knows "
            "(kubescheduler.config.k8s.io/v1 since 1.25; v1beta1 removed in 1.23, v1beta2 in 1.28, v1beta3 "
            "in 1.29), so the scheduler exits at start and no pod is scheduled.",
            Remediation("Rewrite the --config file for this version (apiVersion: "
                        "kubescheduler.config.k8s.io/v1, kind: KubeSchedulerConfiguration), then restart the "
                        "scheduler.",
                        (comment(f"on {node}"),
                         *([f"grep -n apiVersion {quote(f)}" for f in files]
                           or ["grep -n -- '--config' /etc/kubernetes/manifests/kube-scheduler.yaml"]),
                         "kube-scheduler --version", restart_static_pod("kube-scheduler"))),
            facts, [f"kube-scheduler --config={f}" for f in files] or ["kube-scheduler --config"])
        finding.evidence.extend(c.evidence("config") for c in passing)
        yield finding


_TARGET = re.compile(r"(?:https?://|dial tcp |\{)\[?([\w.:-]+?)\]?:(\d+)")


@rule("X509_ERRORS_BETWEEN_COMPONENTS", Category.CONNECTIVITY, Severity.ERROR,
      "x509 errors between components",
      "No component logs lasting x509 errors (expired, unknown authority, wrong name) talking to another "
      "(the API server to etcd and etcd's own rejections have their own rules).", LOG_ITEMS,
      signatures=("X509_ERROR", "X509_EXPIRED", "X509_UNKNOWN_AUTHORITY", "X509_NAME_MISMATCH",
                  "X509_VALID_FOR_OTHER_NAMES"))
def x509(view: ClusterView) -> Iterator[Finding]:
    for facts in _by(view.logs.select(*x509.signatures)):
        if not _lasting(view, facts) and sum(f.count for f in facts) < PERSISTENT_MIN:
            continue
        stopped = _stopped(view, facts)
        component = facts[0].component
        targets = {f"{m.group(1)}:{m.group(2)}" for f in facts for e in f.examples
                   for m in [_TARGET.search(e.excerpt)] if m}
        peer = f" talking to {', '.join(sorted(targets))}" if targets else ""
        past = f" None since {_stamp(stopped)}: resolved before collection." if stopped else ""
        yield _finding(
            view, x509, Severity.WARNING if stopped else Severity.ERROR, Category.CONNECTIVITY,
            f"{component}: x509 errors{peer}",
            f"{_summary(facts)} in {component}'s log{peer}: {_top(facts)}. One side's certificate is "
            f"expired, signed by a CA the other does not trust, or does not name the address used.{past}",
            Remediation("Check both sides' certificates against the CA and the names/addresses used; renew "
                        "expired kubeadm certificates and restart the static pods that load them.",
                        (comment(f"on {facts[0].node}"), "kubeadm certs check-expiration",
                         "openssl x509 -noout -subject -issuer -enddate -ext subjectAltName -in "
                         "/etc/kubernetes/pki/apiserver.crt")),
            facts, [f"{component}->{t}" for t in sorted(targets)] or [component])


@rule("TLS_HANDSHAKE_ERRORS", Category.CONNECTIVITY, Severity.WARNING, "Repeated TLS handshake errors",
      "No component logs 5 or more TLS handshake failures other than clients hanging up (EOF, e.g. load "
      "balancer TCP health checks).", LOG_ITEMS,
      signatures=("TLS_HANDSHAKE_ERROR",))
def handshakes(view: ClusterView) -> Iterator[Finding]:
    for facts in _by(view.logs.select(*handshakes.signatures)):
        failing = {t: n for f in facts for t, n in f.details.items() if not t.rstrip().endswith("EOF")}
        undetailed = sum(f.count for f in facts) - sum(n for f in facts for n in f.details.values())
        if sum(failing.values()) + undetailed < 5:
            continue
        component = facts[0].component
        yield _finding(
            view, handshakes, Severity.WARNING, Category.CONNECTIVITY,
            f"{component}: clients fail the TLS handshake",
            f"{_summary(facts)}: {_top(facts)}. A client does not trust this server's certificate "
            "(`remote error: tls: bad certificate`), presents a bad one, or speaks plain HTTP.",
            Remediation("Find the client by its address and check which CA it trusts and which certificate "
                        "it sends.", (comment(f"on {facts[0].node}"), "ss -tnp | grep -E ':6443|:2379'",
                                      "kubeadm certs check-expiration")), facts, [component])


@rule("CONTROL_PLANE_CONNECTION_REFUSED", Category.CONNECTIVITY, Severity.ERROR,
      "Control-plane port refuses connections",
      "No component logs lasting `connection refused` to 6443, 2379-2380, 10250, 10257 or 10259.", LOG_ITEMS,
      signatures=("CONTROL_PLANE_REFUSED", "APISERVER_REFUSED", "ETCD_PEER_REFUSED"))
def refused(view: ClusterView) -> Iterator[Finding]:
    for facts in _by(view.logs.select(*refused.signatures)):
        if not _lasting(view, facts) and sum(f.count for f in facts) < PERSISTENT_MIN:
            continue
        component = facts[0].component
        targets = sorted({t.replace(" ", ":") for f in facts for t in f.details})
        stopped = _stopped(view, facts)
        # a client whose caches synced or lease was acquired afterwards reached its server again
        recovered = None if stopped else episode(view, facts, AUTHORISED).recovered
        past = (f" It stopped at {_stamp(stopped)} while {component} went on: the target came back (a "
                "restart), resolved before collection." if stopped else
                f" {component} reached its server again at {_stamp(recovered)} (caches synced or lease "
                "acquired): this is history, not the present state." if recovered else "")
        yield _finding(
            view, refused, Severity.WARNING if stopped or recovered else Severity.ERROR,
            Category.CONNECTIVITY,
            f"{component}: connection refused to {', '.join(targets) or 'a control-plane port'}",
            f"{_summary(facts)} in {component}'s log. Nothing listens there (the component serving it is "
            "down or restarting) or a firewall REJECT rule answers (a DROP rule shows timeouts "
            f"instead).{past}",
            Remediation("Check that the target component runs and listens, then the firewall on its node.",
                        (comment(f"on {facts[0].node}"),
                         "ss -ltnp | grep -E ':6443|:2379|:2380|:10250|:10257|:10259'",
                         "crictl ps -a", "iptables-save | grep -E 'REJECT|DROP'")),
            facts, [f"{component}->{t}" for t in targets] or [component])


@rule("ETCD_LEADER_CHURN", Category.ETCD, Severity.WARNING, "etcd leader changes often",
      "etcd's log shows fewer than 3 leader losses per member.", LOG_ITEMS,
      signatures=("ETCD_LOST_LEADER", "ETCD_ELECTED_LEADER"))
def churn(view: ClusterView) -> Iterator[Finding]:
    # one finding for the cluster: every member sees the same elections
    churning = [facts for facts in _by(view.logs.select("ETCD_LOST_LEADER"))
                if sum(f.count for f in facts) >= 3]
    if not churning:
        return
    lost = [f for facts in churning for f in facts]
    nodes = sorted({f.node for f in lost})
    elected = [f for node in nodes for f in view.logs.select("ETCD_ELECTED_LEADER", node=node)]
    yield _finding(
            view, churn, Severity.WARNING, Category.ETCD, "etcd keeps losing its leader",
        f"{_summary(lost)} of `lost leader` on {', '.join(nodes)}, {sum(f.count for f in elected)} "
        "election(s) won. Frequent elections stall writes: look for slow disks, an overloaded node, or a "
        "flaky network between members.",
        Remediation("Check disk latency and the network between members; raise --heartbeat-interval / "
                    "--election-timeout only for high-latency links.",
                    (*(comment(f"on {node}: {_logs('etcd')}") for node in nodes),
                     f"{etcdctl(_config(view, nodes[0]), _endpoints(view))} endpoint status -w table")),
        lost + elected, ["etcd leader"])


@rule("ETCD_CORRUPTION_LOG", Category.ETCD, Severity.CRITICAL, "etcd data corruption (log)",
      "etcd's log has no WAL CRC mismatch, bbolt page panic, CORRUPT alarm or data inconsistency.", LOG_ITEMS,
      signatures=("ETCD_CORRUPTION", "ETCD_MVCC_PANIC", "ETCD_SNAPSHOT_RECOVERY_FAILED"))
def corruption(view: ClusterView) -> Iterator[Finding]:
    for facts in _by(view.logs.select(*corruption.signatures), component=False):
        node = facts[0].node
        yield _finding(
            view, corruption, Severity.CRITICAL, Category.ETCD, f"etcd data on {node} is corrupted",
            f"{_summary(facts)}: {facts[0].examples[0].excerpt[:200] if facts[0].examples else ''}. "
            "A member with corrupt data must not rejoin as is.",
            Remediation("With quorum intact, replace the member: remove it, wipe its data dir, add it back "
                        "(it resyncs from the leader). Without quorum, restore every member from one "
                        "snapshot (`etcdutl snapshot restore` on 3.5+, `etcdctl snapshot restore` on 3.4).",
                        (f"{etcdctl(_config(view), _endpoints(view))} member list -w table",
                         comment(f"on {node}"), "mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/",
                         "mv /var/lib/etcd /var/lib/etcd.corrupt")), facts, [f"{node}:etcd data"])
