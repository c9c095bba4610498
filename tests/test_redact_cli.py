"""`kubetriage redact`: today's redaction applied to a bundle collected earlier, as a new bundle."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path

from click.testing import CliRunner

from analyzer.cli import main
from tests.bundle_builder import BundleBuilder
from tests.canaries import Canaries

REAL_LOG = Path(__file__).parent / "fixtures" / "real" / "klog-apiserver-etcd-refused-k8s-89368.log"


def old_bundle(tmp_path: Path, c: Canaries) -> Path:
    """A bundle as an older, less careful collector might have left it: secrets in a log, a
    manifest's env and a command's output, beside real evidence."""
    node = BundleBuilder("cp-secret-7").kubeadm_manifests()
    log = REAL_LOG.read_text() + f"I0101 00:00:00.000000 1 x.go:1] login with token {c.jwt}\n"
    node.file("logs.pod", "/var/log/pods/kube-system_kube-apiserver-cp-secret-7_1/kube-apiserver/0.log", log)
    node.file("kubelet.flags", "/var/lib/kubelet/kubeadm-flags.env",
              f'KUBELET_KUBEADM_ARGS="--node-ip=10.1.2.3"\nHTTPS_PROXY=https://proxy:{c.flag_password}@10.9.9.9:3128\n')
    node.command("host.env", ["env"], stdout=f"DB_PASSWORD={c.env_password}\nPATH=/usr/bin\n")
    return node.write(tmp_path / "in")


def members(tarball: Path) -> dict[str, bytes]:
    with tarfile.open(tarball) as archive:
        return {m.name: archive.extractfile(m).read() for m in archive.getmembers() if m.isfile()}  # type: ignore[union-attr]


def test_redact_removes_every_planted_secret_and_keeps_the_evidence(tmp_path: Path) -> None:
    c = Canaries()
    bundle = old_bundle(tmp_path, c)
    assert CliRunner().invoke(main, ["verify", str(bundle)]).exit_code == 1  # the secrets are there
    out = tmp_path / "clean.tar.gz"
    result = CliRunner().invoke(main, ["redact", str(bundle), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "redaction(s); written" in result.stdout and "sha256 " in result.stdout
    text = b"\n".join(members(out).values())
    for secret in (c.jwt, c.flag_password, c.env_password):
        assert secret.encode() not in text
    manifest = json.loads(next(v for k, v in members(out).items() if k.endswith("/manifest.json")))
    assert manifest["redactions"]["total"] >= 3 and "redacted_later" in manifest["options"]
    verify = CliRunner().invoke(main, ["verify", str(out)])
    assert verify.exit_code == 0, verify.output
    before = json.loads(CliRunner().invoke(main, ["analyze", str(bundle), "-f", "json"]).stdout)
    after = json.loads(CliRunner().invoke(main, ["analyze", str(out), "-f", "json"]).stdout)
    assert [f["id"] for f in after["findings"]] == [f["id"] for f in before["findings"]]
    assert "APISERVER_ETCD_CONNECTION_FAILED" in {f["id"] for f in after["findings"]}
    assert sorted(p.name for p in bundle.rglob("*") if p.is_file())  # the input is untouched
    assert c.jwt in next(bundle.rglob("0.log")).read_text()


def test_obfuscation_replaces_the_hostname_and_keeps_the_map_beside(tmp_path: Path) -> None:
    bundle = old_bundle(tmp_path, Canaries())
    key = tmp_path / "run.key"
    key.write_text("one key for every node of this cluster\n")
    out = tmp_path / "obf.tar.gz"
    result = CliRunner().invoke(main, ["redact", str(bundle), "-o", str(out), "--obfuscate", "hostnames,ips",
                                       "--obfuscate-key-file", str(key)])
    assert result.exit_code == 0, result.output
    leaks = [name for name, data in members(out).items() if b"cp-secret-7" in data or "cp-secret-7" in name]
    assert not leaks
    mapping = json.loads((tmp_path / "obf.obfuscation-map.KEEP-PRIVATE.json").read_text())["tokens"]
    assert "cp-secret-7" in mapping.values()


def test_bad_requests_are_one_line_errors(tmp_path: Path) -> None:
    bundle = old_bundle(tmp_path, Canaries())
    out = str(tmp_path / "x.tar.gz")
    cases = [
        (["redact", str(bundle), "-o", str(tmp_path / "x.zip")], "name it *.tar.gz"),
        (["redact", str(bundle), "-o", out, "--obfuscate", "names"], "hostnames and/or ips"),
        (["redact", str(bundle), "-o", out, "--obfuscate", "ips"], "--obfuscate-key-file"),
        (["redact", str(tmp_path / "missing"), "-o", str(tmp_path / "x.tar.gz")], "no such file"),
        (["redact", str(bundle), "-o", str(tmp_path / "no" / "dir" / "x.tar.gz")], "cannot write it"),
    ]
    for args, message in cases:
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
