"""Control-plane components per node: image, version, flags and probes.

Read from the node's static pod manifests (what the kubelet runs) and, for nodes without a bundle
or without manifests, from the mirror pods the API server lists (spec of the same manifest).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..findings import Evidence
from ..parsers.kversion import KubeVersion
from ..parsers.manifests import Probe, parse_static_pod
from .k8s import PodFact
from .source import Source

CONTROL_PLANE = ("kube-apiserver", "kube-controller-manager", "kube-scheduler", "etcd")


@dataclass
class ComponentFact:
    """One component instance on one node."""

    node: str
    component: str
    #: "manifest" (the node's file) or "mirror pod" (the API's copy of it)
    source: str
    item_id: str
    #: path inside the bundle, and the object on the node (manifest file or namespace/pod)
    bundle_path: str
    location: str
    image: str
    version: KubeVersion | None
    flags: dict[str, str] = field(default_factory=dict)
    repeated: dict[str, list[str]] = field(default_factory=dict)
    flag_lines: dict[str, int] = field(default_factory=dict)
    image_line: int | None = None
    probes: list[Probe] = field(default_factory=list)

    def evidence(self, flag: str | None = None) -> Evidence:
        """The flag's line (or the image line) with an excerpt as the manifest shows it."""
        if flag is not None and flag in self.flags:
            value = self.flags[flag]
            line = self.flag_lines.get(flag, self.image_line)
            excerpt = f"- --{flag}" + (f"={value}" if value else "")
        else:
            line, excerpt = self.image_line, f"image: {self.image}"
        return Evidence(self.node, self.bundle_path, line, excerpt, self.item_id)

    @property
    def manifest_path(self) -> str:
        """The static pod manifest to edit on the node."""
        if self.source == "manifest":
            return self.location
        return f"/etc/kubernetes/manifests/{self.component}.yaml"


def components(src: Source) -> list[ComponentFact]:
    """Components from the node's static pod manifests."""
    out: list[ComponentFact] = []
    for item, text in src.texts("k8s.static_pod_manifest"):
        assert item.path is not None
        pod = parse_static_pod(text)
        for problem in pod.problems:
            src.item_problem(item, problem)
        if pod.problems:
            continue
        out.append(ComponentFact(src.node, pod.component, "manifest", item.id, item.path, item.source,
                                 pod.image, pod.version, pod.flags, pod.repeated, pod.flag_lines,
                                 pod.image_line, pod.probes))
    return out


def mirror_components(pods: list[PodFact], known: list[ComponentFact]) -> list[ComponentFact]:
    """Components the API lists as mirror pods on nodes none of whose manifests we have."""
    have = {(c.node, c.component) for c in known}
    out: list[ComponentFact] = []
    for fact in pods:
        pod = fact.pod
        if pod.component not in CONTROL_PLANE or not pod.node_name or (pod.node_name, pod.component) in have:
            continue
        have.add((pod.node_name, pod.component))
        out.append(ComponentFact(pod.node_name, pod.component, "mirror pod", fact.origin.item_id,
                                 fact.origin.path, f"{pod.namespace}/{pod.name}", pod.image, pod.version,
                                 pod.flags, {}, {}, pod.line))
    return out
