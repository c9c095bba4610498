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


@rule("CSR_PENDING", Category.CERTIFICATES, Severity.ERROR, "Certificate requests left pending",
      "No kubelet CertificateSigningRequest has stayed Pending for 10 minutes or more "
      "(`kubectl get csr`): "
      "a pending client CSR keeps a node from joining or rejoining (error), a pending kubelet-serving CSR "
      "breaks `kubectl logs/exec` to that node (warning).",
      ("k8s.csrs",))
def csr_pending(view: ClusterView) -> Iterator[Finding]:
    stuck = [f for f in view.k8s.csrs
             if f.request.pending and (f.request.age is None or f.request.age >= STUCK)]
    for client in (True, False):
        chosen = sorted((f for f in stuck if f.request.client is client), key=lambda f: f.request.name)
        if not chosen:
            continue
        kind = "kubelet client" if client else "kubelet serving"
        names = [f.request.name for f in chosen]
        yield REGISTRY["CSR_PENDING"].finding(severity=Severity.ERROR if client else Severity.WARNING,
            category=Category.CERTIFICATES,
            title=f"{len(chosen)} {kind} certificate request(s) pending",
            detail=(f"{len(chosen)} {kind} CSR(s) have waited 10 minutes or more without approval "
                    f"({', '.join(names[:5])}{' …' if len(names) > 5 else ''}). "
                    + ("Without its client certificate a kubelet cannot join (or, once its certificate "
                       "expired, rejoin): the automatic approver (kube-controller-manager's csrapproving, "
                       "a bootstrap token's RBAC binding, OpenShift's machine-approver) is not approving "
                       "them."
                       if client else
                       "Serving CSRs are never approved automatically by Kubernetes itself: without an "
                       "approver, `kubectl logs/exec` to those nodes fails with TLS errors.")),
            remediation=Remediation(
                "Check who requested each one, then approve the ones that are your nodes (and find why the "
                "approver did not).",
                ("kubectl get csr", *(f"kubectl certificate approve {quote(n)}" for n in names[:5]))),
            evidence=[f.origin.evidence(f.request.text or f.request.name) for f in chosen[:4]],
            nodes=sorted({f.origin.node for f in chosen}), objects=names)
