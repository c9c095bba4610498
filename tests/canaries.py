"""Canary secrets shared by the trust tests: one unique value of each secret kind, the planting of
them into a generated node root, and the scan that proves none reached a bundle.

Used by tests/test_trust_canary.py (generated root) and tests/test_trust_lab_canary.py (real etcd).
"""

from __future__ import annotations

import base64
import json
import secrets
import string
from dataclasses import dataclass
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


# -- the hardening issue's shapes ------------------------------------------------------------------
# Each carrier is one fresh canary in the shape a real node or tool writes it: env entries in
# every layout, URL userinfo, kubeadm and kubeconfig material, credentials on command lines and
# in logs, kubectl and crictl outputs, broken PEM. `Shapes.values` never reach a bundle.

def mixed(n: int) -> str:
    """Random letters and digits of both cases (the shape of a generated password)."""
    return "Kq7" + rnd(n - 3)


@dataclass(frozen=True)
class Carrier:
    kind: str  # what `verify` reports for it
    value: str  # the canary
    text: str  # the canary in its native shape


class Shapes:
    """One carrier of each shape; `values` must never be found in a bundle."""

    def __init__(self, keys: dict[str, str], cert_and_key_pem: str) -> None:
        v = {name: mixed(24) for name in (
            "json", "pretty", "flow", "block", "first", "proxy", "etcd", "registry", "exec", "curl", "map",
            "etcdctl", "etcdctl_list", "vip", "applied_yaml", "applied_json", "crictl", "dburl",
            "encryption")}
        seed = secrets.token_hex(32)
        certificate_key = secrets.token_hex(32)
        basic = base64.b64encode(f"kubelet:{mixed(20)}".encode()).decode()
        map_basic = base64.b64encode(f"probe:{v['map']}".encode()).decode()
        cert_and_key = base64.b64encode(cert_and_key_pem.encode()).decode()
        rsa_lines = keys["RSA PRIVATE KEY"].splitlines()
        tail = "\n".join(rsa_lines[len(rsa_lines) // 2:]) + "\n"  # a tail cut inside the key
        self.rsa_key = keys["RSA PRIVATE KEY"]
        ec_key = keys["EC PRIVATE KEY"]
        cert_head = cert_and_key_pem.split("-----END CERTIFICATE-----")[0]  # its END line lost
        applied = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "app", "namespace": "default"},
                   "spec": {"containers": [{"name": "app", "image": "registry.example.com/app:1",
                                            "env": [{"name": "DB_PASSWORD", "value": v["applied_json"]}]}]}}
        applied_yaml = dict(applied, spec={"containers": [{"name": "app", "image": "app:1", "env": [
            {"name": "DB_PASSWORD", "value": v["applied_yaml"]}]}]})
        self.carriers: dict[str, Carrier] = {
            "env-json": Carrier("secret-env", v["json"], json.dumps(
                {"name": "STATS_PASSWORD", "value": v["json"]}, separators=(",", ":")) + "\n"),
            "env-json-pretty": Carrier("secret-env", v["pretty"], "        \"env\": [\n" + "\n".join(
                "            " + line for line in json.dumps(
                    {"name": "GRAFANA_ADMIN_PASSWORD", "value": v["pretty"]}, indent=4).splitlines()) + "\n"
                "        ],\n"),
            "env-flow": Carrier("secret-env", v["flow"],
                                f"    env:\n    - {{name: API_TOKEN, value: {v['flow']}}}\n"),
            "env-block-scalar": Carrier("secret-env", v["block"],
                                        f"    env:\n    - name: TLS_PASSPHRASE\n      value: |-\n"
                                        f"        {v['block']}\n        second-line-{v['block'][::-1]}\n"
                                        f"    - name: LOG_LEVEL\n      value: info\n"),
            "env-value-first": Carrier("secret-env", v["first"],
                                       f"    env:\n    - value: {v['first']}\n      name: DB_SECRET\n"),
            "env-unlisted-name": Carrier("secret-env", seed,
                                         f"    env:\n    - name: STATS_SEED\n      value: {seed}\n"),
            "env-encryption-key": Carrier("secret-env", v["encryption"],
                                          f"    env:\n    - name: ENCRYPTION_KEY\n"
                                          f"      value: \"{v['encryption']}\"\n"),
            "proxy-userinfo": Carrier("url-userinfo", v["proxy"],
                                      f"[Service]\nEnvironment=\"HTTPS_PROXY=http://proxyuser:{v['proxy']}"
                                      f"@proxy.example.com:3128\"\n"),
            "etcd-servers-userinfo": Carrier("url-userinfo", v["etcd"],
                                             f"    - --etcd-servers=https://etcduser:{v['etcd']}@10.0.0.11:2379\n"),
            "registry-userinfo": Carrier(
                "url-userinfo", v["registry"],
                f"E0101 00:00:00.000000    1234 remote_image.go:180] \"PullImage from image service failed\" "
                f"err=\"failed to resolve reference: Head \\\"https://puller:{v['registry']}@registry.example.com"
                f"/v2/app/manifests/1\\\": dial tcp: i/o timeout\" image=\"registry.example.com/app:1\"\n"),
            "kubeadm-certificate-key": Carrier(
                "secret-assignment", certificate_key,
                f"apiVersion: kubeadm.k8s.io/v1beta3\nkind: InitConfiguration\n"
                f"certificateKey: \"{certificate_key}\"\n"),
            "client-certificate-data-with-key": Carrier(
                "private-key-base64", cert_and_key[-120:-40],
                f"users:\n- name: system:node:cp-1\n  user:\n    client-certificate-data: {cert_and_key}\n"),
            "exec-plugin-env-flow": Carrier(
                "secret-env", v["exec"],
                f"users:\n- name: eks\n  user:\n    exec:\n"
                f"      apiVersion: client.authentication.k8s.io/v1beta1\n"
                f"      command: aws\n      args: [eks, get-token, --cluster-name, prod]\n"
                f"      env: [{{name: AWS_SECRET_ACCESS_KEY, value: {v['exec']}}}]\n"),
            "basic-in-kubelet-config": Carrier("basic-auth", basic,
                                               f"staticPodURLHeader:\n  Authorization:\n  - Basic {basic}\n"),
            "curl-user": Carrier("user-password", v["curl"],
                                 f"Jan  1 00:00:00 cp-1 backup.sh[99]: + curl -sS -u backup:{v['curl']} "
                                 f"https://backup.example.com/upload\n"),
            "map-authorization-basic": Carrier(
                "basic-auth", map_basic,
                f"I0101 00:00:00.000000       1 round_trippers.go:553] Request Headers: "
                f"map[Accept:[application/json] Authorization:[Basic {map_basic}]]\n"),
            "etcdctl-user-in-probe": Carrier(
                "user-password", v["etcdctl"],
                f"    livenessProbe:\n      exec:\n        command:\n        - /bin/sh\n        - -ec\n"
                f"        - ETCDCTL_API=3 etcdctl --user=root:{v['etcdctl']} endpoint health\n"),
            "etcdctl-user-as-list-item": Carrier(
                "user-password", v["etcdctl_list"],
                f"    readinessProbe:\n      exec:\n        command:\n        - etcdctl\n        - --user\n"
                f"        - root:{v['etcdctl_list']}\n        - endpoint\n        - health\n"),
            "kube-vip-bgp-peerpass": Carrier(
                "secret-env", v["vip"],
                f"    env:\n    - name: bgp_enable\n      value: \"true\"\n    - name: bgp_peerpass\n"
                f"      value: {v['vip']}\n    - name: lb_class_name\n    - name: vip_interface\n"
                f"      value: lo\n"),
            "last-applied-yaml": Carrier(
                "secret-env", v["applied_yaml"],
                "  metadata:\n    annotations:\n      kubectl.kubernetes.io/last-applied-configuration: |\n"
                f"        {json.dumps(applied_yaml, separators=(',', ':'))}\n"),
            "last-applied-json": Carrier(
                "secret-env", v["applied_json"],
                "            \"annotations\": {\n"
                "                \"kubectl.kubernetes.io/last-applied-configuration\": "
                + json.dumps(json.dumps(applied, separators=(",", ":")) + "\n") + "\n            },\n"),
            "crictl-inspect-envs": Carrier(
                "secret-env", v["crictl"],
                "      \"envs\": [\n        {\n          \"key\": \"REDIS_PASSWORD\",\n"
                f"          \"value\": \"{v['crictl']}\"\n        }},\n"
                "        {\n          \"key\": \"KUBERNETES_SERVICE_HOST\",\n"
                "          \"value\": \"10.96.0.1\"\n"
                "        }\n      ],\n"),
            "event-database-url": Carrier(
                "url-userinfo", v["dburl"],
                "- apiVersion: v1\n  kind: Event\n  message: 'Error: failed to start container \"app\": "
                f"DATABASE_URL=postgres://app:{v['dburl']}@db.default.svc:5432/app is unreachable'\n"
                "  reason: Failed\n  type: Warning\n"),
            "pem-tail-cut-inside-a-key": Carrier("private-key", key_lines(tail)[0], tail),
            "pem-certificate-without-end": Carrier("private-key", key_lines(ec_key)[0], cert_head + ec_key),
        }

    @property
    def values(self) -> dict[str, str]:
        out = {name: c.value for name, c in self.carriers.items()}
        out["env-block-scalar second line"] = "second-line-" + self.carriers["env-block-scalar"].value[::-1]
        return out

    def corpus(self) -> str:
        """Every carrier that stands on its own (the PEM ones need a place: see plant_shapes)."""
        return "".join(c.text for name, c in self.carriers.items() if not name.startswith("pem-"))


