"""etcd rules: reachability, health, leader, NOSPACE and quota, raft and membership; quorum (HA).

Client-side, etcdctl reports `context deadline exceeded` for nearly every failure (wrong CA, rejected
client certificate, firewall, etcd down); the gRPC warning it logs on stderr says more, and members
are judged down only on all nodes' evidence together (facts/etcd.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ..facts import ClusterView
from ..facts.containers import RUNTIME_ITEMS
from ..facts.etcd import (
    ETCDCTL_ITEMS,
    QUOTA_DEFAULT,
    STATUS_ITEMS,
    EtcdConfig,
    MemberState,
    NodeEtcd,
    StatusFact,
)
from ..findings import Category, Evidence, Finding, Remediation, Severity
from ..parsers.etcdctl import host_port
from . import REGISTRY, rule
from .apiserver import RECENT, RESTARTS, RUNTIME_CHECK, crashloop_findings
from .certificates import restart_static_pod
from .shell import comment, quote

NEAR_QUOTA = 0.80
AT_QUOTA = 0.95
#: etcd refuses proposals ("too many requests") once committed - applied passes 5000 entries
APPLY_GAP = 5000
#: a follower this far behind the leader's index needs a snapshot to catch up (snapshot-catchup-entries)
INDEX_GAP = 5000
KUBEADM_TLS = ("/etc/kubernetes/pki/etcd/ca.crt", "/etc/kubernetes/pki/etcd/server.crt",
               "/etc/kubernetes/pki/etcd/server.key")
ETCD_CONTAINER = "$(crictl ps -a --name etcd -q | head -n 1)"
ON_HOST = ("etcdctl ships in the etcd image: where it is not installed on the host, run it as "
           "`crictl exec $(crictl ps -q --name etcd) etcdctl ...`.")


def _gib(size: int) -> str:
    return f"{size / 1024**3:.2f} GiB" if size >= 1024**3 else f"{size / 1024**2:.1f} MiB"


def etcdctl(config: EtcdConfig | None, endpoints: Iterable[str]) -> str:
    """An etcdctl command prefix with this node's etcd TLS files (kubeadm's paths when unknown)."""
    ca, cert, key = ((config.cacert, config.cert, config.key) if config and config.cert else KUBEADM_TLS)
    return (f"ETCDCTL_API=3 etcdctl --endpoints={quote(','.join(endpoints))} --cacert={quote(ca)} "
            f"--cert={quote(cert)} --key={quote(key)}")


def _endpoints(view: ClusterView) -> list[str]:
    urls = [m.client_urls[0] for m in view.etcd.members() if m.client_urls]
    urls = urls or list(dict.fromkeys(s.status.endpoint for n in view.etcd.nodes for s in n.statuses))
    return urls or [u for c in view.etcd.configs() for u in c.client_urls[:1]] or ["https://127.0.0.1:2379"]


def _config(view: ClusterView, node: str | None = None) -> EtcdConfig | None:
    """The etcd settings of `node` (else of any node). Without an etcd static pod manifest (k3s,
    RKE2, external etcd), the TLS files the collector's own etcdctl ran with: the commands we
    suggest then use the distribution's paths, not kubeadm's."""
    configs = view.etcd.configs()
    if configs:
        return next((c for c in configs if c.node == node), configs[0])
    runs = [r for n in view.etcd.nodes if n.node == node or node is None for r in n.runs
            if r.flags.get("cert") and r.flags.get("key")]
    if not runs:
        return None
    run = runs[0]
    return EtcdConfig(run.evidence.node, "", "", (), (), "", run.flags.get("cacert", ""), run.flags["cert"],
                      run.flags["key"], QUOTA_DEFAULT, False, None, run.evidence)


def _container_checks(node: str) -> tuple[str, ...]:
    return (comment(f"on {node}"), "crictl ps -a --name etcd", f"crictl logs --tail 100 {ETCD_CONTAINER}")


def _finding(rule_id: str, severity: Severity, category: Category, title: str, detail: str,
             remediation: Remediation, evidence: Iterable[Evidence], objects: Iterable[str]) -> Finding:
    cited = list(dict.fromkeys(evidence))
    return REGISTRY[rule_id].finding(severity=severity, category=category, title=title, detail=detail,
                   remediation=remediation, evidence=cited, nodes=sorted({e.node for e in cited}),
                   objects=sorted(set(objects)))


# -- reachability and health -------------------------------------------------------------------------
def _tls_advice(cause: str, run_flags: dict[str, str], config: EtcdConfig | None) -> tuple[str, list[str]]:
    """What a TLS cause means and how to check it, by which side refused whom."""
    ca = run_flags.get("cacert") or (config.cacert if config else KUBEADM_TLS[0])
    client = run_flags.get("cert") or KUBEADM_TLS[1]
    server = config.cert if config and config.cert else KUBEADM_TLS[1]
    if "authentication handshake failed" in cause:
        return (f"etcdctl rejected etcd's server certificate ({cause}). Check the server certificate's "
                f"dates and that {ca} signed it; an expired one is renewed with `kubeadm certs renew "
                f"etcd-server`, then etcd restarted.",
                [f"openssl x509 -noout -subject -issuer -dates -in {quote(server)}",
                 f"openssl verify -CAfile {quote(ca)} {quote(server)}",
                 "kubeadm certs renew etcd-server", restart_static_pod("etcd")])
    return (f"etcd closed the connection during the handshake ({cause}): it rejected the client "
            f"certificate {client}. Check that the etcd CA signed it and that it has not expired "
            f"(etcd's log says `rejected connection ... tls:` with the reason).",
            [f"openssl verify -CAfile {quote(ca)} {quote(client)}",
             f"openssl x509 -noout -subject -issuer -dates -in {quote(client)}",
             f"crictl logs {ETCD_CONTAINER} 2>&1 | grep -E 'rejected connection|tls:' | tail -n 5"])


def _why(node: NodeEtcd, endpoints: Iterable[str]) -> tuple[str, str, list[Evidence]]:
    """(cause text, cause kind, evidence) of the most specific warning about these endpoints."""
    causes = [c for c in (node.cause_for(e) for e in endpoints) if c]
    causes.sort(key=lambda c: c.kind == "timeout")
    if not causes:
        return "", "timeout", []
    return causes[0].text, causes[0].kind, [causes[0].evidence]


@rule("ETCD_UNREACHABLE", Category.ETCD, Severity.ERROR, "The collector's etcdctl could not reach etcd",
      "On each node, at least one etcdctl command got an answer from etcd.", ETCDCTL_ITEMS)
def unreachable(view: ClusterView) -> Iterator[Finding]:
    corroborated = _misses(view)
    for node in view.etcd.nodes:
        if not node.runs or node.reached:
            continue
        endpoints = sorted({e for r in node.runs for e in r.flags.get("endpoints", "").split(",") if e})
        if endpoints and all(host_port(e) in corroborated for e in endpoints):
            continue  # other nodes see the same endpoint fail: ETCD_ENDPOINT_UNHEALTHY cites this node too
        cause, kind, cited = _why(node, [*endpoints, *(w.target for w, _ in node.warnings)])
        config, flags = node.config, node.runs[0].flags
        errors = sorted({r.error or ("timed out" if r.timed_out else f"exit code {r.exit_code}")
                         for r in node.runs})
        ctl = etcdctl(config, endpoints)
        commands = list(_container_checks(node.node))
        if kind == "refused":
            advice = ("Nothing listens on the etcd client port: etcd is not running or listens elsewhere. "
                      "Its "
                      "container state and last log lines say why; restart it through its manifest once "
                      "fixed.")
            commands += ["ss -ltnp | grep -E ':2379|:2380'", restart_static_pod("etcd")]
        elif kind in ("tls", "rejected"):
            advice, more = _tls_advice(cause, flags, config)
            commands += more
        else:
            advice = ("Only timeouts came back: etcd's own log says whether it rejected the client "
                      "(`rejected connection ... tls:`), and a firewall DROP on 2379 looks the same from "
                      "here.")
            commands += [f"crictl logs {ETCD_CONTAINER} 2>&1 | grep -E 'rejected connection|tls:' | tail -n "
                         "5",
                         "iptables -S | grep -E '2379|2380'"]
        commands.append(f"{ctl} endpoint health")
        why = f" etcdctl's gRPC warning says: {cause}." if cause else ""
        yield _finding(
            "ETCD_UNREACHABLE", Severity.ERROR, Category.ETCD, f"etcdctl on {node.node} could not reach etcd",
            f"Every etcdctl command the collector ran on {node.node} against "
            f"{', '.join(endpoints) or 'etcd'} "
            f"failed ({'; '.join(errors)}).{why} etcdctl reports `context deadline exceeded` for nearly "
            "every "
            f"cause (wrong CA, rejected or expired client certificate, firewall, etcd down), so the error "
            "alone "
            f"does not say which.",
            Remediation(advice, tuple(commands)), [*(r.evidence for r in node.runs), *cited], endpoints)


@dataclass(frozen=True)
class _Miss:
    node: NodeEtcd
    endpoint: str
    error: str
    evidence: Evidence


def _local_socket(view: ClusterView, endpoint: str, healthy: set[str]) -> bool:
    """A member's unix socket (OpenShift advertises `unixs://<ip>:0`) answers only on the member's own
    host: etcdctl elsewhere times out on it while the member's network endpoint is healthy."""
    member = view.etcd.member_of(endpoint) if endpoint.startswith(("unix://", "unixs://")) else None
    return member is not None and any(host_port(u) in healthy for u in member.client_urls)


