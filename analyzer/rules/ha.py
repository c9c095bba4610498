"""HA: leader leases (stale, churning), version skew, control-plane nodes configured differently."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from ..facts import ClusterView
from ..facts.components import ComponentFact
from ..facts.k8s import LeaseFact, NodeObjectFact
from ..findings import Category, Evidence, Finding, Remediation, Severity
from ..parsers.kversion import KubeVersion
from . import REGISTRY, rule
from .certificates import restart_static_pod
from .shell import comment, quote

LEADER_LEASES = {"kube-controller-manager": "kube-controller-manager", "kube-scheduler": "kube-scheduler"}
#: leader changes per day of the lease's life that count as churn, and the least count worth judging
CHURN_PER_DAY = 1.0
CHURN_MIN = 5


def _leader_leases(view: ClusterView) -> Iterator[tuple[LeaseFact, str]]:
    for fact in view.k8s.leases:
        component = LEADER_LEASES.get(fact.lease.name)
        if component and fact.lease.namespace in ("kube-system", ""):
            yield fact, component


def _holder_node(holder: str) -> str:
    """Leader identities are '<hostname>_<uuid>'."""
    return holder.rsplit("_", 1)[0] if "_" in holder else holder


def _lease_excerpt(fact: LeaseFact) -> str:
    lease = fact.lease
    renew = lease.renew_time.isoformat() if lease.renew_time else "none"
    return (f"holderIdentity: {lease.holder} renewTime: {renew} leaseDurationSeconds: {lease.duration_s} "
            f"leaseTransitions: {lease.transitions}")


@rule("LEASE_STALE", Category.HA, Severity.ERROR, "Leader lease not renewed",
      "The kube-controller-manager and kube-scheduler leases were renewed within leaseDurationSeconds of "
      "the collection time.", ("k8s.leases",))
def lease_stale(view: ClusterView) -> Iterator[Finding]:
    for fact, component in _leader_leases(view):
        age = fact.renew_age
        if not fact.stale or age is None:
            continue
        holder = _holder_node(fact.lease.holder)
        effect = ("controllers do not reconcile" if component == "kube-controller-manager"
                  else "no pod is scheduled")
        yield REGISTRY["LEASE_STALE"].finding(
            title=f"{component} has no active leader: lease last renewed {_age(age)} before collection",
            detail=(f"kube-system/{fact.lease.name} is held by {fact.lease.holder or 'nobody'} but was last "
                    f"renewed {_age(age)} before the bundle of {fact.origin.node} was collected, longer "
                    f"than its leaseDurationSeconds ({fact.lease.duration_s}s). No instance is leading, so "
                    f"{effect}. Usually every instance has lost the API server (or the holder hangs); a "
                    f"clock behind on the collecting node can also make a fresh lease look old."),
            remediation=Remediation(
                f"Check every {component} instance's log for 'failed to renew lease' or 'error retrieving "
                f"resource lock' and fix its path to the API server; if the holder ({holder}) is hung, "
                f"restart its static pod there.",
                (f"kubectl -n kube-system get lease {quote(fact.lease.name)} -o yaml",
                 f"crictl logs --tail 100 $(crictl ps -a --name {quote(component)} -q | head -n 1)",
                 restart_static_pod(component))),
            evidence=[fact.origin.evidence(_lease_excerpt(fact))],
            nodes=[holder] if holder else [], objects=[f"kube-system/lease/{fact.lease.name}"])


def _age(age: dt.timedelta) -> str:
    seconds = int(age.total_seconds())
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds / 3600:.1f} h" if seconds < 172800 else f"{seconds / 86400:.1f} days"


@rule("LEASE_CHURN", Category.HA, Severity.WARNING, "Leader changes often",
      f"The leader leases changed hands fewer than {CHURN_PER_DAY:g} times a day over their life "
      f"(judged from {CHURN_MIN} transitions).", ("k8s.leases",))
def lease_churn(view: ClusterView) -> Iterator[Finding]:
    for fact, component in _leader_leases(view):
        lease = fact.lease
        if lease.transitions is None or lease.transitions < CHURN_MIN or lease.created is None:
            continue
        days = max((fact.origin.collected_at - lease.created).total_seconds() / 86400, 1 / 24)
        rate = lease.transitions / days
        if rate < CHURN_PER_DAY:
            continue
        yield REGISTRY["LEASE_CHURN"].finding(
            title=f"{component} leadership changed {lease.transitions} times in {days:.1f} days",
            detail=(f"kube-system/{lease.name} counts {lease.transitions} transitions since it was created "
                    f"{days:.1f} days before collection ({rate:.1f}/day). Leaders that keep losing the lease "
                    f"point at an API server or etcd that answers too slowly for the renew deadline, or at "
                    f"instances that restart."),
            remediation=Remediation(
                f"Look for 'leaderelection lost' and 'failed to renew lease' in every {component} log and "
                "for slow etcd requests at the same times; fix those before tuning --leader-elect-* flags.",
                (f"kubectl -n kube-system get lease {quote(lease.name)} -o yaml",
                 f"kubectl -n kube-system get pods -l {quote('component=' + component)} -o wide")),
            evidence=[fact.origin.evidence(_lease_excerpt(fact))],
            objects=[f"kube-system/lease/{lease.name}"])


# -- version skew ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Versioned:
    """A component version somewhere in the cluster, with the evidence naming it."""

    what: str
    node: str
    version: KubeVersion
    evidence: Evidence


def _versions(view: ClusterView, component: str) -> list[Versioned]:
    return [Versioned(c.component, c.node, c.version, c.evidence()) for c in view.components
            if c.component == component and c.version is not None and c.version.major == 1]


def _kubelets(view: ClusterView) -> list[Versioned]:
    """Node objects' kubeletVersion, else (the API down or not collected) each node's `kubelet --version`."""
    out = [Versioned("kubelet", f.node.name, f.node.kubelet_version,
                     f.origin.evidence(f"{f.node.name} kubeletVersion: {f.node.kubelet_version}"))
           for f in view.k8s.nodes
           if f.node.kubelet_version is not None and f.node.kubelet_version.major == 1]
    known = {v.node for v in out}
    out += [Versioned("kubelet", h.node, h.kubelet[0], h.kubelet[1]) for h in view.host
            if h.kubelet is not None and h.node not in known and h.kubelet[0].major == 1]
    return out


def skew_violations(view: ClusterView) -> list[tuple[str, list[Versioned]]]:
    """(why, the versions involved) for every pair outside the skew policy in ERRATA.md."""
    apis = _versions(view, "kube-apiserver")
    if not apis:
        return []
    oldest = min(apis, key=lambda v: v.version.minor_key)
    newest = max(apis, key=lambda v: v.version.minor_key)
    out: list[tuple[str, list[Versioned]]] = []
    if oldest.version.minors_behind(newest.version) > 1:
        out.append((f"API servers are {oldest.version.minors_behind(newest.version)} minor versions apart "
                    f"({oldest.version} on {oldest.node}, {newest.version} on {newest.node}); HA API servers "
                    f"must be within one minor version", [oldest, newest]))
    for component in ("kube-controller-manager", "kube-scheduler"):
        for v in _versions(view, component):
            if v.version.minors_behind(oldest.version) < 0:
                out.append((f"{component} {v.version} on {v.node} is newer than the API server "
                            f"{oldest.version} on {oldest.node}", [v, oldest]))
            elif v.version.minors_behind(newest.version) > 1:
                out.append((f"{component} {v.version} on {v.node} is more than one minor version older than "
                            f"the API server {newest.version} on {newest.node}", [v, newest]))
    allowed = 3 if oldest.version.minor >= 28 else 2
    for v in _kubelets(view):
        if v.version.minors_behind(oldest.version) < 0:
            out.append((f"kubelet {v.version} on {v.node} is newer than the API server {oldest.version} on "
                        f"{oldest.node}", [v, oldest]))
        elif v.version.minors_behind(newest.version) > allowed:
            out.append((f"kubelet {v.version} on {v.node} is {v.version.minors_behind(newest.version)} minor "
                        f"versions older than the API server {newest.version} (at most {allowed} allowed "
                        f"for API server 1.{oldest.version.minor})", [v, newest]))
    return out


@rule("VERSION_SKEW", Category.HA, Severity.ERROR, "Component versions outside the skew policy",
      "API servers within one minor; controller-manager/scheduler not newer than any API server and at "
      "most one minor older; kubelets not newer, at most 3 minors older (2 before 1.28).",
      ("k8s.static_pod_manifest", "k8s.pods", "k8s.nodes", "host.kubelet_version"))
def version_skew(view: ClusterView) -> Iterator[Finding]:
    for why, involved in skew_violations(view):
        yield REGISTRY["VERSION_SKEW"].finding(
            title=f"Version skew: {why.split(';')[0].split(' is ')[0]}",
            detail=f"{why}. Components outside the supported skew may fail to talk to each other.",
            remediation=Remediation(
                "Finish the upgrade (or roll back) so versions are within the policy: upgrade control-plane "
                "nodes one at a time with kubeadm, API servers first, then kubelets.",
                ("kubeadm upgrade plan", "kubectl get nodes -o wide",
                 "kubectl -n kube-system get pods -l tier=control-plane "
                 "-o custom-columns=NAME:.metadata.name,IMAGE:.spec.containers[0].image")),
            evidence=[v.evidence for v in involved],
            nodes=sorted({v.node for v in involved}),
            objects=sorted({f"{v.what}@{v.node}" for v in involved}))


# -- control-plane nodes configured differently -------------------------------------------------------

#: flags whose values are naturally per node
PER_NODE_FLAGS = {"advertise-address", "bind-address", "etcd-servers", "hostname-override", "node-ip",
                  "tls-cert-file", "tls-private-key-file", "v"}


def _by_node(view: ClusterView, component: str) -> dict[str, ComponentFact]:
    chosen: dict[str, ComponentFact] = {}
    for comp in view.components:
        if comp.component == component:
            chosen.setdefault(comp.node, comp)
    return chosen


@rule("ETCD_SERVERS_DIFFER", Category.HA, Severity.WARNING, "API servers use different etcd endpoints",
      "Every kube-apiserver names the same --etcd-servers set (stacked etcd: each its local member).",
      ("k8s.static_pod_manifest", "k8s.pods"))
def etcd_servers_differ(view: ClusterView) -> Iterator[Finding]:
    apis = _by_node(view, "kube-apiserver")
    sets = {node: frozenset(s for s in c.flags.get("etcd-servers", "").split(",") if s)
            for node, c in apis.items()}
    if len(set(sets.values())) <= 1:
        return
    lines = [f"{node}: {','.join(sorted(s)) or '(none)'}" for node, s in sorted(sets.items())]
    yield REGISTRY["ETCD_SERVERS_DIFFER"].finding(
        title="API servers point at different etcd endpoints",
        detail=("The API servers were given different --etcd-servers: " + "; ".join(lines) + ". API servers "
                "of one cluster must use the same etcd cluster; a node pointing elsewhere serves other data "
                "or fails when its endpoint does."),
        remediation=Remediation(
            "Make --etcd-servers the same on every control-plane node (kubeadm stacked etcd: "
            "https://127.0.0.1:2379 everywhere), editing /etc/kubernetes/manifests/kube-apiserver.yaml after "
            "backing it up outside that folder.",
            tuple(f"grep -n -- --etcd-servers {quote(c.manifest_path)}  {comment(f'on {node}')}"
                  for node, c in sorted(apis.items()))),
        evidence=[c.evidence("etcd-servers") for _, c in sorted(apis.items())],
        nodes=sorted(apis), objects=[c.location for _, c in sorted(apis.items())])


def _normalised(view: ClusterView, comp: ComponentFact) -> dict[str, str]:
    """Flags with the node's own addresses and name replaced, so per-node values compare equal."""
    own = [comp.node]
    own += [ip for n in view.nodes if n.name == comp.node for ip in n.manifest.node.ips]
    out: dict[str, str] = {}
    for flag, value in comp.flags.items():
        if flag in PER_NODE_FLAGS:
            continue
        for token in sorted(own, key=len, reverse=True):
            value = value.replace(token, "<node>")
        out[flag] = value
    return out


