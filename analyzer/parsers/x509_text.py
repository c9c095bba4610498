"""`openssl x509 -text` output pasted without its PEM block: the certificate as far as the text shows it.

A sample (OpenSSL 1.0; the `...` elisions are the source's, tests/fixtures/real/SOURCES.md)::

    ...
        Issuer: C=CN, ST=BeiJing, L=BeiJing, O=k8s, OU=System, CN=Kubernetes
        Validity
            Not Before: Apr  5 05:36:00 2017 GMT
            Not After : Apr  5 05:36:00 2018 GMT
        Subject: C=CN, ST=BeiJing, L=BeiJing, O=k8s, OU=System, CN=kubernetes
    ...
            X509v3 Subject Alternative Name:
                DNS:kubernetes, DNS:kubernetes.default, IP Address:127.0.0.1, IP Address:10.254.0.1

Names come out in RFC 4514 order, as `parsers.x509` gives them for PEM certificates. Without the
DER there is no real fingerprint and no signature to check: `der` stays empty and the fingerprint
is a hash of what the text shows, prefixed "text:".

>>> [cert], problems = parse_x509_text('''\\
...         Issuer: C=CN, ST=BeiJing, L=BeiJing, O=k8s, OU=System, CN=Kubernetes
...         Validity
...             Not Before: Apr  5 05:36:00 2017 GMT
...             Not After : Apr  5 05:36:00 2018 GMT
...         Subject: C=CN, ST=BeiJing, L=BeiJing, O=k8s, OU=System, CN=kubernetes
...             X509v3 Subject Alternative Name:
...                 DNS:kubernetes, DNS:kubernetes.default, IP Address:127.0.0.1, IP Address:10.254.0.1
... ''')
>>> cert.subject, cert.common_name, str(cert.not_after), cert.is_ca
('CN=kubernetes,OU=System,O=k8s,L=BeiJing,ST=BeiJing,C=CN', 'kubernetes', '2018-04-05 05:36:00+00:00', False)
>>> cert.dns_names, cert.ip_addresses, cert.fingerprint_sha256[:5], cert.der, problems
(('kubernetes', 'kubernetes.default'), ('127.0.0.1', '10.254.0.1'), 'text:', b'', [])
>>> parse_x509_text("Certificate:\\n    Data:\\n")
([], ['line 1: no Validity dates in this certificate text'])
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import re

from .x509 import MAX_CERTS_PER_FILE, CertInfo, text_fingerprint

_CERT_START = re.compile(r"^\s*Certificate:", re.M)
_FIELD = {name: re.compile(rf"^\s*{name}\s*:[ \t]*(.*?)\s*$", re.M)
          for name in ("Issuer", "Subject", "Not Before", "Not After")}
#: an extension's name and its first value line (looked ahead at: that line may name the next one)
_EXTENSION = re.compile(r"^\s*X509v3 ([\w ]+):.*\n(?=\s*(.*?)\s*$)", re.M)
#: RDNs separated by ", " before the next "KEY=" (OpenSSL 1.0) or "KEY = " (1.1 and later)
_RDN_SPLIT = re.compile(r",\s*(?=[A-Za-z][\w.]*\s*=)")
_GMT_FORMATS = ("%b %d %H:%M:%S %Y", "%Y-%m-%d %H:%M:%S")  # the default, and -dateopt iso_8601


def _name(openssl: str) -> str:
    """'C = CN, O = k8s, CN = kubernetes' -> 'CN=kubernetes,O=k8s,C=CN' (RFC 4514 lists RDNs last first)."""
    rdns = [part.split("=", 1) for part in _RDN_SPLIT.split(openssl) if "=" in part]
    return ",".join(f"{k.strip()}={v.strip()}" for k, v in reversed(rdns))


def _common_name(rfc4514: str) -> str:
    return next((rdn[3:] for rdn in rfc4514.split(",") if rdn.startswith("CN=")), "")


def _time(value: str) -> dt.datetime | None:
    """'Apr  5 05:36:00 2017 GMT' (or ISO 8601 with Z); None when unreadable."""
    plain = " ".join(value.removesuffix("GMT").removesuffix("Z").split())
    for fmt in _GMT_FORMATS:
        try:
            return dt.datetime.strptime(plain, fmt).replace(tzinfo=dt.timezone.utc)
        except ValueError:
            continue
    return None


def _ip(value: str) -> str:
    """OpenSSL prints IPv6 in full ('FD00:0:0:0:0:0:0:11'); PEM parsing gives the short form."""
    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        return value


def _key_id(value: str) -> str:
    """'keyid:44:04:3B:...' (OpenSSL 1.x) or '44:04:3B:...' (3.x) -> '44043b...'."""
    return value.removeprefix("keyid:").replace(":", "").lower()


def _certificate(block: str, line: int) -> CertInfo | str:
    """One certificate's text, or why it is not one."""
    fields = {name: (m.group(1) if (m := pattern.search(block)) else "") for name, pattern in _FIELD.items()}
    not_before, not_after = _time(fields["Not Before"]), _time(fields["Not After"])
    if not_after is None:
        return f"line {line}: no Validity dates in this certificate text"
    extensions = {m.group(1).strip(): m.group(2) for m in _EXTENSION.finditer(block)}
    alt_names = [n.strip() for n in extensions.get("Subject Alternative Name", "").split(",")]
    usages = extensions.get("Extended Key Usage", "")
    subject, issuer = _name(fields["Subject"]), _name(fields["Issuer"])
    return CertInfo(
        subject=subject, common_name=_common_name(subject), issuer=issuer,
        not_before=not_before, not_after=not_after,
        is_ca=extensions.get("Basic Constraints", "").startswith("CA:TRUE"),
        dns_names=tuple(n[4:] for n in alt_names if n.startswith("DNS:")),
        ip_addresses=tuple(_ip(n[11:]) for n in alt_names if n.startswith("IP Address:")),
        server_auth="TLS Web Server Authentication" in usages,
        client_auth="TLS Web Client Authentication" in usages,
        fingerprint_sha256=text_fingerprint(subject, issuer, fields["Not Before"], fields["Not After"]),
        subject_key_id=_key_id(extensions.get("Subject Key Identifier", "")),
        authority_key_id=_key_id(extensions.get("Authority Key Identifier", "")),
        line=line)