def _misses(view: ClusterView) -> dict[str, list[_Miss]]:
    """Failed endpoints (by host:port) no node saw healthy, as reported by nodes whose etcdctl reaches
    etcd, plus what unreaching nodes said about the same endpoints (they corroborate, not accuse)."""
    healthy = {host_port(h.endpoint) for n in view.etcd.nodes for h in n.health if h.healthy}
    out: dict[str, list[_Miss]] = {}
    for node in sorted(view.etcd.nodes, key=lambda n: not n.reached):
        misses = [_Miss(node, h.endpoint, h.error, h.evidence) for h in node.health if not h.healthy]
        misses += [_Miss(node, f.endpoint, f.error, f.evidence) for f in node.failures]
        for miss in misses:
            target = host_port(miss.endpoint)
            if _local_socket(view, miss.endpoint, healthy):
                continue
            if target not in healthy and (node.reached or target in out):
                out.setdefault(target, []).append(miss)
    return out


@rule("ETCD_ENDPOINT_UNHEALTHY", Category.ETCD, Severity.ERROR, "etcd endpoint unhealthy",
      "Every etcd endpoint commits a health proposal (`endpoint health`) or answers `endpoint status`, "
      "as seen from a node whose etcdctl reaches etcd (or, API v2, `cluster-health` finds it healthy).",
      ("etcd.endpoint_health", *STATUS_ITEMS, "etcd.cluster_health"))