def cert_and_key(root: Path) -> str:
    """The kubelet's client certificate and key in one PEM (the file kubeadm writes)."""
    return (root / "var/lib/kubelet/pki/kubelet-client-current.pem").read_text()


def plant_shapes(root: Path, s: Shapes) -> None:
    """Each carrier where a node holds it, and the whole corpus in every text file the collector reads."""
    def append(node_path: str, text: str) -> None:
        path = root / node_path.lstrip("/")
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(text)

    c = s.carriers
    apiserver = root / "etc/kubernetes/manifests/kube-apiserver.yaml"
    text = apiserver.read_text()
    env = "".join(c[n].text.replace("    env:\n", "", 1) for n in (
        "env-flow", "env-block-scalar", "env-value-first", "env-unlisted-name", "env-encryption-key"))
    text = text.replace("    - kube-apiserver\n", "    - kube-apiserver\n" + c["etcd-servers-userinfo"].text,
                        1)
    apiserver.write_text(text.replace("    image:", "    env:\n" + env + "    image:", 1))
    etcd = root / "etc/kubernetes/manifests/etcd.yaml"
    etcd.write_text(etcd.read_text().replace("    image:", c["etcdctl-user-in-probe"].text
                                             + c["etcdctl-user-as-list-item"].text + "    image:", 1))
    append("/etc/kubernetes/manifests/kube-vip.yaml",
           "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-vip\n  namespace: kube-system\nspec:\n"
           "  containers:\n  - args:\n    - manager\n" + c["kube-vip-bgp-peerpass"].text
           + "    image: ghcr.io/kube-vip/kube-vip:v0.8.0\n    name: kube-vip\n  hostNetwork: true\n")
    append("/etc/kubernetes/kubeadm-config.yaml", "---\n" + c["kubeadm-certificate-key"].text)
    kubelet_conf = root / "etc/kubernetes/kubelet.conf"
    kubelet_conf.write_text(kubelet_conf.read_text().split("users:\n")[0]
                            + c["client-certificate-data-with-key"].text)
    append("/etc/kubernetes/scheduler.conf", c["exec-plugin-env-flow"].text)
    append("/var/lib/kubelet/config.yaml", c["basic-in-kubelet-config"].text)
    append("/etc/systemd/system/kubelet.service.d/30-proxy.conf", c["proxy-userinfo"].text)
    append("/var/log/syslog", c["curl-user"].text + c["map-authorization-basic"].text)
    append("/etc/kubernetes/pki/broken-bundle.pem", c["pem-certificate-without-end"].text)
    # a log bigger than the per-log cap whose tail starts inside a private key (CRI-prefixed lines)
    prefix = "2024-01-01T00:00:00.000000000Z stderr F "
    filler = prefix + "{\"level\":\"info\",\"msg\":\"filler\"}\n"
    key = "".join(prefix + line + "\n" for line in s.rsa_key.splitlines())
    after = filler * ((LOG_CAP - len(key) // 2) // len(filler))
    append("/var/log/pods/kube-system_etcd-cp-1_0f0e/etcd/0.log", filler * 100 + key + after)
    # the corpus everywhere else
    corpus = s.corpus()
    for node_path in ("/etc/kubernetes/manifests/kube-controller-manager.yaml",
                      "/var/lib/kubelet/kubeadm-flags.env",
                      "/etc/default/kubelet", "/etc/hosts", "/var/log/syslog",
                      "/var/log/pods/kube-system_kube-apiserver-cp-1_0f0e/kube-apiserver/0.log",
                      "/var/log/pods/kube-flannel_kube-flannel-ds-x7k2p_1a2b/kube-flannel/0.log"):
        append(node_path, corpus)


LOG_CAP = 5 * 1024 * 1024