def parse_x509_text(text: str) -> tuple[list[CertInfo], list[str]]:
    """Every certificate in the text (each from its 'Certificate:' line, or the whole text when that
    was not pasted) with the line it starts on, and problems met."""
    if not _FIELD["Not After"].search(text) and any(_DATE_LINE.match(ln) for ln in text.splitlines()):
        return parse_openssl_dates(text)  # `-enddate`/`-dates`: the fragment that names the dates
    starts = [m.start() for m in _CERT_START.finditer(text)] or [0]
    certs: list[CertInfo] = []
    problems: list[str] = []
    for index, (start, end) in enumerate(zip(starts, [*starts[1:], len(text)], strict=True)):
        line = text.count("\n", 0, start) + 1
        if index >= MAX_CERTS_PER_FILE:
            problems.append(f"line {line}: more than {MAX_CERTS_PER_FILE} certificates, rest ignored")
            break
        found = _certificate(text[start:end], line)
        if isinstance(found, str):
            problems.append(found)
        else:
            certs.append(found)
    return certs, problems


_DATE_LINE = re.compile(r"^\s*(notBefore|notAfter|subject|issuer)\s*=\s*(.*?)\s*$")


def parse_openssl_dates(text: str) -> tuple[list[CertInfo], list[str]]:
    """`openssl x509 -noout -enddate` / `-dates` / `-subject -enddate`: one certificate per notAfter
    line, with the notBefore, subject and issuer lines printed with it.

    >>> [cert], problems = parse_openssl_dates("notAfter=Apr 26 04:09:08 2017 GMT\\n")
    >>> str(cert.not_after), cert.line, cert.fingerprint_sha256[:5], problems
    ('2017-04-26 04:09:08+00:00', 1, 'text:', [])
    """
    certs: list[CertInfo] = []
    problems: list[str] = []
    shown: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        match = _DATE_LINE.match(line)
        if not match:
            continue
        shown[match.group(1)] = match.group(2)
        if match.group(1) != "notAfter":
            continue
        not_after = _time(shown["notAfter"])
        if not_after is None:
            problems.append(f"line {number}: {shown['notAfter'][:40]!r} is not a date")
        else:
            subject, issuer = _name(shown.get("subject", "")), _name(shown.get("issuer", ""))
            certs.append(CertInfo(
                subject=subject, common_name=_common_name(subject), issuer=issuer,
                not_before=_time(shown.get("notBefore", "")), not_after=not_after, is_ca=False, dns_names=(),
                ip_addresses=(), server_auth=False, client_auth=False,
                fingerprint_sha256=text_fingerprint(subject, issuer, shown.get("notBefore", ""),
                                                    shown["notAfter"], str(number)),
                subject_key_id="", authority_key_id="", line=number))
        shown = {}
    if not certs and not problems:
        problems.append("no notAfter= line")
    return certs, problems