def endpoint_unhealthy(view: ClusterView) -> Iterator[Finding]:
    answering = {host_port(s.status.endpoint) for n in view.etcd.nodes for s in n.statuses}
    for target, seen in sorted(_misses(view).items()):
        endpoint = seen[0].endpoint
        member = view.etcd.member_of(endpoint)
        name = member.name if member and member.name else target
        host = view.etcd.node_of(member) if member else None
        cause, kind, cited = _why(seen[0].node, [endpoint])
        detail = (f"{endpoint} (member {name}) failed from {', '.join(sorted({m.node.node for m in seen}))}: "
                  f"{'; '.join(sorted({m.error for m in seen}))}.")
        if cause:
            detail += f" etcdctl's gRPC warning says: {cause}."
        config = _config(view, host)
        commands = [*_container_checks(host or f"the node running member {name}"),
                    f"{etcdctl(config, [endpoint])} endpoint status -w table"]
        if target in answering:
            detail += (" It still answers `endpoint status`: it runs but cannot commit a proposal, so it is "
                       "cut off from the leader (peer port 2380 blocked, a network partition) or the "
                       "cluster has no quorum.")
            advice = ("Restarting it rarely helps: check its peer connectivity and firewall on 2379-2380, "
                      "and the quorum findings.")
            commands += ["iptables -S | grep -E '2379|2380'",
                         f"crictl logs {ETCD_CONTAINER} 2>&1 | grep -E 'lost leader|failed to reach the peer|"
                         f"is starting a new election' | tail -n 20"]
        elif kind in ("tls", "rejected"):
            runs = seen[0].node.runs
            advice, more = _tls_advice(cause, runs[0].flags if runs else {}, config)
            commands += more
        else:
            advice = (f"Look at member {name}'s etcd container on {host or 'its node'}: its state and last "
                      f"log lines say why it does not answer; restart it through its manifest once fixed.")
            commands.append(restart_static_pod("etcd"))
        yield _finding("ETCD_ENDPOINT_UNHEALTHY", Severity.ERROR, Category.ETCD,
                       f"etcd endpoint {endpoint} ({name}) is unhealthy", detail,
                       Remediation(f"{advice} {ON_HOST}", tuple(commands)),
                       [*(m.evidence for m in seen), *cited], [endpoint])


