"""Configuration the seed guide's errata flag: frozen registry, exposed secure ports, CNI pods down,
and the componentstatuses false alarm said for what it is."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..facts import ClusterView
from ..facts.containers import CNI, RUNTIME_ITEMS
from ..findings import Category, Finding, Remediation, Severity
from . import REGISTRY, rule
from .apiserver import runtime_crashloops
from .shell import comment, quote

FROZEN_REGISTRY = "k8s.gcr.io/"
ALL_INTERFACES = ("0.0.0.0", "::", "[::]")
#: kube-system pod name prefixes of the common CNI plugins' node agents and controllers
CNI_PODS = ("calico-node", "calico-kube-controllers", "cilium", "kube-flannel", "canal", "weave-net",
            "antrea-agent", "kube-router")
#: the insecure ports componentstatuses still probes after they were removed
_INSECURE_PROBE = re.compile(r"127\.0\.0\.1:(10251|10252)")


@rule("IMAGE_FROZEN_REGISTRY", Category.NODE, Severity.WARNING, "Image from the frozen k8s.gcr.io registry",
      "No static pod manifest pulls its image from k8s.gcr.io (frozen; use registry.k8s.io).",
      ("k8s.static_pod_manifest",))
def frozen_registry(view: ClusterView) -> Iterator[Finding]:
    for comp in view.components:
        if comp.source != "manifest" or not comp.image.startswith(FROZEN_REGISTRY):
            continue
        new = "registry.k8s.io/" + comp.image.removeprefix(FROZEN_REGISTRY)
        yield REGISTRY["IMAGE_FROZEN_REGISTRY"].finding(
            title=f"{comp.component} on {comp.node} pulls from the frozen k8s.gcr.io",
            detail=(f"{comp.location} uses {comp.image}. k8s.gcr.io is frozen and gets no new images; "
                    f"once the cached image is gone (node rebuilt, image garbage-collected) the pull may "
                    f"fail."),
            remediation=Remediation(
                "Point the image at registry.k8s.io (for kubeadm: imageRepository: registry.k8s.io in the "
                "ClusterConfiguration, which the next `kubeadm upgrade` applies). Pre-pull before editing "
                "the manifest; keep the backup outside /etc/kubernetes/manifests.",
                (f"crictl pull {quote(new)}",
                 f"cp {quote(comp.location)} {quote(f'/root/{comp.component}.yaml.bak')}",
                 f"sed -i 's#image: {FROZEN_REGISTRY}#image: registry.k8s.io/#' {quote(comp.location)}")),
            evidence=[comp.evidence()], nodes=[comp.node], objects=[comp.location])


@rule("BIND_ADDRESS_ALL_INTERFACES", Category.NODE, Severity.WARNING,
      "Controller manager or scheduler listens on every interface",
      "kube-controller-manager and kube-scheduler keep kubeadm's --bind-address=127.0.0.1.",
      ("k8s.static_pod_manifest", "k8s.pods"))
def bind_all(view: ClusterView) -> Iterator[Finding]:
    ports = {"kube-controller-manager": 10257, "kube-scheduler": 10259}
    for comp in view.components:
        if comp.component not in ports or comp.flags.get("bind-address") not in ALL_INTERFACES:
            continue
        port = ports[comp.component]
        yield REGISTRY["BIND_ADDRESS_ALL_INTERFACES"].finding(
            title=f"{comp.component} on {comp.node} listens on all interfaces (port {port})",
            detail=(f"--bind-address={comp.flags['bind-address']} exposes the secure port {port} (metrics, "
                    f"profiling, health) on every interface of {comp.node}; kubeadm's default is 127.0.0.1."),
            remediation=Remediation(
                f"Set --bind-address=127.0.0.1 in {comp.manifest_path} (backup outside the manifests "
                f"folder; the kubelet restarts the pod on change), or restrict port {port} with the "
                f"firewall if something scrapes it remotely.",
                (f"cp {quote(comp.manifest_path)} /root/{comp.component}.yaml.bak",
                 f"sed -i 's/--bind-address=[^ ]*/--bind-address=127.0.0.1/' {quote(comp.manifest_path)}",
                 f"ss -ltnp | grep {port}")),
            evidence=[comp.evidence("bind-address")], nodes=[comp.node], objects=[comp.location])


@rule("CNI_PODS_NOT_READY", Category.CONNECTIVITY, Severity.ERROR, "CNI pods not ready",
      f"Every kube-system pod of a CNI plugin ({', '.join(CNI_PODS)}) is Ready and not crash-looping; "
      "without the API, the runtime's CNI agent containers are running and not restarting lately.",
      ("k8s.pods",) + RUNTIME_ITEMS)
def cni_not_ready(view: ClusterView) -> Iterator[Finding]:
    for fact in view.k8s.pods:
        pod = fact.pod
        unready = [c for c in pod.containers if not c.ready]
        failing = pod.ready is False or any(c.waiting_reason for c in unready)
        if not pod.name.startswith(CNI_PODS) or pod.phase == "Succeeded" or not failing:
            continue
        states = ", ".join(f"{c.name or 'container'}: {c.waiting_reason or c.state} "
                           f"(restarts {c.restart_count})" for c in unready)
        node = pod.node_name or fact.origin.node
        yield REGISTRY["CNI_PODS_NOT_READY"].finding(
            title=f"CNI pod {pod.name} not ready on {node}",
            detail=(f"{pod.namespace}/{pod.name} is {pod.phase or 'in an unknown phase'}, not ready: "
                    f"{states or pod.status_text or 'no container status'}. Without the CNI agent the node's "
                    f"pods get no network and the node may report NotReady."),
            remediation=Remediation(
                "Read the failing container's previous log and the pod's events; common causes are a wrong "
                "pod CIDR, a blocked overlay port in the firewall, or the agent unable to reach the API "
                "server.",
                (f"kubectl -n {quote(pod.namespace)} describe pod {quote(pod.name)}",
                 f"kubectl -n {quote(pod.namespace)} logs {quote(pod.name)} --all-containers --previous "
                 "--tail=50")),
            evidence=[fact.origin.evidence(f"{pod.name} {pod.phase} ready={pod.ready} {states}")],
            nodes=[node], objects=[f"{pod.namespace}/{pod.name}"])
    for loop in runtime_crashloops(view, CNI):  # the API is down or older than the runtime's listing
        h = loop.history
        state = "exited and is not running" if loop.down else "restarting"
        yield REGISTRY["CNI_PODS_NOT_READY"].finding(
            title=f"CNI agent {h.name} {state} on {h.node}",
            detail=(f"{loop.describe()}. Without the CNI agent the node's pods get no network and the node "
                    "may report NotReady."),
            remediation=Remediation(
                "Read the agent's previous log; common causes are a wrong pod CIDR, a blocked overlay "
                "port in the firewall, or the agent unable to reach the API server. Its DaemonSet "
                "recreates the pod once the cause is fixed.",
                (comment(f"on {h.node}"), f"crictl ps -a --name {quote(h.name)}",
                 f"crictl logs $(crictl ps -a --name {quote(h.name)} -q | head -n 1)")),
            evidence=[e for a in h.attempts[:3] for e in a.evidence()],
            nodes=[h.node], objects=[h.newest.subject])


@rule("COMPONENTSTATUS_FALSE_ALARM", Category.APISERVER, Severity.INFO,
      "componentstatuses reports a known false alarm",
      "Says so when `componentstatuses` marks scheduler/controller-manager Unhealthy on the removed "
      "insecure ports 10251/10252 (deprecated API; the components serve on 10259/10257).",
      ("k8s.componentstatuses",))
def componentstatus_false_alarm(view: ClusterView) -> Iterator[Finding]:
    alarms = [f for f in view.k8s.componentstatuses
              if f.status.healthy is False and _INSECURE_PROBE.search(f.status.message)]
    if not alarms:
        return
    yield REGISTRY["COMPONENTSTATUS_FALSE_ALARM"].finding(
        title="componentstatuses 'Unhealthy' for scheduler/controller-manager is a false alarm",
        detail=("The deprecated componentstatuses API still probes the insecure ports 10251/10252, which "
                "kube-scheduler and kube-controller-manager no longer open; this says nothing about their "
                "health. Their real state is their pods, their /healthz on 10259/10257 and their leases."),
        remediation=Remediation(
            "Ignore this output; check the components directly.",
            ("kubectl -n kube-system get pods -l tier=control-plane",
             "kubectl -n kube-system get lease kube-scheduler kube-controller-manager",
             "curl -k https://127.0.0.1:10259/healthz", "curl -k https://127.0.0.1:10257/healthz")),
        evidence=[f.origin.evidence(f"{f.status.name}: {f.status.message}") for f in alarms],
        objects=sorted(f"componentstatus/{f.status.name}" for f in alarms))