@rule("CONTROL_PLANE_FLAGS_DIFFER", Category.HA, Severity.WARNING,
      "Control-plane nodes configured differently",
      "kube-apiserver, kube-controller-manager and kube-scheduler run with the same flags on every "
      "control-plane node (per-node addresses aside).", ("k8s.static_pod_manifest",))
def flags_differ(view: ClusterView) -> Iterator[Finding]:
    for component in ("kube-apiserver", "kube-controller-manager", "kube-scheduler"):
        comps = {n: c for n, c in _by_node(view, component).items() if c.source == "manifest"}
        if len(comps) < 2:
            continue
        flags = {node: _normalised(view, c) for node, c in comps.items()}
        names = sorted({f for values in flags.values() for f in values})
        differing = [f for f in names if len({values.get(f) for values in flags.values()}) > 1]
        if not differing:
            continue
        shown = "; ".join(f"--{f}: " + ", ".join(f"{n}={flags[n].get(f, '(unset)')}" for n in sorted(flags))
                          for f in differing[:5])
        pattern = quote("--(" + "|".join(differing[:5]) + ")")
        yield REGISTRY["CONTROL_PLANE_FLAGS_DIFFER"].finding(
            title=f"{component} flags differ between control-plane nodes: {', '.join(differing[:5])}",
            detail=(f"{shown}. Control-plane instances behind one endpoint should behave the same; a "
                    f"difference is usually a manual edit on one node that an upgrade or a failover will "
                    f"expose."),
            remediation=Remediation(
                f"Decide which value is intended, put it in the kubeadm ClusterConfiguration "
                f"({component.removeprefix('kube-')} extraArgs) and make every node's manifest match.",
                tuple(f"grep -n -E -- {pattern} {quote(c.manifest_path)}  {comment(f'on {n}')}"
                      for n, c in sorted(comps.items()))),
            evidence=[c.evidence(f) for f in differing[:3] for _, c in sorted(comps.items()) if f in c.flags],
            nodes=sorted(comps), objects=[c.location for _, c in sorted(comps.items())])


