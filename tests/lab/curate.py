"""Add real public evidence to a collected bundle as the collector would have stored it.

The lab cannot run kube-apiserver, controller-manager, scheduler, kubelet or crictl, so evidence
they produce comes from real clusters (tests/fixtures/real/, SOURCES.md names each source). It is
placed under the collector's item id (commands/<id>.out for commands, files/<node path> for files),
passed through the collector's own redaction, and its manifest record gets a fresh sha256/size and
`"provenance": "curated: <source>"`. The bytes are the published ones: nothing is rewritten.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib.util
import io
import json
import tarfile
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from .journal import static_pod_uid

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "real"


def _collector() -> ModuleType:
    spec = importlib.util.spec_from_file_location("kubetriage_collect",
                                                  REPO / "collector" / "kubetriage_collect.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


COLLECTOR = _collector()
SPECS = {s.id: s for s in COLLECTOR.SPECS}


@dataclass(frozen=True)
class Evidence:
    """One real file to place in a bundle."""

    item_id: str
    fixture: str  #: file name in tests/fixtures/real/
    #: node path for file items (e.g. a pod log path); None for command items
    node_path: str | None = None

    def source(self) -> str:
        entries = json.loads((FIXTURES / "index.json").read_text())
        entry = next(e for e in entries if e["file"] == self.fixture)
        return f"{entry['source']} (tests/fixtures/real/{self.fixture})"


def _read(bundle: Path) -> tuple[str, dict[str, bytes]]:
    with tarfile.open(bundle, "r:gz") as tar:
        members = [m for m in tar.getmembers() if m.isfile()]
        top = members[0].name.split("/", 1)[0]
        files = {}
        for m in members:
            handle = tar.extractfile(m)
            assert handle is not None
            files[m.name.split("/", 1)[1]] = handle.read()
    return top, files


def _write(bundle: Path, top: str, manifest: dict, files: dict[str, bytes]) -> None:
    files = {"manifest.json": json.dumps(manifest, indent=2).encode(), **files}
    tmp = bundle.with_name(bundle.name + ".tmp")
    with tarfile.open(tmp, "w:gz", format=tarfile.PAX_FORMAT) as tar:
        for rel, data in files.items():
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size, info.mode = len(data), 0o644
            info.mtime = int(dt.datetime.now(dt.timezone.utc).timestamp())
            tar.addfile(info, io.BytesIO(data))
    tmp.replace(bundle)


def add_evidence(bundle: Path, evidence: Evidence) -> dict:
    """Place `evidence` in the bundle tarball (rewritten in place); return its new item record."""
    spec = SPECS[evidence.item_id]
    top, files = _read(bundle)
    manifest = json.loads(files.pop("manifest.json"))
    data, redactions = COLLECTOR.redact(spec.redact, (FIXTURES / evidence.fixture).read_bytes())
    if evidence.node_path:
        rel, source = "files" + evidence.node_path, evidence.node_path
        # the same file, or the record that the item's globs found nothing: it has a file now
        replaced = [i for i in manifest["items"]
                    if i["id"] == spec.id and (i["source"] == source or not i.get("path"))]
    else:
        rel = f"commands/{spec.id}.out"
        replaced = [i for i in manifest["items"] if i["id"] == spec.id]
        source = replaced[0]["source"] if replaced else spec.source
    for old in replaced:
        manifest["items"].remove(old)
        for key in ("path", "stderr_path"):
            files.pop(old.get(key) or "", None)
    files[rel] = data
    record = {
        "id": spec.id, "kind": "command" if spec.kind == "command" else "file", "source": source,
        "path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
        "exit_code": 0 if spec.kind == "command" else None, "started_at": manifest["collected_at"],
        "duration_s": 0.0, "timed_out": False, "truncated": False, "redactions": redactions,
        "error": None, "skipped": None, "provenance": f"curated: {evidence.source()}",
    }
    manifest["items"].append(record)
    if redactions:
        totals = manifest["redactions"]
        totals["by_item"][spec.id] = totals["by_item"].get(spec.id, 0) + redactions
        totals["total"] += redactions
    # The item is now present: it is no longer one the run excluded.
    manifest["options"]["exclude"] = [e for e in manifest["options"]["exclude"] if e != spec.id]
    _write(bundle, top, manifest, files)
    return record


def pod_log_path(root_manifest: Path, pod: str, container: str, restart: int = 0) -> str:
    """The kubelet's log path for a static pod container (UID: the manifest's hash, as journal.py)."""
    uid = static_pod_uid(root_manifest.read_bytes())
    return f"/var/log/pods/kube-system_{pod}_{uid}/{container}/{restart}.log"
