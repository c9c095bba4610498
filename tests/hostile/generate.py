"""Write hostile bundles into a folder, each with the outcome the analyzer must give.

`CASES` lists them; `case.build(folder)` writes one and returns its path. Outcomes:
- ``error``: exit 2 with one line on stderr matching ``message``;
- ``partial``: exit 0, and the report's problems hold a line matching ``message``
  (``message`` empty: the analysis only has to finish within the time and memory bounds).
Run ``python -m tests.hostile.generate DIR`` to write them all for a manual look.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.lab.kubeadm_root import make_ca

TOP = "kubetriage-evil-20240101T000000Z"
NOW = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
MB = 1024 * 1024


@dataclass
class Member:
    """One tar member; `name` is inside the top folder unless `raw` (then used as is)."""

    name: str
    data: bytes = b""
    type: bytes = tarfile.REGTYPE
    linkname: str = ""
    raw: bool = False

    def info(self) -> tarfile.TarInfo:
        info = tarfile.TarInfo(self.name if self.raw else f"{TOP}/{self.name}")
        info.type, info.linkname, info.mode, info.mtime = self.type, self.linkname, 0o644, 1704067200
        info.size = len(self.data) if self.type == tarfile.REGTYPE else 0
        if self.type == tarfile.CHRTYPE:
            info.devmajor, info.devminor = 1, 5  # /dev/zero
        return info


@dataclass
class Item:
    """A manifest record with its stored content (None: referenced but not stored)."""

    id: str
    path: str
    data: bytes | None
    source: str = ""

    def record(self) -> dict[str, Any]:
        data = self.data or b""
        return {"id": self.id, "kind": "file", "source": self.source or "/" + self.path.split("/", 1)[-1],
                "path": self.path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest(),
                "exit_code": None, "started_at": "2024-01-01T00:00:00.000000Z", "duration_s": 0.01,
                "timed_out": False, "truncated": False, "redactions": 0, "error": None, "skipped": None}


def manifest(records: list[Item], **overrides: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "format_version": 1, "collector_version": "0.1.0",
        "node": {"hostname": "evil", "os": "", "kernel": "", "ips": []},
        "collected_at": "2024-01-01T00:00:00.000000Z", "finished_at": "2024-01-01T00:00:01.000000Z",
        "clock": {"epoch": 1704067200.0, "timezone": "UTC", "ntp_synchronized": None},
        "options": {}, "complete": True, "redactions": {"total": 0, "by_item": {}},
        "items": [i.record() for i in records],
    }
    doc.update(overrides)
    return doc


def certificate_pem() -> bytes:
    return make_ca("hostile-ca", NOW).cert_pem()


def good_items() -> list[Item]:
    """What a small real bundle holds: a certificate, a kubeconfig, a static pod manifest, a log."""
    cert = certificate_pem()
    kubeconfig = (b"apiVersion: v1\nkind: Config\nclusters:\n- cluster:\n    server: https://10.0.0.1:6443\n"
                  b"  name: k\nusers:\n- name: admin\n  user:\n    client-certificate-data: "
                  + base64.b64encode(cert) + b"\n    client-key-data: REDACTED\n")
    pod = (b"apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\nspec:\n"
           b"  containers:\n  - command:\n    - etcd\n    - --name=evil\n"
           b"    image: registry.k8s.io/etcd:3.5.12-0\n    name: etcd\n")
    log = b'2024-01-01T00:00:00.000000000Z stderr F {"level":"info","msg":"ready to serve client requests"}\n'
    return [Item("pki.cert", "files/etc/kubernetes/pki/ca.crt", cert),
            Item("k8s.kubeconfig", "files/etc/kubernetes/admin.conf", kubeconfig),
            Item("k8s.static_pod_manifest", "files/etc/kubernetes/manifests/etcd.yaml", pod),
            Item("logs.pod", "files/var/log/pods/kube-system_etcd-evil_0/etcd/0.log", log)]


def tar_bytes(members: list[Member], compress: bool = True) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in members:
            tar.addfile(member.info(), io.BytesIO(member.data) if member.type == tarfile.REGTYPE else None)
    return gzip.compress(buffer.getvalue(), compresslevel=1) if compress else buffer.getvalue()


def bundle_members(stored_items: list[Item], extra: list[Member] | None = None,
                   **overrides: Any) -> list[Member]:
    """manifest.json first, then every stored item, then the hostile extras."""
    doc = json.dumps(manifest(stored_items, **overrides)).encode()
    stored = [Member(i.path, i.data) for i in stored_items if i.data is not None]
    return [Member("manifest.json", doc), *stored, *(extra or [])]


def write(folder: Path, name: str, data: bytes) -> Path:
    path = folder / name
    path.write_bytes(data)
    return path


def replace_item(items: list[Item], item_id: str, data: bytes) -> list[Item]:
    return [Item(i.id, i.path, data, i.source) if i.id == item_id else i for i in items]


# -- the cases ------------------------------------------------------------------------------------
def traversal_dotdot(folder: Path) -> Path:
    items = [*good_items(), Item("k8s.static_pod_manifest", "../../escaped-dotdot.yaml", None)]
    extra = [Member(f"{TOP}/../../escaped-dotdot.yaml", b"kind: Pod\n", raw=True),
             Member("../escaped-dotdot-2.yaml", b"kind: Pod\n", raw=True)]
    return write(folder, "traversal-dotdot.tar.gz", tar_bytes(bundle_members(items, extra)))


def traversal_absolute(folder: Path) -> Path:
    extra = [Member("/tmp/kubetriage-escaped-absolute", b"owned\n", raw=True)]
    return write(folder, "traversal-absolute.tar.gz", tar_bytes(bundle_members(good_items(), extra)))


def symlink_outside(folder: Path) -> Path:
    items = [i for i in good_items() if i.id != "pki.cert"]
    items.append(Item("pki.cert", "files/etc/kubernetes/pki/ca.crt", None))
    extra = [Member("files/etc/kubernetes/pki/ca.crt", type=tarfile.SYMTYPE, linkname="/etc/shadow"),
             Member("files/escape-dir", type=tarfile.SYMTYPE, linkname="../../../../")]
    return write(folder, "symlink-outside.tar.gz", tar_bytes(bundle_members(items, extra)))


def hardlink_outside(folder: Path) -> Path:
    extra = [Member("files/etc/passwd", type=tarfile.LNKTYPE, linkname="/etc/passwd")]
    return write(folder, "hardlink-outside.tar.gz", tar_bytes(bundle_members(good_items(), extra)))


def device_and_fifo(folder: Path) -> Path:
    extra = [Member("files/dev/zero", type=tarfile.CHRTYPE), Member("files/run/fifo", type=tarfile.FIFOTYPE),
             Member("files/dev/sda", type=tarfile.BLKTYPE)]
    return write(folder, "device-and-fifo.tar.gz", tar_bytes(bundle_members(good_items(), extra)))


def tar_bomb(folder: Path) -> Path:
    from analyzer.bundle import MAX_MEMBERS
    extra = [Member(f"files/bomb/{n}", b"") for n in range(MAX_MEMBERS + 1)]
    return write(folder, "tar-bomb.tar.gz", tar_bytes(bundle_members(good_items(), extra)))


def gzip_bomb(folder: Path) -> Path:
    """Under 5 MB on disk, 4 GB of zeros inside: concatenated gzip members of one compressed block."""
    prefix = io.BytesIO()
    with tarfile.open(fileobj=prefix, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for member in bundle_members(good_items()):
            tar.addfile(member.info(), io.BytesIO(member.data))
        big = tarfile.TarInfo(f"{TOP}/files/var/log/zeros.log")
        big.size = 400 * MB  # under the per-member cap: only the expansion ratio gives it away
        big_header = big.tobuf(tarfile.PAX_FORMAT, tar.encoding, tar.errors)
    zeros = gzip.compress(bytes(64 * MB), compresslevel=9)
    data = gzip.compress(_strip_end(prefix.getvalue()) + big_header) + zeros * 64
    return write(folder, "gzip-bomb.tar.gz", data)


def _strip_end(tar_data: bytes) -> bytes:
    """A tar stream without its trailing zero blocks, so more members can follow."""
    end = len(tar_data)
    while end >= tarfile.BLOCKSIZE and tar_data[end - tarfile.BLOCKSIZE:end] == bytes(tarfile.BLOCKSIZE):
        end -= tarfile.BLOCKSIZE
    return tar_data[:end]


def _alias_bomb(levels: int = 120) -> bytes:
    """Billion laughs: 9 aliases per level, 9**levels nodes once expanded."""
    rows = ["a0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    rows += [f"a{n}: &a{n} [" + ", ".join([f"*a{n - 1}"] * 9) + "]" for n in range(1, levels)]
    return ("\n".join(rows) + "\n").encode()


def yaml_alias_bomb(folder: Path) -> Path:
    items = replace_item(replace_item(good_items(), "k8s.kubeconfig", _alias_bomb()),
                         "k8s.static_pod_manifest", _alias_bomb())
    return write(folder, "yaml-alias-bomb.tar.gz", tar_bytes(bundle_members(items)))


def yaml_deep_nesting(folder: Path) -> Path:
    deep = b"a: " + b"[" * 100_000 + b"]" * 100_000 + b"\n"
    items = replace_item(good_items(), "k8s.kubeconfig", deep)
    items = replace_item(items, "k8s.static_pod_manifest", deep)
    return write(folder, "yaml-deep-nesting.tar.gz", tar_bytes(bundle_members(items)))


def long_line_log(folder: Path) -> Path:
    """One 50 MB line (incompressible, so it is not mistaken for a gzip bomb)."""
    line = b"2024-01-01T00:00:00.000000000Z stderr F " + base64.b64encode(os.urandom(37 * MB))[: 50 * MB]
    items = replace_item(good_items(), "logs.pod", line)
    return write(folder, "long-line-log.tar.gz", tar_bytes(bundle_members(items)))


def invalid_utf8(folder: Path) -> Path:
    bad = b"\xff\xfe\xc3\x28\xa0\xa1\xe2\x28\xa1\xf0\x28\x8c\xbc\x00\n"
    items = [Item(i.id, i.path, bad + (i.data or b"") + bad, i.source) for i in good_items()]
    return write(folder, "invalid-utf8.tar.gz", tar_bytes(bundle_members(items)))


def truncated_gzip(folder: Path) -> Path:
    data = tar_bytes(bundle_members(good_items()))
    return write(folder, "truncated-gzip.tar.gz", data[: len(data) * 2 // 3])


def malformed_manifest_json(folder: Path) -> Path:
    broken = Member("manifest.json", b'{"format_version": 1, "items": [{"id": ')
    members = [broken, *bundle_members(good_items())[1:]]
    return write(folder, "malformed-manifest-json.tar.gz", tar_bytes(members))


def manifest_deep_json(folder: Path) -> Path:
    members = [Member("manifest.json", b"[" * 200_000 + b"]" * 200_000)]
    return write(folder, "manifest-deep-json.tar.gz", tar_bytes(members))


def manifest_wrong_types(folder: Path) -> Path:
    members = bundle_members(good_items(), items="every item", redactions={"total": "many"})
    return write(folder, "manifest-wrong-types.tar.gz", tar_bytes(members))


def manifest_wrong_item_types(folder: Path) -> Path:
    doc = manifest(good_items())
    doc["items"][0]["size"] = "huge"
    members = [Member("manifest.json", json.dumps(doc).encode()), *bundle_members(good_items())[1:]]
    return write(folder, "manifest-wrong-item-types.tar.gz", tar_bytes(members))


def manifest_newer_format(folder: Path) -> Path:
    members = bundle_members(good_items(), format_version=99)
    return write(folder, "manifest-newer-format.tar.gz", tar_bytes(members))


def no_manifest(folder: Path) -> Path:
    return write(folder, "no-manifest.tar.gz", tar_bytes(bundle_members(good_items())[1:]))


def not_a_tarball(folder: Path) -> Path:
    return write(folder, "not-a-tarball.tar.gz", os.urandom(4096))


def malformed_pem(folder: Path) -> Path:
    pem = (b"-----BEGIN CERTIFICATE-----\nMIIB!!not base64!!\n-----END CERTIFICATE-----\n"
           b"-----BEGIN CERTIFICATE-----\n")
    members = bundle_members(replace_item(good_items(), "pki.cert", pem))
    return write(folder, "malformed-pem.tar.gz", tar_bytes(members))


def malformed_json_items(folder: Path) -> Path:
    items = good_items() + [Item(i, f"commands/{i}.out", b'{"header": [[[', source="etcdctl")
                            for i in ("etcd.endpoint_status", "etcd.member_list", "k8s.version")]
    return write(folder, "malformed-json-items.tar.gz", tar_bytes(bundle_members(items)))


def hash_mismatch(folder: Path) -> Path:
    items = good_items()
    members = bundle_members(items)
    tampered = certificate_pem()  # another certificate where the manifest hashed the first one
    members = [Member(m.name, tampered) if m.name.endswith("ca.crt") else m for m in members]
    return write(folder, "hash-mismatch.tar.gz", tar_bytes(members))


def deep_json_items(folder: Path) -> Path:
    """crictl inspect and etcdctl JSON nested past the interpreter's recursion limit, and a pending-pods
    list nested 900 deep: json loads that one, code walking it would not."""
    items = good_items() + [
        Item("cri.inspect", "commands/cri.inspect.out", b"[" * 100_000 + b"]" * 100_000, source="crictl"),
        Item("etcd.endpoint_status", "commands/etcd.endpoint_status.out",
             b'[{"Endpoint":' * 50_000 + b"1" + b"}]" * 50_000, source="etcdctl"),
        Item("k8s.pending_pods", "commands/k8s.pending_pods.out",
             b'{"items": [' + b'{"a":' * 900 + b"1" + b"}" * 900 + b"]}", source="kubectl")]
    return write(folder, "deep-json-items.tar.gz", tar_bytes(bundle_members(items)))


def deep_json_loose(folder: Path) -> Path:
    return write(folder, "deep.json", b'[{"status": ' * 100_000 + b"{}" + b"}]" * 100_000)


def shared_member(folder: Path, records: int = 10_000) -> Path:
    """Thousands of manifest records naming one 400 KB log: each must not cost a parse of it."""
    items = good_items()
    log = items[3]
    data = ((log.data or b"") * (400_000 // len(log.data or b"x") + 1))[:400_000]
    ids = ("logs.pod", "k8s.static_pod_manifest", "cri.inspect", "etcd.endpoint_status")
    shared = [Item(item_id, log.path, None) for item_id in ids for _ in range(records // len(ids))]
    return write(folder, "shared-member.tar.gz",
                 tar_bytes(bundle_members([*items[:3], Item("logs.pod", log.path, data), *shared])))


def private_key_pem() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    return ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption())


def duplicate_member(folder: Path) -> Path:
    """Two copies of ca.crt: first a private key, then the certificate the manifest hashed."""
    members = bundle_members(good_items())
    cert = next(m for m in members if m.name.endswith("ca.crt"))
    members.insert(1, Member(cert.name, private_key_pem()))
    return write(folder, "duplicate-member.tar.gz", tar_bytes(members))


def garbage_cms(folder: Path) -> Path:
    return write(folder, "garbage.tar.gz.cms", b"\x30\x82\x01\x00" + os.urandom(4096))


def flipped_byte(folder: Path) -> Path:
    """A real bundle with one byte flipped in the middle of its compressed stream."""
    data = bytearray(tar_bytes(bundle_members(good_items())))
    data[len(data) // 2] ^= 0x01
    return write(folder, "flipped-byte.tar.gz", bytes(data))


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[Path], Path]
    outcome: str  # "error" | "partial" | "not-understood" (exit 2, the report says why)
    message: str
    needs_key: bool = False
    slow: bool = False
    tags: tuple[str, ...] = field(default_factory=tuple)


CASES = [
    Case("traversal-dotdot", traversal_dotdot, "partial", r"ignored unsafe archive member '.*\.\./"),
    Case("traversal-absolute", traversal_absolute, "partial", r"ignored unsafe archive member '/tmp/"),
    Case("symlink-outside", symlink_outside, "partial", r"ignored non-regular archive member .*ca\.crt"),
    Case("hardlink-outside", hardlink_outside, "partial", r"ignored non-regular archive member .*passwd"),
    Case("device-and-fifo", device_and_fifo, "partial", r"ignored non-regular archive member .*fifo"),
    Case("tar-bomb", tar_bomb, "error", r"more than \d+ members", slow=True),
    Case("gzip-bomb", gzip_bomb, "error", r"gzip bomb", slow=True),
    Case("yaml-alias-bomb", yaml_alias_bomb, "partial", r"admin\.conf: .*(aliases|expands to more than)"),
    Case("yaml-deep-nesting", yaml_deep_nesting, "partial", r"admin\.conf: .*(nests deeper|nesting depth)"),
    Case("long-line-log", long_line_log, "partial", "", slow=True),
    Case("invalid-utf8", invalid_utf8, "partial", ""),
    Case("truncated-gzip", truncated_gzip, "error", r"truncated gzip"),
    Case("malformed-manifest-json", malformed_manifest_json, "error", r"manifest\.json is not valid JSON"),
    Case("manifest-deep-json", manifest_deep_json, "error", r"manifest\.json nests too deeply"),
    Case("manifest-wrong-types", manifest_wrong_types, "error", r"field 'items' has the wrong type"),
    Case("manifest-wrong-item-types", manifest_wrong_item_types, "error", r"field 'size' has the wrong type"),
    Case("manifest-newer-format", manifest_newer_format, "error", r"bundle format 99 is newer"),
    Case("no-manifest", no_manifest, "error", r"no manifest\.json"),
    Case("not-a-tarball", not_a_tarball, "error", r"not a readable tar archive"),
    Case("malformed-pem", malformed_pem, "partial", r"ca\.crt: line 1: unreadable certificate"),
    Case("malformed-json-items", malformed_json_items, "partial", ""),
    Case("hash-mismatch", hash_mismatch, "partial", r"ca\.crt: content does not match the manifest's SHA"),
    Case("flipped-byte", flipped_byte, "error", r"not a kubetriage bundle"),
    Case("garbage-cms", garbage_cms, "error", r"cannot decrypt", needs_key=True),
    Case("deep-json-items", deep_json_items, "partial", r"cri\.inspect\.out: .*nests deeper than \d+"),
    Case("deep-json-loose", deep_json_loose, "not-understood", r"Input not understood"),
    Case("shared-member", shared_member, "partial", r"manifest: 10000 more record\(s\) name .*0\.log"),
    Case("duplicate-member", duplicate_member, "partial", r"member .*ca\.crt' appears 2 times"),
]


def main(argv: list[str]) -> int:
    folder = Path(argv[0] if argv else "hostile-bundles")
    folder.mkdir(parents=True, exist_ok=True)
    for case in CASES:
        print(f"{case.outcome:8} {case.build(folder)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
