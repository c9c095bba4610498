"""Commands follow the evidence: on a k3s node the etcdctl commands use k3s's own etcd TLS files
(the ones the collector's etcdctl ran with), never kubeadm's /etc/kubernetes/pki paths."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from analyzer.cli import main

K3S = Path(__file__).resolve().parents[1] / "bundles" / "samples" / "k3s-etcd-nospace"


def test_k3s_etcdctl_commands_use_k3s_tls_files() -> None:
    result = CliRunner().invoke(main, ["analyze", str(K3S), "--format", "json"])
    report = json.loads(result.stdout)
    commands = [c for f in report["findings"] for c in f["remediation"]["commands"] if "etcdctl" in c]
    assert commands
    for command in commands:
        assert "--cert=/var/lib/rancher/k3s/server/tls/etcd/" in command, command
        assert "/etc/kubernetes/pki" not in command, command
