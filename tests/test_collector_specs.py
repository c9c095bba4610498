"""The collector's SPECS table: well-formed, documented, and never aimed at a private key."""

from __future__ import annotations

import fnmatch
import re

import pytest

from collector import kubetriage_collect as kc
from tests.conftest import REPO

DOC = (REPO / "docs" / "bundle-format.md").read_text()


def documented_ids() -> list[str]:
    section = DOC.split("### Item ids (v1)", 1)[1].split("Notes on some items", 1)[0]
    return [m for row in section.splitlines() if row.startswith("| ") and not row.startswith("| group")
            for m in re.findall(r"`([a-z0-9_]+\.[a-z0-9_]+)`", row)]


def test_ids_are_documented_in_table_order_and_only_distribution_file_rows_share_one():
    ids = [s.id for s in kc.SPECS]
    assert documented_ids() == list(dict.fromkeys(ids))
    commands = [s.id for s in kc.SPECS if s.kind == "command"]
    assert len(commands) == len(set(commands)), "a command's output path is its id"
    first = {}
    for spec in kc.SPECS:
        if spec.id in first:  # a distribution keeps the same evidence elsewhere: its own row, same id
            assert spec.distro and spec.distro != first[spec.id].distro, spec
        first.setdefault(spec.id, spec)


def test_every_distribution_row_names_a_known_distribution_with_its_own_section():
    names = {d.name for d in kc.DISTROS}
    assert {s.distro for s in kc.SPECS if s.distro} <= names
    for distro in kc.DISTROS:
        assert distro.markers, distro.name


def test_each_rows_read_an_earlier_item_and_fill_every_token():
    position = {s.id: n for n, s in enumerate(kc.SPECS)}
    ctx_names = {"since", "since_duration", "log_lines", "etcdctl", "etcd_endpoints", "etcd_tls",
                 "etcd_data_dir", "admin_conf", "journal_dir", "datastore_dir"}
    for n, spec in enumerate(kc.SPECS):
        tokens = {t for arg in spec.source for t in re.findall(r"\{([a-z_]+)\}", arg)} \
            if spec.kind == "command" else set()
        if spec.each:
            each = kc.EACH[spec.each]
            assert position[each.source] < n, f"{spec.id} reads {each.source}, which must come first"
            assert tokens - ctx_names <= set(kc.PREVIEW), spec.id
        else:
            assert tokens <= ctx_names, (spec.id, tokens - ctx_names)


def test_commands_have_bounded_timeouts_and_logs_come_last():
    for spec in kc.SPECS:
        assert spec.kind in ("file", "cert", "command")
        assert 0 < spec.timeout <= 30, spec.id
        assert 0 < spec.cap <= kc.CMD_CAP
    logs = [n for n, s in enumerate(kc.SPECS) if kc.is_log_item(s.id)]
    assert logs == list(range(len(kc.SPECS) - len(logs), len(kc.SPECS)))


@pytest.mark.parametrize("spec", [s for s in kc.SPECS if s.kind != "command"], ids=lambda s: s.id)
def test_no_file_pattern_can_name_a_private_key(spec):
    for pattern in spec.source:
        for brace in kc.expand_braces(pattern):
            assert not kc.is_forbidden(brace), brace
            assert not fnmatch.fnmatch(brace, "*.key*"), brace


def test_etcdctl_without_the_binary_runs_in_the_running_etcd_container(tmp_path, monkeypatch):
    monkeypatch.setattr(kc.shutil, "which", lambda name: None)
    manifests = tmp_path / "etc/kubernetes/manifests"
    manifests.mkdir(parents=True)
    (manifests / "etcd.yaml").write_text(
        "    - --advertise-client-urls=https://10.0.0.5:2379\n"
        "    - --cert-file=/etc/kubernetes/pki/etcd/server.crt\n"
        "    - --key-file=/etc/kubernetes/pki/etcd/server.key\n"
        "    - --trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt\n")
    ctx = kc.Context(str(tmp_path), "-60s")
    with pytest.raises(KeyError, match="etcdctl is not installed"):
        ctx.expand(kc.ETCDCTL)
    exited = kc.Container("1" * 64, "etcd", "etcd-cp", "kube-system", 4, False, 2)
    ctx.use_containers([exited])  # an exited container cannot run anything
    with pytest.raises(KeyError):
        ctx.expand(kc.ETCDCTL)
    ctx.use_containers([exited, exited._replace(id="2" * 64, running=True)])
    assert ctx.expand(kc.ETCDCTL + ["member", "list"]) == [
        "crictl", "--timeout=10s", "exec", "2" * 64, "etcdctl", "--endpoints=https://10.0.0.5:2379",
        "--cacert=/etc/kubernetes/pki/etcd/ca.crt", "--cert=/etc/kubernetes/pki/etcd/server.crt",
        "--key=/etc/kubernetes/pki/etcd/server.key", "--dial-timeout=3s", "--command-timeout=5s",
        "member", "list"]


def test_remote_arguments_drop_local_options_and_write_to_stdout():
    args = ["--ssh", "a,b", "--root", "/mnt/n1", "--ssh-option=-p 22", "-o", "out", "--quiet",
            "--exclude", "etcd.*", "--ssh-option", "Port=2", "--verify", "--output=x", "--deadline", "90"]
    assert kc.remote_arguments(args) == ["--root", "/mnt/n1", "--exclude", "etcd.*", "--deadline", "90",
                                         "--output", "-", "--quiet"]


def test_tail_buffer_keeps_the_newest_whole_lines():
    buf = kc.TailBuffer(10)
    for chunk in (b"line1\nline2\n", b"line3\n", b"line4\n"):
        buf.add(chunk)
    assert buf.value() == (b"line4\n", True)
    small = kc.TailBuffer(100)
    small.add(b"a\nb\n")
    assert small.value() == (b"a\nb\n", False)
