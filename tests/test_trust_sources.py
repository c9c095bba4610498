"""An encrypted bundle is reported under the name the user gave (FILE.cms), never its private temp copy."""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.trust import keygen
from tests.bundle_builder import BundleBuilder

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="the collector encrypts with openssl")


def encrypt(plain: Path, cert: Path, out: Path) -> Path:
    """As the collector does with --encrypt-to: CMS, AES-256, DER."""
    subprocess.run(["openssl", "cms", "-encrypt", "-aes256", "-binary", "-outform", "DER", "-in", str(plain),
                    "-out", str(out), str(cert)], check=True, capture_output=True, timeout=60)
    return out


def test_report_names_the_encrypted_file_and_errors_do_too(tmp_path):
    key, cert = keygen(tmp_path / "keys")
    folder = BundleBuilder("cp-1").kubeadm_manifests().write(tmp_path / "b")
    plain = tmp_path / "cp-1.tar.gz"
    with tarfile.open(plain, "w:gz") as tar:
        tar.add(folder, arcname="kubetriage-cp-1")
    sealed = encrypt(plain, cert, tmp_path / "cp-1.tar.gz.cms")

    result = CliRunner().invoke(main, ["analyze", str(sealed), "--key", str(key), "-f", "json"])
    assert result.exit_code == 0, result.output
    [node] = json.loads(result.output)["nodes"]
    assert (node["name"], node["source"]) == ("cp-1", str(sealed))

    (tmp_path / "notes.txt").write_text("not a tarball\n")
    junk = encrypt(tmp_path / "notes.txt", cert, tmp_path / "junk.tar.gz.cms")
    result = CliRunner().invoke(main, ["analyze", str(junk), "--key", str(key)])
    assert result.exit_code == 2 and f"error: {junk}: not a kubetriage bundle" in result.stderr
    assert "kubetriage-decrypted-" not in result.stderr