@rule("ETCD_CRASHLOOP", Category.ETCD, Severity.CRITICAL, "etcd crash-looping",
      "No etcd container waits in CrashLoopBackOff (or another start failure) or restarted "
      f"{RESTARTS}+ times with the last exit within {RECENT.seconds // 3600} h of collection. "
      + RUNTIME_CHECK,
      ("k8s.pods",) + RUNTIME_ITEMS)
def etcd_crashloop(view: ClusterView) -> Iterator[Finding]:
    yield from crashloop_findings(view, "ETCD_CRASHLOOP", "etcd", Severity.ERROR)


@rule("ETCD_NO_LEADER", Category.ETCD, Severity.CRITICAL, "etcd has no leader",
      "No member reports `etcdserver: no leader` or a missing leader in `endpoint status`.", STATUS_ITEMS)
def no_leader(view: ClusterView) -> Iterator[Finding]:
    leaderless = [s for n in view.etcd.nodes for s in n.statuses
                  if s.status.leader_id == 0 or any("no leader" in e for e in s.status.errors)]
    if not leaderless:
        return
    terms = sorted({s.status.raft_term for s in leaderless if s.status.raft_term is not None})
    endpoints = sorted({s.status.endpoint for s in leaderless})
    config = _config(view)
    yield _finding(
        "ETCD_NO_LEADER", Severity.CRITICAL, Category.ETCD, "etcd has no leader: it accepts no writes",
        f"{', '.join(endpoints)} answered `endpoint status` without a leader (raft term "
        f"{', '.join(map(str, terms)) or 'unknown'}). Without a leader etcd serves no linearizable read and "
        f"no write: the API server times out. A leader needs a quorum of members that reach each other on "
        f"the peer port (2380).",
        Remediation("Bring back the members that are down (see the quorum findings), then check that members "
                    f"reach each other on 2380 and what etcd logs about elections. {ON_HOST}",
                    (f"{etcdctl(config, _endpoints(view))} endpoint status -w table",
                     f"crictl logs {ETCD_CONTAINER} 2>&1 | grep -E 'lost leader|elected leader|"
                     f"is starting a new election|failed to reach the peer' | tail -n 20",
                     "ss -ltnp | grep -E ':2379|:2380'")),
        [s.evidence for s in leaderless], endpoints)


# -- space ------------------------------------------------------------------------------------------------
def _reclaim(view: ClusterView) -> list[str]:
    """Compact to the current revision, then defragment each member in turn (the lab's recovery order)."""
    config = _config(view)
    endpoints = _endpoints(view)
    first = etcdctl(config, endpoints[:1])
    return [
        f"rev=$({first} endpoint status -w json | grep -Eo '\"revision\":[0-9]+' | grep -Eo '[0-9]+' | head "
        "-n 1)",
        f"{first} compaction $rev",
        *(f"{etcdctl(config, [e])} defrag" for e in endpoints),
    ]


@rule("ETCD_NOSPACE_ALARM", Category.ETCD, Severity.CRITICAL, "etcd NOSPACE alarm: writes refused",
      "No NOSPACE alarm is raised (`alarm list`, or the ERRORS column of `endpoint status`). "
      "`endpoint health` stays healthy under NOSPACE in etcd 3.4, so health alone cannot tell.",
      ("etcd.alarm_list", *STATUS_ITEMS))
