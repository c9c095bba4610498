"""Offline firewall reasoning on real rulesets, checked against the kernel in a network namespace."""

from __future__ import annotations

import errno
import ipaddress
import json
import os
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

import pytest

from analyzer.facts.firewall import Firewall, Probe, RulesetSource, client_sees
from analyzer.facts.network import parse_iptables
from analyzer.parsers.nft import parse_nft
from analyzer.parsers.ufw import parse_ufw

NET = Path(__file__).parent / "fixtures" / "network"
REAL = Path(__file__).parent / "fixtures" / "real"
LO = ipaddress.ip_address("127.0.0.1")
NODE = ipaddress.ip_address("10.0.0.11")


def loopback(port: int) -> Probe:
    return Probe(port, LO, LO, "lo", True, "loopback")


def peer(port: int, src: str | None = "10.0.0.12") -> Probe:
    return Probe(port, ipaddress.ip_address(src) if src else None, NODE, None, False, f"peer {src}")


def firewall(*paths: Path) -> Firewall:
    sources = []
    for path in paths:
        text = path.read_text()
        if "nft" in path.name:
            sources.append(RulesetSource(parse_nft(text), "net.nft_ruleset", path.name, "any"))
        elif path.name.startswith("ufw"):
            sources.append(RulesetSource(parse_ufw(text).ruleset, "net.ufw_status", path.name, "any"))
        else:
            sources.append(RulesetSource(parse_iptables(text), "net.iptables_save", path.name, "ipv4"))
    return Firewall("cp-1", sources)


def blocked(fw: Firewall, probe: Probe) -> str | None:
    """'DROP'/'REJECT' when every path blocks the probe, None when it gets through (or may)."""
    verdict = fw.evaluate(probe)
    return verdict.deciding.verdict if verdict.blocked and verdict.deciding else None


REFERENCE = NET / "reference-fw-drop"


@pytest.mark.parametrize("capture", ["drop_iptables_save.stdout", "drop_iptables_L_n_v.stdout",
                                     "drop_nft_list_ruleset.stdout"])
def test_reference_drop_on_2379_blocks_loopback_and_peers_only_there(capture):
    fw = firewall(REFERENCE / capture)
    for probe in (loopback(2379), peer(2379), peer(2379, None)):
        verdict = fw.evaluate(probe)
        assert verdict.blocked and verdict.deciding and verdict.deciding.verdict == "DROP"
        assert "timeout" in client_sees(verdict.deciding)
    assert [blocked(fw, p) for p in (loopback(6443), peer(2380), peer(10250))] == [None, None, None]


def test_reference_reject_tcp_reset_means_connection_refused():
    fw = firewall(REFERENCE / "reject_iptables_L_n_v.stdout")
    verdict = fw.evaluate(loopback(2379))
    assert verdict.blocked and verdict.deciding is not None
    assert client_sees(verdict.deciding) == "connect: connection refused"


@pytest.mark.parametrize("fmt", ["iptables-save", "iptables-L-n-v", "nft-list-ruleset"])
def test_default_drop_policy_with_only_6443_accepted(fmt):
    fw = firewall(NET / f"policy-drop-accept-6443.{fmt}.txt")
    assert [blocked(fw, peer(p)) for p in (6443, 2379, 2380, 10250)] == [None, "DROP", "DROP", "DROP"]
    # loopback traffic is accepted by `-i lo -j ACCEPT` whatever the port
    assert [blocked(fw, loopback(p)) for p in (2379, 10257, 10259)] == [None, None, None]
    outcome = fw.evaluate(peer(2379)).deciding
    assert outcome is not None and outcome.rule is None and outcome.chain == "INPUT"


@pytest.mark.parametrize("fmt", ["iptables-save", "iptables-L-n-v", "nft-list-ruleset"])
def test_reject_all_rule_after_ssh(fmt):
    fw = firewall(NET / f"reject-all-icmp-host-prohibited.{fmt}.txt")
    verdict = fw.evaluate(peer(6443))
    assert verdict.blocked and verdict.deciding is not None
    assert client_sees(verdict.deciding) == "connect: no route to host"
    assert blocked(fw, peer(22)) is None and blocked(fw, loopback(2379)) is None


@pytest.mark.parametrize("fmt", ["iptables-save", "iptables-L-n-v", "nft-list-ruleset"])
def test_user_chain_with_return_and_negated_source(fmt):
    fw = firewall(NET / f"user-chain-return.{fmt}.txt")
    # 10.0.0.12 is accepted inside KT-ETCD; 10.0.0.11 RETURNs to INPUT and hits the catch-all REJECT
    assert blocked(fw, peer(2379, "10.0.0.12")) is None
    assert blocked(fw, peer(2379, "10.0.0.11")) == "REJECT"
    far = fw.evaluate(peer(2380, "192.168.9.9")).deciding
    assert far is not None and far.rule is not None and far.reject_with == "tcp-reset"
    assert far.entry is not None and far.entry.target == "KT-ETCD"
    # an unknown peer may be 10.0.0.12 or not: possibly blocked, never reported as blocked
    unknown = fw.evaluate(peer(2379, None))
    assert unknown.possibly_blocked and not unknown.blocked


