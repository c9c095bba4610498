"""Host facts per node (disk usage, time sync) and what the bundles can tell about clocks between nodes.

Clocks, carefully: a bundle's `collected_at`, its `clock.epoch` and every item's `started_at` are all
read from the node's own clock, so comparing them within a bundle only measures how long collection
took, and comparing them across bundles measures when the collector was started on each node, not
how far the clocks differ. Two things do measure skew:
- chrony's 'System time' offset: each node's clock against its NTP source; the difference between
  two nodes' offsets is their skew (when both track the same time);
- a Lease renewed by a component on node B (node leases every ~10 s, leader-election leases every
  few seconds), as node A's kubectl read it: B's clock wrote renewTime, A's clock timed the read.
  A renewTime later than the end of A's read by more than the tolerance means B's clock is ahead of
  A's by at least that much. (Older renewTimes prove nothing: the holder may simply have stopped.)
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from ..bundle import ItemRecord, parse_time
from ..errors import InputError
from ..findings import Evidence
from ..parsers.host import Disk, TimeSync, parse_chrony, parse_df, parse_timedatectl
from ..parsers.kversion import KubeVersion, parse_version_output
from .k8s import K8sFacts
from .network import ItemRef
from .source import Source

DEFAULT_ETCD_DATA_DIR = "/var/lib/etcd"
#: renewTime may legitimately be this much later than the read that returned it (rounding to µs/s)
LEASE_TOLERANCE = dt.timedelta(seconds=2)


@dataclass(frozen=True)
class TimeFact:
    node: str
    sync: TimeSync
    ref: ItemRef


@dataclass(frozen=True)
class AheadBound:
    """Lease evidence that `holder`'s clock was ahead of `observer`'s by at least `at_least`."""

    holder: str
    observer: str
    at_least: dt.timedelta
    lease: str
    line: int | None
    ref: ItemRef
    renew_time: dt.datetime
    read_until: dt.datetime


@dataclass
class NodeHost:
    node: str
    collected_at: dt.datetime
    clock_epoch: float | None
    ntp_synchronized: bool | None  # the collector's own `timedatectl show` reading, in manifest.json
    disks: list[Disk] | None = None
    disk_ref: ItemRef | None = None
    time: list[TimeFact] = field(default_factory=list)
    etcd_data_dir: str = DEFAULT_ETCD_DATA_DIR
    ahead: list[AheadBound] = field(default_factory=list)
    #: `kubelet --version` on the node: the kubelet's version even when the API cannot say it
    kubelet: tuple[KubeVersion, Evidence] | None = None

    def mount_of(self, path: str) -> Disk | None:
        """The filesystem holding `path`: the longest mount point that is a prefix of it."""
        best: Disk | None = None
        for disk in self.disks or []:
            inside = (path.rstrip("/") + "/").startswith(disk.mount.rstrip("/") + "/")
            if inside and (best is None or len(disk.mount) > len(best.mount)):
                best = disk
        return best


def _read_window(item: ItemRecord) -> dt.datetime | None:
    """When the command's answer had surely arrived, on the node's clock."""
    try:
        return parse_time(item.started_at, "started_at") + dt.timedelta(seconds=item.duration_s)
    except InputError:
        return None


def _lease_bounds(src: Source, objects: K8sFacts) -> list[AheadBound]:
    """Leases this node's kubectl read whose renewTime lies after the read ended on this node's clock."""
    out: list[AheadBound] = []
    for fact in objects.node_leases + objects.leases:
        lease, origin = fact.lease, fact.origin
        item = next((i for i in src.items(origin.item_id) if i.path == origin.path), None)
        until = _read_window(item) if item is not None else None
        if until is None or lease.renew_time is None or not lease.holder:
            continue
        ahead = lease.renew_time - until
        if ahead > LEASE_TOLERANCE:
            # node leases are held by the node name; leader leases by '<hostname>_<uuid>'
            holder = lease.holder.split("_", 1)[0]
            out.append(AheadBound(holder, src.node, ahead, f"{lease.namespace}/{lease.name}", origin.line,
                                  ItemRef(origin.item_id, origin.path), lease.renew_time, until))
    return out


def host(src: Source, objects: K8sFacts) -> NodeHost:
    """One node's disks, time sync and clock bounds; `objects` are the API objects its bundle holds."""
    manifest = src.bundle.manifest
    epoch = manifest.clock.get("epoch")
    ntp = manifest.clock.get("ntp_synchronized")
    out = NodeHost(src.node, manifest.collected_at, float(epoch) if isinstance(epoch, (int, float)) else None,
                   ntp if isinstance(ntp, bool) else None)
    for item, text in src.texts("host.df"):
        assert item.path is not None
        usage = parse_df(text)
        out.disks, out.disk_ref = usage.disks, ItemRef(item.id, item.path)
        for problem in usage.problems:
            src.item_problem(item, problem)
    for item_id, parse in (("host.timedatectl", parse_timedatectl), ("host.chrony", parse_chrony)):
        for item, text in src.texts(item_id):
            assert item.path is not None
            sync = parse(text)
            if sync.synchronized is not None or sync.offset_s is not None:
                out.time.append(TimeFact(src.node, sync, ItemRef(item.id, item.path)))
    for item in src.items("etcd.data_dir_usage"):
        words = item.source.split()
        if len(words) >= 3 and words[0] == "du":
            out.etcd_data_dir = words[-1]
    out.ahead = _lease_bounds(src, objects)
    for item, text in src.texts("host.kubelet_version"):
        assert item.path is not None
        version = parse_version_output(text)
        if version is not None:
            out.kubelet = version, Evidence(src.node, item.path, 1, text.strip()[:200], item.id)
    return out