def nospace(view: ClusterView) -> Iterator[Finding]:
    alarms = [a for n in view.etcd.nodes for a in n.alarms if a.alarm.alarm == "NOSPACE"]
    cited = [a.evidence for a in alarms]
    members = {f"{a.alarm.member_id:x}" for a in alarms}
    sizes: list[str] = []
    for node in view.etcd.nodes:
        for fact in node.statuses:
            if any("alarm:NOSPACE" in e for e in fact.status.errors):
                cited.append(fact.evidence)
                members.add(f"{fact.status.member_id or 0:x}")
                config = _quota(view, fact)
                if fact.status.db_size is not None:
                    sizes.append(f"{fact.status.endpoint} {_gib(fact.status.db_size)} of "
                                 f"{_gib(config.quota_bytes if config else QUOTA_DEFAULT)}")
    if not cited:
        return
    ctl = etcdctl(_config(view), _endpoints(view))
    size = f" (database {', '.join(sizes)})" if sizes else ""
    yield _finding(
        "ETCD_NOSPACE_ALARM", Severity.CRITICAL, Category.ETCD, "etcd raised the NOSPACE alarm: writes "
                                                                "refused",
        f"Member(s) {', '.join(sorted(members))} raised NOSPACE: the database reached its quota{size}. etcd "
        "now "
        f"refuses every write with `etcdserver: mvcc: database space exceeded`, so the API server cannot "
        f"create or update anything. `endpoint health` may still say healthy (etcd 3.4).",
        Remediation(
            "Free space, then disarm: compact the history up to the current revision, defragment every "
            "member "
            "one at a time (defrag blocks the member while it runs), disarm the alarm and check it is gone. "
            "If the data really needs more room, raise --quota-backend-bytes in "
            "/etc/kubernetes/manifests/etcd.yaml on every member (etcd suggests at most 8 GiB). " + ON_HOST,
            (*_reclaim(view), f"{ctl} alarm disarm", f"{ctl} alarm list", f"{ctl} endpoint status -w table")),
        cited, sorted(members))


def _quota(view: ClusterView, fact: StatusFact) -> EtcdConfig | None:
    target = host_port(fact.status.endpoint)
    member = view.etcd.member_of(fact.status.endpoint)
    configs = view.etcd.configs()
    return (next((c for c in configs if target in {host_port(u) for u in c.client_urls}), None)
            or (view.etcd.config_of(member) if member else None)
            or (configs[0] if len({c.quota_bytes for c in configs}) == 1 else None))


@rule("ETCD_DB_NEAR_QUOTA", Category.ETCD, Severity.ERROR, "etcd database near its quota",
      f"Each member's database size stays below {NEAR_QUOTA:.0%} of its --quota-backend-bytes (default "
      f"2 GiB); error from {AT_QUOTA:.0%}.", STATUS_ITEMS)
def near_quota(view: ClusterView) -> Iterator[Finding]:
    largest: dict[str, StatusFact] = {}
    for node in view.etcd.nodes:
        for fact in node.statuses:
            key = str(fact.status.member_id or host_port(fact.status.endpoint))
            if fact.status.db_size is not None and (
                    key not in largest or (largest[key].status.db_size or 0) < fact.status.db_size):
                largest[key] = fact
    for fact in largest.values():
        status, config = fact.status, _quota(view, fact)
        quota = config.quota_bytes if config else QUOTA_DEFAULT
        assert status.db_size is not None
        ratio = status.db_size / quota
        if ratio < NEAR_QUOTA:
            continue
        member = view.etcd.member_of(status.endpoint)
        name = member.name if member and member.name else f"{status.member_id or 0:x}"
        in_use = f", {_gib(status.db_size_in_use)} in use" if status.db_size_in_use is not None else ""
        usage = next((n.data_dir for n in view.etcd.nodes if config and n.node == config.node and n.data_dir),
                     None)
        disk = f" The data dir {usage.path} holds {_gib(usage.kib * 1024)}." if usage else ""
        source = "--quota-backend-bytes" if config and config.quota_set else "the default quota"
        yield _finding(
            "ETCD_DB_NEAR_QUOTA", Severity.ERROR if ratio >= AT_QUOTA else Severity.WARNING, Category.ETCD,
            f"etcd member {name}: database at {ratio:.0%} of its quota",
            f"{status.endpoint} reports a {_gib(status.db_size)} database{in_use}; {source} is "
            f"{_gib(quota)}. "
            f"At the quota etcd raises NOSPACE and refuses writes.{disk} Defragmenting returns the space "
            f"between size and in-use.",
            Remediation("Compact and defragment each member in turn; if the data itself is that large, find "
                        "what fills it and raise --quota-backend-bytes (at most 8 GiB) on every member. "
                        + ON_HOST,
                        tuple(_reclaim(view))),
            [fact.evidence, *([config.evidence] if config else [])], [name])


