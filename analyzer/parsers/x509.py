"""X.509 certificates from PEM text (PKI files, kubeconfig-embedded data).

A sample input, as the collector stores `/etc/kubernetes/pki/apiserver.crt`::

    -----BEGIN CERTIFICATE-----
    MIIBnzCCAUWgAwIBAgIUScIW45jL//yksrNaZCagVdf5Fg0wCgYIKoZIzj0EAwIw
    ...
    -----END CERTIFICATE-----

>>> parse_pem("no certificate here")
([], [])
>>> certs, problems = parse_pem("-----BEGIN CERTIFICATE-----\\nnot base64\\n-----END CERTIFICATE-----")
>>> certs, problems[0].startswith("line 1: unreadable certificate")
([], True)
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PEM_CERT = re.compile(r"-----BEGIN CERTIFICATE-----\s*?\n(.*?)-----END CERTIFICATE-----", re.S)
MAX_CERTS_PER_FILE = 64


@dataclass(frozen=True)
class CertInfo:
    """What the rules need to know about one certificate."""

    subject: str
    common_name: str
    issuer: str
    not_before: dt.datetime | None  # None when the evidence does not say (kubeadm's expiration table)
    not_after: dt.datetime
    is_ca: bool
    dns_names: tuple[str, ...]
    ip_addresses: tuple[str, ...]
    server_auth: bool
    client_auth: bool
    fingerprint_sha256: str
    subject_key_id: str
    authority_key_id: str
    line: int
    #: empty for a certificate known only from text (no signature to check, no real fingerprint)
    der: bytes = field(default=b"", repr=False, compare=False)

    def valid_at(self, moment: dt.datetime) -> bool:
        return (self.not_before is None or self.not_before <= moment) and moment <= self.not_after


def text_fingerprint(*shown: str) -> str:
    """A stable id for a certificate known only from text (subject, issuer, dates as shown); the
    "text:" prefix keeps it from ever equalling a real SHA-256 fingerprint."""
    return "text:" + hashlib.sha256("\x00".join(shown).encode()).hexdigest()


def _cn(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(attrs[0].value) if attrs else ""


def _ext(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except (x509.ExtensionNotFound, ValueError):
        return None


def cert_info(cert: x509.Certificate, line: int) -> CertInfo:
    """Summarise a parsed certificate."""
    san = _ext(cert, x509.SubjectAlternativeName)
    dns: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()
    if isinstance(san, x509.SubjectAlternativeName):
        dns = tuple(san.get_values_for_type(x509.DNSName))
        ips = tuple(str(i) for i in san.get_values_for_type(x509.IPAddress))
    basic = _ext(cert, x509.BasicConstraints)
    eku = _ext(cert, x509.ExtendedKeyUsage)
    usages = list(eku) if isinstance(eku, x509.ExtendedKeyUsage) else []
    ski = _ext(cert, x509.SubjectKeyIdentifier)
    aki = _ext(cert, x509.AuthorityKeyIdentifier)
    return CertInfo(
        subject=cert.subject.rfc4514_string(),
        common_name=_cn(cert.subject),
        issuer=cert.issuer.rfc4514_string(),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        is_ca=isinstance(basic, x509.BasicConstraints) and basic.ca,
        dns_names=dns,
        ip_addresses=ips,
        server_auth=ExtendedKeyUsageOID.SERVER_AUTH in usages,
        client_auth=ExtendedKeyUsageOID.CLIENT_AUTH in usages,
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        subject_key_id=ski.digest.hex() if isinstance(ski, x509.SubjectKeyIdentifier) else "",
        authority_key_id=(aki.key_identifier or b"").hex()
        if isinstance(aki, x509.AuthorityKeyIdentifier) else "",
        line=line,
        der=cert.public_bytes(serialization.Encoding.DER),
    )


def issued_by(child: CertInfo, issuer: CertInfo) -> bool:
    """True when `issuer`'s key really signed `child` (names alone can be forged or reused)."""
    try:
        cert = x509.load_der_x509_certificate(child.der)
        cert.verify_directly_issued_by(x509.load_der_x509_certificate(issuer.der))
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def parse_pem(text: str) -> tuple[list[CertInfo], list[str]]:
    """Every certificate in a PEM text with the line its block starts on, and problems met."""
    certs: list[CertInfo] = []
    problems: list[str] = []
    for index, match in enumerate(PEM_CERT.finditer(text)):
        line = text.count("\n", 0, match.start()) + 1
        if index >= MAX_CERTS_PER_FILE:
            problems.append(f"line {line}: more than {MAX_CERTS_PER_FILE} certificates, rest ignored")
            break
        try:
            cert = x509.load_pem_x509_certificate(match.group(0).encode("ascii", "replace"))
            certs.append(cert_info(cert, line))
        except (ValueError, TypeError) as exc:
            problems.append(f"line {line}: unreadable certificate ({str(exc)[:120]})")
    return certs, problems