@pytest.mark.parametrize("capture", [NET / "kube-proxy-v1.32-iptables-save.txt",
                                     NET / "kube-proxy-restored.iptables-L-n-v.txt",
                                     REAL / "iptables-L-n-v-k3s-11516.txt",
                                     REAL / "iptables-nvL-nft-k3s-10010.txt"])
def test_kube_proxy_and_kubelet_chains_block_nothing(capture):
    """KUBE-FIREWALL drops only martian traffic to 127.0.0.0/8 and marked packets; KUBE-* service
    chains only concern service and node ports: no control-plane port is blocked."""
    fw = firewall(capture)
    for port in (6443, 2379, 2380, 10250, 10257, 10259):
        for probe in (loopback(port), peer(port), peer(port, None)):
            assert not fw.evaluate(probe).blocked, (capture.name, probe)


def test_nft_native_set_and_tcp_reset():
    fw = firewall(NET / "nft-inet-policy-drop.nft-list-ruleset.txt")
    assert blocked(fw, peer(2380, "10.0.0.12")) is None
    assert blocked(fw, peer(2380, "10.0.0.99")) == "REJECT"
    assert blocked(fw, peer(10257)) == "DROP"  # policy drop
    assert blocked(fw, peer(6443)) is None and blocked(fw, loopback(2379)) is None


def test_ufw_default_deny_with_6443_allowed():
    fw = firewall(REAL / "ufw-status-verbose-hetzner-kube-226.txt")
    assert blocked(fw, peer(6443, "192.168.1.5")) is None
    assert blocked(fw, peer(2379, "192.168.1.5")) == "DROP"
    assert blocked(fw, peer(2379, "10.0.1.7")) is None  # `Anywhere ALLOW IN 10.0.1.0/24`
    assert blocked(fw, loopback(2379)) is None  # ufw's before.rules accept lo


# -- against the kernel ------------------------------------------------------------------------------------
#: (rule added in the namespace, port it guards, what a client must see)
KERNEL_CASES = [
    (["-p", "tcp", "--dport", "14579", "-j", "DROP"], 14579, "timeout"),
    (["-p", "tcp", "--dport", "14580", "-j", "REJECT", "--reject-with", "tcp-reset"], 14580, "refused"),
    (["-p", "tcp", "--dport", "14581", "-j", "REJECT", "--reject-with", "icmp-host-prohibited"], 14581,
     "no route"),
    (["-p", "tcp", "-m", "multiport", "--dports", "14582,14583", "-j", "KT-CHAIN"], 14582, "refused"),
]
KT_CHAIN = [["-s", "127.0.0.2", "-j", "RETURN"], ["-p", "tcp", "-j", "REJECT"]]


def _connect(port: int) -> str:
    """Connect inside the current namespace: 'ok', 'refused', 'no route' or 'timeout'."""
    with socket.socket() as s:
        s.settimeout(1.0)
        try:
            s.connect(("127.0.0.1", port))
            return "ok"
        except TimeoutError:
            return "timeout"
        except OSError as exc:
            known = {errno.ECONNREFUSED: "refused", errno.EHOSTUNREACH: "no route"}
            return known.get(exc.errno or 0, str(exc))


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("ip") or not shutil.which("iptables"),
                    reason="needs root, ip and iptables to make a network namespace")
def test_reasoning_agrees_with_the_kernel(tmp_path):
    """Apply real rules in a private namespace, capture iptables-save there, and check that the offline
    verdict and the client-visible symptom match what a real connect() gets from the kernel."""
    ns = f"kt-net-{uuid.uuid4().hex[:8]}"
    subprocess.run(["ip", "netns", "add", ns], check=True, timeout=10)
    try:
        def run(*argv: str) -> str:
            return subprocess.run(["ip", "netns", "exec", ns, *argv], check=True, capture_output=True,
                                  text=True, timeout=10).stdout

        run("ip", "link", "set", "lo", "up")
        run("iptables", "-N", "KT-CHAIN")
        for spec in KT_CHAIN:
            run("iptables", "-A", "KT-CHAIN", *spec)
        for spec, _, _ in KERNEL_CASES:
            run("iptables", "-A", "INPUT", *spec)
        saved = run("iptables-save")
        # every port has a listener, so only the firewall can make a connect fail; 14584 is unguarded
        probe_script = (
            "import socket, sys, json\n"
            f"sys.path.insert(0, {str(Path(__file__).parents[1])!r})\n"
            "from tests.test_network_firewall import _connect\n"
            "ports = [14579, 14580, 14581, 14582, 14584]\n"
            "socks = []\n"
            "for p in ports:\n"
            "    s = socket.socket(); s.bind(('127.0.0.1', p)); s.listen(); socks.append(s)\n"
            "print(json.dumps({p: _connect(p) for p in ports}))\n")
        seen = {int(k): v for k, v in json.loads(run("python3", "-c", probe_script)).items()}
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False, timeout=10)
    assert ns not in subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    (tmp_path / "iptables-save.txt").write_text(saved)
    fw = firewall(tmp_path / "iptables-save.txt")
    for _, port, expected in KERNEL_CASES:
        verdict = fw.evaluate(loopback(port))
        assert seen[port] == expected, (port, seen)
        assert verdict.blocked and verdict.deciding is not None
        assert expected in client_sees(verdict.deciding), (port, client_sees(verdict.deciding))
    assert seen[14584] == "ok" and not fw.evaluate(loopback(14584)).possibly_blocked
