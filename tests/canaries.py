"""Canary secrets shared by the trust tests: one unique value of each secret kind, the planting of
them into a generated node root, and the scan that proves none reached a bundle.

Used by tests/test_trust_canary.py (generated root) and tests/test_trust_lab_canary.py (real etcd).
"""

from __future__ import annotations

import base64
import secrets
import string
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from analyzer.trust import find_secrets

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


def key_lines(pem: str) -> list[str]:
    """The key's base64 body lines (long enough to be unique): none may appear in a bundle."""
    return [line for line in pem.splitlines() if len(line) >= 16 and not line.startswith("-----")]


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
        out = {f"key {name} line {n}": line for name, pem in self.keys.items()
               for n, line in enumerate(key_lines(pem), start=1)}
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


def survivors(files: dict[str, bytes], values: dict[str, str]) -> list[str]:
    """Every canary value found in any bundle member, and every secret-shaped string verify would flag."""
    found = [f"{what} in {name}" for name, data in files.items() for what, value in values.items()
             if value.encode() in data]
    found += [f"{kind} at {name}:{line}" for name, data in files.items() for line, kind in find_secrets(data)]
    return found