CONTROL_PLANE_ROLES = ("master", "control-plane")


def _control_plane_nodes(view: ClusterView) -> list[NodeObjectFact]:
    return [f for f in view.k8s.nodes if any(r in CONTROL_PLANE_ROLES for r in f.node.roles)]


@rule("CONTROL_PLANE_NODE_NOT_READY", Category.HA, Severity.ERROR, "Control-plane node not Ready",
      "Every node labelled control-plane or master reports Ready=True in its Node object.", ("k8s.nodes",))
def node_not_ready(view: ClusterView) -> Iterator[Finding]:
    for fact in _control_plane_nodes(view):
        status, reason, message = fact.node.conditions.get("Ready", ("", "", ""))
        if status in ("True", ""):
            continue
        name = fact.node.name
        evicted = [e for e in view.k8s.events if e.event.reason == "NodeControllerEviction"
                   and name in e.event.message]
        yield node_not_ready.finding(
            f"Control-plane node {name} is not Ready ({status})",
            (f"{name} reports Ready={status} ({reason}: {message[:200]}). "
                    + ("Its kubelet stopped posting status: the node is down, cut off, or its kubelet "
                       "stopped. " if status == "Unknown" else "")
                    + (f"The node controller evicted {len(evicted)} of its pods. " if evicted else "")
                    + "Its control-plane components no longer count: the cluster runs on the remaining "
                      "masters, one failure from losing quorum or capacity."),
            Remediation(
                "Bring the node back: check it is up and reachable, then its kubelet and container runtime.",
                ("kubectl get nodes -o wide", f"kubectl describe node {name}", f"# on {name}",
                 "systemctl status kubelet", "journalctl -u kubelet --since -1h | tail -n 50")),
            evidence=[fact.origin.evidence(f"{name} Ready={status} {reason}: {message}"),
                      *(e.origin.evidence(f"{e.event.reason}: {e.event.message}") for e in evicted[:3])],
            nodes=[name], objects=[f"node/{name}"])


