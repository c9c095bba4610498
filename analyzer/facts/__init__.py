"""Facts: one cluster view merged from every node's bundle, built by running the parsers once.

Each domain module (pki, ...) turns one node's `Source` into typed facts; `build_view` merges them.
Rules read only the `ClusterView`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..bundle import Bundle, Manifest
from .pki import CertificateFact, certificates
from .source import Source


@dataclass
class NodeFacts:
    """What one node's bundle says about itself."""

    name: str
    manifest: Manifest
    bundle_source: str

    @property
    def collected_at(self) -> dt.datetime:
        return self.manifest.collected_at


@dataclass
class ClusterView:
    """Every node's facts merged into one model; the only input rules get."""

    nodes: list[NodeFacts] = field(default_factory=list)
    certificates: list[CertificateFact] = field(default_factory=list)
    #: item ids collected on at least one node: rules use it to say "not checked"
    available: set[str] = field(default_factory=set)
    #: parse problems and reader warnings, shown in the report's inventory
    problems: list[str] = field(default_factory=list)

    def node(self, name: str) -> NodeFacts:
        return next(n for n in self.nodes if n.name == name)

    def now(self, node: str) -> dt.datetime:
        """The moment judgements about this node's evidence are made against: its collection time."""
        return self.node(node).collected_at


def _unique_names(bundles: list[Bundle]) -> list[str]:
    names: list[str] = []
    for bundle in bundles:
        name, n = bundle.node, 2
        while name in names:
            name, n = f"{bundle.node}#{n}", n + 1
        names.append(name)
    return names


def build_view(bundles: list[Bundle]) -> ClusterView:
    """Run every fact builder over every bundle and merge the results."""
    view = ClusterView()
    for bundle, name in zip(bundles, _unique_names(bundles), strict=True):
        src = Source(name, bundle)
        view.nodes.append(NodeFacts(name, bundle.manifest, str(bundle.source)))
        view.available.update(i.id for i in bundle.manifest.items if i.collected)
        view.certificates.extend(certificates(src))
        view.problems.extend(src.problems)
        view.problems.extend(f"{name}: {w}" for w in bundle.warnings)
    return view
