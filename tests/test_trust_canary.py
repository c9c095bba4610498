"""Canaries: one unique secret of each kind planted everywhere the collector reads; none may reach the
bundle, the manifest must count the redactions, and `verify` must catch each kind planted directly.

(The same test against the real-etcd lab comes with that lab.)
"""

from __future__ import annotations

import base64
import re
import secrets
import string
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from analyzer.cli import main
from analyzer.trust import find_secrets
from tests.conftest import read_bundle, run_collector
from tests.hostile.generate import Item, bundle_members, good_items, tar_bytes

ALNUM = string.ascii_letters + string.digits


def rnd(n: int, alphabet: str = ALNUM) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(n))


def private_keys() -> dict[str, str]:
    """One PEM private key of each header type the scanner and the redactor must know."""
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    pem, fmt, none = serialization.Encoding.PEM, serialization.PrivateFormat, serialization.NoEncryption()
    return {
        "RSA PRIVATE KEY": rsa_key.private_bytes(pem, fmt.TraditionalOpenSSL, none).decode(),
        "EC PRIVATE KEY": ec_key.private_bytes(pem, fmt.TraditionalOpenSSL, none).decode(),
        "PRIVATE KEY": ec_key.private_bytes(pem, fmt.PKCS8, none).decode(),
        "ENCRYPTED PRIVATE KEY": ec_key.private_bytes(
            pem, fmt.PKCS8, serialization.BestAvailableEncryption(b"canary-pass")).decode(),
        "OPENSSH PRIVATE KEY": ec_key.private_bytes(pem, fmt.OpenSSH, none).decode(),
    }


def key_body(pem: str) -> str:
    """A line of the key's base64 body: what must never appear in a bundle."""
    return pem.splitlines()[1]


class Canaries:
    """Unique secret values, one per kind; `values` are what must never be found in a bundle."""

    def __init__(self) -> None:
        self.keys = private_keys()
        self.jwt = f"eyJhbGciOiJSUzI1NiIsImtpZCI6IiJ9.eyJ{rnd(60, ALNUM + '_-')}.{rnd(86, ALNUM + '_-')}"
        self.bearer = rnd(40)
        self.basic = base64.b64encode(f"admin:{rnd(16)}".encode()).decode()
        self.bootstrap = f"{rnd(6, string.ascii_lowercase + string.digits)}." \
                         f"{rnd(16, string.ascii_lowercase + string.digits)}"
        self.aws_id = "AKIA" + rnd(16, string.ascii_uppercase + string.digits)
        self.aws_secret = rnd(40, ALNUM + "/+")
        self.gcp_key = "AIza" + rnd(35, ALNUM + "_-")
        self.gcp_token = "ya29." + rnd(80, ALNUM + "_-")
        self.azure_key = rnd(86, ALNUM + "+/") + "=="
        self.azure_sig = rnd(43, ALNUM) + "%3D"
        self.flag_password = "pw" + rnd(20)
        self.env_password = "envpw" + rnd(20)
        self.kubeconfig_token = "kct" + rnd(30)
        self.kubeconfig_password = "kcpw" + rnd(20)
        self.b64_key = base64.b64encode(self.keys["RSA PRIVATE KEY"].encode()).decode()

    @property
    def values(self) -> dict[str, str]:
        out = {f"key {name}": key_body(pem) for name, pem in self.keys.items()}
        out.update({k: v for k, v in vars(self).items() if isinstance(v, str)})
        out["b64_key"] = self.b64_key[40:120]
        return out


