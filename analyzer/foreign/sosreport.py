"""sosreport (sos report, `sosreport-<host>-<date>.tar.xz`): one node, command outputs named after the
command line under `sos_commands/<plugin>/`, copied files under their node path.

The collection time is the report's own `date` (`sos_commands/date/date_--utc`, else `date`);
kubectl outputs come from the kubernetes plugin (sos/report/plugins/kubernetes.py: `get -o json` per
namespace with its `all` option, pod logs with `podlogs`, `/etc/kubernetes` copied without `pki/`),
journals from every plugin's `journalctl ... --unit`.
"""

from __future__ import annotations

import re

from ..errors import InputError
from . import Located, NodeEvidence, join
from .common import journal_item, parse_date, typed
from .tree import Files

_UNIT = re.compile(r"journalctl_.*--unit_([^/]+?)(\.\d+)?$")
#: `kubectl ... get -o json [--namespace NS] RESOURCE` (sos's kubernetes plugin)
_GET_JSON = re.compile(r"kubectl_.*_get_-o_json(?:_--namespace_[^_/]+)?_(pods|events|nodes|leases)$")
#: `kubectl --namespace NS logs POD [-c CONTAINER]` (the plugin's podlogs option)
_POD_LOGS = re.compile(r"kubectl_.*--namespace_([^_/]+)_logs_([^/]+?)(?:_-c_([^/]+))?$")
#: other command outputs whose type the content tells (firewall, time sync, disk usage)
_BY_CONTENT = ("sos_commands/firewall_tables/", "sos_commands/ufw/ufw_status",
               "sos_commands/systemd/timedatectl", "sos_commands/chrony/chronyc_",
               "sos_commands/filesys/df_", "sos_commands/crio/crictl_ps",
               "sos_commands/containerd/crictl_ps", "sos_commands/networking/ss_", "sos_commands/etcd/")
_RESOURCE_ITEMS = {"pods": "k8s.pods", "events": "k8s.events", "nodes": "k8s.nodes", "leases": "k8s.leases"}


def _no_entries(files: Files, name: str) -> bool:
    """journalctl's answer for a unit that never logged: only `-- Logs begin ...` and `-- No entries --`."""
    head = files.head(name, 4096)
    return "-- No entries --" in head and all(ln.startswith("-- ") for ln in head.splitlines() if ln.strip())


class SosReport:
    name = "sosreport"

    def matches(self, files: Files, root: str) -> bool:
        return join(root, "sos_commands") in files.folders

    def locate(self, files: Files, root: str) -> Located:
        when, source = None, ""
        for name in ("sos_commands/date/date_--utc", "sos_commands/date/date", "date"):
            path = join(root, name)
            if files.has(path):
                when, source = parse_date(files.head(path)), f"sosreport `{name}`"
                if when:
                    break
        if when is None:
            raise InputError("sosreport without a readable UTC `date` output: no collection time")
        host = next((line for name in ("sos_commands/host/hostname", "hostname")
                     if files.has(join(root, name)) for line in files.head(join(root, name)).split()[:1]), "")
        node = NodeEvidence(host[:253] or "sosreport")
        commands = join(root, "sos_commands")
        empty: list[str] = []
        for name in files.under(commands):
            base = name.rsplit("/", 1)[-1]
            unit = _UNIT.search(base)
            if unit and not unit.group(2):
                item = journal_item(unit.group(1))
                if item and _no_entries(files, name):
                    empty.append(unit.group(1))
                elif item:
                    node.add(item, name, f"journalctl --unit {unit.group(1)}")
                continue
            got = _GET_JSON.search(base)
            if got:
                node.add(_RESOURCE_ITEMS[got.group(1)], name)
                continue
            logs = _POD_LOGS.search(base)
            if logs:
                container = f"container {logs.group(3)} of " if logs.group(3) else ""
                node.add("logs.pod", name, f"kubectl logs of {container}pod {logs.group(2)}")
                continue
            if name.removeprefix(join(root, "")).startswith(_BY_CONTENT):
                item = typed(files, name)
                if item:
                    node.add(item, name)
        # copied files keep their node path (the plugin copies /etc/kubernetes, never its pki/)
        for name in files.under(join(root, "etc/kubernetes/manifests")):
            if name.endswith((".yaml", ".yml", ".json")):
                node.add("k8s.static_pod_manifest", name, "/" + name.removeprefix(join(root, "")))
        for name in files.under(join(root, "etc/kubernetes")):
            if name.endswith(".conf") and name.count("/") == join(root, "etc/kubernetes/x").count("/"):
                node.add("k8s.kubeconfig", name, "/" + name.removeprefix(join(root, "")))
        notices = [f"journals with no entries (units by these names do not run here; e.g. Charmed "
                   f"Kubernetes names them snap.<name>.daemon): {', '.join(sorted(empty))}"] if empty else []
        return Located(self.name, when, source, [node], notices)
