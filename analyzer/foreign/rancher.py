"""Rancher's log collector (`rancher2_logs_collector.sh`): one node of an RKE2, k3s or RKE cluster, in
`<host>-<date>/` with `systeminfo/`, `networking/`, `journald/`, `etcd/` and `rke2/` (`k3s/`, `rke/`).

The collection time is `systeminfo/date` (`date` on the node); etcd outputs come from the
distribution's own etcdctl, pod logs from `<dist>/podlogs/<namespace>-<pod>[-previous]`.
"""

from __future__ import annotations

from ..errors import InputError
from . import Located, NodeEvidence, join
from .common import journal_item, parse_date, typed
from .tree import Files

#: the `${DISTRO}/` folder (rancherlabs/support-tools: Rancher_Logs_Collector_Directory_Structure.md)
DISTRIBUTIONS = ("rke2", "k3s", "rke")
ETCD = {"memberlist": "etcd.member_list", "endpointstatus": "etcd.endpoint_status",
        "endpointhealth": "etcd.endpoint_health", "alarmlist": "etcd.alarm_list"}
#: `<dist>/...` files and the item each holds (kubectl and crictl tables, the static pods)
FIXED = {"kubectl/nodes": "k8s.nodes", "kubectl/nodes.json": "k8s.nodes", "kubectl/pods": "k8s.pods",
         "kubectl/leases": "k8s.leases",
         "crictl/psa": "cri.ps", "crictl/pods": "cri.pods"}
#: outputs whose type their content tells (firewall, sockets, disk, uptime)
BY_CONTENT = ("networking/iptablessave", "networking/ip6tablessave", "networking/nft_ruleset",
              "networking/ssanp", "networking/sslnp", "systeminfo/dfh", "systeminfo/timedatectl")


class RancherLogs:
    name = "Rancher log collector"

    def matches(self, files: Files, root: str) -> bool:
        return files.has(join(root, "systeminfo/date")) and any(join(root, d) in files.folders
                                                                for d in DISTRIBUTIONS)

    def locate(self, files: Files, root: str) -> Located:
        when = parse_date(files.head(join(root, "systeminfo/date")))
        if when is None:
            raise InputError("systeminfo/date is not a UTC `date` output: no collection time")
        hostname = join(root, "systeminfo/hostname")
        host = files.head(hostname).strip().splitlines()[0] if files.has(hostname) else ""
        dist = next(d for d in DISTRIBUTIONS if join(root, d) in files.folders)
        node = NodeEvidence(host[:253] or root.rsplit("/", 1)[-1] or dist)
        for name, item in ETCD.items():
            if files.has(join(root, f"etcd/{name}")):
                node.add(item, join(root, f"etcd/{name}"), f"{dist} etcdctl {name}")
        for name, item in FIXED.items():
            if files.has(join(root, f"{dist}/{name}")):
                node.add(item, join(root, f"{dist}/{name}"))
        for name in files.under(join(root, f"{dist}/pod-manifests")):
            node.add("k8s.static_pod_manifest", name)
        for name in files.under(join(root, f"{dist}/certs")):
            if name.endswith(".crt"):
                node.add("pki.cert", name)
        for name in files.under(join(root, f"{dist}/podlogs")):
            node.add("logs.pod", name, f"kubectl logs of pod {name.rsplit('/', 1)[-1]}")
        for name in files.under(join(root, f"{dist}/containerlogs")):  # RKE1: docker logs per component
            node.add("logs.pod", name, f"docker logs of container {name.rsplit('/', 1)[-1]}")
        for name in files.under(join(root, "journald")):
            unit = journal_item(name.rsplit("/", 1)[-1])
            if unit:
                node.add(unit, name, f"journalctl -u {name.rsplit('/', 1)[-1]}")
        for name in BY_CONTENT:
            path = join(root, name)
            if files.has(path) and (found := typed(files, path)):
                node.add(found, path)
        return Located(self.name, when, "systeminfo/date", [node])