# -- raft and membership ----------------------------------------------------------------------------
@rule("ETCD_RAFT_DIVERGENCE", Category.ETCD, Severity.ERROR, "etcd members diverge",
      f"In one `endpoint status` run, members agree on the leader, no member's applied index lags its "
      f"committed index by {APPLY_GAP} or more, and no member's index lags another's by {INDEX_GAP} or more.",
      STATUS_ITEMS)
def raft_divergence(view: ClusterView) -> Iterator[Finding]:
    issues: dict[str, tuple[Severity, str, list[Evidence]]] = {}
    for node in view.etcd.nodes:
        runs: dict[str, list[StatusFact]] = {}
        for fact in node.statuses:
            runs.setdefault(fact.run, []).append(fact)
        for facts in runs.values():
            leaders = {f.status.leader_id for f in facts if f.status.leader_id}
            if len(leaders) > 1:
                issues.setdefault("leaders", (Severity.ERROR, "members name different leaders ("
                                  + ", ".join(f"{x:x}" for x in sorted(leaders)) + "): a split cluster",
                                  [f.evidence for f in facts]))
            top = max((f.status.raft_index or 0 for f in facts), default=0)
            for fact in facts:
                s = fact.status
                name = f"{s.member_id or 0:x}"
                if s.raft_index is not None and s.raft_applied_index is not None and \
                        s.raft_index - s.raft_applied_index >= APPLY_GAP:
                    issues.setdefault(f"apply-{name}", (Severity.WARNING, (
                        f"{s.endpoint} applied index {s.raft_applied_index} lags its committed index "
                        f"{s.raft_index}: it applies too slowly (disk) and will refuse requests"),
                        [fact.evidence]))
                if s.raft_index is not None and top - s.raft_index >= INDEX_GAP:
                    issues.setdefault(f"lag-{name}", (Severity.WARNING, (
                        f"{s.endpoint} raft index {s.raft_index} is {top - s.raft_index} behind {top}"),
                        [fact.evidence]))
    for key, (severity, text, cited) in sorted(issues.items()):
        yield _finding(
            "ETCD_RAFT_DIVERGENCE", severity, Category.ETCD, "etcd members diverge", text + ".",
            Remediation("Check the lagging member's disk latency (`slow fdatasync`, `apply request took too "
                        "long` in its log) and its peer connectivity; a member that cannot catch up is "
                        "removed and re-added. " + ON_HOST,
                        (f"{etcdctl(_config(view), _endpoints(view))} endpoint status -w table",
                         f"crictl logs {ETCD_CONTAINER} 2>&1 | grep -E 'slow fdatasync|took too long|"
                         f"failed to send out heartbeat' | tail -n 20")),
            cited, [key])


@rule("ETCD_MEMBER_LIST_MISMATCH", Category.ETCD, Severity.ERROR, "Nodes see different etcd member lists",
      "Every node's `member list` names the same cluster and the same members.", ("etcd.member_list",))
