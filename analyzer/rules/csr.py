"""CertificateSigningRequests nobody approves: kubelets that cannot get their certificates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ..facts import ClusterView
from ..findings import Category, Finding, Remediation, Severity
from . import REGISTRY, rule
from .shell import quote

#: a CSR pending longer than this is not waiting for an approver that is merely slow
STUCK = dt.timedelta(minutes=10)


#: what a pending request of each kind keeps from the node, and how bad that is
_KINDS = (
    ("client", "kubelet client", Severity.ERROR,
     "Without its client certificate a kubelet cannot join (or, once its certificate expired, rejoin): the "
     "automatic approver (kube-controller-manager's csrapproving, a bootstrap token's RBAC binding, "
     "OpenShift's machine-approver) is not approving them."),
    ("node", "node-requested", Severity.ERROR,
     "Nodes requested them with their own identity (system:node:*); the table has no SIGNERNAME column "
     "(before 1.18), so they may renew kubelet client certificates: a kubelet whose client certificate "
     "expires unrenewed drops out of the cluster, and unapproved serving ones break `kubectl logs/exec`."),
    ("serving", "kubelet serving", Severity.WARNING,
     "Serving CSRs are never approved automatically by Kubernetes itself: without an approver, "
     "`kubectl logs/exec` to those nodes fails with TLS errors."),
)


@rule("CSR_PENDING", Category.CERTIFICATES, Severity.ERROR, "Certificate requests left pending",
      "No kubelet CertificateSigningRequest has stayed Pending for 10 minutes or more "
      "(`kubectl get csr`): "
      "a pending client CSR keeps a node from joining or rejoining (error), as may a node's own request in "
      "a table that does not say its signer (error); a pending kubelet-serving CSR breaks `kubectl "
      "logs/exec` to that node (warning).",
      ("k8s.csrs",))
def csr_pending(view: ClusterView) -> Iterator[Finding]:
    stuck = [f for f in view.k8s.csrs
             if f.request.pending and (f.request.age is None or f.request.age >= STUCK)]
    for kind, label, severity, why in _KINDS:
        chosen = sorted((f for f in stuck if f.request.kind == kind), key=lambda f: f.request.name)
        if not chosen:
            continue
        names = [f.request.name for f in chosen]
        yield REGISTRY["CSR_PENDING"].finding(severity=severity, category=Category.CERTIFICATES,
            title=f"{len(chosen)} {label} certificate request(s) pending",
            detail=(f"{len(chosen)} {label} CSR(s) have waited 10 minutes or more without approval "
                    f"({', '.join(names[:5])}{' …' if len(names) > 5 else ''}). {why}"),
            remediation=Remediation(
                "Check who requested each one, then approve the ones that are your nodes (and find why the "
                "approver did not).",
                ("kubectl get csr", *(f"kubectl certificate approve {quote(n)}" for n in names[:5]))),
            evidence=[f.origin.evidence(f.request.text or f.request.name) for f in chosen[:4]],
            nodes=sorted({f.origin.node for f in chosen}), objects=names)
