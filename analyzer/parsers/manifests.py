"""Static pod manifests (/etc/kubernetes/manifests/*.yaml): component, image, version, flags, probes.

A real kubeadm v1.27 kube-scheduler manifest (tests/fixtures/k8s/, from busygina83/otus), trimmed:

>>> pod = parse_static_pod('''apiVersion: v1
... kind: Pod
... metadata:
...   labels:
...     component: kube-scheduler
...     tier: control-plane
...   name: kube-scheduler
...   namespace: kube-system
... spec:
...   containers:
...   - command:
...     - kube-scheduler
...     - --authentication-kubeconfig=/etc/kubernetes/scheduler.conf
...     - --bind-address=127.0.0.1
...     - --leader-elect=true
...     image: registry.k8s.io/kube-scheduler:v1.27.3
...     livenessProbe:
...       httpGet:
...         host: 127.0.0.1
...         path: /healthz
...         port: 10259
...         scheme: HTTPS
...     name: kube-scheduler
... ''')
>>> pod.component, str(pod.version), pod.flags["bind-address"], pod.flag_lines["bind-address"]
('kube-scheduler', 'v1.27.3', '127.0.0.1', 14)
>>> pod.probes
[Probe(kind='liveness', scheme='HTTPS', host='127.0.0.1', port='10259', path='/healthz')]
>>> parse_static_pod("{{{").problems[0][:18]
'not valid YAML: wh'
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from .kversion import KubeVersion, parse_version
from .yamlsafe import load_yaml


@dataclass(frozen=True)
class Probe:
    """One liveness/readiness/startup probe (httpGet or tcpSocket)."""

    kind: str
    scheme: str
    host: str
    port: str
    path: str


@dataclass
class StaticPod:
    """The first container of a static pod: who it is, what it runs, with which flags."""

    component: str = ""
    name: str = ""
    namespace: str = ""
    image: str = ""
    version: KubeVersion | None = None
    #: flag name (without dashes) -> last value given ("" for a bare `--flag`)
    flags: dict[str, str] = field(default_factory=dict)
    #: flag name -> every value, in order, for flags given more than once
    repeated: dict[str, list[str]] = field(default_factory=dict)
    #: flag name -> 1-based line of its (last) occurrence in the file
    flag_lines: dict[str, int] = field(default_factory=dict)
    image_line: int | None = None
    probes: list[Probe] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def dig(obj: Any, *keys: str) -> Any:
    """obj[k1][k2]... or None as soon as a level is missing or not a mapping (untrusted YAML)."""
    for key in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj


def as_list(value: Any) -> list[Any]:
    """The value when it is a list, else an empty list (a scalar where a list belongs is ignored)."""
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> dict[str, Any]:
    """The value when it is a mapping, else an empty one."""
    return value if isinstance(value, dict) else {}


def split_flag(arg: str) -> tuple[str, str] | None:
    """('name', 'value') for '--name=value' or '--name'; None for anything else."""
    if not arg.startswith("--") or len(arg) == 2:
        return None
    name, _, value = arg[2:].partition("=")
    return name, value


def parse_flags(args: list[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    """Flags as a dict (last value wins, as pflag does) and the values of repeated flags."""
    seen: dict[str, list[str]] = {}
    for arg in args:
        pair = split_flag(arg)
        if pair:
            seen.setdefault(pair[0], []).append(pair[1])
    return ({k: v[-1] for k, v in seen.items()}, {k: v for k, v in seen.items() if len(v) > 1})


def _probes(container: dict[str, Any]) -> list[Probe]:
    out: list[Probe] = []
    for kind in ("liveness", "readiness", "startup"):
        probe = container.get(f"{kind}Probe")
        if not isinstance(probe, dict):
            continue
        http, tcp = probe.get("httpGet"), probe.get("tcpSocket")
        if isinstance(http, dict):
            out.append(Probe(kind, str(http.get("scheme") or "HTTP"), str(http.get("host") or ""),
                             str(http.get("port") or ""), str(http.get("path") or "")))
        elif isinstance(tcp, dict):
            out.append(Probe(kind, "TCP", str(tcp.get("host") or ""), str(tcp.get("port") or ""), ""))
    return out


def _lines_of(text: str, args: list[str], image: str) -> tuple[dict[str, int], int | None]:
    """Where each flag (and the image) sits in the file, scanning forward as the args are listed."""
    lines = text.splitlines()
    where: dict[str, int] = {}
    at = 0
    for arg in args:
        pair = split_flag(arg)
        if not pair:
            continue
        for i in range(at, len(lines)):
            if arg in lines[i]:
                where[pair[0]] = i + 1
                at = i + 1
                break
    image_line = next((i + 1 for i, line in enumerate(lines)
                       if image and line.strip().startswith("image:") and image in line), None)
    return where, image_line


def parse_static_pod(text: str) -> StaticPod:
    """A static pod manifest (YAML or JSON); problems are recorded, never raised."""
    pod = StaticPod()
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        pod.problems.append(f"not valid YAML: {str(exc)[:200]}")
        return pod
    if not isinstance(doc, dict) or doc.get("kind") not in (None, "Pod"):
        pod.problems.append("not a Pod manifest")
        return pod
    containers = [c for c in as_list(dig(doc, "spec", "containers")) if isinstance(c, dict)]
    if not containers:
        pod.problems.append("manifest has no containers")
        return pod
    first = containers[0]
    pod.name = str(dig(doc, "metadata", "name") or "")
    pod.namespace = str(dig(doc, "metadata", "namespace") or "")
    pod.component = str(dig(doc, "metadata", "labels", "component") or first.get("name") or pod.name)
    pod.image = str(first.get("image") or "")
    pod.version = parse_version(pod.image) if pod.image else None
    args = [str(a) for key in ("command", "args") for a in as_list(first.get(key))
            if isinstance(a, (str, int, float))]
    pod.flags, pod.repeated = parse_flags(args)
    pod.flag_lines, pod.image_line = _lines_of(text, args, pod.image)
    pod.probes = _probes(first)
    return pod
