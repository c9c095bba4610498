"""Controller manager and scheduler: crash loops, flags removed in their version, unschedulable pods."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator

from ..facts import ClusterView
from ..facts.containers import RUNTIME_ITEMS
from ..findings import Category, Finding, Remediation, Severity
from . import REGISTRY, rule
from .apiserver import RUNTIME_CHECK, crashloop_findings, removed_flag_findings
from .shell import quote


@rule("CONTROLLER_MANAGER_CRASHLOOP", Category.CONTROLLER_MANAGER, Severity.ERROR,
      "Controller manager crash-looping",
      "No kube-controller-manager container waits in CrashLoopBackOff or restarts repeatedly lately. "
      + RUNTIME_CHECK,
      ("k8s.pods",) + RUNTIME_ITEMS)
def controller_manager_crashloop(view: ClusterView) -> Iterator[Finding]:
    yield from crashloop_findings(view, "CONTROLLER_MANAGER_CRASHLOOP", "kube-controller-manager",
                                  Severity.WARNING)


@rule("SCHEDULER_CRASHLOOP", Category.SCHEDULER, Severity.ERROR, "Scheduler crash-looping",
      "No kube-scheduler container waits in CrashLoopBackOff or restarts repeatedly lately. " + RUNTIME_CHECK,
      ("k8s.pods",) + RUNTIME_ITEMS)
def scheduler_crashloop(view: ClusterView) -> Iterator[Finding]:
    yield from crashloop_findings(view, "SCHEDULER_CRASHLOOP", "kube-scheduler", Severity.WARNING)


@rule("CONTROLLER_MANAGER_REMOVED_FLAG", Category.CONTROLLER_MANAGER, Severity.CRITICAL,
      "Controller manager flag removed in its version",
      "No kube-controller-manager manifest passes a flag its version removed (--port/--address on 1.24+, "
      "--experimental-cluster-signing-duration on 1.25+, --pod-eviction-timeout on 1.27+).",
      ("k8s.static_pod_manifest", "k8s.pods"))
def controller_manager_removed_flag(view: ClusterView) -> Iterator[Finding]:
    yield from removed_flag_findings(view, "CONTROLLER_MANAGER_REMOVED_FLAG", "kube-controller-manager")


# -- pods the scheduler cannot place ---------------------------------------------------------------

_COUNTED = re.compile(r"^(\d+) (.+)$")


def scheduling_reasons(message: str) -> Counter[str]:
    """Node counts per reason in a FailedScheduling message (real text quoted in a public Spinnaker test).

    >>> scheduling_reasons("0/7 nodes are available: 1 node(s) had untolerated taint {example.com/infra: "
    ...     "true}, 3 node(s) didn't match Pod's node affinity/selector, 3 node(s) had untolerated taint "
    ...     "{node-role.kubernetes.io/control-plane: }. preemption: 0/7 nodes are available: 7 Preemption is "
    ...     "not helpful for scheduling..").most_common(2)
    [("node(s) didn't match Pod's node affinity/selector", 3), \
('node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }', 3)]
    """
    head, sep, rest = message.partition(" nodes are available: ")
    if not sep:
        return Counter({message.strip()[:200]: 1}) if message.strip() else Counter()
    rest = rest.split(" preemption:", 1)[0].rstrip(". ")
    counts: Counter[str] = Counter()
    # reasons are comma-separated, but a taint's braces may hold commas too
    for part in re.split(r", (?=\d+ )", rest):
        match = _COUNTED.match(part.strip())
        if match:
            counts[match[2].rstrip(".")] += int(match[1])
    return counts


@rule("PODS_PENDING_UNSCHEDULABLE", Category.SCHEDULER, Severity.WARNING, "Pods cannot be scheduled",
      "No pod is Pending with PodScheduled=False/Unschedulable or a FailedScheduling event.",
      ("k8s.pending_pods", "k8s.pods", "k8s.events"))
def pods_unschedulable(view: ClusterView) -> Iterator[Finding]:
    stuck: dict[str, str] = {}
    evidence = []
    for fact in view.k8s.pods:
        cond = fact.pod.conditions.get("PodScheduled")
        if fact.pod.phase == "Pending" and cond is not None and cond[:2] == ("False", "Unschedulable"):
            key = f"{fact.pod.namespace}/{fact.pod.name}"
            stuck[key] = cond[2]
            evidence.append(fact.origin.evidence(f"{key}: PodScheduled=False Unschedulable: {cond[2]}"))
    # an event is history when the pod list shows that pod scheduled since, or gone
    known = {f"{f.pod.namespace}/{f.pod.name}": f.pod for f in view.k8s.pods}
    listed = {f.pod.namespace for f in view.k8s.pods}
    for event_fact in view.k8s.events:
        event = event_fact.event
        if event.reason == "FailedScheduling" and event.object_kind in ("Pod", ""):
            key = f"{event.namespace}/{event.object_name}"
            if (known[key].phase not in ("Pending", "") if key in known else event.namespace in listed):
                continue
            stuck.setdefault(key, event.message)
            excerpt = f"{key}: FailedScheduling (x{event.count}): {event.message}"
            evidence.append(event_fact.origin.evidence(excerpt))
    if not stuck:
        return
    reasons: Counter[str] = Counter()
    for message in stuck.values():
        for reason in scheduling_reasons(message):
            reasons[reason] += 1
    summary = "; ".join(f"{reason} ({n} pod{'s' if n > 1 else ''})" for reason, n in reasons.most_common(5))
    pods = sorted(stuck)
    yield REGISTRY["PODS_PENDING_UNSCHEDULABLE"].finding(
        title=f"{len(pods)} pod{'s' if len(pods) > 1 else ''} cannot be scheduled",
        detail=(f"The scheduler runs but finds no node for {', '.join(pods[:5])}"
                f"{' and more' if len(pods) > 5 else ''}. Reasons: {summary or 'not given'}."),
        remediation=Remediation(
            "Compare the pods' requests, node selectors/affinity and tolerations with what the nodes offer "
            "(allocatable resources, labels, taints); fix the pod spec or add capacity.",
            (f"kubectl -n {quote(pods[0].split('/')[0])} describe pod {quote(pods[0].split('/')[1])}",
             "kubectl describe nodes | grep -A5 -E 'Taints|Allocated resources'",
             "kubectl get events -A --field-selector reason=FailedScheduling")),
        evidence=evidence[:10], objects=pods)
