"""Hostile node roots for the collector: a generated kubeadm root (tests/lab/kubeadm_root.py) turned
into what an attacker's or an unlucky customer's disk holds. Each function changes one root in place.

The bundle-side twin is tests/hostile/generate.py (hostile bundles for the analyzer).
"""

from __future__ import annotations

import os
import re
import socket
from pathlib import Path


def closed_port() -> int:
    """A local TCP port nothing listens on (taken from the kernel, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def exec_plugin_kubeconfig(root: Path, marker: Path, *, keep_client_cert: bool = True) -> None:
    """admin.conf whose user has a kubeconfig exec credential plugin that writes `marker` when run.

    The server is a closed local port, so a kubectl that does run fails fast after the plugin ran.
    """
    admin = root / "etc/kubernetes/admin.conf"
    text = re.sub(r"server: \S+", f"server: https://127.0.0.1:{closed_port()}", admin.read_text())
    if not keep_client_cert:
        text = re.sub(r"^ +client-(?:certificate|key)-data: .*\n", "", text, flags=re.M)
    plugin = ("    exec:\n"
              "      apiVersion: client.authentication.k8s.io/v1beta1\n"
              "      command: /bin/sh\n"
              "      args:\n"
              "      - -c\n"
              f"      - id > {marker}; echo '{{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\","
              f"\"kind\":\"ExecCredential\",\"status\":{{\"token\":\"t\"}}}}'\n"
              "      interactiveMode: Never\n")
    admin.write_text(text.replace("  user:\n", "  user:\n" + plugin, 1))


def etcd_flag(root: Path, flag: str, value: str) -> None:
    """Set (or add) an etcd static pod flag."""
    manifest = root / "etc/kubernetes/manifests/etcd.yaml"
    text = manifest.read_text()
    line = f"    - --{flag}={value}\n"
    if f"--{flag}=" in text:
        text = re.sub(rf"^ *- --{flag}=.*\n", line, text, flags=re.M)
    else:
        text = text.replace("    - etcd\n", "    - etcd\n" + line, 1)
    manifest.write_text(text)


def escaping_data_dir(root: Path, outside: Path) -> None:
    """etcd's --data-dir climbs out of the root with ../ to a folder of the analyst's machine."""
    etcd_flag(root, "data-dir", "/.." * (len(root.parts) + 2) + str(outside))


def linked_data_dir(root: Path, outside: Path) -> None:
    """/var/lib/etcd is an absolute link: on the node it means <root><outside>, never the analyst's."""
    data = root / "var/lib/etcd"
    if data.is_dir() and not data.is_symlink():
        for child in sorted(data.rglob("*"), reverse=True):
            child.rmdir() if child.is_dir() else child.unlink()
        data.rmdir()
    data.parent.mkdir(parents=True, exist_ok=True)
    data.symlink_to(outside)
    etcd_flag(root, "data-dir", "/var/lib/etcd")


def fifo_at(root: Path, node_path: str) -> Path:
    """A FIFO where a file is expected: opening it for reading blocks until a writer comes."""
    path = root / node_path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    os.mkfifo(path)
    return path


def link_at(root: Path, node_path: str, target: str) -> Path:
    """A symbolic link where a file or folder is expected (e.g. to /dev/zero, or to /)."""
    path = root / node_path.lstrip("/")
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        path.unlink()
    path.symlink_to(target)
    return path