def member_list_mismatch(view: ClusterView) -> Iterator[Finding]:
    lists = view.etcd.member_lists()
    views = {node: (next(n.cluster_id for n in view.etcd.nodes if n.node == node),
                    frozenset((f.member.id, f.member.peer_urls) for f in facts))
             for node, facts in lists.items()}
    if len(set(views.values())) < 2:
        return
    seen = "; ".join(
        f"{node} sees cluster {cluster or 'unknown':x} with "
        + ", ".join(sorted(f.member.name or f.member.hex_id for f in lists[node]))
        for node, (cluster, _) in sorted(views.items()))
    yield _finding(
        "ETCD_MEMBER_LIST_MISMATCH", Severity.ERROR, Category.ETCD, "Nodes see different etcd member lists",
        f"The member lists differ between nodes: {seen}. A different cluster ID means a member was "
        f"initialised as a new cluster of its own; different members mean a stale member or a half-done "
        f"add/remove.",
        Remediation("Compare the lists on each node; remove members that no longer exist (`member remove` "
                    "takes "
                    "the hex ID). A node in another cluster must leave it: `kubeadm reset` on it, then "
                    "`kubeadm join --control-plane` again. " + ON_HOST,
                    (f"{etcdctl(_config(view), _endpoints(view))} member list -w table",)),
        [facts[0].evidence for facts in lists.values()], sorted(lists))


# -- HA: quorum and member count ----------------------------------------------------------------------------
def _quorum(view: ClusterView) -> tuple[int, int, list[MemberState]] | None:
    """(voters, quorum, down members) or None without a member list."""
    voters = {m.id for m in view.etcd.voters()}
    if not voters:
        return None
    states = [s for s in view.etcd.states() if s.member.id in voters]
    return len(voters), len(voters) // 2 + 1, [s for s in states if s.state == "down"]


def _member_list_evidence(view: ClusterView) -> list[Evidence]:
    return [facts[0].evidence for facts in view.etcd.member_lists().values() if facts]


def _bring_back(view: ClusterView, down: list[MemberState]) -> list[str]:
    commands: list[str] = []
    for state in down:
        node = view.etcd.node_of(state.member) or f"the node running member {state.member.name}"
        commands += [*_container_checks(node), restart_static_pod("etcd")]
    return commands


def _restore(view: ClusterView, up: list[MemberState]) -> tuple[str, list[str]]:
    """Restore advice for the version seen: etcdutl from 3.5, etcdctl on 3.4."""
    version = view.etcd.version()
    tool = None if version is None else "etcdutl" if version.minor_key >= (3, 5) else "ETCDCTL_API=3 etcdctl"
    members = [m for m in view.etcd.voters() if m.name and m.peer_urls]
    cluster = quote(",".join(f"{m.name}={m.peer_urls[0]}" for m in members))
    commands: list[str] = []
    if up:
        endpoint = up[0].member.client_urls[:1] or ["https://127.0.0.1:2379"]
        commands.append(f"{etcdctl(_config(view), endpoint)} snapshot save /var/lib/etcd-snapshot.db")
    for member in members:
        config = view.etcd.config_of(member)
        data_dir = config.data_dir if config else "/var/lib/etcd"
        node = view.etcd.node_of(member) or member.name
        commands += [comment(f"on {node}, with the same snapshot copied there"),
                     "mv /etc/kubernetes/manifests/etcd.yaml /etc/kubernetes/",
                     f"{tool or 'etcdutl'} snapshot restore /var/lib/etcd-snapshot.db "
                     f"--name {quote(member.name)} --initial-cluster {cluster} "
                     f"--initial-advertise-peer-urls {quote(member.peer_urls[0])} "
                     f"--data-dir {quote(data_dir + '-restored')}",
                     f"mv {quote(data_dir)} {quote(data_dir + '.broken')} && "
                     f"mv {quote(data_dir + '-restored')} {quote(data_dir)}",
                     "mv /etc/kubernetes/etcd.yaml /etc/kubernetes/manifests/etcd.yaml"]
    which = (f"etcd {version} restores with `{tool.split()[-1]} snapshot restore`" if version and tool else
             "the etcd version is unknown: use `etcdutl snapshot restore` on 3.5+, `etcdctl snapshot "
             "restore` "
             "on 3.4")
    return (f"Only if the members' data is lost: restore one snapshot on every member ({which}; offline, no "
            f"--endpoints or TLS flags). Take it from a surviving member; if `snapshot save` times out, copy "
            f"<data-dir>/member/snap/db instead and add --skip-hash-check to the restore."), commands


@rule("ETCD_QUORUM_LOST", Category.HA, Severity.CRITICAL, "etcd quorum lost",
      "Fewer etcd members are down than the cluster tolerates (floor((N-1)/2)); a member is down when no "
      "node's etcdctl got an answer from it and some node's etcdctl failed to reach it.",
      ("etcd.member_list",))
