"""OpenShift: ClusterOperators that report themselves unavailable or degraded (`oc get clusteroperators`)."""

from __future__ import annotations

from collections.abc import Iterator

from ..facts import ClusterView
from ..findings import Category, Finding, Remediation, Severity
from . import rule
from .shell import quote

#: operators that run a control-plane component; any other operator's category is the node's
_CATEGORIES = {"etcd": Category.ETCD, "kube-apiserver": Category.APISERVER,
               "openshift-apiserver": Category.APISERVER, "authentication": Category.APISERVER,
               "kube-controller-manager": Category.CONTROLLER_MANAGER, "kube-scheduler": Category.SCHEDULER,
               "network": Category.CONNECTIVITY, "dns": Category.CONNECTIVITY}


@rule("CLUSTER_OPERATOR_DEGRADED", Category.APISERVER, Severity.ERROR,
      "OpenShift cluster operator degraded",
      "No ClusterOperator reports AVAILABLE False or DEGRADED True (`oc get clusteroperators`); a "
      "control-plane operator (etcd, kube-apiserver) that is not available is critical. Findings carry the "
      "operator's own category.",
      ("k8s.clusteroperators",))
def cluster_operator_degraded(view: ClusterView) -> Iterator[Finding]:
    for fact in sorted(view.k8s.clusteroperators, key=lambda f: f.operator.name):
        op = fact.operator
        if op.available is not False and op.degraded is not True:
            continue
        state = ", ".join(s for s, bad in (("not available", op.available is False),
                                           ("degraded", op.degraded is True)) if bad)
        control_plane = op.name in ("etcd", "kube-apiserver")
        severity = Severity.CRITICAL if control_plane and op.available is False else Severity.ERROR
        yield Finding(
            id="CLUSTER_OPERATOR_DEGRADED", severity=severity,
            category=_CATEGORIES.get(op.name, Category.NODE),
            title=f"cluster operator {op.name} is {state}",
            detail=(f"ClusterOperator {op.name} reports AVAILABLE {op.available}, DEGRADED {op.degraded}"
                    f"{f' for {op.since}' if op.since else ''}. The operator's conditions name the reason "
                    "(for example NodeInstallerDegraded, EtcdMembersDegraded)."),
            remediation=Remediation(
                "Read the operator's Degraded and Available conditions, then the operator's own pods and the "
                "operand it manages.",
                (f"oc describe clusteroperator {quote(op.name)}",
                 f"oc get clusteroperator {quote(op.name)} -o yaml")),
            evidence=[fact.origin.evidence(op.text or op.name)], nodes=[fact.origin.node], objects=[op.name])
