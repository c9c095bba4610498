"""The container runtime's view of each node: control-plane and CNI containers, every attempt listed.

When the API server is down the kubelet's pod status never reaches the API, so this is the only view
of which control-plane container exits and how often. One listing per node is read (`crictl ps -a
-o json`, else the table, else a loose `docker ps -a`), completed by `crictl inspect` (exit code,
reason, finish time). Table times ("4 minutes ago") count back from when the listing ran.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from ..findings import Evidence
from ..parsers.crictl import (
    Listing,
    RuntimeContainer,
    parse_crictl_inspect,
    parse_crictl_ps,
    parse_crictl_ps_json,
    parse_docker_ps,
)
from ..parsers.kubectl import parse_timestamp
from .k8s import Origin
from .source import Source

CONTROL_PLANE = ("kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler")
#: container names of the common CNI node agents (the collector's CNI_CONTAINERS less kube-proxy)
CNI_CONTAINERS = ("calico-node", "cilium-agent", "kube-flannel", "kube-router", "weave", "antrea-agent")
CNI = "cni"
#: listings of all containers, best first: only the first one a node has is read
LISTINGS: tuple[tuple[str, Callable[[str], Listing]], ...] = (
    ("cri.ps_json", parse_crictl_ps_json), ("cri.ps", parse_crictl_ps), ("loose.docker_ps", parse_docker_ps))
#: every item this module reads, for rules' `needs`
RUNTIME_ITEMS = tuple(item for item, _ in LISTINGS) + ("cri.inspect",)


def component_of(name: str) -> str:
    """The control-plane component a container name is, CNI for a CNI agent, else ''."""
    if name in CONTROL_PLANE:
        return name
    return CNI if name in CNI_CONTAINERS else ""


@dataclass(frozen=True)
class ContainerFact:
    """One container on one node, with absolute times and where each part was read."""

    node: str
    container: RuntimeContainer
    component: str  # kube-apiserver | etcd | kube-controller-manager | kube-scheduler | cni | ''
    created: dt.datetime | None
    finished: dt.datetime | None
    origin: Origin  # the listing row
    inspected: Origin | None = None  # the `crictl inspect` exitCode line

    @property
    def running(self) -> bool:
        return self.container.state == "running"

    @property
    def exited(self) -> bool:
        return self.container.state == "exited"

    @property
    def subject(self) -> str:
        """namespace/pod when the runtime names the pod, else the pod sandbox id."""
        c = self.container
        if c.pod:
            return f"{c.namespace or 'kube-system'}/{c.pod}"
        return f"pod sandbox {c.pod_id}" if c.pod_id else f"{self.node}/{c.name}"

    def describe(self) -> str:
        """One line: attempt, state, exit code and reason, and times as of the node's collection."""
        c, now = self.container, self.origin.collected_at
        parts = [f"{c.name} attempt {c.attempt if c.attempt is not None else '?'} {c.state}"]
        if c.exit_code is not None:
            parts.append(f"exit code {c.exit_code}{f' ({c.reason})' if c.reason else ''}")
        if self.finished is not None:
            parts.append(f"finished {_ago(now - self.finished)} before collection")
        elif self.created is not None:
            parts.append(f"created {_ago(now - self.created)} before collection")
        return ", ".join(parts)

    def evidence(self) -> list[Evidence]:
        cited = [self.origin.evidence(self.container.text or self.describe())]
        if self.inspected is not None and self.inspected != self.origin:
            what = f"crictl inspect {self.container.id[:13]}: {self.describe()}"
            cited.append(self.inspected.evidence(what))
        return cited


def _ago(delta: dt.timedelta) -> str:
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 120:
        return f"{seconds}s"
    return f"{seconds // 60} min" if seconds < 7200 else f"{seconds // 3600} h"


def _ran_at(src: Source, started_at: str) -> dt.datetime:
    """When the listing command ran (its record's start), else the bundle's collection time."""
    return parse_timestamp(started_at) or src.bundle.manifest.collected_at


def _fact(src: Source, c: RuntimeContainer, origin: Origin, ran: dt.datetime,
          inspected: Origin | None = None) -> ContainerFact:
    created = c.created_at or (ran - c.created_ago if c.created_ago is not None else None)
    finished = c.finished_at or (ran - c.finished_ago if c.finished_ago is not None else None)
    return ContainerFact(src.node, c, component_of(c.name), created, finished, origin, inspected)


Listed = tuple[RuntimeContainer, Origin, dt.datetime]  # the container, where, when its listing ran


def _read(src: Source, item_id: str, parse: Callable[[str], Listing]) -> list[Listed]:
    out: list[Listed] = []
    now = src.bundle.manifest.collected_at
    for item, text in src.texts(item_id):
        assert item.path is not None
        listing = parse(text)
        for problem in listing.problems:
            src.item_problem(item, problem)
        ran = _ran_at(src, item.started_at)
        out += [(c, Origin(src.node, item.id, item.path, c.line, now), ran) for c in listing.containers]
    return out


def containers(src: Source) -> list[ContainerFact]:
    """Every container the node's runtime listed, each completed by its `crictl inspect` if collected."""
    listed: list[Listed] = []
    for item_id, parse in LISTINGS:
        listed = _read(src, item_id, parse)
        if listed:
            break
    inspected = _read(src, "cri.inspect", parse_crictl_inspect)
    facts: list[ContainerFact] = []
    for c, origin, ran in listed:
        detail = next(((d, at) for d, at, _ in inspected if d.same(c)), None)
        if detail is None:
            facts.append(_fact(src, c, origin, ran))
        else:
            facts.append(_fact(src, c.merged(detail[0]), origin, ran, detail[1]))
    # an inspected container no listing shows (the listing was not collected) still counts
    facts += [_fact(src, d, at, ran, at) for d, at, ran in inspected
              if not any(d.same(c) for c, _, _ in listed)]
    return facts


@dataclass(frozen=True)
class ContainerHistory:
    """Every attempt of one container name on one node that the runtime still lists, newest first.

    The kubelet keeps few dead attempts (one per container by default), so the attempt number, not the
    number of rows, tells how often the container was restarted."""

    node: str
    name: str
    attempts: tuple[ContainerFact, ...]

    @property
    def newest(self) -> ContainerFact:
        return self.attempts[0]

    @property
    def running(self) -> bool:
        return any(a.running for a in self.attempts)


def histories(facts: list[ContainerFact], component: str) -> list[ContainerHistory]:
    """The component's containers grouped per node and container name, newest attempt first."""
    groups: dict[tuple[str, str], list[ContainerFact]] = {}
    for fact in facts:
        if fact.component == component:
            groups.setdefault((fact.node, fact.container.name), []).append(fact)
    never = dt.datetime.min.replace(tzinfo=dt.timezone.utc)

    def age(f: ContainerFact) -> tuple[int, dt.datetime]:
        return (f.container.attempt if f.container.attempt is not None else -1, f.created or never)

    return [ContainerHistory(node, name, tuple(sorted(group, key=age, reverse=True)))
            for (node, name), group in sorted(groups.items())]
