"""Redaction after the fact: today's redaction (and optional obfuscation) applied to a bundle
collected earlier, written as a new bundle; the input is never modified.

Logs rotate away, so collecting again is not always possible. This runs the collector's own secret
finder and obfuscator on every item, keeps certificates-only items to their CERTIFICATE blocks as
the collector does, re-hashes what changed, and records in the manifest that it was redacted
later. The new bundle is then scanned like `kubetriage verify` would.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from collector import kubetriage_collect as collector

from . import __version__
from .bundle import MAX_MEMBER_BYTES, Bundle
from .errors import InputError
from .parsers.yamlsafe import load_json

#: the collector's redaction mode per item id ("cert": keep complete certificates only)
MODES = {spec.id: spec.redact for spec in collector.SPECS}


@dataclass
class Redacted:
    """What `redact` did: redactions per item id, the new archive and its digest, what is left."""

    output: Path
    by_item: dict[str, int] = field(default_factory=dict)
    sha256: str = ""
    remaining: list[tuple[str, int, str]] = field(default_factory=list)
    map_path: Path | None = None

    @property
    def total(self) -> int:
        return sum(self.by_item.values())


def _safe_rel(rel: object) -> str:
    """A manifest path that stays inside the staging folder, or InputError."""
    if not isinstance(rel, str) or not rel:
        raise InputError("manifest: an item path is not text")
    path = PurePosixPath(rel)
    if path.is_absolute() or ".." in path.parts:
        raise InputError(f"manifest: item path {rel[:80]!r} leaves the bundle")
    return str(path)


def _stage(bundle: Bundle, manifest: dict[str, Any], staging: Path, done: Redacted) -> None:
    """Write every item, redacted, into staging; update its record's size, hash and count."""
    items = manifest.get("items")
    if not isinstance(items, list):
        raise InputError("manifest: no items list")
    for item in items:
        if not isinstance(item, dict):
            raise InputError("manifest: an item is not an object")
        item_id = str(item.get("id", ""))
        for key, sha in (("path", "sha256"), ("stderr_path", "stderr_sha256")):
            if not item.get(key):
                continue
            rel = _safe_rel(item[key])
            data = bundle.read_bytes(rel, MAX_MEMBER_BYTES)
            mode = MODES.get(item_id, "text") if key == "path" else "text"
            clean, count = collector.redact(mode, data)  # type: ignore[no-untyped-call]
            target = staging / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(clean)
            item[sha] = hashlib.sha256(clean).hexdigest()
            if key == "path":
                item["size"] = len(clean)
            if count:
                item["redactions"] = int(item.get("redactions") or 0) + count
                done.by_item[item_id] = done.by_item.get(item_id, 0) + count


def _top_folder(output: Path) -> str:
    name = output.name
    for suffix in (".tar.gz", ".tgz"):
        if name.endswith(suffix):
            return name[: -len(suffix)]
    return name


def redact_bundle(bundle: Bundle, output: Path, obfuscate: list[str], key: bytes) -> Redacted:
    """Write `output`: `bundle` with every secret redacted (and hostnames/IPs obfuscated with `key`
    when `obfuscate` names them). The mapping, when there is one, goes beside the output."""
    manifest = load_json(bundle.read_bytes("manifest.json"))
    if not isinstance(manifest, dict):
        raise InputError("manifest.json is not an object")
    done = Redacted(output)
    staging = Path(tempfile.mkdtemp(prefix="kubetriage-redact-"))  # 0700: nobody else reads it
    partial = output.with_name(f".{output.name}.partial")
    try:
        _stage(bundle, manifest, staging, done)
        totals = manifest.setdefault("redactions", {})
        if isinstance(totals, dict):
            totals["total"] = int(totals.get("total") or 0) + done.total
            by_item = totals.setdefault("by_item", {})
            for item_id, count in done.by_item.items():
                by_item[item_id] = int(by_item.get(item_id) or 0) + count
        options = manifest.setdefault("options", {})
        if obfuscate:
            obfuscator = collector.Obfuscator(key, obfuscate)  # type: ignore[no-untyped-call]
            obfuscator.apply(str(staging), manifest)  # type: ignore[no-untyped-call]
            done.map_path = output.with_name(_top_folder(output) + ".obfuscation-map.KEEP-PRIVATE.json")
            if done.map_path.exists():
                raise InputError(f"{done.map_path} exists: refusing to overwrite an obfuscation map")
            obfuscator.write_map(str(done.map_path))  # type: ignore[no-untyped-call]
        if isinstance(options, dict):
            options["redacted_later"] = {"at": dt.datetime.now(dt.timezone.utc).isoformat(),
                                         "by": f"kubetriage {__version__}", "obfuscate": obfuscate}
        with partial.open("wb") as handle:
            collector.write_archive(  # type: ignore[no-untyped-call]
                str(staging), _top_folder(output), manifest, handle)
        os.replace(partial, output)
    except OSError as exc:
        raise InputError(f"{output}: cannot write it ({exc.strerror})") from exc
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        partial.unlink(missing_ok=True)
    digest = hashlib.sha256()
    with output.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    done.sha256 = digest.hexdigest()
    done.remaining = _scan(output)
    return done


def _scan(output: Path) -> list[tuple[str, int, str]]:
    """What a secret scan still finds in the written bundle (member, line, kind)."""
    from .bundle import open_bundle
    from .trust import find_secrets

    written = open_bundle(output)
    try:
        return [(name, line, kind) for name in written.member_names() if name != "manifest.json"
                for line, kind in find_secrets(written.read_bytes(name, MAX_MEMBER_BYTES))]
    finally:
        written.close()