@rule("CONTROL_PLANE_SINGLE_NODE", Category.HA, Severity.INFO, "Single control-plane node",
      "Says so when the Node objects name exactly one control-plane node (no fault tolerance).",
      ("k8s.nodes",))
def single_control_plane(view: ClusterView) -> Iterator[Finding]:
    nodes = _control_plane_nodes(view)
    if len(nodes) != 1:
        return
    name = nodes[0].node.name
    yield single_control_plane.finding(
        f"One control-plane node ({name}): no fault tolerance",
        (f"Only {name} carries a control-plane role among {len(view.k8s.nodes)} node(s): losing it "
                "stops the API (fine for a lab or an edge cluster, not for HA)."),
        Remediation("For HA, run three control-plane nodes behind a load balancer.",
                                ("kubectl get nodes -l node-role.kubernetes.io/control-plane",)),
        evidence=[nodes[0].origin.evidence(f"{name} roles: {','.join(nodes[0].node.roles)}")],
        nodes=[name], objects=[f"node/{name}:control-plane"])


#: OpenShift's operators of the control plane, and the category of their findings
OPERATORS = {"etcd": Category.ETCD, "kube-apiserver": Category.APISERVER,
             "kube-controller-manager": Category.CONTROLLER_MANAGER, "kube-scheduler": Category.SCHEDULER}
