"""Trust: check a bundle before it is sent or opened, decrypt bundles sent encrypted, make support keys.

The secret scanner is the collector's own finder (`find_secrets`): the one its redaction uses, run
on the node by `--verify` and here by `kubetriage verify`, so all three agree on what a secret is.
Encrypted bundles are CMS (PKCS#7 enveloped data, as `openssl cms -encrypt -aes256 -outform DER`
writes them) to support's RSA certificate.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs7
from cryptography.x509.oid import NameOID

from collector.kubetriage_collect import find_secrets as _collector_find_secrets

from .bundle import MAX_MEMBER_BYTES, Bundle, open_bundle
from .errors import InputError

#: an encrypted bundle is decrypted in memory: bigger than any bundle the collector writes (200 MB cap)
MAX_CMS_BYTES = 1024 * 1024 * 1024
CMS_SUFFIX = ".cms"
KEY_NAME = "support.key"
CERT_NAME = "support.crt"


def find_secrets(data: bytes) -> list[tuple[int, str]]:
    """(line, kind) of every secret-shaped string in data: the collector's scanner, typed."""
    return [(int(line), str(kind)) for line, kind in _collector_find_secrets(data)]  # type: ignore[no-untyped-call]


@dataclass(frozen=True)
class SecretHit:
    member: str
    line: int
    kind: str


@dataclass
class Verification:
    """What `kubetriage verify` found in one bundle."""

    source: Path
    archive_sha256: str | None
    integrity: list[str] = field(default_factory=list)
    secrets: list[SecretHit] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.integrity and not self.secrets


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(block)
    return digest.hexdigest()


def _member_digest(bundle: Bundle, path: str) -> tuple[int, str, list[tuple[int, str]]]:
    """Size, SHA-256 and secret hits of one member, read once."""
    with bundle.open(path) as handle:
        data = handle.read(MAX_MEMBER_BYTES + 1)
    return len(data), hashlib.sha256(data).hexdigest(), find_secrets(data)


def verify_bundle(bundle: Bundle, archive: Path | None) -> Verification:
    """Check every member against the manifest (missing, extra, size, SHA-256) and scan it for secrets."""
    result = Verification(bundle.source, sha256_file(archive) if archive and archive.is_file() else None)
    expected: dict[str, tuple[int | None, str | None]] = {"manifest.json": (None, None)}
    for item in bundle.manifest.items:
        if item.path:
            expected[item.path] = (item.size, item.sha256)
        if item.stderr_path:
            expected[item.stderr_path] = (None, item.stderr_sha256)
    present = bundle.member_names()
    result.integrity.extend(bundle.warnings)
    for path in sorted(set(expected) - set(present)):
        result.integrity.append(f"{path}: in the manifest, missing from the bundle")
    for path in present:
        size, sha, hits = _member_digest(bundle, path)
        result.secrets.extend(SecretHit(path, line, kind) for line, kind in hits)
        for number, copy in enumerate(bundle.other_copies(path), start=2):  # flagged in bundle.warnings
            with copy:
                data = copy.read(MAX_MEMBER_BYTES + 1)
            result.secrets.extend(SecretHit(f"{path} (copy {number})", line, kind)
                                  for line, kind in find_secrets(data))
        if path not in expected:
            result.integrity.append(f"{path}: in the bundle, not in the manifest")
            continue
        want_size, want_sha = expected[path]
        if want_size is not None and want_size != size:
            result.integrity.append(f"{path}: {size} bytes, the manifest says {want_size}")
        if want_sha is not None and want_sha.lower() != sha:
            result.integrity.append(f"{path}: SHA-256 differs from the manifest (modified or corrupted)")
    return result


# -- encryption ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SupportKey:
    """Support's private key and the certificate customers encrypt to."""

    key: rsa.RSAPrivateKey
    cert: x509.Certificate


