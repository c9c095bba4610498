"""Bundles travel encrypted, optionally obfuscated: keygen -> collect --encrypt-to -> analyze with the key."""

from __future__ import annotations

import hashlib
import json
import re
import stat
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.errors import InputError
from analyzer.trust import decrypted, keygen
from tests.conftest import read_bundle, run_collector

PY36 = Path.home() / ".pyenv/versions/3.6.15/bin/python3"
FAST = ("--exclude", "etcd.*")


def findings(result_output: str) -> list[tuple[Any, ...]]:
    report = json.loads(result_output)
    return sorted((f["key"], f["severity"], json.dumps(f["evidence"], sort_keys=True))
                  for f in report["findings"])


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    return keygen(tmp_path / "keys")


def test_encrypted_bundle_gives_the_same_findings(node_root: Callable[..., Path], tmp_path: Path,
                                                  keys: tuple[Path, Path],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    key, cert = keys
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    root = node_root(name="cp-1", validity={"apiserver": (-400, -3)})
    out = tmp_path / "out"
    out.mkdir()
    proc = run_collector(root, out, "--encrypt-to", str(cert), "--verify", *FAST)
    assert proc.returncode == 0, proc.stderr
    encrypted = Path(proc.stdout.strip())
    assert encrypted.name.endswith(".tar.gz.cms") and [p.name for p in out.iterdir()] == [encrypted.name]
    digest = re.search(r"^sha256 ([0-9a-f]{64})  (\S+)$", proc.stderr, re.M)
    assert digest and digest.group(2) == encrypted.name
    assert digest.group(1) == hashlib.sha256(encrypted.read_bytes()).hexdigest()

    runner = CliRunner()
    plain = tmp_path / "plain.tar.gz"
    decrypted_cli = runner.invoke(main, ["decrypt", str(encrypted), "--key", str(key), "-o", str(plain)])
    assert decrypted_cli.exit_code == 0, decrypted_cli.output
    assert stat.S_IMODE(plain.stat().st_mode) == 0o600
    from_plain = runner.invoke(main, ["analyze", str(plain), "-f", "json"])
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    from_encrypted = runner.invoke(main, ["analyze", str(encrypted), "--key", str(key), "-f", "json"])
    assert from_encrypted.exit_code == 0, from_encrypted.output
    assert findings(from_encrypted.output) == findings(from_plain.output) != []
    assert not list(private_tmp.iterdir())  # the decrypted copy is gone

    verified = runner.invoke(main, ["verify", str(encrypted), "--key", str(key)])
    assert verified.exit_code == 0 and f"sha256 {digest.group(1)}" in verified.output, verified.output

    flipped = bytearray(encrypted.read_bytes())
    flipped[len(flipped) // 2] ^= 0x01
    tampered = tmp_path / "tampered.tar.gz.cms"
    tampered.write_bytes(bytes(flipped))
    result = runner.invoke(main, ["analyze", str(tampered), "--key", str(key), "-f", "json"])
    assert result.exit_code == 2 and "kubetriage: error:" in result.output, result.output
    assert not list(private_tmp.iterdir())

    other_key, _ = keygen(tmp_path / "other")
    result = runner.invoke(main, ["analyze", str(encrypted), "--key", str(other_key)])
    assert result.exit_code == 2 and "cannot decrypt" in result.output
    result = runner.invoke(main, ["analyze", str(encrypted)])
    assert result.exit_code == 2 and "pass --key" in result.output


def test_decrypted_copy_is_private_and_removed(tmp_path: Path, keys: tuple[Path, Path],
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    key, cert = keys
    import subprocess
    src = tmp_path / "b.tar.gz"
    src.write_bytes(b"not really a tarball")
    subprocess.run(["openssl", "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", "-in", str(src),
                    "-out", str(tmp_path / "b.tar.gz.cms"), str(cert)], check=True)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    with pytest.raises(InputError), decrypted([tmp_path / "b.tar.gz.cms"], key) as paths:
        assert paths[0].read_bytes() == src.read_bytes()
        assert stat.S_IMODE(paths[0].stat().st_mode) == 0o600
        assert stat.S_IMODE(paths[0].parent.stat().st_mode) == 0o700
        raise InputError("analysis failed half way")
    assert not paths[0].parent.exists()


def test_obfuscated_bundles_correlate_across_nodes(node_root: Callable[..., Path], tmp_path: Path) -> None:
    cluster = "cp-1=https://10.0.0.11:2380,cp-2=https://10.0.0.12:2380"
    key_file = tmp_path / "run.key"
    key_file.write_text("the same run key on every node\n")
    out = tmp_path / "out"
    out.mkdir()
    bundles = {}
    for name, ip in (("cp-1", "10.0.0.11"), ("cp-2", "10.0.0.12")):
        root = node_root(name=name, ip=ip, initial_cluster=cluster)
        proc = run_collector(root, out, "--obfuscate", "hostnames,ips", "--obfuscate-key-file", str(key_file),
                             "--verify", "--exclude", "etcd.*", "k8s.healthz")
        assert proc.returncode == 0, proc.stderr
        bundles[name] = Path(proc.stdout.strip())
    maps = sorted(out.glob("*.obfuscation-map.KEEP-PRIVATE.json"))
    assert len(maps) == 2 and all(stat.S_IMODE(m.stat().st_mode) == 0o600 for m in maps)
    mapping: dict[str, str] = {}
    for m in maps:
        mapping.update(json.loads(m.read_text())["tokens"])
    secrets = ["cp-1", "cp-2", "10.0.0.11", "10.0.0.12"]
    flags = {}
    for name, path in bundles.items():
        assert not any(s in path.name for s in secrets)
        manifest, files = read_bundle(path)
        assert manifest["options"]["obfuscate"] == ["hostnames", "ips"]
        for member, data in files.items():
            assert "KEEP-PRIVATE" not in member
            for s in secrets:
                assert s not in member and s.encode() not in data, (s, member)
        etcd = files["files/etc/kubernetes/manifests/etcd.yaml"].decode()
        flags[name] = re.search(r"--initial-cluster=(\S+)", etcd).group(1)  # type: ignore[union-attr]
        assert "127.0.0.1" in etcd  # loopback is not a secret and stays readable
    # both nodes wrote the same tokens for the same members: peer URLs still correlate
    assert flags["cp-1"] == flags["cp-2"]
    restored = re.sub(r"host-[0-9a-f]{8}|10\.\d+\.\d+\.\d+", lambda m: mapping[m.group(0)], flags["cp-1"])
    assert restored == cluster
    result = CliRunner().invoke(main, ["analyze", *map(str, bundles.values()), "-f", "json"])
    assert result.exit_code == 0, result.output


def test_obfuscation_needs_a_run_key(node_root: Callable[..., Path], tmp_path: Path) -> None:
    proc = run_collector(node_root(), tmp_path, "--obfuscate", "hostnames")
    assert proc.returncode == 2 and "--obfuscate-key" in proc.stderr
    assert not list(tmp_path.glob("*.tar.gz"))


@pytest.mark.slow
@pytest.mark.skipif(not PY36.exists(), reason="python 3.6 not installed")
def test_trust_options_run_on_python36(node_root: Callable[..., Path], tmp_path: Path,
                                       keys: tuple[Path, Path]) -> None:
    key, cert = keys
    (tmp_path / "run.key").write_text("k")
    proc = run_collector(node_root(), tmp_path, "--verify", "--encrypt-to", str(cert), "--obfuscate",
                         "hostnames,ips", "--obfuscate-key-file", str(tmp_path / "run.key"), *FAST,
                         python=str(PY36))
    assert proc.returncode == 0, proc.stderr
    result = CliRunner().invoke(main, ["verify", proc.stdout.strip(), "--key", str(key)])
    assert result.exit_code == 0, result.output


def test_collector_verify_fails_loudly(node_root: Callable[..., Path], tmp_path: Path,
                                       monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    """--verify is the last line of defence: with redaction switched off it must refuse the bundle."""
    root = node_root()
    (root / "var/log").mkdir(parents=True, exist_ok=True)
    (root / "var/log/syslog").write_text("Jan  1 00:00:00 cp-1 x[1]: Authorization: Bearer "
                                         "abcdefghijklmnopqrstuvwxyz012345\n")
    import collector.kubetriage_collect as collect
    monkeypatch.setattr(collect, "redact", lambda mode, data: (data, 0))
    rc = collect.main(["--root", str(root), "--output", str(tmp_path), "--quiet", "--verify", *FAST])
    assert rc == collect.VERIFY_FAILED
    assert re.search(r"SECRET\? kubetriage-cp-1-\S+/files/var/log/syslog:1: bearer-token",
                     capsys.readouterr().err)
