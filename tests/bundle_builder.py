"""Write bundle folders for analyzer tests: manifest.json plus items stored as the collector stores them.

Content comes from real outputs (fixtures); the builder only adds the manifest records the collector
would write (commands/<id>.out and .err, files/<node path>, exit code, error = stderr's last line).

    node = BundleBuilder("cp-1").kubeadm_manifests()
    node.command("etcd.member_list", node.argv("etcd.member_list"), stdout=text)
    path = node.write(tmp_path)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import tempfile
from pathlib import Path
from typing import Any

from tests.lab.curate import SPECS
from tests.lab.kubeadm_root import ClusterPKI, NodeRoot, NodeSpec

COLLECTED_AT = "2026-11-27T02:00:00Z"
#: what the collector's Context fills into {etcd_tls} on a kubeadm node
ETCD_TLS = ("--cacert=/etc/kubernetes/pki/etcd/ca.crt",
            "--cert=/etc/kubernetes/pki/apiserver-etcd-client.crt",
            "--key=/etc/kubernetes/pki/apiserver-etcd-client.key")


def _bytes(data: str | bytes) -> bytes:
    return data.encode() if isinstance(data, str) else data


class BundleBuilder:
    """One node's bundle, built item by item."""

    def __init__(self, node: str = "cp-1", collected_at: str = COLLECTED_AT, root: str = "/") -> None:
        self.node = node
        self.collected_at = collected_at
        self.root = root
        self.items: list[dict[str, Any]] = []
        self.files: dict[str, bytes] = {}

    def _record(self, item_id: str, kind: str, source: Any, **fields: Any) -> dict[str, Any]:
        record = {"id": item_id, "kind": kind, "source": source, "path": None, "size": 0, "sha256": None,
                  "exit_code": None, "started_at": self.collected_at, "duration_s": 0.0,
                  "timed_out": False, "truncated": False, "redactions": 0, "error": None, "skipped": None}
        record.update(fields)
        self.items.append(record)
        return record

    def _store(self, rel: str, data: bytes) -> dict[str, Any]:
        self.files[rel] = data
        return {"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    def file(self, item_id: str, node_path: str, content: str | bytes) -> BundleBuilder:
        self._record(item_id, "file", node_path, **self._store("files" + node_path, _bytes(content)))
        return self

    def command(self, item_id: str, argv: list[str], stdout: str | bytes = "", stderr: str | bytes = "",
                exit_code: int | None = 0, timed_out: bool = False) -> BundleBuilder:
        """A command that ran; a non-zero exit gets the collector's error (stderr's last line)."""
        fields = self._store(f"commands/{item_id}.out", _bytes(stdout))
        fields.update(exit_code=exit_code, timed_out=timed_out)
        err = _bytes(stderr)
        if err:
            fields["stderr_path"] = self._store(f"commands/{item_id}.err", err)["path"]
        lines = [line for line in err.decode("utf-8", "replace").splitlines() if line.strip()]
        if timed_out:
            fields["error"] = "timed out after 20s; process group killed"
        elif exit_code not in (0, None):
            fields["error"] = f"exit code {exit_code}: {lines[-1][:300] if lines else '(no stderr)'}"
        self._record(item_id, "command", argv, **fields)
        return self

    def not_collected(self, item_id: str, source: Any, *, error: str | None = None,
                      skipped: str | None = None) -> BundleBuilder:
        """An item that failed before producing output, or was skipped."""
        self._record(item_id, "command", source, error=error, skipped=skipped)
        return self

    def argv(self, item_id: str, endpoint: str = "https://127.0.0.1:2379") -> list[str]:
        """The collector's argv for an etcdctl item, filled as its Context fills it on a kubeadm node."""
        out: list[str] = []
        for word in SPECS[item_id].source:
            if word == "{etcd_endpoints}":
                out.append(f"--endpoints={endpoint}")
            elif word == "{etcd_tls}":
                out.extend(ETCD_TLS)
            else:
                out.append(word)
        return out

    def kubeadm_manifests(self, **spec: Any) -> BundleBuilder:
        """The static pod manifests kubeadm writes (tests/lab/kubeadm_root), as k8s.static_pod_manifest."""
        with tempfile.TemporaryDirectory() as tmp:
            node_spec = NodeSpec(name=self.node, **spec)
            node = NodeRoot(Path(tmp), ClusterPKI(dt.datetime.now(dt.timezone.utc)), node_spec)
            node.write_manifests()
            for path in sorted(Path(tmp, "etc/kubernetes/manifests").iterdir()):
                self.file("k8s.static_pod_manifest", f"/etc/kubernetes/manifests/{path.name}",
                          path.read_bytes())
        return self

    def manifest(self) -> dict[str, Any]:
        return {
            "format_version": 1, "collector_version": "test", "node": {
                "hostname": self.node, "os": "Debian GNU/Linux 12 (bookworm)", "kernel": "6.1.0", "ips": []},
            "collected_at": self.collected_at, "finished_at": self.collected_at,
            "clock": {"epoch": 0, "timezone": "UTC", "ntp_synchronized": True},
            "options": {"root": self.root, "since": "24h", "deadline": 300, "exclude": [],
                        "host_commands": False},
            "complete": True, "redactions": {"total": 0, "by_item": {}}, "items": self.items,
        }

    def write(self, folder: Path) -> Path:
        """Write the unpacked bundle under folder/<node>/ and return that folder."""
        top = folder / self.node
        for rel, data in self.files.items():
            (top / rel).parent.mkdir(parents=True, exist_ok=True)
            (top / rel).write_bytes(data)
        top.mkdir(parents=True, exist_ok=True)
        (top / "manifest.json").write_text(json.dumps(self.manifest(), indent=2))
        return top