def load_support_key(key_path: Path, cert_path: Path | None = None) -> SupportKey:
    """Load support.key and its certificate (default: support.crt beside the key)."""
    cert_path = cert_path or key_path.with_suffix(".crt")
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read the support key: {exc.strerror}: {exc.filename}") from None
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        raise InputError(f"{key_path} / {cert_path}: not a PEM private key and certificate ({exc})") from None
    if not isinstance(key, rsa.RSAPrivateKey):
        raise InputError(f"{key_path}: not an RSA key (CMS bundles are encrypted to RSA certificates)")
    if cert.public_key() != key.public_key():
        raise InputError(f"{cert_path} does not belong to {key_path}")
    return SupportKey(key, cert)


def is_encrypted(path: Path) -> bool:
    return path.is_file() and path.name.lower().endswith(CMS_SUFFIX)


def decrypt_bytes(data: bytes, support: SupportKey, what: str) -> bytes:
    try:
        return pkcs7.pkcs7_decrypt_der(data, support.cert, support.key, [])
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise InputError(f"{what}: cannot decrypt ({reason}): not encrypted to this key, or damaged"
                         ) from None


def decrypt_file(path: Path, support: SupportKey) -> bytes:
    """The plain tarball inside an encrypted bundle."""
    try:
        size = path.stat().st_size
        if size > MAX_CMS_BYTES:
            raise InputError(f"{path}: larger than {MAX_CMS_BYTES} bytes: refusing to decrypt it in memory")
        data = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    return decrypt_bytes(data, support, str(path))


def write_private(path: Path, data: bytes) -> None:
    """Create path readable by the owner only (0600); refuse to replace anything."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, stat.S_IRUSR | stat.S_IWUSR)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


@contextmanager
def decrypted(paths: list[Path], key: Path | None) -> Iterator[list[Path]]:
    """The paths with every encrypted bundle replaced by its plain tarball in a private temp dir.

    The temp dir is 0700, each file 0600, and both are removed on exit whatever happens.
    """
    encrypted = [p for p in paths if is_encrypted(p)]
    if not encrypted:
        yield paths
        return
    if key is None:
        raise InputError(f"{encrypted[0]} is encrypted: pass --key support.key")
    support = load_support_key(key)
    tmp = Path(tempfile.mkdtemp(prefix="kubetriage-decrypted-"))
    try:
        out: list[Path] = []
        for index, path in enumerate(paths):
            if path in encrypted:
                plain = tmp / f"{index}-{path.name[: -len(CMS_SUFFIX)] or 'bundle.tar.gz'}"
                write_private(plain, decrypt_file(path, support))
                path = plain
            out.append(path)
        try:
            yield out
        except InputError as exc:  # name the file the user gave, not its temp copy (gone after this)
            message = str(exc)
            for plain, path in zip(out, paths, strict=True):
                message = message.replace(str(plain), str(path))
            raise InputError(message) from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def verify_paths(paths: list[Path], key: Path | None) -> list[Verification]:
    """Verify every bundle (decrypting encrypted ones); the digest is of the file as it was sent."""
    results: list[Verification] = []
    with decrypted(paths, key) as plain_paths:
        for original, path in zip(paths, plain_paths, strict=True):
            bundle = open_bundle(path)
            try:
                result = verify_bundle(bundle, original)
            finally:
                bundle.close()
            result.source = original
            results.append(result)
    return results


# -- support keys ------------------------------------------------------------------------------------
def keygen(out_dir: Path, common_name: str = "kubetriage support", days: int = 825) -> tuple[Path, Path]:
    """Write support.key (RSA 3072, 0600) and a self-signed support.crt customers encrypt to."""
    key_path, cert_path = out_dir / KEY_NAME, out_dir / CERT_NAME
    for path in (key_path, cert_path):
        if path.exists():
            raise InputError(f"{path} exists: refusing to overwrite a key")
    out_dir.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False,
                                         key_encipherment=True, data_encipherment=False, key_agreement=False,
                                         key_cert_sign=False, crl_sign=False, encipher_only=False,
                                         decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    write_private(key_path, key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                              serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path
