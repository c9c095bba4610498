"""Multi-node collection over a real sshd on 127.0.0.1:13022 (host-key checking on)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import COLLECTOR, read_bundle

SSHD = "/usr/sbin/sshd"
PORT = 13022

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not os.path.exists(SSHD) or shutil.which("ssh") is None, reason="needs openssh"),
    pytest.mark.skipif(os.geteuid() != 0, reason="sshd and the remote collector run as root"),
]


def keygen(path: Path) -> None:
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(path)], check=True)


def wait_for_port(port: int, proc: subprocess.Popen[bytes], seconds: float = 10) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"sshd exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"sshd did not listen on {port}")


class Sshd:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.user_key = folder / "user_key"
        self.host_key = folder / "host_key"

    def known_hosts(self, *names: str) -> Path:
        path = self.folder / ("known_hosts-" + "-".join(names))
        key = (self.folder / "host_key.pub").read_text().split()[:2]
        path.write_text("".join(f"[{n}]:{PORT} {key[0]} {key[1]}\n" for n in names))
        return path

    def options(self, known_hosts: Path) -> list[str]:
        # "-F /dev/null": no user ssh config interferes; host keys are still checked
        return ["--ssh-option=-F /dev/null", f"--ssh-option=-p {PORT}", f"--ssh-option=-i {self.user_key}",
                "--ssh-option", "IdentitiesOnly=yes", "--ssh-option", f"UserKnownHostsFile={known_hosts}",
                "--ssh-option", "GlobalKnownHostsFile=/dev/null"]


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[Sshd]:
    folder = tmp_path / "sshd"
    folder.mkdir()
    server = Sshd(folder)
    keygen(server.host_key)
    keygen(server.user_key)
    (folder / "authorized_keys").write_text((folder / "user_key.pub").read_text())
    config = folder / "sshd_config"
    config.write_text(f"""Port {PORT}
ListenAddress 127.0.0.1
HostKey {server.host_key}
AuthorizedKeysFile {folder / 'authorized_keys'}
PidFile {folder / 'sshd.pid'}
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
""")
    # Debian's sshd refuses to start without its privilege-separation folder
    os.makedirs("/run/sshd", mode=0o755, exist_ok=True)
    proc = subprocess.Popen([SSHD, "-D", "-e", "-f", str(config)], stderr=subprocess.PIPE)
    try:
        wait_for_port(PORT, proc)
        yield server
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_ssh(out: Path, root: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    sudo = [] if shutil.which("sudo") else ["--ssh-no-sudo"]
    return subprocess.run([sys.executable, "-I", "-S", str(COLLECTOR), "--output", str(out),
                           "--root", str(root), "--deadline", "60", "--exclude", "etcd.*", "k8s.healthz",
                           *sudo, *args],
                          capture_output=True, text=True, timeout=180)


def test_two_nodes_in_parallel_one_bundle_each(sshd, node_root, tmp_path):
    root = node_root(name="cp-ssh")
    out = tmp_path / "bundles"
    out.mkdir()
    known = sshd.known_hosts("127.0.0.1", "localhost")
    result = run_ssh(out, root, "--ssh", "127.0.0.1,localhost", *sshd.options(known))
    assert result.returncode == 0, result.stderr
    bundles = sorted(out.glob("*.tar.gz"))
    assert len(bundles) == 2
    assert sorted(Path(p) for p in result.stdout.split()) == bundles
    for bundle in bundles:
        manifest, files = read_bundle(bundle)
        # the remote collector read the generated kubeadm root given with --root
        assert manifest["node"]["hostname"] == "cp-ssh"
        assert manifest["options"]["root"] == str(root)
        assert manifest["complete"] is True
        assert "files/etc/kubernetes/pki/ca.crt" in files
        assert not any(name.endswith(".key") for name in files)
    assert not list(out.glob(".kubetriage-*"))  # no partial downloads left behind


def test_failed_node_is_reported_and_host_keys_are_checked(sshd, node_root, tmp_path):
    root = node_root(name="cp-ssh")
    out = tmp_path / "bundles"
    out.mkdir()
    known = sshd.known_hosts("127.0.0.1")  # localhost's key is unknown: ssh must refuse it
    result = run_ssh(out, root, "--ssh", "127.0.0.1,localhost", *sshd.options(known))
    assert result.returncode == 1
    assert "kubetriage-collect: localhost failed:" in result.stderr
    assert result.stderr.count("Host key verification failed") == 1, "a node's error is printed once"
    (bundle,) = out.glob("*.tar.gz")
    assert result.stdout.split() == [str(bundle)]
    assert read_bundle(bundle)[0]["complete"] is True


def test_dry_run_prints_the_ssh_commands_without_connecting(tmp_path):
    out = tmp_path / "bundles"
    out.mkdir()
    # --root names a folder on the nodes: it need not exist here
    result = run_ssh(out, "/srv/node-disk", "--ssh", "node-a,node-b", "--dry-run", "--ssh-option=-p 13999")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":", 1)[0] for line in lines] == ["node-a", "node-b"]
    assert "ssh -p 13999 -o BatchMode=yes" in lines[0]
    assert "--output - --quiet" in lines[0] and "python3 - --root /srv/node-disk" in lines[0]
    assert lines[0].endswith("< " + str(COLLECTOR))
    assert list(out.iterdir()) == []


def test_kubetriage_collect_has_the_same_ssh_mode(tmp_path):
    from click.testing import CliRunner

    from analyzer.cli import main

    result = CliRunner().invoke(main, ["collect", "--ssh", "cp-1.example", "--dry-run", "--output",
                                       str(tmp_path), "--root", "/srv/node-disk"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("cp-1.example: ssh -o BatchMode=yes")
    assert result.output.rstrip().endswith("< " + str(COLLECTOR))