def quorum_lost(view: ClusterView) -> Iterator[Finding]:
    counted = _quorum(view)
    if counted is None:
        return
    voters, quorum, down = counted
    if voters - len(down) >= quorum:
        return
    up = [s for s in view.etcd.states() if s.state == "up"]
    restore_text, restore = _restore(view, up)
    names = ", ".join(f"{s.member.name or s.member.hex_id} ({s.reason})" for s in down)
    yield _finding(
        "ETCD_QUORUM_LOST", Severity.CRITICAL, Category.HA, f"etcd quorum lost: {len(down)} of {voters} "
                                                            "members down",
        f"{len(down)} of {voters} voting members are down ({names}); etcd needs {quorum} to elect a leader. "
        f"Until a quorum is back etcd accepts no write and the whole control plane stalls. `member list` "
        f"still lists every member: it does not reflect liveness.",
        Remediation("First bring the down members back (their containers and logs say why they stopped). "
                    + restore_text, (*_bring_back(view, down), *restore)),
        [*(e for s in down for e in s.evidence), *_member_list_evidence(view)],
        [s.member.name or s.member.hex_id for s in down])


@rule("ETCD_QUORUM_AT_RISK", Category.HA, Severity.ERROR, "etcd quorum at risk",
      "The etcd cluster can still lose a member: fewer members are down than it tolerates.",
      ("etcd.member_list",))
def quorum_at_risk(view: ClusterView) -> Iterator[Finding]:
    counted = _quorum(view)
    if counted is None:
        return
    voters, quorum, down = counted
    if not down or len(down) != voters - quorum:
        return
    names = ", ".join(f"{s.member.name or s.member.hex_id} ({s.reason})" for s in down)
    yield _finding(
        "ETCD_QUORUM_AT_RISK", Severity.ERROR, Category.HA,
        f"etcd quorum at risk: {len(down)} of {voters} members down",
        f"{names} {'is' if len(down) == 1 else 'are'} down; the {voters - len(down)} members left are "
        "exactly "
        f"the quorum of {quorum}: one more failure stops etcd and the control plane.",
        Remediation("Bring the down member(s) back before anything else; do not restart or upgrade another "
                    "member meanwhile.", tuple(_bring_back(view, down))),
        [*(e for s in down for e in s.evidence), *_member_list_evidence(view)],
        [s.member.name or s.member.hex_id for s in down])


@rule("ETCD_MEMBER_COUNT", Category.HA, Severity.WARNING, "etcd member count even or below 3",
      "etcd has an odd number of voting members, at least 3 (N members survive floor((N-1)/2) failures).",
      ("etcd.member_list",))
def member_count(view: ClusterView) -> Iterator[Finding]:
    voters = view.etcd.voters()
    count = len(voters)
    clusters = {n.cluster_id for n in view.etcd.nodes if n.members}
    if not voters or (count >= 3 and count % 2 == 1) or len(clusters) > 1:
        return  # nodes in different clusters: ETCD_MEMBER_LIST_MISMATCH says so, a count would mislead
    learners = len(view.etcd.members()) - count
    extra = f" ({learners} learner(s) not counted: learners do not vote)" if learners else ""
    # One member and no learner is a deliberate single-control-plane cluster: worth knowing, no warning.
    severity = Severity.INFO if count == 1 and not learners else Severity.WARNING
    yield _finding(
        "ETCD_MEMBER_COUNT", severity, Category.HA, f"etcd has {count} voting member(s)",
        f"{count} voting member(s){extra}: "
        + ("no fault tolerance: fine for a single control-plane node, not for HA." if count == 1 else
           "no member can fail without losing quorum." if count < 3 else
           f"an even count tolerates no more failures ({(count - 1) // 2}) than {count - 1} members would, "
           f"and needs one more member for every write."),
        Remediation("Run an odd number of control-plane etcd members, at least 3: add one with `kubeadm join "
                    "--control-plane` on a new node, or remove a member that no longer exists (`member "
                    "remove` takes the hex ID). " + ON_HOST,
                    (f"{etcdctl(_config(view), _endpoints(view))} member list -w table",)),
        _member_list_evidence(view), [m.name or m.hex_id for m in voters])
