"""Network parsers on real captures (tests/fixtures/network, tests/fixtures/real), and on broken ones."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analyzer.parsers.iptables import parse_iptables_list, parse_iptables_save
from analyzer.parsers.nft import parse_nft
from analyzer.parsers.ss import parse_ip_addr, parse_ss
from analyzer.parsers.ufw import parse_ufw

NET = Path(__file__).parent / "fixtures" / "network"
REAL = Path(__file__).parent / "fixtures" / "real"


def conds(rule):
    return [(c.field, c.values, c.negated) for c in rule.conds]


def test_kube_proxy_save_keeps_tables_policies_and_matches():
    rs = parse_iptables_save((NET / "kube-proxy-v1.32-iptables-save.txt").read_text())
    assert rs.problems == [] and rs.backend == "nf_tables"
    assert list(rs.tables) == ["mangle", "filter", "nat"]
    filt = rs.tables["filter"]
    assert filt.chains["INPUT"].policy == "ACCEPT" and filt.chains["KUBE-FIREWALL"].policy is None
    assert [r.target for r in filt.chains["INPUT"].rules] == [
        "KUBE-PROXY-FIREWALL", "KUBE-NODEPORTS", "KUBE-EXTERNAL-SERVICES", "KUBE-FIREWALL"]
    localnet = filt.chains["KUBE-FIREWALL"].rules[0]
    assert conds(localnet) == [("src", ("127.0.0.0/8",), True), ("dst", ("127.0.0.0/8",), False),
                               ("ctstate", ("RELATED", "ESTABLISHED", "DNAT"), True)]
    assert localnet.target == "DROP" and localnet.line == 41
    dnat = rs.tables["nat"].chains["KUBE-SEP-Z256WNARC5DJQIZM"].rules[1]
    assert dnat.target == "DNAT" and conds(dnat) == [("proto", ("tcp",), False)]


def test_user_chain_capture_reads_every_match_kind():
    rs = parse_iptables_save((NET / "user-chain-return.iptables-save.txt").read_text())
    chains = rs.tables["filter"].chains
    assert [r.target for r in chains["KT-ETCD"].rules] == ["RETURN", "REJECT", "ACCEPT"]
    reject = chains["KT-ETCD"].rules[1]
    assert conds(reject) == [("src", ("10.0.0.0/24",), True), ("proto", ("tcp",), False),
                             ("dport", ("2380",), False)]
    assert reject.reject_with == "tcp-reset" and reject.position == 2
    multiport, mark, catch_all = chains["INPUT"].rules[1:]
    assert conds(multiport)[1] == ("dport", ("2379", "2380"), False)
    assert conds(mark) == [("mark", ("0x8000/0x8000",), False)]
    assert conds(catch_all) == [("proto", ("tcp",), False), ("dport", ("22",), True),
                                ("dst-type", ("LOCAL",), False)]


@pytest.mark.parametrize("scenario", ["policy-drop-accept-6443", "reject-all-icmp-host-prohibited",
                                      "user-chain-return", "kube-proxy-restored"])
def test_three_renderings_of_one_ruleset_agree(scenario):
    """iptables-save, iptables -L -n -v and nft list ruleset of the same namespace: same chains, same
    targets, same policies (nft names REJECT's reason differently, and drops xt comments)."""
    save = parse_iptables_save((NET / f"{scenario}.iptables-save.txt").read_text()).tables["filter"]
    listing = parse_iptables_list((NET / f"{scenario}.iptables-L-n-v.txt").read_text()).tables["filter"]
    nft = parse_nft((NET / f"{scenario}.nft-list-ruleset.txt").read_text()).tables["filter"]
    # iptables-nft creates a built-in chain in nftables only once something touches it
    assert {n for n, c in save.chains.items() if c.rules or c.policy != "ACCEPT"} <= set(nft.chains)
    for name, chain in save.chains.items():
        if name not in nft.chains:
            continue
        targets = [r.target for r in chain.rules]
        assert [r.target for r in listing.chains[name].rules] == targets
        assert [r.target for r in nft.chains[name].rules] == targets
        assert listing.chains[name].policy == nft.chains[name].policy == chain.policy
        assert [r.reject_with for r in listing.chains[name].rules] == [r.reject_with for r in chain.rules]


def test_listing_columns_with_and_without_counters():
    verbose = parse_iptables_list((NET / "user-chain-return.iptables-L-n-v.txt").read_text())
    rules = verbose.tables["filter"].chains["KT-ETCD"].rules
    assert conds(rules[0]) == [("src", ("10.0.0.11",), False)]
    assert conds(rules[2]) == [("proto", ("tcp",), False), ("dport", ("2379:2380",), False),
                               ("ctstate", ("NEW",), False)]
    plain = parse_iptables_list((REAL / "iptables-L-n-kilo-29.txt").read_text())
    assert plain.problems == []
    forward = plain.tables["filter"].chains["FORWARD"].rules
    assert [r.target for r in forward] == ["KUBE-FORWARD", "KUBE-SERVICES", "ACCEPT", "ACCEPT"]
    assert conds(forward[2]) == [("src", ("10.4.0.0/16",), False)]
    k3s = parse_iptables_list((REAL / "iptables-nvL-nft-k3s-10010.txt").read_text())
    assert [r.target for r in k3s.tables["filter"].chains["INPUT"].rules][-1] == "KUBE-FIREWALL"


def test_nft_native_table_with_named_set_and_reject():
    rs = parse_nft((NET / "nft-inet-policy-drop.nft-list-ruleset.txt").read_text())
    chain = rs.tables["inet kt"].chains["input"]
    assert (chain.hook, chain.policy, chain.priority) == ("input", "DROP", 0)
    peers, reject = chain.rules[3:]
    assert conds(peers) == [("src", ("10.0.0.11", "10.0.0.12"), False), ("proto", ("tcp",), False),
                            ("dport", ("2380",), False)]
    assert (reject.target, reject.reject_with) == ("REJECT", "tcp-reset")
    assert conds(chain.rules[2])[1] == ("dport", ("22", "6443", "10250"), False)


def test_ufw_rows_with_app_profiles_and_forward_rules():
    status = parse_ufw((NET / "ufw-status-verbose-fwd-ufw-docker-21.txt").read_text())
    assert status.active and status.default_incoming == "DROP"
    assert [(r.to_ports, r.proto, r.app, r.direction, r.v6) for r in status.rules[:3]] == [
        ("22", "tcp", "OpenSSH", "IN", False), ("22", "tcp", "OpenSSH", "IN", True),
        ("80", "tcp", "", "FWD", False)]
    # forwarded rules do not guard the node's own ports
    assert len(status.ruleset.tables["ufw"].chains["INPUT"].rules) == 2 + 2


def test_ss_and_ip_addr_from_namespace_captures():
    socks = parse_ss((NET / "ss-ltnp-netns.txt").read_text()).sockets
    assert [(s.address, s.port, s.process, s.wildcard, s.loopback_only) for s in socks] == [
        ("10.0.0.11", 2380, "python3", False, False), ("127.0.0.1", 10259, "python3", False, True),
        ("0.0.0.0", 10250, "python3", True, False), ("*", 6443, "python3", True, False)]
    old = parse_ss((REAL / "ss-tlpn-control-plane-kubeadm-1647.txt").read_text())
    assert old.problems == [] and {(s.port, s.process) for s in old.sockets} >= {
        (6443, "kube-apiserver"), (2379, "etcd"), (10250, "kubelet")}
    addrs = parse_ip_addr((NET / "ip-o-addr-netns.txt").read_text()).addresses
    assert [(a.interface, str(a.network)) for a in addrs] == [
        ("lo", "127.0.0.0/8"), ("lo", "::1/128"), ("eth0", "10.0.0.0/24")]


@pytest.mark.parametrize("name", ["kube-proxy-v1.32-iptables-save.txt",
                                  "user-chain-return.iptables-save.txt"])
def test_truncated_save_is_read_up_to_the_cut_and_reported(name):
    text = (NET / name).read_text()
    cut = text[: len(text) * 2 // 3]
    rs = parse_iptables_save(cut)
    assert any("no COMMIT" in p for p in rs.problems)
    assert sum(len(c.rules) for t in rs.tables.values() for c in t.chains.values()) > 0


def test_garbage_is_reported_not_raised():
    assert parse_iptables_save("Chain INPUT\nfoo bar\n").problems
    assert parse_iptables_list("pkts bytes\n 1 2 3\nChain X (policy ACCEPT)\n1 2\n").problems
    assert parse_nft("}}}\ntable\nchain x {\n").problems
    assert parse_ufw("Status: active\nTo Action From\n-- ------ ----\n???\n").ruleset.problems
    assert parse_ss("LISTEN 0 128 nonsense\n").problems


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("-A INPUT!p tcp--dport 2379:jDROP\n{}\"#*:,/()")), max_size=300))
def test_parsers_never_raise(text):
    for parse in (parse_iptables_save, parse_iptables_list, parse_nft, parse_ufw, parse_ss, parse_ip_addr):
        parse(text)
