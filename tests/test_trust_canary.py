"""Canaries: one unique secret of each kind planted everywhere the collector reads; none may reach the
bundle, the manifest must count the redactions, and `verify` must catch each kind planted directly.

The same against a real etcd: tests/test_trust_lab_canary.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from analyzer.cli import main
from analyzer.trust import find_secrets
from tests.canaries import Canaries, plant, survivors
from tests.conftest import read_bundle, run_collector
from tests.hostile.generate import Item, bundle_members, good_items, tar_bytes


def test_no_canary_survives_collection(node_root: Callable[..., Path], tmp_path: Path) -> None:
    root = node_root(name="cp-1")
    canaries = Canaries()
    planted = plant(root, canaries)
    out = tmp_path / "out"
    out.mkdir()
    proc = run_collector(root, out, "--verify", "--exclude", "etcd.*")
    assert proc.returncode == 0, proc.stderr  # --verify found nothing the redaction missed
    manifest, files = read_bundle(next(out.glob("*.tar.gz")))
    assert survivors(files, canaries.values) == []
    by_item = manifest["redactions"]["by_item"]
    assert {i for i, n in by_item.items() if n > 0} >= set(planted), by_item
    # cert files: the key blocks dropped and counted, the certificates kept
    certs = {i["source"]: i for i in manifest["items"] if i["id"] == "pki.cert"}
    assert certs["/etc/kubernetes/pki/front-proxy-client.crt"]["redactions"] == 1
    assert certs["/etc/kubernetes/pki/extra-bundle.pem"]["redactions"] == 1
    assert b"BEGIN CERTIFICATE" in files["files/etc/kubernetes/pki/extra-bundle.pem"]


def planted_samples(c: Canaries) -> dict[str, list[str]]:
    """kind -> texts that carry it, as they would look in a bundle that was NOT redacted."""
    samples: dict[str, list[str]] = {"private-key": list(c.keys.values())}
    samples["private-key-base64"] = [f"data:\n  tls.key: {c.b64_key}\n"]
    samples["putty-private-key"] = ["PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\n"]
    samples["kubeconfig-credential"] = [f"users:\n- name: a\n  user:\n    token: {c.kubeconfig_token}\n",
                                        f"    client-key-data: {c.b64_key}\n"]
    samples["jwt"] = [f"level=info msg=\"login\" id_token {c.jwt}\n"]
    samples["bearer-token"] = [f"Authorization: Bearer {c.bearer}\n"]
    samples["basic-auth"] = [f"authorization: Basic {c.basic}\n"]
    samples["bootstrap-token"] = [f"kubeadm join 10.0.0.1:6443 {c.bootstrap}\n"]
    samples["aws-access-key-id"] = [f"key id {c.aws_id}\n"]
    samples["aws-secret-access-key"] = [f"aws_secret_access_key = {c.aws_secret}\n"]
    samples["gcp-api-key"] = [f"key {c.gcp_key}\n"]
    samples["gcp-oauth-token"] = [f"tok {c.gcp_token}\n"]
    samples["azure-storage-key"] = [f"AccountName=kt;AccountKey={c.azure_key};\n"]
    samples["azure-sas-signature"] = [f"https://kt.blob.core.windows.net/c?sv=1&sig={c.azure_sig}\n"]
    samples["password-flag"] = [f"    - --oidc-client-secret={c.flag_password}\n",
                                f"etcd --peer-password {c.flag_password}\n"]
    samples["secret-assignment"] = [f"DB_PASSWORD={c.env_password}\n", f'{{"api_key": "{c.env_password}"}}\n']
    samples["secret-env"] = [f"    - name: API_TOKEN\n      value: {c.env_password}\n"]
    return samples


def test_verify_catches_each_kind_planted_in_a_bundle(tmp_path: Path) -> None:
    samples = planted_samples(Canaries())
    items = good_items()
    expected: dict[str, str] = {}
    for kind, texts in samples.items():
        for n, text in enumerate(texts):
            path = f"files/planted/{kind}-{n}.txt"
            items.append(Item("logs.syslog", path, b"line one\n" + text.encode()))
            expected[path] = kind
    bundle = tmp_path / "planted.tar.gz"
    bundle.write_bytes(tar_bytes(bundle_members(items)))
    result = CliRunner().invoke(main, ["verify", str(bundle)])
    assert result.exit_code == 1, result.output
    for path, kind in expected.items():
        assert re.search(rf"{re.escape(path)}:\d+: {kind}$", result.output, re.M), (kind, result.output)
    # nothing in the unplanted members: certificates and REDACTED placeholders are not secrets
    assert not [line for line in result.output.splitlines() if ": files/planted/" not in line
                and "sha256" not in line]


@pytest.mark.parametrize("text", [
    "client-key-data: REDACTED\n", "    token: REDACTED\n", "--oidc-client-secret=REDACTED\n",
    "Authorization: Bearer REDACTED\n", "-----REDACTED RSA PRIVATE KEY-----\n",
    "    - --token-auth-file=/etc/kubernetes/tokens.csv\n", "--enable-bootstrap-token-auth=true\n",
    "automountServiceAccountToken: false\n", "    - name: DB_PASSWORD\n      value: REDACTED\n",
])
def test_redacted_and_harmless_text_is_not_flagged(text: str) -> None:
    assert find_secrets(text.encode()) == []
