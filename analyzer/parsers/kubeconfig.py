"""Kubeconfig files as the collector stores them (client-key-data already REDACTED).

>>> kc = parse_kubeconfig('''
... apiVersion: v1
... clusters:
... - cluster:
...     certificate-authority-data: AAAA
...     server: https://10.0.0.10:6443
...   name: kubernetes
... users:
... - name: kubernetes-admin
...   user:
...     client-certificate-data: QkJCQg==
...     client-key-data: REDACTED
... ''')
>>> kc.servers, [u.name for u in kc.users], kc.users[0].client_certificate_line
(['https://10.0.0.10:6443'], ['kubernetes-admin'], 11)
>>> parse_kubeconfig("{{{").problems[0][:25]
'not valid YAML: while par'
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field

import yaml

from .yamlsafe import load_yaml


@dataclass(frozen=True)
class KubeconfigUser:
    name: str
    client_certificate_pem: str
    client_certificate_line: int | None


@dataclass
class Kubeconfig:
    servers: list[str] = field(default_factory=list)
    ca_pems: list[tuple[str, int | None]] = field(default_factory=list)
    users: list[KubeconfigUser] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def line_of(text: str, needle: str) -> int | None:
    index = text.find(needle)
    return text.count("\n", 0, index) + 1 if index >= 0 and needle else None


def _decode(value: object) -> str:
    if not isinstance(value, str):
        return ""
    try:
        return base64.b64decode(value, validate=False).decode("ascii", "replace")
    except (binascii.Error, ValueError):
        return ""


def parse_kubeconfig(text: str) -> Kubeconfig:
    """Servers, embedded CA and client certificates (decoded PEM) with their line numbers."""
    out = Kubeconfig()
    try:
        doc = load_yaml(text)
    except yaml.YAMLError as exc:
        out.problems.append(f"not valid YAML: {str(exc)[:200]}")
        return out
    if not isinstance(doc, dict):
        out.problems.append("not a kubeconfig (top level is not a mapping)")
        return out
    for entry in doc.get("clusters") or []:
        cluster = entry.get("cluster") if isinstance(entry, dict) else None
        if not isinstance(cluster, dict):
            continue
        if isinstance(cluster.get("server"), str):
            out.servers.append(cluster["server"])
        data = cluster.get("certificate-authority-data")
        if isinstance(data, str):
            out.ca_pems.append((_decode(data), line_of(text, data)))
    for entry in doc.get("users") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("user"), dict):
            continue
        data = entry["user"].get("client-certificate-data")
        if isinstance(data, str):
            out.users.append(KubeconfigUser(str(entry.get("name", "")), _decode(data),
                                            line_of(text, data)))
    return out
