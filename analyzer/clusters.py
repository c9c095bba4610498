"""Which inputs belong together: the same bundle given twice, and bundles of different clusters.

Several paths are meant to be the nodes of one cluster. Two copies of one bundle (a tarball and its
unpacked folder) are analysed once. Nodes that share neither a CA certificate nor the etcd cluster
id come from different clusters, and merging them would
invent findings (a CA "differing between nodes", member lists that "disagree"); the analysis stops
with one line naming the groups, unless the user says they are one cluster.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .bundle import Bundle
from .errors import InputError
from .facts import ClusterView


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


def identities(view: ClusterView) -> list[Identity]:
    """Each node's CA certificates (files and kubeconfig-embedded) and etcd cluster id."""
    cas: dict[str, set[str]] = {n.name: set() for n in view.nodes}
    for cert in view.certificates:
        if cert.info.is_ca and cert.info.der and cert.node in cas:
            cas[cert.node].add(cert.info.fingerprint_sha256)
    etcd = {n.node: n.cluster_id for n in view.etcd.nodes}
    return [Identity(n.name, frozenset(cas[n.name]), etcd.get(n.name)) for n in view.nodes]


def clusters(view: ClusterView) -> list[list[Identity]]:
    """Nodes grouped so that no two nodes of a group come from clearly different clusters."""
    groups: list[list[Identity]] = []
    for identity in identities(view):
        home = next((g for g in groups if not any(identity.differs_from(o) for o in g)), None)
        if home is None:
            groups.append([identity])
        else:
            home.append(identity)
    return groups


def check_one_cluster(view: ClusterView) -> None:
    """InputError naming the groups when the nodes come from more than one cluster."""
    groups = clusters(view)
    if len(groups) > 1:
        named = "; ".join(f"{{{', '.join(i.node for i in g)}}} ({g[0].describe()})" for g in groups)
        raise InputError(f"these bundles come from {len(groups)} different clusters: {named}. Analyze "
                         "each cluster on its own, or pass --one-cluster if they really are one")
