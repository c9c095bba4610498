"""Bundles whose text attacks the analyst rather than the analyzer: shell syntax where remediation
commands take bundle values, Markdown/HTML where reports show them, terminal escapes where the
summary and `verify` print them.

Each is a real sample bundle (bundles/samples/) with one hostile value put everywhere its node name
appears (member names and text, manifest records), plus a few targeted values: a failing /readyz
check name (the real minikube body of tests/fixtures/real/), a static pod image, a certificate path.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import re
import tarfile
from collections.abc import Callable
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "bundles" / "samples"
READYZ = (Path(__file__).resolve().parents[1] / "fixtures" / "real"
          / "health-verbose-healthz-etcd-failed-minikube-8427.txt")

#: shell syntax that creates a file pwnN in the current folder if any part of it runs; no space, no
#: double quote, so it survives as one YAML/JSON/table field wherever a node name goes
SHELL = ("x$(echo${IFS}1>pwn1)`echo${IFS}2>pwn2`;echo${IFS}3>pwn3;'$(echo${IFS}4>pwn4)'"
         "&&echo${IFS}5>pwn5|tee${IFS}pwn6")
#: breaks out of a Markdown code span, then raw HTML and a javascript: link
MARKDOWN = "cp`<img src=x onerror=alert(1)>`[click](javascript:alert(2))<script>alert(3)</script>"
#: retitles the window, clears the screen, reverses the text, and fakes a line of `verify`
TERMINAL = "cp-1\x1b]0;owned\x07\x1b[2J\x1b[1;1H\u202eko :\x9b0m\r\n/tmp/fake.tar.gz: ok"

Edit = Callable[[str, bytes], bytes]


def _records(doc: dict[str, object]) -> list[dict[str, object]]:
    items = doc.get("items")
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else []


def poison(tarball: Path, out: Path, value: str, edit: Edit | None = None,
           extra: dict[str, tuple[str, bytes]] | None = None, hostname_only: bool = False) -> Path:
    """A copy of `tarball` with `value` for its node name (everywhere, unless hostname_only), `edit`
    applied to every member's bytes, and `extra` items {id: (path in the bundle, content)} added;
    sizes and SHA-256 in the manifest match the new content, so only the values are hostile."""
    with tarfile.open(tarball) as tar:
        members = [(m.name, tar.extractfile(m).read()) for m in tar.getmembers() if m.isreg()]  # type: ignore[union-attr]
    top = members[0][0].split("/", 1)[0]
    by_rel = {name.split("/", 1)[1]: data for name, data in members}
    doc = json.loads(by_rel.pop("manifest.json"))
    node = doc["node"]["hostname"]

    def swap(text: str) -> str:
        return text if hostname_only else text.replace(node, value)

    files: dict[str, bytes] = {}
    for rel, data in by_rel.items():
        data = data if hostname_only else data.replace(node.encode(), value.encode())
        files[swap(rel)] = edit(rel, data) if edit else data
    doc = json.loads(swap(json.dumps(doc)))
    doc["node"]["hostname"] = value
    for record in _records(doc):  # certificates found in a hostile folder on the node
        if record.get("id") == "pki.cert" and isinstance(record.get("source"), str) and not hostname_only:
            record["source"] = str(record["source"]).replace("/pki/", f"/pki/{value}/", 1)
    for item_id, (rel, data) in (extra or {}).items():
        doc["items"].append({"id": item_id, "kind": "command", "source": ["kubectl", "get", rel],
                             "path": rel, "exit_code": 0, "started_at": doc["collected_at"],
                             "duration_s": 0.1, "timed_out": False, "truncated": False, "redactions": 0,
                             "error": None, "skipped": None})
        files[rel] = data
    for record in _records(doc):
        path = record.get("path")
        if isinstance(path, str) and path in files:
            record["size"], record["sha256"] = len(files[path]), hashlib.sha256(files[path]).hexdigest()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for rel, data in [("manifest.json", json.dumps(doc).encode()), *files.items()]:
            info = tarfile.TarInfo(f"{top}/{rel}")
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    out.write_bytes(gzip.compress(buffer.getvalue(), compresslevel=1))
    return out


def readyz(check: str) -> tuple[str, bytes]:
    """The real verbose /readyz body of a failing etcd check, with that check renamed."""
    body = READYZ.read_text().replace("healthz check failed", "readyz check failed")
    return "commands/k8s.readyz.out", body.replace("[-]etcd failed", f"[-]{check} failed").encode()


def hostile_images(value: str) -> Edit:
    """Static pod manifests pulling from the frozen registry through a hostile repository path."""
    def edit(rel: str, data: bytes) -> bytes:
        if "/etc/kubernetes/manifests/" not in rel:
            return data
        return re.sub(rb"image: [\w.-]+/", b"image: k8s.gcr.io/" + value.encode() + b"/", data)
    return edit


def samples() -> list[Path]:
    """Every node bundle of every sample scenario."""
    return sorted(SAMPLES.glob("*/*.tar.gz"))


def poisoned_samples(folder: Path, value: str) -> list[list[Path]]:
    """Every sample scenario, its nodes poisoned with `value` (node names, images, readyz checks)."""
    scenarios: dict[str, list[Path]] = {}
    for tarball in samples():
        name = tarball.parent.name
        out = folder / name / tarball.name
        out.parent.mkdir(parents=True, exist_ok=True)
        extra = {"k8s.readyz": readyz(f"etcd{value}")} if not scenarios.get(name) else None
        scenarios.setdefault(name, []).append(poison(tarball, out, value, hostile_images(value), extra))
    return list(scenarios.values())