STATES = {"Available": "not available", "Degraded": "degraded"}


@rule("OPENSHIFT_OPERATOR_DEGRADED", Category.HA, Severity.CRITICAL,
      "OpenShift control-plane operator degraded",
      "The etcd, kube-apiserver, kube-controller-manager and kube-scheduler ClusterOperators are "
      "Available=True and Degraded=False (must-gather).", ("ocp.clusteroperators",),
      also=(Category.ETCD, Category.APISERVER, Category.CONTROLLER_MANAGER, Category.SCHEDULER))
def operator_degraded(view: ClusterView) -> Iterator[Finding]:
    for fact in sorted(view.k8s.operators, key=lambda f: f.operator.name):
        op = fact.operator
        if op.name not in OPERATORS:
            continue
        bad = [kind for kind, wanted in (("Available", "True"), ("Degraded", "False"))
               if op.status(kind) not in (wanted, "")]
        if not bad:
            continue
        why = "; ".join(f"{kind}={op.status(kind)} ({op.conditions[kind][1]}: "
                        f"{' '.join(op.conditions[kind][2].split())[:300]})" for kind in bad)
        yield operator_degraded.finding(
            f"ClusterOperator {op.name} is {' and '.join(STATES[k] for k in bad)}",
            (f"{why}. The operator's own conditions name the failing part (its messages list each "
                    "controller's state); the operand's pods and logs say why."),
            Remediation("Read the operator's conditions and its operand's pods, then fix "
                                    "what the message names.",
                                    (f"oc get clusteroperator {op.name} -o yaml",
                                     f"oc -n openshift-{op.name} get pods -o wide",
                                     f"oc -n openshift-{op.name}-operator logs deploy/{op.name}-operator")),
            severity=Severity.CRITICAL if op.status("Available") == "False" else Severity.ERROR,
            category=OPERATORS[op.name],
            evidence=[fact.origin.evidence(f"clusteroperator/{op.name}: {why}")],
            objects=[f"clusteroperator/{op.name}"])
