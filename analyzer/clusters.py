"""Which inputs belong together: the same bundle given twice, and bundles of different clusters.

Several paths are meant to be the nodes of one cluster. Two copies of one bundle (a tarball and its
unpacked folder) are analysed once. Nodes that share neither a CA certificate nor the etcd cluster
id come from different clusters, and merging them would
invent findings (a CA "differing between nodes", member lists that "disagree"); the analysis stops
with one line naming the groups, unless the user says they are one cluster or asks for one report
per cluster (--separate).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from .bundle import Bundle
from .errors import InputError
from .facts import unique_names
from .facts.components import components
from .facts.etcd import node_etcd
from .facts.pki import certificates
from .facts.source import Source


def _digest(bundle: Bundle) -> str:
    """What makes two inputs the same bundle: node, collection time and every item's content hash."""
    m = bundle.manifest
    parts = [m.node.hostname, m.collected_at.isoformat(), m.collector_version,
             *(f"{i.id}={i.sha256}" for i in m.items)]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def dedupe(bundles: list[Bundle]) -> tuple[list[Bundle], list[str]]:
    """The bundles with repeats closed and dropped, and one notice per repeat."""
    first: dict[str, Bundle] = {}
    kept: list[Bundle] = []
    notices: list[str] = []
    for bundle in bundles:
        seen = first.setdefault(_digest(bundle), bundle)
        if seen is bundle:
            kept.append(bundle)
            continue
        notices.append(f"{bundle.source} is the same bundle as {seen.source} (node {bundle.node}, "
                       f"collected {bundle.manifest.collected_at:%Y-%m-%d %H:%M} UTC): analyzed once")
        bundle.close()
    return kept, notices


@dataclass(frozen=True)
class Identity:
    """What a node's evidence says about the cluster it belongs to."""

    node: str
    ca_fingerprints: frozenset[str]
    etcd_cluster_id: int | None

    def differs_from(self, other: Identity) -> bool:
        """True when both nodes show both identities and neither is shared. One differing identity
        alone is a finding about one cluster (a node with a foreign CA, an etcd member that
        bootstrapped a cluster of its own), not a reason to split the input."""
        if not (self.ca_fingerprints and other.ca_fingerprints):
            return False
        if self.etcd_cluster_id is None or other.etcd_cluster_id is None:
            return False
        shares_ca = bool(self.ca_fingerprints & other.ca_fingerprints)
        return not shares_ca and self.etcd_cluster_id != other.etcd_cluster_id

    def describe(self) -> str:
        shown = [f"CA {min(self.ca_fingerprints)[:12]}"] if self.ca_fingerprints else []
        shown += [f"etcd cluster {self.etcd_cluster_id:x}"] if self.etcd_cluster_id is not None else []
        return ", ".join(shown) or "no identity in the evidence"


def identity(bundle: Bundle, name: str) -> Identity:
    """A node's CA certificates (files and kubeconfig-embedded) and etcd cluster id, read before the
    analysis: only the certificate, manifest and etcdctl items, so splitting costs no log scan."""
    src = Source(name, bundle)
    cas = frozenset(c.info.fingerprint_sha256 for c in certificates(src, []) if c.info.is_ca and c.info.der)
    return Identity(name, cas, node_etcd(src, components(src)).cluster_id)


@dataclass(frozen=True)
class Group:
    """The bundles of one cluster, and a name for it (its nodes, made safe for a file name)."""

    name: str
    bundles: list[Bundle]
    identities: list[Identity]

    def describe(self) -> str:
        return f"{{{', '.join(i.node for i in self.identities)}}} ({self.identities[0].describe()})"


def _file_name(nodes: list[str]) -> str:
    """A cluster's name from its nodes' names (bundle content: never a path or a control character).

    >>> _file_name(["../../etc/passwd", "cp\x1b[31m"]), _file_name(["a", "b", "c", "d", "e"])
    ('_.._etc_passwd+cp__31m', 'a+b+c+2more')
    """
    shown = "+".join(nodes[:3]) + (f"+{len(nodes) - 3}more" if len(nodes) > 3 else "")
    return re.sub(r"[^A-Za-z0-9._+-]", "_", shown).lstrip(".")[:60] or "cluster"


def groups(bundles: list[Bundle]) -> list[Group]:
    """Bundles grouped so that no two of a group come from clearly different clusters."""
    found: list[tuple[list[Bundle], list[Identity]]] = []
    for bundle, name in zip(bundles, unique_names(bundles), strict=True):
        mine = identity(bundle, name)
        home = next((g for g in found if not any(mine.differs_from(o) for o in g[1])), None)
        if home is None:
            found.append(([bundle], [mine]))
        else:
            home[0].append(bundle)
            home[1].append(mine)
    named: list[Group] = []
    for members, ids in found:
        name = base = _file_name([b.node for b in members])
        n = 2
        while any(g.name == name for g in named):
            name, n = f"{base}-{n}", n + 1
        named.append(Group(name, members, ids))
    return named


def refuse_mixed(found: list[Group]) -> None:
    """InputError naming the groups when the nodes come from more than one cluster."""
    if len(found) > 1:
        named = "; ".join(g.describe() for g in found)
        raise InputError(f"these bundles come from {len(found)} different clusters: {named}. Analyze each "
                         "cluster on its own (--separate does, one report per cluster), or pass "
                         "--one-cluster if they really are one")
