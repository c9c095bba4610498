"""Connectivity rules on bundles holding real firewall and ss captures, as the collector stores them."""

from __future__ import annotations

from pathlib import Path

from analyzer.findings import Finding
from analyzer.report import analyze
from tests.bundle_builder import BundleBuilder

NET = Path(__file__).parent / "fixtures" / "network"
REAL = Path(__file__).parent / "fixtures" / "real"
IDS = ("FIREWALL_BLOCKS_CONTROL_PLANE_PORT", "CONTROL_PLANE_PORT_NOT_LISTENING")
ARGV = {"net.iptables_save": ["iptables-save"], "net.nft_ruleset": ["nft", "-a", "list", "ruleset"],
        "net.ufw_status": ["ufw", "status", "verbose"], "net.listening": ["ss", "-ltnp"]}


def node(name: str, ip: str, **captures: Path) -> BundleBuilder:
    builder = BundleBuilder(name).kubeadm_manifests(ip=ip)
    for key, path in captures.items():
        item_id = "net." + key
        builder.command(item_id, ARGV[item_id], path.read_text())
    return builder


def findings(tmp_path: Path, *nodes: BundleBuilder) -> list[Finding]:
    report = analyze([n.write(tmp_path) for n in nodes])
    return [f for f in report.findings if f.id in IDS]


def summary(found: list[Finding]) -> list[tuple[str, str, tuple[str, ...]]]:
    return sorted((f.id, f.severity.value, tuple(f.objects)) for f in found)


KUBE_PROXY = NET / "kube-proxy-v1.32-iptables-save.txt"


def test_healthy_kube_proxy_nodes_have_no_finding(tmp_path):
    nodes = [node(f"cp-{i}", f"10.0.0.1{i}", iptables_save=KUBE_PROXY, nft_ruleset=NET /
                  "kube-proxy-restored.nft-list-ruleset.txt") for i in (1, 2, 3)]
    assert findings(tmp_path, *nodes) == []


def test_default_drop_policy_on_one_node_of_three(tmp_path):
    nodes = [node("cp-1", "10.0.0.11", iptables_save=NET / "policy-drop-accept-6443.iptables-save.txt"),
             node("cp-2", "10.0.0.12", iptables_save=KUBE_PROXY),
             node("cp-3", "10.0.0.13", iptables_save=KUBE_PROXY)]
    found = findings(tmp_path, *nodes)
    assert summary(found) == [("FIREWALL_BLOCKS_CONTROL_PLANE_PORT", "critical",
                               ("cp-1:2379/tcp", "cp-1:2380/tcp", "cp-1:10250/tcp", "policy INPUT"))]
    f = found[0]
    assert "DROP policy" in f.detail and "cp-2 (10.0.0.12)" in f.detail and "timeout" in f.detail
    assert f.evidence[0].line == 3 and f.evidence[0].path == "commands/net.iptables_save.out"
    assert f.remediation.commands == (
        "iptables -t filter -A INPUT -s 10.0.0.12 -p tcp -m multiport --dports 2379,2380,10250 -j ACCEPT",
        "iptables -t filter -A INPUT -s 10.0.0.13 -p tcp -m multiport --dports 2379,2380,10250 -j ACCEPT")


def test_reference_drop_rule_is_removed_by_its_own_spec(tmp_path):
    found = findings(tmp_path, node("cp-1", "127.0.0.1",
                                    iptables_save=NET / "reference-fw-drop" / "drop_iptables_save.stdout"))
    assert summary(found) == [("FIREWALL_BLOCKS_CONTROL_PLANE_PORT", "critical",
                               ("cp-1:2379/tcp", "rule INPUT:6"))]
    f = found[0]
    assert f.evidence[0].excerpt == "-A INPUT -p tcp -m tcp --dport 2379 -j DROP"
    assert f.remediation.commands == ("iptables -t filter -D INPUT -p tcp -m tcp --dport 2379 -j DROP",)
    assert "context deadline exceeded" in f.detail


def test_nft_reject_reports_connection_refused_and_the_delete_recipe(tmp_path):
    found = findings(tmp_path, node("cp-1", "10.0.0.11",
                                    nft_ruleset=NET / "nft-inet-policy-drop.nft-list-ruleset.txt"),
                     node("cp-2", "10.0.0.12"))
    # 2380 from cp-2 passes (@cp_peers), loopback passes (iif "lo" accept): only etcd's client port is refused
    assert summary(found) == [
        ("FIREWALL_BLOCKS_CONTROL_PLANE_PORT", "critical", ("cp-1:2379/tcp", "rule input:13"))]
    reject = found[0]
    assert "connect: connection refused" in reject.detail
    assert reject.remediation.commands[0] == "nft -a list chain inet kt input"


def test_ufw_default_deny_is_fixed_with_ufw(tmp_path):
    ufw = REAL / "ufw-status-verbose-hetzner-kube-226.txt"
    found = findings(tmp_path, node("cp-1", "10.0.0.11", ufw_status=ufw), node("cp-2", "10.0.0.12"))
    assert summary(found) == [("FIREWALL_BLOCKS_CONTROL_PLANE_PORT", "critical",
                               ("cp-1:2379/tcp", "cp-1:2380/tcp", "cp-1:10250/tcp", "policy INPUT"))]
    assert found[0].remediation.commands[0] == \
        "ufw insert 1 allow in from 10.0.0.12 to any port 2379 proto tcp"
    assert found[0].evidence[0].line == 3  # Default: deny (incoming), ...


def test_nothing_listens_where_the_manifests_say(tmp_path):
    """The reference node runs only etcd (ss shows 2379-2381): the other static pods' ports are closed."""
    ss = NET / "reference-fw-drop" / "ss_ltnp.stdout"
    found = findings(tmp_path, node("cp-1", "127.0.0.1", listening=ss))
    assert summary(found) == [("CONTROL_PLANE_PORT_NOT_LISTENING", "error", ("cp-1:10257/tcp",)),
                              ("CONTROL_PLANE_PORT_NOT_LISTENING", "error", ("cp-1:10259/tcp",)),
                              ("CONTROL_PLANE_PORT_NOT_LISTENING", "error", ("cp-1:6443/tcp",))]
    apiserver = next(f for f in found if f.objects == ["cp-1:6443/tcp"])
    assert apiserver.evidence[0].path.endswith("kube-apiserver.yaml")
    assert any(c.startswith("mv /etc/kubernetes/manifests/kube-apiserver.yaml")
               for c in apiserver.remediation.commands)


def test_nft_handles_make_the_exact_delete_command(tmp_path):
    """`nft -a list ruleset` (as the collector runs it) gives each rule its handle."""
    found = findings(tmp_path, node("cp-1", "10.0.0.11",
                                    nft_ruleset=NET / "nft-a-drop-2379-reject-6443.nft-list-ruleset.txt"),
                     node("cp-2", "10.0.0.12"))
    commands = {f.objects[0]: f.remediation.commands for f in found
                if f.id == "FIREWALL_BLOCKS_CONTROL_PLANE_PORT"}
    assert list(commands["cp-1:2379/tcp"]) == ["nft delete rule inet filter input handle 2"]