def plant(root: Path, c: Canaries) -> dict[str, str]:
    """Write the canaries into every file the collector reads; return {item id: what was planted}."""

    def append(node_path: str, text: str) -> None:
        path = root / node_path.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)

    manifest = root / "etc/kubernetes/manifests/kube-apiserver.yaml"
    env = (f"    env:\n    - name: DB_PASSWORD\n      value: {c.env_password}\n"
           f"    - name: AWS_ACCESS_KEY_ID\n      value: {c.aws_id}\n"
           f"    - name: AZURE_STORAGE_CONNECTION_STRING\n      value: DefaultEndpointsProtocol=https;"
           f"AccountName=kt;AccountKey={c.azure_key};EndpointSuffix=core.windows.net\n")
    text = manifest.read_text().replace("    image:", f"    - --oidc-client-secret={c.flag_password}\n"
                                                     f"    - --token-auth-file=/etc/kubernetes/tokens.csv\n"
                                        + env + "    image:", 1)
    manifest.write_text(text)
    admin = root / "etc/kubernetes/admin.conf"
    admin.write_text(admin.read_text() + f"    token: {c.kubeconfig_token}\n"
                                         f"    password: {c.kubeconfig_password}\n")
    append("/var/lib/kubelet/config.yaml",
           f"staticPodURLHeader:\n  Authorization:\n  - Bearer {c.bearer}\n")
    append("/var/lib/kubelet/kubeadm-flags.env", f"KUBELET_EXTRA_ARGS=--bootstrap-token={c.bootstrap}\n")
    append("/etc/default/kubelet", f"GOOGLE_API_KEY={c.gcp_key}\n")
    append("/etc/systemd/system/kubelet.service.d/20-cloud.conf",
           f'[Service]\nEnvironment="AWS_SECRET_ACCESS_KEY={c.aws_secret}"\n')
    append("/etc/kubernetes/kubeadm-config.yaml",
           f"apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\nbootstrapTokens:\n"
           f"- token: \"{c.bootstrap}\"\n")
    log_lines = [f"I0101 00:00:00.000000       1 handler.go:1] Authorization: Bearer {c.bearer}",
                 f"I0101 00:00:00.000001       1 handler.go:2] token={c.jwt}",
                 f"I0101 00:00:00.000002       1 handler.go:3] authorization: Basic {c.basic}",
                 f"I0101 00:00:00.000003       1 handler.go:4] got ya29 token {c.gcp_token}",
                 f"I0101 00:00:00.000004       1 handler.go:5] secret data tls.key: {c.b64_key}",
                 *c.keys["OPENSSH PRIVATE KEY"].splitlines()]
    append("/var/log/pods/kube-system_kube-apiserver-cp-1_0f0e/kube-apiserver/0.log", "".join(
        f"2024-01-01T00:00:00.000000000Z stderr F {line}\n" for line in log_lines))
    append("/var/log/syslog",
           f"Jan  1 00:00:00 cp-1 app[1]: key {c.gcp_key}\n"
           f"Jan  1 00:00:00 cp-1 app[1]: GET https://kt.blob.core.windows.net/c/b?sv=2022-11-02&sig={c.azure_sig}\n"
           + c.keys["ENCRYPTED PRIVATE KEY"])
    crt = root / "etc/kubernetes/pki/front-proxy-client.crt"
    crt.write_text(crt.read_text() + c.keys["RSA PRIVATE KEY"])
    append("/etc/kubernetes/pki/extra-bundle.pem", (root / "etc/kubernetes/pki/ca.crt").read_text()
           + c.keys["EC PRIVATE KEY"])
    return {"k8s.static_pod_manifest": "flags and env", "k8s.kubeconfig": "token, password",
            "kubelet.config": "bearer", "kubelet.flags": "bootstrap token, GCP key",
            "kubelet.unit": "AWS secret", "kubeadm.config": "bootstrap token", "logs.pod": "tokens, keys",
            "logs.syslog": "GCP key, SAS, encrypted key", "pki.cert": "RSA and EC keys"}


def test_no_canary_survives_collection(node_root: Callable[..., Path], tmp_path: Path) -> None:
    root = node_root(name="cp-1")
    canaries = Canaries()
    planted = plant(root, canaries)
    out = tmp_path / "out"
    out.mkdir()
    proc = run_collector(root, out, "--verify", "--exclude", "etcd.*")
    assert proc.returncode == 0, proc.stderr  # --verify found nothing the redaction missed
    manifest, files = read_bundle(next(out.glob("*.tar.gz")))
    for name, data in files.items():
        for what, value in canaries.values.items():
            assert value.encode() not in data, f"{what} survived in {name}"
        assert find_secrets(data) == [], name
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
