#!/usr/bin/env python3
"""kubetriage collector: snapshot a Kubernetes control-plane node into one support bundle.

One file, Python standard library only, python3.6+. Copy it to a control-plane node and run it
as root; it only reads (files under --root, read-only commands) and writes one tarball.

Read top-down: the SPECS table says what is collected; Runner executes it; redaction and the
archive follow. Bundle format: docs/bundle-format.md in the kubetriage repository.
"""
import argparse
import base64
import binascii
import bisect
import collections
import datetime
import errno
import fnmatch
import functools
import glob
import hashlib
import hmac
import io
import json
import os
import platform
import re
import selectors
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tarfile
import tempfile
import time

FORMAT_VERSION = 1
COLLECTOR_VERSION = "0.1.0"

MB = 1024 * 1024
FILE_CAP = 1 * MB
LOG_CAP = 5 * MB
CMD_CAP = 5 * MB
TOTAL_CAP = 200 * MB
# Logs share one budget (bytes before compression; logs gzip about 10:1) so a busy node gives
# tens of MB, not GB. Items are staged in table order: control-plane logs come first.
LOG_ITEMS = ("logs.*", "journal.*", "cri.logs*")
LOGS_TOTAL_CAP = 100 * MB
LOG_LINES = 20000
# a file that says it is small (/proc, /sys) is still never read past this
READ_LIMIT = 64 * MB
# directory entries one file item may look at while searching for its files
MAX_WALK_ENTRIES = 50000

# ---------------------------------------------------------------------------------------------
# What is collected. One row per item id; a glob row yields one record per matching file.
#   kind     file | cert | command
#   source   list of globs (file, cert) or argv template (command); "{name}" tokens are filled
#            from the node's context (see Context), a token alone may expand to several args
#   scope    any     : reads the node's files under --root
#            host    : inspects the running host (ss, iptables, df ...): only when --root is / or
#                      --host-commands is given
#            cluster : talks to etcd or the API server over the network, with key/cert paths
#                      taken under --root: only when --root is / or --cluster-commands is given
#                      (a mounted disk is evidence, not a trusted configuration), and kubectl
#                      only ever with a client-certificate copy of the kubeconfig (see
#                      client_cert_kubeconfig: a kubeconfig's exec plugin would run as root here)
#   redact   text | cert   (see redact())
#   needs    a gate that must be open (GATES): "api" once /healthz answered; "etcd" unless the
#            first etcd probe got no answer at all (each further probe would wait out its timeout)
#   each     a command row run once per target that an earlier item's output names (see EACH:
#            containers from cri.ps_json, certificates from pki.cert, pods from k8s.pending_pods);
#            targets fill extra "{name}" tokens; records are commands/<id>/<key>.out
#   merge    stderr goes into the same output as stdout (crictl logs replays the container's
#            stderr stream on its own stderr; klog components log only there)
# ---------------------------------------------------------------------------------------------
Spec = collections.namedtuple("Spec", "id kind source scope timeout cap redact needs env each merge")
Spec.__new__.__defaults__ = ("any", 15, FILE_CAP, "text", None, None, None, False)

# {etcdctl} is "etcdctl" when the host has it, else "crictl exec <etcd container> etcdctl" (see
# Context.use_containers); the TLS paths follow, as seen from where etcdctl runs.
ETCDCTL = ["{etcdctl}", "{etcd_endpoints}", "{etcd_tls}", "--dial-timeout=3s", "--command-timeout=5s"]
KUBECTL = ["kubectl", "--kubeconfig={admin_conf}", "--request-timeout=5s"]
CRICTL = ["crictl", "--timeout=10s"]
ETCD_ENV = {"ETCDCTL_API": "3"}
CONTROL_PLANE = ("kube-apiserver", "etcd", "kube-controller-manager", "kube-scheduler")
# Container names of the common CNI agents (and kube-proxy, which programs service routing).
CNI_CONTAINERS = ("calico-node", "cilium-agent", "kube-flannel", "kube-router", "weave", "antrea-agent",
                  "kube-proxy")
# Pod label values of the same agents (flannel, calico, cilium, canal, kube-router, kube-proxy).
CNI_SELECTOR = "k8s-app in (calico-node,cilium,flannel,canal,kube-router,kube-proxy)"
CP_PODS = "kube-system_{kube-apiserver,etcd,kube-controller-manager,kube-scheduler}-*"
CNI_NAMESPACES = "{kube-flannel,calico-system,cilium,kube-router}"

SPECS = [
    # -- configuration ---------------------------------------------------------------------
    Spec("k8s.static_pod_manifest", "file", ["/etc/kubernetes/manifests/*.yaml",
                                             "/etc/kubernetes/manifests/*.yml",
                                             "/etc/kubernetes/manifests/*.json"]),
    Spec("kubelet.config", "file", ["/var/lib/kubelet/config.yaml"]),
    Spec("kubelet.flags", "file", ["/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet",
                                   "/etc/sysconfig/kubelet"]),
    Spec("kubelet.unit", "file", ["/lib/systemd/system/kubelet.service",
                                  "/usr/lib/systemd/system/kubelet.service",
                                  "/etc/systemd/system/kubelet.service",
                                  "/etc/systemd/system/kubelet.service.d/*.conf",
                                  "/usr/lib/systemd/system/kubelet.service.d/*.conf"]),
    Spec("kubeadm.config", "file", ["/etc/kubernetes/kubeadm-config.yaml", "/etc/kubernetes/kubeadm.yaml"]),
    Spec("k8s.kubeconfig", "file", ["/etc/kubernetes/admin.conf", "/etc/kubernetes/super-admin.conf",
                                    "/etc/kubernetes/controller-manager.conf",
                                    "/etc/kubernetes/scheduler.conf", "/etc/kubernetes/kubelet.conf"]),
    # -- certificates (public parts only; *.key is never opened) ----------------------------
    Spec("pki.cert", "cert", ["/etc/kubernetes/pki/**/*.crt", "/etc/kubernetes/pki/**/*.pem",
                              "/var/lib/kubelet/pki/*.crt", "/var/lib/kubelet/pki/*.pem"],
         redact="cert"),
    # one run per certificate already in the bundle (pki.cert blocks, kubeconfig *-data), fed on
    # stdin from the public copy: openssl never opens a file that holds a key
    Spec("pki.openssl", "command", ["openssl", "x509", "-noout", "-subject", "-issuer", "-dates",
                                    "-ext", "subjectAltName"], each="certificates", timeout=5),
    # -- container runtime ---------------------------------------------------------------------
    Spec("cri.ps", "command", CRICTL + ["ps", "-a"], scope="host"),
    Spec("cri.pods", "command", CRICTL + ["pods"], scope="host"),
    # parsed at run time: container ids for the rows below and for etcdctl inside the etcd container
    Spec("cri.ps_json", "command", CRICTL + ["ps", "-a", "-o", "json"], scope="host", cap=CMD_CAP),
    Spec("cri.inspect", "command", CRICTL + ["inspect", "{container_id}"], scope="host",
         each="control_plane_containers"),
    # -- etcd ------------------------------------------------------------------------------------
    Spec("etcd.version", "command", ETCDCTL + ["version"], scope="cluster", env=ETCD_ENV),
    Spec("etcd.endpoint_health", "command", ETCDCTL + ["endpoint", "health", "--cluster", "-w", "json"],
         scope="cluster", env=ETCD_ENV, timeout=20),
    Spec("etcd.endpoint_status", "command", ETCDCTL + ["endpoint", "status", "--cluster", "-w", "json"],
         scope="cluster", env=ETCD_ENV, timeout=20, needs="etcd"),
    Spec("etcd.endpoint_status_local", "command", ETCDCTL + ["endpoint", "status", "-w", "json"],
         scope="cluster", env=ETCD_ENV, needs="etcd"),
    Spec("etcd.member_list", "command", ETCDCTL + ["member", "list", "-w", "json"],
         scope="cluster", env=ETCD_ENV, needs="etcd"),
    Spec("etcd.alarm_list", "command", ETCDCTL + ["alarm", "list", "-w", "json"],
         scope="cluster", env=ETCD_ENV, needs="etcd"),
    Spec("etcd.data_dir_usage", "command", ["du", "-sk", "{etcd_data_dir}"], timeout=30),
    Spec("etcd.data_dir_df", "command", ["df", "-P", "-k", "{etcd_data_dir}"]),
    # -- API server (only once /healthz answered) ------------------------------------------------
    Spec("k8s.healthz", "command", KUBECTL + ["get", "--raw=/healthz"], scope="cluster", timeout=8),
    Spec("k8s.livez", "command", KUBECTL + ["get", "--raw=/livez?verbose"], scope="cluster", needs="api"),
    Spec("k8s.readyz", "command", KUBECTL + ["get", "--raw=/readyz?verbose"], scope="cluster", needs="api"),
    Spec("k8s.version", "command", KUBECTL + ["version", "-o", "json"], scope="cluster", needs="api"),
    Spec("k8s.nodes", "command", KUBECTL + ["get", "nodes", "-o", "yaml"], scope="cluster", needs="api"),
    Spec("k8s.pods", "command", KUBECTL + ["get", "pods", "-n", "kube-system", "-o", "yaml"],
         scope="cluster", needs="api"),
    # JSON (still YAML to a YAML reader) so the next row can list the pods with the stdlib
    Spec("k8s.pending_pods", "command", KUBECTL + ["get", "pods", "-A",
                                                   "--field-selector=status.phase=Pending", "-o", "json"],
         scope="cluster", needs="api"),
    Spec("k8s.pending_pod_events", "command", KUBECTL + [
        "get", "events", "-n", "{namespace}", "-o", "yaml",
        "--field-selector=involvedObject.kind=Pod,involvedObject.name={name}"],
        scope="cluster", needs="api", each="pending_pods"),
    Spec("k8s.events", "command", KUBECTL + ["get", "events", "-A", "-o", "yaml"], scope="cluster",
         needs="api", cap=CMD_CAP, timeout=20),
    Spec("k8s.leases", "command", KUBECTL + ["get", "leases", "-n", "kube-system", "-o", "yaml"],
         scope="cluster", needs="api"),
    Spec("k8s.node_leases", "command", KUBECTL + ["get", "leases", "-n", "kube-node-lease", "-o", "yaml"],
         scope="cluster", needs="api"),
    Spec("k8s.endpointslices", "command", KUBECTL + ["get", "endpointslices", "-n", "default",
                                                     "-l", "kubernetes.io/service-name=kubernetes",
                                                     "-o", "yaml"], scope="cluster", needs="api"),
    Spec("k8s.endpoints", "command", KUBECTL + ["get", "endpoints", "kubernetes", "-n", "default",
                                                "-o", "yaml"], scope="cluster", needs="api"),
    Spec("k8s.cni_pods", "command", KUBECTL + ["get", "pods", "-A", "-l", CNI_SELECTOR, "-o", "yaml"],
         scope="cluster", needs="api"),
    # CNI agents always run as DaemonSets: this also covers agents CNI_SELECTOR does not name
    Spec("k8s.daemonsets", "command", KUBECTL + ["get", "daemonsets", "-A", "-o", "yaml"],
         scope="cluster", needs="api"),
    # deprecated since 1.19 and known to report 10251/10252 falsely; kept for old clusters
    Spec("k8s.componentstatuses", "command", KUBECTL + ["get", "componentstatuses", "-o", "yaml"],
         scope="cluster", needs="api"),
    # -- network ---------------------------------------------------------------------------------
    Spec("net.iptables_save", "command", ["iptables-save"], scope="host"),
    Spec("net.ip6tables_save", "command", ["ip6tables-save"], scope="host"),
    # -a: rule handles, so a finding can say exactly which rule to delete
    Spec("net.nft_ruleset", "command", ["nft", "-a", "list", "ruleset"], scope="host"),
    Spec("net.ufw_status", "command", ["ufw", "status", "verbose"], scope="host"),
    Spec("net.firewalld", "command", ["firewall-cmd", "--list-all"], scope="host"),
    Spec("net.listening", "command", ["ss", "-ltnp"], scope="host"),
    Spec("net.addresses", "command", ["ip", "-o", "addr"], scope="host"),
    Spec("net.routes", "command", ["ip", "route"], scope="host"),
    Spec("net.hosts", "file", ["/etc/hosts", "/etc/resolv.conf"]),
    # -- host ------------------------------------------------------------------------------------
    Spec("host.os_release", "file", ["/etc/os-release"]),
    Spec("host.timedatectl", "command", ["timedatectl", "status"], scope="host"),
    Spec("host.chrony", "command", ["chronyc", "tracking"], scope="host"),
    Spec("host.df", "command", ["df", "-P", "-k"], scope="host"),
    Spec("host.memory", "file", ["/proc/meminfo"], scope="host"),
    Spec("host.uptime", "file", ["/proc/uptime", "/proc/loadavg"], scope="host"),
    Spec("host.kernel", "command", ["uname", "-a"], scope="host"),
    Spec("host.runtime_version", "command", CRICTL + ["version"], scope="host"),
    Spec("host.kubelet_version", "command", ["kubelet", "--version"], scope="host"),
    # -- logs: last, so a slow disk or a huge log eats the deadline of nothing above -------------
    Spec("logs.pod", "file", ["/var/log/pods/" + CP_PODS + "/*/*.log",
                              "/var/log/pods/kube-system_*/*/*.log",
                              "/var/log/pods/" + CNI_NAMESPACES + "_*/*/*.log"], cap=LOG_CAP),
    # kubelet's symlinks (<pod>_<namespace>_<container>-<container id>.log) into /var/log/pods:
    # they tie container ids to log files (record field "link"); a target is stored only once
    Spec("logs.containers", "file", ["/var/log/containers/*_kube-system_*.log",
                                     "/var/log/containers/*_" + CNI_NAMESPACES + "_*.log"], cap=LOG_CAP),
    # fallbacks when journald is not persistent or not used (Debian/Ubuntu syslog, RHEL messages)
    Spec("logs.syslog", "file", ["/var/log/syslog", "/var/log/messages"], cap=LOG_CAP),
    Spec("journal.kubelet", "command", ["journalctl", "{journal_dir}", "-u", "kubelet", "--since={since}",
                                        "--no-pager", "-o", "short-iso"], cap=LOG_CAP, timeout=30),
    Spec("journal.runtime", "command", ["journalctl", "{journal_dir}", "-u", "containerd", "-u", "crio",
                                        "-u", "docker", "--since={since}", "--no-pager", "-o",
                                        "short-iso"], cap=LOG_CAP, timeout=30),
    Spec("journal.etcd", "command", ["journalctl", "{journal_dir}", "-u", "etcd", "--since={since}",
                                     "--no-pager", "-o", "short-iso"], cap=LOG_CAP, timeout=30),
    Spec("journal.control_plane", "command", ["journalctl", "{journal_dir}", "-u", "kube-apiserver",
                                              "-u", "kube-controller-manager", "-u", "kube-scheduler",
                                              "--since={since}", "--no-pager", "-o", "short-iso"],
         cap=LOG_CAP, timeout=30),
    Spec("cri.logs", "command", CRICTL + ["logs", "--tail={log_lines}", "--since={since_duration}",
                                          "{container_id}"],
         scope="host", each="log_containers", cap=LOG_CAP, timeout=30, merge=True),
    Spec("cri.logs_previous", "command", CRICTL + ["logs", "--previous", "--tail={log_lines}",
                                                   "{container_id}"],
         scope="host", each="restarted_log_containers", cap=LOG_CAP, timeout=30, merge=True),
]

# Paths never opened, whatever a glob matches: private keys and service-account signing keys.
FORBIDDEN = ["*.key", "*/sa.key", "*-key.pem", "*.p12", "*.pfx"]


# ---------------------------------------------------------------------------------------------
# Secrets: ONE finder. Redaction replaces what it finds before anything is staged; --verify and
# `kubetriage verify` report what it finds in a finished bundle (a redacted value reads REDACTED
# and is not found again). It reads structure, not only key words: PEM blocks whole, headless
# (a tail cut) or without END; PEM keys base64-encoded; env entries in every layout (YAML block
# or flow, JSON, escaped JSON, value before name, block scalars); names that say secret in
# key/value pairs and flags; URL userinfo; user:password arguments; known token shapes.
# Bytes in, bytes out: nothing is decoded, so a log's invalid UTF-8 stays as it was.
# ---------------------------------------------------------------------------------------------
REDACTED = "REDACTED"
_REDACTED = REDACTED.encode("ascii")
Span = collections.namedtuple("Span", "start end kind replacement")

# Names that say "secret": one of these words, or "<owner> key" (api key, certificateKey ...),
# unless the last word says the value is something else (a file, a TTL, a name, a reference).
SECRET_NAME_WORDS = frozenset((
    "password", "passwd", "passphrase", "pass", "peerpass", "secret", "token", "tokens",
    "credential", "credentials", "creds", "apikey", "accesskey", "secretkey", "privatekey"))
KEY_OWNERS = frozenset(("api", "access", "secret", "private", "client", "encryption", "certificate",
                        "signing", "master", "account", "shared", "session", "storage", "license", "auth"))
NOT_SECRET_LAST = frozenset((
    "file", "files", "path", "dir", "directory", "ttl", "expiration", "expiry", "duration", "timeout", "mode",
    "type", "name", "names", "id", "ref", "refs", "source", "issuer", "issuers", "audience", "audiences",
    "length", "size", "count", "enabled", "enable", "disabled", "required", "format", "version", "prefix",
    "method", "provider", "lookup", "usage", "usages", "namespace", "period", "interval", "algorithm", "url",
    "uri", "endpoint", "host", "hostname", "port", "user", "username", "digest", "image", "selector",
    "webhook", "cache", "policy", "config", "kind", "hash"))
# a value that is never a secret: placeholders, booleans, numbers and durations, references, paths
NOT_A_VALUE = re.compile(rb"^(?:-*REDACTED.*|true|false|null|none|nil|yes|no|on|off|~|[0-9.]+[a-z]{0,3}"
                         rb"|\$[({].*|<.*>|[*x.]+|/.*|[(&].*)$", re.I | re.S)
RANDOMISH = re.compile(rb"^[A-Za-z0-9+/=_.~!@#%^&*-]{16,4096}$")
# lowercase words joined by - or . (names, hostnames), and UUIDs: not generated secrets
WORDISH = re.compile(rb"^(?:[a-z0-9]+[-.])*[a-z0-9]+$"
                     rb"|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def name_words(name):
    name = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name.decode("ascii", "replace"))
    return [w for w in re.split(r"[^a-z0-9]+", name.lower()) if w]


@functools.lru_cache(maxsize=4096)  # logs repeat their few names thousands of times
def is_secret_name(name):
    words = name_words(name)
    if not words or words[-1] in NOT_SECRET_LAST:
        return False
    return any(w in SECRET_NAME_WORDS for w in words) or any(
        words[i] in KEY_OWNERS and words[i + 1] == "key" for i in range(len(words) - 1))


@functools.lru_cache(maxsize=4096)
def plain_name(name):
    """A name no secret word is in, whose value may still be a secret when it looks random."""
    words = name_words(name)
    return bool(words) and words[-1] not in NOT_SECRET_LAST


def looks_random(value):
    """Mixed-case letters and digits, or long hex: the shape of generated keys and passwords."""
    if not RANDOMISH.match(value) or NOT_A_VALUE.match(value):
        return False
    if re.match(rb"^[0-9a-f]{32,}$", value):
        return True
    return not WORDISH.match(value) and all(re.search(c, value) for c in (rb"[a-z]", rb"[A-Z]", rb"[0-9]"))


def is_secret_value(value, listed):
    value = value.strip(b"\"' \t\r")
    if listed:
        return len(value) >= 3 and (not NOT_A_VALUE.match(value) or random_after_slash(value))
    return looks_random(value)


def random_after_slash(value):
    """A generated secret that happens to start with '/' (AWS secret keys may), not a path: random
    without its slashes, and no part of it a lowercase word as path parts are ('var', 'pki')."""
    if not value.startswith(b"/") or not looks_random(value.replace(b"/", b"")):
        return False
    return not any(re.match(rb"^[a-z][a-z.-]{2,}$", part) for part in value.split(b"/"))


# -- PEM ---------------------------------------------------------------------------------------
PEM_MARKER = re.compile(rb"-----(BEGIN|END) ([A-Z0-9 ]{1,60})-----")
BODY_TOKEN = re.compile(rb"(?:^|[ \t])([A-Za-z0-9+/=]{4,})[ \t\r]*$", re.M)
PemBlock = collections.namedtuple("PemBlock", "start end labels complete")


def pem_blocks(data):
    """Every PEM block: BEGIN to its END, else to the next BEGIN or the end of the text; a lone
    END (the head cut off by a tail) starts at the base64 lines above it."""
    if b"-----" not in data:
        return []
    markers = list(PEM_MARKER.finditer(data))
    blocks = []
    for i, m in enumerate(markers):
        prev = markers[i - 1] if i else None
        nxt = markers[i + 1] if i + 1 < len(markers) else None
        if m.group(1) == b"BEGIN":
            if nxt is not None and nxt.group(1) == b"END":
                blocks.append(PemBlock(m.start(), nxt.end(), {m.group(2), nxt.group(2)},
                                       nxt.group(2) == m.group(2)))
            else:
                blocks.append(PemBlock(m.start(), nxt.start() if nxt else len(data), {m.group(2)}, False))
        elif prev is None or prev.group(1) == b"END":
            blocks.append(PemBlock(body_start(data, prev.end() if prev else 0, m.start()), m.end(),
                                   {m.group(2)}, False))
    return blocks


def body_start(data, low, end):
    """Start of the base64 lines just above position end (the last one may be short)."""
    start = end
    line_end = data.rfind(b"\n", low, end)
    lines = 0
    while line_end >= low and lines < 400:
        line_start = max(low, data.rfind(b"\n", low, line_end) + 1)
        token = BODY_TOKEN.search(data, line_start, line_end)
        if token is None or (lines and len(token.group(1)) < 40):
            break
        start, lines, line_end = line_start, lines + 1, line_start - 1
    return start


def is_key_block(block):
    return any(b"PRIVATE KEY" in label for label in block.labels)


def pem_key_spans(data, low):
    for block in pem_blocks(data):
        if is_key_block(block):
            label = sorted(block.labels)[0]
            yield Span(block.start, block.end, "private-key", b"-----" + _REDACTED + b" " + label + b"-----")


def public_certificates(data):
    """Only the complete CERTIFICATE blocks; (bytes, number of other or broken blocks dropped)."""
    blocks = pem_blocks(data)
    certs = [data[b.start:b.end] for b in blocks if b.complete and b.labels == {b"CERTIFICATE"}]
    return b"\n".join(certs) + (b"\n" if certs else b""), len(blocks) - len(certs)


B64_PEM = re.compile(rb"LS0tLS1CRUdJTi(?:[A-Za-z0-9+/]|\r?\n[ \t]*(?=[A-Za-z0-9+/]{16}))*=*")


def base64_key_spans(data, low):
    """A PEM key base64-encoded once (kubeconfig *-data, Secret data); a certificate+key value
    keeps its certificates, encoded again."""
    for m in B64_PEM.finditer(data):
        raw = re.sub(rb"\s", b"", m.group(0))
        try:
            decoded = base64.b64decode(raw[:len(raw) - len(raw) % 4])
        except (binascii.Error, ValueError):
            continue
        if any(is_key_block(b) for b in pem_blocks(decoded)):
            certs = public_certificates(decoded)[0]
            yield Span(m.start(), m.end(), "private-key-base64", base64.b64encode(certs) if certs else None)


# -- names and values ----------------------------------------------------------------------------
# candidates: a name holding a hint word followed by = or :, or a --flag holding one and a value
NAME_WORD_HINTS = (b"pass", b"secret", b"token", b"key", b"cred")
NAME_THEN_SEPARATOR = [re.compile(word + rb"[a-z0-9_.-]*\\?[\"']?[ \t]*[:=]") for word in NAME_WORD_HINTS]
FLAG_NAME = re.compile(rb"-(?<![a-z0-9_.-]-)-?(?=[a-z0-9_.-]*(?:pass|secret|token|key|cred)[a-z0-9_.-]*"
                       rb"(?:[ \t]+|[ \t]*\r?\n[ \t]*-[ \t]+))")
NAME_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-")
ASSIGN = re.compile(rb"(\\?[\"']?)[ \t]*[:=][ \t]*")
FLAG_SEPARATOR = re.compile(rb"[ \t]+|[ \t]*\r?\n[ \t]*-[ \t]+")
PLAIN_VALUE = re.compile(rb"[^\s\"',}\]\\]+")
BLOCK_SCALAR = re.compile(rb"[|>][-+0-9]*[ \t]*\r?$", re.M)


KEY_POSITION = re.compile(rb"(?:^|\n)[ \t]*(?:-[ \t]+)?\Z|[{,\[][ \t]*\Z")


def value_span(data, pos, key_indent):
    """(start, end) of the value at pos: quoted, a YAML block scalar, or one plain token."""
    quote = re.match(rb"\\?([\"'])", data[pos:pos + 2])
    if quote:
        start = pos + len(quote.group(0))
        end = start
        while end < len(data) and data[end] not in b"\"'\\\n":
            end += 1
        return start, end
    block = BLOCK_SCALAR.match(data, pos)
    if block:
        end = block.end()
        while True:
            nxt = data.find(b"\n", end + 1)
            line = data[end + 1:nxt if nxt >= 0 else len(data)]
            if line.strip() and len(line) - len(line.lstrip(b" ")) <= key_indent:
                return block.end() + 1, end
            if nxt < 0:
                return block.end() + 1, len(data)
            end = nxt
    plain = PLAIN_VALUE.match(data, pos)
    return (pos, plain.end()) if plain else (pos, pos)


def occurrences(text, words):
    """Every position of every word (bytes.find is many times faster than a regex alternation)."""
    for word in words:
        pos = text.find(word)
        while pos >= 0:
            yield pos
            pos = text.find(word, pos + 1)


def indent_at(data, pos):
    line_start = data.rfind(b"\n", 0, pos) + 1
    return len(data[line_start:pos]) - len(data[line_start:pos].lstrip(b" -"))


def named_value_spans(data, low):
    """name=value, name: value, "name":"value", --name value whose name says secret."""
    done = 0
    hits = [m.start() for pattern in NAME_THEN_SEPARATOR for m in pattern.finditer(low)]
    hits += [m.end() for m in FLAG_NAME.finditer(low)]
    for hit in sorted(hits):
        if hit < done:
            continue
        start = end = hit
        while start > 0 and data[start - 1] in NAME_BYTES:
            start -= 1
        while end < len(data) and data[end] in NAME_BYTES:
            end += 1
        done = end
        name = data[start:end]
        is_flag = name.startswith(b"-")
        if not is_secret_name(name.lstrip(b"-")):
            continue
        sep = ASSIGN.match(data, end)
        if sep is None and is_flag:
            sep = FLAG_SEPARATOR.match(data, end)
        if sep is None:
            continue
        if sep.group(0).strip(b" \t\\\"'") == b":":
            if data[sep.end():sep.end() + 1] in (b"{", b"["):
                continue  # a mapping or list follows, not a value
            key_start = start - len(sep.group(1))
            if not KEY_POSITION.search(data, max(0, key_start - 200), key_start):
                continue  # 'list *api.Secret: Get', '"ebs-cloud-credentials": Failed': prose, not a key
        prose_flag = is_flag and sep.re is FLAG_SEPARATOR
        vstart, vend = value_span(data, sep.end(), indent_at(data, start))
        value = data[vstart:vend]
        # "--flag value": "--kubelet-client-key string", "--x-credentials was specified" are prose
        prose = prose_flag and (len(value) < 6 or value.isalpha() and value.islower())
        dash = is_flag and value.startswith(b"-")
        if vend > vstart and is_secret_value(value, True) and not (dash or prose):
            yield Span(vstart, vend, "password-flag" if is_flag else "secret-assignment", None)


ENV_VALUE_KEY = re.compile(rb"(\\?[\"']?)value\1[ \t]*:[ \t]*")
ENV_NAME_KEY = re.compile(rb"(?<![A-Za-z0-9_])(\\?[\"']?)(?:name|key)\1[ \t]*:[ \t]*\\?[\"']?"
                          rb"([A-Za-z_][A-Za-z0-9_.-]*)")


def env_spans(data, low):
    """Env entries {name|key, value} in any layout: YAML items (either key first, block scalars),
    flow mappings, JSON and escaped JSON objects (kubectl -o json, crictl inspect, last-applied)."""
    for hit in occurrences(data, (b"value",)):
        quote = data[hit - 2:hit] if data[hit - 2:hit] == b'\\"' else data[hit - 1:hit]
        if quote not in (b"", b'"', b"'", b'\\"'):
            quote = b""
        pos = hit - len(quote)
        m = ENV_VALUE_KEY.match(data, pos)
        if m is None or (pos and data[pos - 1] in NAME_BYTES):
            continue
        opened = data.rfind(b"{", max(0, pos - 1024), pos)
        if opened >= 0 and data.find(b"}", opened, pos) < 0:  # inside a flow mapping / JSON object
            closed = data.find(b"}", m.end(), m.end() + 4096)
            name = ENV_NAME_KEY.search(data, opened, closed if closed >= 0 else m.end() + 4096)
        else:
            name = yaml_sibling(data, pos)
        if name is None:
            continue
        vstart, vend = value_span(data, m.end(), indent_at(data, pos))
        value = data[vstart:vend]
        if vend > vstart and (is_secret_value(value, True) if is_secret_name(name.group(2)) else
                              plain_name(name.group(2)) and is_secret_value(value, False)):
            yield Span(vstart, vend, "secret-env", None)


def yaml_sibling(data, pos):
    """The name:/key: of the YAML list item that holds the value: key at pos, or None."""
    line_start = data.rfind(b"\n", 0, pos) + 1
    prefix = data[line_start:pos]
    if prefix.strip(b" ") not in (b"", b"-"):
        return None
    column = len(prefix)
    lines = []
    # up to the item's "- " line, then down to the next item or a shallower line
    start = line_start
    if prefix.strip(b" ") != b"-":
        for _ in range(30):
            if start == 0:
                break
            prev_start = data.rfind(b"\n", 0, start - 1) + 1
            line = data[prev_start:start - 1]
            indent = len(line) - len(line.lstrip(b" "))
            if line.strip() and indent < column - 2:
                break
            lines.append(line)
            start = prev_start
            if indent == column - 2 and line.lstrip(b" ").startswith(b"- "):
                break
    end = data.find(b"\n", pos)
    for _ in range(30):
        if end < 0:
            break
        nxt = data.find(b"\n", end + 1)
        line = data[end + 1:nxt if nxt >= 0 else len(data)]
        indent = len(line) - len(line.lstrip(b" "))
        if line.strip() and (indent < column or line.lstrip(b" ").startswith(b"- ") and indent <= column - 2):
            break
        lines.append(line)
        end = nxt
    for line in lines:
        match = ENV_NAME_KEY.match(line.lstrip(b" -"))
        if match and len(line) - len(line.lstrip(b" -")) == column:
            return match
    return None


# "=" first (a literal: fast), then in C what rules most out: a name of 3+ capitals before it, a
# value that does not start like a path, a quote or a UUID
ENV_ASSIGNED = re.compile(rb"=(?<=[A-Z0-9_]{3}=)\\?[\"']?(?![0-9a-f]{8}-[0-9a-f]{4}-)"
                          rb"([^\s\"'\\;,/][^\s\"'\\;,]{15,})")
ENV_NAME = re.compile(rb"[A-Z][A-Z0-9_]{2,}$")
ENV_NAME_BYTES = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_")


def env_assignment_spans(data, low):
    """NAME=value of an environment variable whose name says nothing, when the value looks generated."""
    for m in ENV_ASSIGNED.finditer(data):
        if not looks_random(m.group(1)):  # first: most values are paths, words, numbers
            continue
        start = m.start()
        while start > 0 and data[start - 1] in ENV_NAME_BYTES and m.start() - start < 100:
            start -= 1
        name = data[start:m.start()]
        if ENV_NAME.match(name) and (start == 0 or data[start - 1] not in NAME_BYTES) and plain_name(name):
            yield Span(m.start(1), m.end(1), "secret-env", None)


# -- shapes ----------------------------------------------------------------------------------------
def regex_rule(kind, pattern, group=0, lower=False, check=None):
    """A finder from one regex: the group is the secret; on the lowercased text when lower."""
    def find(data, low):
        for m in pattern.finditer(low if lower else data):
            value = data[m.start(group):m.end(group)]
            if not value.startswith(_REDACTED) and (check is None or check(value)):
                yield Span(m.start(group), m.end(group), kind, None)
    return find


def decodes_to_user_password(value):
    try:
        return b":" in base64.b64decode(value + b"=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        return False


def bootstrap_token_spans(data, low):
    """kubeadm bootstrap tokens: [a-z0-9]{6}.[a-z0-9]{16}, found from the dot (fast)."""
    for m in BOOTSTRAP_TAIL.finditer(data):
        start = m.start() - 6
        # event names are <object>.<16 hex>: a token's 16 characters are [a-z0-9], almost never all hex
        if start >= 0 and BOOTSTRAP_HEAD.match(data, start) and (start == 0 or data[start - 1] not in ALNUM) \
                and not HEX16.match(data, m.start() + 1):
            yield Span(start, m.end(), "bootstrap-token", None)


BOOTSTRAP_TAIL = re.compile(rb"\.[a-z0-9]{16}(?![a-z0-9])")
BOOTSTRAP_HEAD = re.compile(rb"[a-z0-9]{6}\.")
HEX16 = re.compile(rb"[0-9a-f]{16}")
ALNUM = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def userinfo_spans(data, low):
    """scheme://user:password@host: the password; scheme://TOKEN@host: a random-looking user."""
    for m in URL_USERINFO.finditer(data):
        info = m.group(1)
        colon = info.find(b":")
        start = m.start(1) + colon + 1 if colon >= 0 else m.start(1)
        value = data[start:m.end(1)]
        if value and not value.startswith(_REDACTED) and (colon >= 0 or looks_random(value)):
            yield Span(start, m.end(1), "url-userinfo", None)


URL_USERINFO = re.compile(rb"://([^\s/?#@\"'\\<>\[\]{}]{1,256})@")

# (kind, hints, finder): a finder runs only when one of its hints is in the lowercased text
# Every regex starts with a literal (boundaries are lookbehinds after it), so the regex engine
# skips to candidates at memchr speed; the finders built on bytes.find need no hint either.
SECRET_FINDERS = [
    pem_key_spans,
    base64_key_spans,
    regex_rule("putty-private-key", re.compile(rb"PuTTY-User-Key-File-\d+:[^\n]*(?:\n[^\n]*\S[^\n]*)*")),
    regex_rule("jwt", re.compile(
        rb"eyJ(?<![A-Za-z0-9_-]eyJ)[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}")),
    regex_rule("bearer-token", re.compile(
        rb"bearer(?<![a-z0-9_]bearer)\s+([a-z0-9._~+/-]{8,}=*)"), 1, lower=True),
    regex_rule("basic-auth", re.compile(rb"basic(?<![a-z0-9_]basic)\s+([a-z0-9+/]{8,}={0,2})"), 1, lower=True,
               check=decodes_to_user_password),
    bootstrap_token_spans,
    regex_rule("aws-access-key-id", re.compile(rb"(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])")),
    regex_rule("gcp-api-key", re.compile(rb"AIza[0-9A-Za-z_-]{35}")),
    regex_rule("gcp-oauth-token", re.compile(rb"ya29\.[0-9A-Za-z_-]{20,}")),
    regex_rule("azure-storage-key", re.compile(rb"accountkey=([^;\s\"'\\]+)"), 1, lower=True),
    regex_rule("azure-sas-signature", re.compile(rb"sig=(?<=[?&;\s]sig=)([^&\s\"'\\]{8,})"), 1, lower=True),
    userinfo_spans,
    # curl -u user:pw, etcdctl --user=root:pw (also as the next item of a YAML command list)
    regex_rule("user-password", re.compile(
        rb"-(?<![\w-]-)(?:u|-user|-username|-proxy-user)(?:[ \t]*=[ \t]*|[ \t]+|[ \t]*\r?\n[ \t]*-[ \t]+)"
        rb"[\"']?[^\s\"':]{1,128}:([^\s\"',\]\\]+)"), 1, check=lambda v: is_secret_value(v, True)),
    named_value_spans,
    env_spans,
    env_assignment_spans,
]


def find_secret_spans(data):
    """Every secret in data (bytes), sorted, overlapping ones merged into the first."""
    low = data.lower()
    ranked = []
    for rank, finder in enumerate(SECRET_FINDERS):
        ranked.extend((span.start, rank, span) for span in finder(data, low))
    ranked.sort(key=lambda r: r[:2])  # at one start, the more specific finder (listed first) names it
    merged = []
    for _, _, span in ranked:
        if merged and span.start < merged[-1].end:
            if span.end > merged[-1].end:
                merged[-1] = merged[-1]._replace(end=span.end)
            continue
        merged.append(span)
    return merged


def redact_bytes(data):
    """(data with every secret replaced, number replaced)."""
    spans = find_secret_spans(data)
    out, last = [], 0
    for span in spans:
        out.extend((data[last:span.start], span.replacement or _REDACTED))
        last = span.end
    out.append(data[last:])
    return b"".join(out), len(spans)


def redact(mode, data):
    """Apply one redaction mode to raw bytes: "cert" keeps complete certificates only, "text"
    replaces every secret; return (bytes, redaction count)."""
    if mode == "cert":
        return public_certificates(data)
    return redact_bytes(data)


MAX_FINDINGS_PER_KIND = 100


def find_secrets(data):
    """Sorted (line number, kind) of every secret in data (bytes): what --verify reports."""
    found = set()
    per_kind = collections.Counter()
    newlines = None
    for span in find_secret_spans(data):
        per_kind[span.kind] += 1
        if per_kind[span.kind] > MAX_FINDINGS_PER_KIND:
            continue
        if newlines is None:
            newlines = [m.start() for m in re.finditer(b"\n", data)]
        found.add((bisect.bisect_left(newlines, span.start) + 1, span.kind))
    return sorted(found)


# ---------------------------------------------------------------------------------------------
# Context: facts about the node that fill argv templates ({etcd_endpoints} ...).
# ---------------------------------------------------------------------------------------------
def read_static_pod_flags(root, name):
    """Return {flag: value} from a static pod manifest's command list (stdlib: no YAML parser)."""
    flags = {}
    try:
        text = read_node_file(root, "/etc/kubernetes/manifests/%s.yaml" % name, FILE_CAP)[0]
    except OSError:
        return flags
    for line in text.decode("utf-8", "replace").splitlines():
        match = re.match(r"^\s*-\s+[\"']?--([a-z0-9-]+)=(.*?)[\"']?\s*$", line)
        if match:
            flags[match.group(1)] = match.group(2)
    return flags


def confined(root, node_path):
    """The real path of a node path (symlinks followed as the node would): never outside the root."""
    return resolve_in_root(root, node_path)[1]


ADMIN_CONF = "/etc/kubernetes/admin.conf"
KubeAccess = collections.namedtuple("KubeAccess", "source config left_out why")
# What a kubeconfig may hold besides a client certificate: plugins that run as root on this
# machine, credentials and routes that the disk (not the user) would choose.
KUBECONFIG_LEFT_OUT = ("exec", "auth-provider", "token", "tokenFile", "username", "password", "proxy-url",
                       "as", "as-groups")
KUBECONFIG_FIELD = re.compile(r"^[ \t]*-?[ \t]*\"?([A-Za-z-]+)\"?[ \t]*:[ \t]*\"?([^\"\s,{}]*)", re.M)
HTTPS_SERVER = re.compile(r"^https://[A-Za-z0-9.:\[\]-]+(?:/[A-Za-z0-9._~/-]*)?$")


def client_cert_kubeconfig(root, node_path):
    """A kubeconfig for kubectl made from the node's: server, CA and client certificate, nothing else.

    Returns KubeAccess(node path, JSON kubeconfig or None, fields left out, why None). Certificate
    files it names are read inside the root and embedded, so kubectl opens nothing the disk names.
    """
    try:
        text = read_node_file(root, node_path, FILE_CAP)[0].decode("utf-8", "replace")
    except OSError as exc:
        return KubeAccess(node_path, None, [], "cannot read: %s" % (exc.strerror or exc))
    fields = {}
    for key, value in KUBECONFIG_FIELD.findall(text):
        fields.setdefault(key, value)
    left_out = [k for k in KUBECONFIG_LEFT_OUT if k in fields]

    def data(name):
        value = fields.get(name + "-data")
        if not value and fields.get(name):
            value = base64.b64encode(read_node_file(root, fields[name], FILE_CAP)[0]).decode("ascii")
        return value if value and re.match(r"^[A-Za-z0-9+/]+=*$", value) else None

    try:
        cert, key, ca = data("client-certificate"), data("client-key"), data("certificate-authority")
    except OSError as exc:
        why = "cannot read a file it names: %s" % (exc.strerror or exc)
        return KubeAccess(node_path, None, left_out, why)
    server = fields.get("server", "")
    if not (cert and key):
        why = "no client certificate and key (never used: exec and auth-provider plugins, tokens, passwords)"
    elif not HTTPS_SERVER.match(server):
        why = "no https server address"
    else:
        cluster = {"server": server}
        if ca:
            cluster["certificate-authority-data"] = ca
        elif fields.get("insecure-skip-tls-verify") == "true":
            cluster["insecure-skip-tls-verify"] = True
        user = {"client-certificate-data": cert, "client-key-data": key}
        config = {"apiVersion": "v1", "kind": "Config", "current-context": "node",
                  "clusters": [{"name": "node", "cluster": cluster}],
                  "users": [{"name": "node", "user": user}],
                  "contexts": [{"name": "node", "context": {"cluster": "node", "user": "node"}}]}
        return KubeAccess(node_path, json.dumps(config), left_out, None)
    return KubeAccess(node_path, None, left_out, why)


class Context(object):
    """Values for argv templates, derived from the node's own configuration."""

    def __init__(self, root, since):
        self.root = root
        self.values = {"since": since, "since_duration": since.lstrip("-"), "log_lines": LOG_LINES}
        self.missing = {}
        etcd = read_static_pod_flags(root, "etcd")
        self.etcd_flags = etcd
        if shutil.which("etcdctl"):
            self.values["etcdctl"] = ["etcdctl"]
        else:
            self.missing["etcdctl"] = "etcdctl is not installed and crictl found no running etcd container"
        apiserver = read_static_pod_flags(root, "kube-apiserver")
        client_urls = etcd.get("advertise-client-urls") or etcd.get("listen-client-urls")
        if client_urls:
            endpoint = [u for u in client_urls.split(",") if u][0]
            self.values["etcd_endpoints"] = ["--endpoints=" + endpoint]
        else:
            self.missing["etcd_endpoints"] = "no etcd static pod manifest with --advertise-client-urls"
        # Prefer the API server's etcd client cert (what the API server really uses), then etcd's own.
        tls = [("cacert", apiserver.get("etcd-cafile") or etcd.get("trusted-ca-file")),
               ("cert", apiserver.get("etcd-certfile") or etcd.get("cert-file")),
               ("key", apiserver.get("etcd-keyfile") or etcd.get("key-file"))]
        try:
            if not all(v for _, v in tls):
                raise OSError("etcd TLS file paths not found in the etcd/API server manifests")
            self.values["etcd_tls"] = ["--%s=%s" % (k, confined(root, v)) for k, v in tls]
        except OSError as exc:
            self.missing["etcd_tls"] = str(exc)
        self.optional_dir("etcd_data_dir", etcd.get("data-dir") or "/var/lib/etcd", "etcd data dir")
        self.kubeconfig = client_cert_kubeconfig(root, ADMIN_CONF)
        if not self.kubeconfig.config:
            self.missing["admin_conf"] = "%s: %s" % (ADMIN_CONF, self.kubeconfig.why)
        if root == "/":
            self.values["journal_dir"] = []
        elif self.optional_dir("journal_dir", "/var/log/journal", "journal under --root"):
            self.values["journal_dir"] = ["--directory=" + self.values["journal_dir"]]

    def optional_dir(self, name, node_path, what):
        """Set values[name] to the folder's real path, confined to the root; False when it is not one."""
        try:
            real = confined(self.root, node_path)
            if not os.path.isdir(real):
                raise OSError("not a folder")
        except OSError as exc:
            self.missing[name] = "%s %s: %s" % (what, node_path, exc)
            return False
        self.values[name] = real
        return True

    def use_containers(self, containers):
        """Without etcdctl on the host, run the etcd image's own etcdctl through `crictl exec`.

        Inside the container the node's paths apply as they are (kubeadm mounts
        /etc/kubernetes/pki/etcd there), but not the API server's etcd client certificate, so
        etcd's own certificate (kubeadm gives it client auth) is used.
        """
        if "etcdctl" in self.values:
            return
        running = [c for c in containers if c.name == "etcd" and c.running]
        tls = [("cacert", self.etcd_flags.get("trusted-ca-file")), ("cert", self.etcd_flags.get("cert-file")),
               ("key", self.etcd_flags.get("key-file"))]
        if running and all(v for _, v in tls):
            # etcd >= 3.4 (every kubeadm etcd image since k8s 1.17) defaults to the v3 API: the
            # ETCDCTL_API env of the row does not cross `crictl exec`
            self.values["etcdctl"] = CRICTL + ["exec", running[0].id, "etcdctl"]
            self.values["etcd_tls"] = ["--%s=%s" % (k, v) for k, v in tls]

    def expand(self, argv, extra=None):
        """Fill an argv template; raise KeyError(reason) when a value is unknown."""
        values = dict(self.values, **(extra or {}))
        out = []
        for token in argv:
            names = re.findall(r"\{([a-z_]+)\}", token)
            for name in names:
                if name not in values:
                    raise KeyError(self.missing.get(name, "unknown value " + name))
            if len(names) == 1 and token == "{%s}" % names[0] and isinstance(values[names[0]], list):
                out.extend(values[names[0]])
            else:
                for name in names:
                    token = token.replace("{%s}" % name, str(values[name]))
                out.append(token)
        return out


# ---------------------------------------------------------------------------------------------
# Runner: executes SPECS, writes files into a staging folder, records one item each.
# ---------------------------------------------------------------------------------------------
class Interrupted(Exception):
    """SIGINT/SIGTERM arrived while collecting: the bundle is written as partial."""


class StagingError(Exception):
    """An item could not be written into the staging folder (TMPDIR full or gone)."""


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def from_line_start(data):
    """Drop the partial first line of a tail, unless that would drop everything."""
    newline = data.find(b"\n")
    return data[newline + 1:] if 0 <= newline < len(data) - 1 else data


def open_regular(real):
    """Open a regular file read-only; OSError for anything else (FIFO, device, socket, folder).

    Checked before opening (opening a device can act on it) and again with fstat on the open
    descriptor; O_NONBLOCK so a FIFO swapped in between cannot block, O_NOFOLLOW so a link
    swapped in cannot lead out of the root.
    """
    before = os.lstat(real)
    if not stat.S_ISREG(before.st_mode):
        raise OSError(errno.EINVAL, "not a regular file (%s)" % file_type(before.st_mode))
    fd = os.open(real, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW | getattr(os, "O_NOCTTY", 0))
    now = os.fstat(fd)
    if not stat.S_ISREG(now.st_mode) or (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file (changed while opening)")
    return fd, now


def file_type(mode):
    for test, name in ((stat.S_ISFIFO, "FIFO"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket"), (stat.S_ISDIR, "folder"),
                       (stat.S_ISLNK, "symbolic link")):
        if test(mode):
            return name
    return "special file"


def read_tail(real, cap):
    """Read at most cap bytes of a regular file, keeping the end (newest log lines); (bytes, truncated).

    Files of /proc and /sys say size 0 and cannot seek from their end: they are read from the
    start, keeping the last cap bytes, and never more than READ_LIMIT bytes in all.
    """
    fd, info = open_regular(real)
    with os.fdopen(fd, "rb") as handle:
        if info.st_size > cap:
            handle.seek(info.st_size - cap)
            return from_line_start(handle.read(cap)), True
        tail = TailBuffer(cap)
        read = 0
        for chunk in iter(lambda: handle.read(MB), b""):
            tail.add(chunk)
            read += len(chunk)
            if read >= READ_LIMIT:
                break
        return tail.value()


def read_node_file(root, node_path, cap):
    """read_tail of a node path, links resolved inside the root."""
    return read_tail(confined(root, node_path), cap)


class TailBuffer(object):
    """The last `cap` bytes of a stream, holding no more than cap plus one chunk in memory."""

    def __init__(self, cap):
        self.cap = cap
        self.chunks = collections.deque()
        self.size = 0
        self.dropped = False

    def add(self, chunk):
        self.chunks.append(chunk)
        self.size += len(chunk)
        while self.size - len(self.chunks[0]) >= self.cap:
            self.size -= len(self.chunks.popleft())
            self.dropped = True

    def value(self):
        """Return (bytes, truncated)."""
        data = b"".join(self.chunks)
        if not self.dropped and len(data) <= self.cap:
            return data, False
        return from_line_start(data[-self.cap:]), True


def selected_specs(exclude):
    """The spec rows left after --exclude (ids or globs)."""
    return [s for s in SPECS if not any(fnmatch.fnmatch(s.id, e) for e in exclude or [])]


def is_forbidden(path):
    return any(fnmatch.fnmatch(path, pattern) for pattern in FORBIDDEN)


def is_log_item(item_id):
    return any(fnmatch.fnmatch(item_id, pattern) for pattern in LOG_ITEMS)


class WalkStopped(Exception):
    """A file search used up its budget of entries or the deadline."""


class Budget(object):
    """What one file search may look at: MAX_WALK_ENTRIES directory entries, until the deadline."""

    def __init__(self, deadline):
        self.left = MAX_WALK_ENTRIES
        self.deadline = deadline

    def spend(self):
        self.left -= 1
        if self.left < 0:
            raise WalkStopped("file search stopped after %d entries" % MAX_WALK_ENTRIES)
        if self.deadline is not None and time.monotonic() >= self.deadline:
            raise WalkStopped("file search stopped: collection deadline reached")


def list_dir(real, budget):
    """Sorted (name, is a real folder) of a folder's entries; empty when it cannot be read."""
    out = []
    try:
        with os.scandir(real) as entries:
            for entry in entries:
                budget.spend()
                try:
                    out.append((entry.name, entry.is_dir(follow_symlinks=False)))
                except OSError:
                    out.append((entry.name, False))
    except (NotADirectoryError, FileNotFoundError, PermissionError):
        pass
    return sorted(out)


def match_paths(root, pattern, budget):
    """Node paths that a glob pattern (with ** and *) matches under root, sorted.

    A link met while walking a wildcard is never followed into (a link to / would walk the whole
    host); a fixed component that is a link is resolved inside the root. Hidden names match only
    patterns that start with a dot, as with glob.
    """
    parts = [p for p in pattern.split("/") if p]
    found = []
    pending = [((), root, 0)]
    while pending:
        rel, real, i = pending.pop()
        part, last = parts[i], i == len(parts) - 1
        if part == "**":
            pending.append((rel, real, i + 1))
            pending.extend((rel + (name,), os.path.join(real, name), i)
                           for name, is_dir in list_dir(real, budget) if is_dir and not name.startswith("."))
            continue
        if not glob.has_magic(part):
            budget.spend()
            if not os.path.lexists(os.path.join(real, part)):
                continue
            if last:
                found.append("/" + "/".join(rel + (part,)))
            else:
                try:
                    pending.append((rel + (part,), confined(root, "/".join(rel + (part,))), i + 1))
                except OSError:
                    pass
            continue
        for name, is_dir in list_dir(real, budget):
            if fnmatch.fnmatchcase(name, part) and (part.startswith(".") or not name.startswith(".")):
                if last:
                    found.append("/" + "/".join(rel + (name,)))
                elif is_dir:
                    pending.append((rel + (name,), os.path.join(real, name), i + 1))
    return sorted(found)


def expand_globs(root, patterns, deadline=None):
    """([(node path, resolved node path, real path or None)], why the search stopped or None).

    Each file once, sorted per pattern; symlinks resolved inside root (resolve_in_root); the real
    path is None when a link cannot be resolved (a loop), a dangling link is listed (reading it
    reports the error); folders are left out.
    """
    seen = set()
    files = []
    budget = Budget(deadline)
    try:
        for pattern in patterns:
            for brace in expand_braces(pattern):
                for node_path in match_paths(root, brace, budget):
                    if node_path in seen:
                        continue
                    try:
                        target, real = resolve_in_root(root, node_path)
                    except OSError:
                        target, real = node_path, None
                    if real is None or not os.path.isdir(real):
                        seen.add(node_path)
                        files.append((node_path, target, real))
    except WalkStopped as exc:
        return files, str(exc)
    return files, None


def expand_braces(pattern):
    match = re.search(r"\{([^{}]*,[^{}]*)\}", pattern)
    if not match:
        return [pattern]
    out = []
    for choice in match.group(1).split(","):
        out.extend(expand_braces(pattern[:match.start()] + choice + pattern[match.end():]))
    return out


def resolve_in_root(root, node_path):
    """Follow symlinks as the node would, absolute targets taken under root; return (node, real).

    On a mounted disk (--root) a link such as /var/log/containers/x.log -> /var/log/pods/... must
    not be read from the analyst's own machine.
    """
    pending = [p for p in node_path.split("/") if p]
    done = []
    hops = 0
    while pending:
        part = pending.pop(0)
        if part in (".", ".."):
            done = done[:-1] if part == ".." else done
            continue
        candidate = os.path.join(root, *(done + [part]))
        if os.path.islink(candidate):
            hops += 1
            if hops > 40:
                raise OSError(errno.ELOOP, "too many levels of symbolic links")
            target = os.readlink(candidate)
            done = [] if target.startswith("/") else done
            pending = [p for p in target.split("/") if p] + pending
            continue
        done.append(part)
    return "/" + "/".join(done), os.path.join(root, *done)


Outcome = collections.namedtuple("Outcome", "rc out err truncated timed_out error")
STDERR_CAP = 64 * 1024


def run_command(argv, timeout, cap, env_extra=None, merge=False, stdin_path=None):
    """Run argv in its own process group, keeping the last cap bytes of its output.

    The group is killed when the timeout passes (or on an exception such as Interrupted), so a
    hanging command and its children never outlive the collector.
    """
    env = dict(os.environ)
    env.update(env_extra or {})
    env["LC_ALL"] = "C"
    with open(stdin_path or os.devnull, "rb") as stdin:
        try:
            proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stdin=stdin, env=env,
                                    stderr=subprocess.STDOUT if merge else subprocess.PIPE,
                                    start_new_session=True)
        except OSError as exc:
            return Outcome(None, b"", b"", False, False, "cannot run %s: %s" % (argv[0], exc.strerror or exc))
    out, err = TailBuffer(cap), TailBuffer(STDERR_CAP)
    streams = selectors.DefaultSelector()
    streams.register(proc.stdout, selectors.EVENT_READ, out)
    if not merge:
        streams.register(proc.stderr, selectors.EVENT_READ, err)
    end = time.monotonic() + timeout
    exited_at = None
    try:
        while streams.get_map():
            now = time.monotonic()
            if now >= end:
                break
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            elif exited_at is not None and now - exited_at > 2:
                break  # a child that forked away still holds the pipes: stop reading
            for key, _ in streams.select(min(end - now, 0.5)):
                chunk = os.read(key.fd, 65536)
                if chunk:
                    key.data.add(chunk)
                else:
                    streams.unregister(key.fileobj)
        try:
            rc = proc.wait(timeout=max(0.1, end - time.monotonic()))
        except subprocess.TimeoutExpired:
            rc = None
    finally:
        streams.close()
        kill_group(proc)
        for pipe in (proc.stdout, proc.stderr):
            if pipe:
                pipe.close()
    data, truncated = out.value()
    timed_out = rc is None
    error = "timed out after %.0fs; process group killed" % timeout if timed_out else None
    return Outcome(rc, data, err.value()[0], truncated, timed_out, error)


def kill_group(proc):
    """Kill the command's process group (whatever is left of it) and reap the command."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


# ---------------------------------------------------------------------------------------------
# "each" rows: targets read from an earlier item's output, so the table stays declarative.
# ---------------------------------------------------------------------------------------------
Container = collections.namedtuple("Container", "id name pod namespace attempt running created")
Target = collections.namedtuple("Target", "key values stdin")
Each = collections.namedtuple("Each", "source describe targets")
PEM_CERT = re.compile(rb"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", re.S)
KUBECONFIG_CERT = re.compile(rb"(certificate-authority-data|client-certificate-data):\s*([A-Za-z0-9+/=]+)")
MAX_TARGETS = 50


def parse_containers(data):
    """Containers from `crictl ps -a -o json` (CRI ListContainers as JSON); ValueError if unreadable."""
    doc = json.loads(data.decode("utf-8", "replace"))
    out = []
    for raw in doc.get("containers") or []:
        labels = raw.get("labels") or {}
        meta = raw.get("metadata") or {}
        out.append(Container(
            id=raw.get("id", ""), name=labels.get("io.kubernetes.container.name") or meta.get("name", ""),
            pod=labels.get("io.kubernetes.pod.name", ""),
            namespace=labels.get("io.kubernetes.pod.namespace", ""),
            attempt=int(meta.get("attempt") or 0), running=raw.get("state") == "CONTAINER_RUNNING",
            created=int(raw["createdAt"]) if str(raw.get("createdAt", "")).isdigit() else 0))
    return [c for c in out if re.match(r"^[0-9a-f]{12,64}$", c.id)]


def newest_containers(run, names):
    """The newest attempt of each (namespace, pod, container) whose container name is in names."""
    newest = {}
    for c in run.containers():
        slot = (c.namespace, c.pod, c.name)
        if c.name in names and (slot not in newest or (c.created, c.attempt) > (newest[slot].created,
                                                                                newest[slot].attempt)):
            newest[slot] = c
    return [newest[slot] for slot in sorted(newest)]


def container_targets(containers):
    return [Target("%s_%s_%s" % (c.namespace, c.pod, c.name), {"container_id": c.id}, None)
            for c in containers]


def certificate_targets(run):
    """Each certificate already staged: pki.cert PEM blocks and kubeconfig *-certificate-data."""
    targets = []
    for item in run.collected("pki.cert"):
        blocks = PEM_CERT.findall(run.staged_bytes(item))
        for n, block in enumerate(blocks):
            targets.append(Target(item["source"] + ("#%d" % (n + 1) if n else ""), {}, block + b"\n"))
    for item in run.collected("k8s.kubeconfig"):
        for field, data in KUBECONFIG_CERT.findall(run.staged_bytes(item)):
            try:
                pem = base64.b64decode(data)
            except ValueError:
                continue
            targets.append(Target("%s:%s" % (item["source"], field.decode()), {}, pem))
    return targets


def pending_pod_targets(run):
    pods = []
    for item in run.collected("k8s.pending_pods"):
        for pod in json.loads(run.staged_bytes(item).decode("utf-8", "replace")).get("items") or []:
            meta = pod.get("metadata") or {}
            pods.append(Target("%s_%s" % (meta.get("namespace"), meta.get("name")),
                               {"namespace": meta.get("namespace"), "name": meta.get("name")}, None))
    return pods


EACH = {
    "control_plane_containers": Each(
        "cri.ps_json", "the newest control-plane container per pod",
        lambda run: container_targets(newest_containers(run, CONTROL_PLANE))),
    "log_containers": Each(
        "cri.ps_json", "the newest control-plane and CNI container per pod",
        lambda run: container_targets(newest_containers(run, CONTROL_PLANE + CNI_CONTAINERS))),
    "restarted_log_containers": Each(
        "cri.ps_json", "the same, when restarted (attempt > 0)",
        lambda run: container_targets(c for c in newest_containers(run, CONTROL_PLANE + CNI_CONTAINERS)
                                      if c.attempt > 0)),
    "certificates": Each("pki.cert", "every certificate in pki.cert and k8s.kubeconfig, on stdin",
                         certificate_targets),
    "pending_pods": Each("k8s.pending_pods", "every Pending pod", pending_pod_targets),
}


class Runner(object):
    """Execute the spec table against one node and stage the results."""

    def __init__(self, options, staging, log):
        self.opt = options
        self.staging = staging
        self.log = log
        self.root = options.root
        self.ctx = Context(options.root, options.since_arg)
        self.items = []
        self.total = 0
        self.log_total = 0
        self.gates = {}
        self.staged = {}
        self.cached_containers = None
        self.deadline = time.monotonic() + options.deadline
        self.host_ok = options.root == "/" or options.host_commands
        self.cluster_ok = options.root == "/" or options.cluster_commands
        if self.cluster_ok and self.ctx.kubeconfig.config:
            # private (the staging folder is 0700, the file 0600) and removed with the staging folder
            path = os.path.join(staging, ".kubeconfig")
            try:
                fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as handle:
                    handle.write(self.ctx.kubeconfig.config)
                self.ctx.values["admin_conf"] = path
            except OSError as exc:
                self.ctx.missing["admin_conf"] = "cannot write the kubeconfig copy in %s: %s" % (
                    staging, exc.strerror or exc)

    def run(self):
        specs = selected_specs(self.opt.exclude)
        for index, spec in enumerate(specs):
            self.log("[%d/%d] %s" % (index + 1, len(specs), spec.id))
            started = utcnow()
            try:
                if spec.kind != "command":
                    self.run_file_spec(spec)
                elif spec.each:
                    self.run_each_spec(spec)
                else:
                    self.run_command(spec, {}, "commands/" + spec.id)
            except Interrupted:
                self.record(spec, spec.source, started, skipped="interrupted by a signal: collection stopped")
                raise

    # -- records -------------------------------------------------------------------------------
    def record(self, spec, source, started, **fields):
        item = {
            "id": spec.id, "kind": "file" if spec.kind == "cert" else spec.kind, "source": source,
            "path": None, "size": 0, "sha256": None, "exit_code": None, "started_at": iso(started),
            "duration_s": round((utcnow() - started).total_seconds(), 3), "timed_out": False,
            "truncated": False, "redactions": 0, "error": None, "skipped": None,
        }
        item.update(fields)
        self.items.append(item)
        return item

    def collected(self, item_id):
        """Records of item_id that were stored without error (the input of "each" rows)."""
        return [i for i in self.items if i["id"] == item_id and i["path"] and not i["error"]]

    def staged_bytes(self, item):
        with open(os.path.join(self.staging, item["path"]), "rb") as handle:
            return handle.read()

    def containers(self):
        """Containers listed by cri.ps_json (empty when it was not collected or unreadable)."""
        if self.cached_containers is None:
            self.cached_containers = []
            for item in self.collected("cri.ps_json"):
                try:
                    self.cached_containers = parse_containers(self.staged_bytes(item))
                except (ValueError, TypeError, AttributeError):
                    pass
        return self.cached_containers

    def room(self, item_id):
        """Bytes an item may still stage: what is left of the total and (for logs) the logs budget."""
        room = TOTAL_CAP - self.total
        if is_log_item(item_id):
            room = min(room, LOGS_TOTAL_CAP - self.log_total)
        return max(0, room)

    def stage(self, rel, data, item_id):
        """Write bytes into the staging folder within the size budgets; return (path, size, sha, cut)."""
        room = self.room(item_id)
        cut = len(data) > room
        if cut:
            data = from_line_start(data[len(data) - room:]) if room else b""
        target = os.path.join(self.staging, rel)
        try:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with open(target, "wb") as handle:
                handle.write(data)
        except OSError as exc:  # a full or broken TMPDIR: this item fails, the run goes on
            if os.path.exists(target):
                os.remove(target)
            raise StagingError("cannot stage in %s: %s" % (self.staging, exc.strerror or exc)) from None
        self.total += len(data)
        if is_log_item(item_id):
            self.log_total += len(data)
        return rel, len(data), hashlib.sha256(data).hexdigest(), cut

    def skip_reason(self, spec):
        if spec.scope == "host" and not self.host_ok:
            return "host command skipped: --root is not / (use --host-commands to run it anyway)"
        if spec.scope == "cluster" and not self.cluster_ok:
            return CLUSTER_SKIPPED
        if spec.needs and not self.gates.get(spec.needs, GATES[spec.needs][1]):
            return "skipped: " + GATES[spec.needs][2]
        if time.monotonic() >= self.deadline:
            return "skipped: collection deadline reached"
        return None

    # -- files -----------------------------------------------------------------------------------
    def run_file_spec(self, spec):
        started = utcnow()
        if spec.scope == "host" and not self.host_ok:
            self.record(spec, spec.source, started, skipped=self.skip_reason(spec))
            return
        files, stopped = expand_globs(self.root, spec.source, self.deadline)
        if stopped:
            self.record(spec, spec.source, started, error=stopped, truncated=True)
        matched = bool(stopped)
        for node_path, target, real in files:
            matched = True
            started = utcnow()
            if real is None:
                self.record(spec, node_path, started, error="cannot resolve: symbolic link loop")
                continue
            link = {"link": target} if target != node_path else {}
            if is_forbidden(node_path) or is_forbidden(target):
                self.record(spec, node_path, started, skipped="private key: never collected", **link)
                continue
            reason = self.skip_reason(spec)
            if reason:
                self.record(spec, node_path, started, skipped=reason, **link)
                continue
            # a file reached twice (a /var/log/containers link to a /var/log/pods file) is stored once
            first = self.staged.get(real)
            if first:
                self.record(spec, node_path, started, skipped="same file as %s, stored once (%s)" % first,
                            **link)
                continue
            self.staged[real] = (target, spec.id)
            self.record(spec, node_path, started, **dict(self.stage_file(spec, node_path, real), **link))
        if not matched:
            self.record(spec, spec.source, started, skipped="not found on this node")

    def stage_file(self, spec, node_path, real):
        """Read, redact and stage one file; return the record fields."""
        room = self.room(spec.id)
        if not room:  # decided before reading: past the budget nothing more is read or redacted
            return {"truncated": True, "skipped": BUDGET_USED}
        try:
            data, truncated = read_tail(real, min(spec.cap, room))
        except OSError as exc:
            return {"error": "cannot read: %s" % (exc.strerror or exc)}
        data, count = redact(spec.redact, data)
        if spec.kind == "cert" and not data:
            return {"redactions": count, "skipped": "no certificate in file (private key material dropped)"}
        try:
            rel, size, sha, cut = self.stage("files" + node_path, data, spec.id)
        except StagingError as exc:
            return {"error": str(exc), "redactions": count}
        if cut and not size:
            return {"truncated": True, "skipped": BUDGET_USED}
        return {"path": rel, "size": size, "sha256": sha, "truncated": truncated or cut, "redactions": count}

    # -- commands --------------------------------------------------------------------------------
    def run_each_spec(self, spec):
        """Run an "each" row once per target named by an earlier item's output."""
        started = utcnow()
        each = EACH[spec.each]
        if not self.collected(each.source):
            self.record(spec, spec.source, started,
                        skipped="not applicable: %s was not collected" % each.source)
            return
        if shutil.which(spec.source[0]) is None:
            self.record(spec, spec.source, started,
                        skipped="not installed: %s not found on PATH" % spec.source[0])
            return
        try:
            targets = each.targets(self)
        except (ValueError, TypeError, AttributeError) as exc:
            self.record(spec, spec.source, started, error="cannot read %s: %s" % (each.source, exc))
            return
        if not targets:
            self.record(spec, spec.source, started, skipped="nothing to do: no %s" % each.describe)
            return
        names = set()
        for target in targets[:MAX_TARGETS]:
            name = re.sub(r"[^A-Za-z0-9._-]", "_", target.key.strip("/"))[:120]
            while name in names:
                name += "_"
            names.add(name)
            stdin_path = None
            if target.stdin is not None:
                stdin_path = os.path.join(self.staging, ".cmd.in")
                try:
                    with open(stdin_path, "wb") as handle:
                        handle.write(target.stdin)
                except OSError as exc:
                    self.record(spec, spec.source, utcnow(), key=target.key,
                                error="cannot stage in %s: %s" % (self.staging, exc.strerror or exc))
                    continue
            self.run_command(spec, target.values, "commands/%s/%s" % (spec.id, name), stdin_path,
                             key=target.key)
        if len(targets) > MAX_TARGETS:
            self.record(spec, spec.source, started, skipped="only the first %d of %d targets collected" % (
                MAX_TARGETS, len(targets)), truncated=True)

    def run_command(self, spec, values, rel, stdin_path=None, **extra):
        """Run one command (a row, or one target of an "each" row) and record it."""
        started = utcnow()
        reason = self.skip_reason(spec)
        if reason:
            self.record(spec, spec.source, started, skipped=reason, **extra)
            return
        try:
            argv = self.ctx.expand(spec.source, values)
        except KeyError as exc:
            self.record(spec, spec.source, started, skipped="not applicable: %s" % exc.args[0], **extra)
            return
        if shutil.which(argv[0]) is None:
            reason = "not installed: %s not found on PATH" % argv[0]
        elif not self.room(spec.id):
            reason = BUDGET_USED
        if reason:
            self.record(spec, argv, started, skipped=reason, **extra)
            return
        timeout = max(0.5, min(spec.timeout, self.deadline - time.monotonic()))
        cap = min(spec.cap, self.room(spec.id))
        result = run_command(argv, timeout, cap, spec.env, spec.merge, stdin_path)
        fields = dict(extra, exit_code=result.rc, timed_out=result.timed_out, error=result.error)
        if result.rc is not None or result.timed_out:
            out, count = redact(spec.redact, result.out)
            err, more = redact(spec.redact, result.err)
            try:
                path, size, sha, cut = self.stage(rel + ".out", out, spec.id)
                fields.update(path=path, size=size, sha256=sha, truncated=result.truncated or cut,
                              redactions=count + more)
                if err:
                    staged = self.stage(rel + ".err", err, spec.id)
                    fields["stderr_path"], fields["stderr_sha256"] = staged[0], staged[2]
            except StagingError as exc:
                fields["error"] = str(exc)
            if result.rc not in (0, None) and not fields["error"]:
                fields["error"] = "exit code %d: %s" % (result.rc, last_line(err or out))
        self.record(spec, argv, started, **fields)
        if spec.id == "k8s.healthz":
            self.gates["api"] = result.rc == 0
        if spec.id == "etcd.endpoint_health":  # an unhealthy member still prints JSON; no etcd prints nothing
            self.gates["etcd"] = result.rc == 0 or bool(result.out.strip())
        if spec.id == "cri.ps_json":
            self.ctx.use_containers(self.containers())


class SignalGuard(object):
    """SIGINT, SIGTERM and SIGHUP are noted from creation on; inside `with`, they raise
    Interrupted at once (run_command then kills the running command's group), outside it they
    wait, so an archive being written is finished."""

    SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

    def __init__(self):
        self.received = []
        self.armed = False
        for sig in self.SIGNALS:
            if signal.getsignal(sig) != signal.SIG_IGN:  # nohup, background jobs: stay ignored
                signal.signal(sig, self.on_signal)

    def on_signal(self, signum, frame):
        self.received.append(signum)
        if self.armed:
            self.armed = False
            raise Interrupted()

    def __enter__(self):
        if self.received:
            raise Interrupted()
        self.armed = True
        return self

    def __exit__(self, *exc):
        self.armed = False
        return False


# gate: (the item that opens it, open when that item did not run, why the rows behind it are skipped)
GATES = {"api": ("k8s.healthz", False, "the API server did not answer /healthz"),
         "etcd": ("etcd.endpoint_health", True, "etcd did not answer etcd.endpoint_health (no output: "
                                                "unreachable or timed out)")}
BUDGET_USED = "size budget used up (logs %d MiB, total %d MiB)" % (LOGS_TOTAL_CAP // MB, TOTAL_CAP // MB)
CLUSTER_SKIPPED = ("cluster command skipped: --root is a mounted disk, whose configuration is not run "
                   "(use --cluster-commands to reach the cluster it names)")


def last_line(data):
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no stderr)"


# ---------------------------------------------------------------------------------------------
# Node identity, manifest, archive.
# ---------------------------------------------------------------------------------------------
def read_first_line(root, node_path):
    try:
        return read_node_file(root, node_path, 4096)[0].decode("utf-8", "replace").split("\n")[0].strip()
    except OSError:
        return ""


def os_pretty_name(root):
    try:
        text = read_node_file(root, "/etc/os-release", 64 * 1024)[0].decode("utf-8", "replace")
    except OSError:
        return ""
    for line in text.splitlines():
        if line.startswith("PRETTY_NAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return ""


def node_identity(options):
    live = options.root == "/"
    name = options.node_name or read_first_line(options.root, "/etc/hostname") \
        or (socket.gethostname() if live else "") or "unknown-node"
    ips = []
    if live:
        try:
            out = subprocess.check_output(["ip", "-o", "addr"], stderr=subprocess.DEVNULL, timeout=5)
            ips = re.findall(r"\binet6? ([0-9a-fA-F.:]+)/", out.decode("utf-8", "replace"))
        except (OSError, subprocess.SubprocessError):
            pass
    return {"hostname": name, "os": os_pretty_name(options.root),
            "kernel": platform.release() if live else "", "ips": ips + list(options.node_ip or [])}


def clock_facts(host_ok):
    facts = {"epoch": time.time(), "timezone": time.strftime("%Z"), "ntp_synchronized": None}
    if host_ok:
        try:
            out = subprocess.check_output(["timedatectl", "show", "-p", "NTPSynchronized", "--value"],
                                          stderr=subprocess.DEVNULL, timeout=5)
            value = out.decode().strip()
            facts["ntp_synchronized"] = {"yes": True, "no": False}.get(value)
        except (OSError, subprocess.SubprocessError):
            pass
    return facts


def safe_name(name):
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:63] or "node"


def kubeconfig_record(access, cluster_ok):
    """What kubectl authenticated with: the manifest's `kubeconfig` field."""
    return {"source": access.source,
            "used": "client certificate only (sanitised copy)" if cluster_ok and access.config else None,
            "left_out": access.left_out, "why": access.why or (None if cluster_ok else CLUSTER_SKIPPED)}


def build_manifest(options, identity, started, items, partial, kubeconfig):
    redactions = {}
    for item in items:
        if item["redactions"]:
            redactions[item["id"]] = redactions.get(item["id"], 0) + item["redactions"]
    return {
        "format_version": FORMAT_VERSION,
        "collector_version": COLLECTOR_VERSION,
        "node": identity,
        "collected_at": iso(started),
        "finished_at": iso(utcnow()),
        "clock": clock_facts(options.root == "/" or options.host_commands),
        "options": {"root": options.root, "since": options.since_arg, "deadline": options.deadline,
                    "exclude": options.exclude or [], "host_commands": options.host_commands,
                    "cluster_commands": options.root == "/" or options.cluster_commands,
                    "obfuscate": options.obfuscate or []},
        "kubeconfig": kubeconfig,
        "complete": not partial,
        "redactions": {"total": sum(redactions.values()), "by_item": redactions},
        "items": items,
    }


def write_archive(staging, top, manifest, target):
    """Tar+gzip the staging folder under one top folder, manifest.json first."""
    data = json.dumps(manifest, indent=2, sort_keys=False).encode("utf-8")
    with tarfile.open(fileobj=target, mode="w:gz", format=tarfile.PAX_FORMAT) as tar:
        info = tarfile.TarInfo(top + "/manifest.json")
        info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
        tar.addfile(info, io.BytesIO(data))
        for item in manifest["items"]:
            for key in ("path", "stderr_path"):
                rel = item.get(key)
                if rel:
                    tar.add(os.path.join(staging, rel), arcname=top + "/" + rel, recursive=False)


OUTPUT_FAILED = 6


class OutputError(Exception):
    """The bundle cannot be written (folder missing or read-only, disk full, stdout closed), or
    there is no room to stage it (TMPDIR): one line, exit OUTPUT_FAILED, nothing left behind."""


def reason(exc):
    return exc.strerror or str(exc) or type(exc).__name__


class Output(object):
    """Where the bundle goes. A file name is reserved (created empty, exclusively) before anything
    is collected, so a bad --output fails at once and two runs never get the same name: in a
    folder the second gets <name>-2; an explicit file name that exists is refused (exit 1)."""

    def __init__(self, options, stem):
        self.path, self.top, self.tmp = None, stem, None
        if options.output == "-":
            return
        out = options.output or "."
        if not os.path.isdir(out):
            self.path = self.reserve(out, refuse=True)
            return
        for n in range(1, 101):
            name = stem if n == 1 else "%s-%d" % (stem, n)
            path = self.reserve(os.path.join(out, name + ".tar.gz"), refuse=False)
            if path:
                self.path, self.top = path, name
                return
        raise OutputError("cannot write to %s: 100 bundles named %s-* exist already" % (out, stem))

    @staticmethod
    def reserve(path, refuse):
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644))
        except FileExistsError:
            if refuse:
                raise SystemExit("kubetriage-collect: refusing to overwrite %s" % path) from None
            return None
        except OSError as exc:
            raise OutputError("cannot write %s: %s" % (os.path.abspath(path), reason(exc))) from None
        return path

    def write(self, staging, manifest, partial):
        """Write the archive; return the final path, or "-" for stdout."""
        if self.path is None:
            try:
                write_archive(staging, self.top, manifest, sys.stdout.buffer)
                sys.stdout.buffer.flush()
            except OSError as exc:  # a closed pipe (BrokenPipeError), a full disk
                # nothing more may reach the dead stdout, not even at interpreter exit
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
                raise OutputError("cannot write the bundle to stdout: %s" % reason(exc)) from None
            return "-"
        final = re.sub(r"\.tar\.gz$", "", self.path) + ".PARTIAL.tar.gz" if partial else self.path
        self.tmp = self.path + ".tmp"
        try:
            fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
            with os.fdopen(fd, "wb") as handle:
                write_archive(staging, self.top, manifest, handle)
                handle.flush()
                os.fsync(handle.fileno())
            if partial:
                os.link(self.tmp, final)  # never replaces a file
                os.remove(self.path)
            else:
                os.rename(self.tmp, final)  # over its own reservation
        except OSError as exc:
            raise OutputError("cannot write %s: %s" % (final, reason(exc))) from None
        finally:
            self.tmp = self.discard(self.tmp)
        self.path = None
        return final

    def discard(self, path=None):
        """Remove what this run left (the reservation, a temporary file)."""
        for name in (path,) if path else (self.tmp, self.path):
            if name and os.path.lexists(name):
                os.remove(name)
        return None


def make_staging():
    try:
        return tempfile.mkdtemp(prefix="kubetriage-collect-")
    except OSError as exc:
        raise OutputError("cannot create a staging folder in TMPDIR (%s): %s" % (
            os.environ.get("TMPDIR") or "/tmp", reason(exc))) from None


def parse_duration(text):
    match = re.match(r"^(\d+)([smhd])$", text.strip())
    if not match:
        raise argparse.ArgumentTypeError("expected a duration like 30m, 24h or 7d, not %r" % text)
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def parse_args(argv):
    # no abbreviations: --ssh forwards the other arguments to each node as they were given
    parser = argparse.ArgumentParser(
        prog="kubetriage-collect", allow_abbrev=False,
        description="Snapshot this Kubernetes control-plane node into one support bundle (read-only).")
    parser.add_argument("--root", default="/", help="treat DIR as the node's / (a mounted disk); default /")
    parser.add_argument("--output", "-o", help="output folder, file name, or - for stdout (default: .)")
    parser.add_argument("--since", default="24h", type=parse_duration,
                        help="how far back to collect logs (default 24h)")
    parser.add_argument("--deadline", default=300, type=int, help="total time budget in seconds (300)")
    parser.add_argument("--exclude", nargs="*", metavar="ID", help="item ids (or globs) not to collect")
    parser.add_argument("--dry-run", action="store_true",
                        help="list every item and command without reading or running anything")
    parser.add_argument("--host-commands", action="store_true",
                        help="with --root, still run host commands (ss, iptables, df ...) on this host")
    parser.add_argument("--cluster-commands", action="store_true",
                        help="with --root, still run etcdctl and kubectl against the cluster the disk names "
                             "(kubectl with the kubeconfig's client certificate only, never its plugins)")
    parser.add_argument("--node-name", help="node name to record (default: the hostname)")
    parser.add_argument("--node-ip", action="append", help="extra node IP to record (repeatable)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    parser.add_argument("--version", action="version", version="kubetriage-collect " + COLLECTOR_VERSION)
    add_ssh_arguments(parser)
    add_trust_arguments(parser)
    options = parser.parse_args(argv)
    options.root = os.path.abspath(options.root)
    options.since_arg = "-%ds" % options.since
    if not os.path.isdir(options.root) and not options.ssh:  # with --ssh, a path on the nodes
        parser.error("--root %s is not a folder" % options.root)
    check_trust_options(parser, options)
    check_ssh_options(parser, options)
    return options


# Placeholders for values only known at run time, shown by --dry-run.
PREVIEW = {"container_id": "<container id>", "namespace": "<namespace>", "name": "<pod>"}


def dry_run(options, out):
    ctx = Context(options.root, options.since_arg)
    host_ok = options.root == "/" or options.host_commands
    cluster_ok = options.root == "/" or options.cluster_commands
    if host_ok:
        ctx.use_containers([Container("<etcd container id>", "etcd", "", "kube-system", 0, True, 0)])
    if ctx.kubeconfig.config:
        ctx.values["admin_conf"] = "<client-certificate copy of %s>" % ctx.kubeconfig.source
    for spec in selected_specs(options.exclude):
        if spec.kind == "command":
            try:
                what = "run  " + " ".join(ctx.expand(spec.source, PREVIEW))
            except KeyError as exc:
                what = "skip (%s)" % exc.args[0]
            if spec.each:
                what = "for %s (from %s): %s" % (EACH[spec.each].describe, EACH[spec.each].source, what)
            gate = ", after " + GATES[spec.needs][0] if spec.needs else ""
            extra = " [timeout %ss%s]" % (spec.timeout, gate)
        else:
            found, stopped = expand_globs(options.root, spec.source, time.monotonic() + 60)
            files = [p for p, _, _ in found] + (["(%s)" % stopped] if stopped else [])
            what = "read " + (", ".join(files) if files else "(nothing matches %s)" % ", ".join(spec.source))
            extra = " [redact %s, cap %d KiB]" % (spec.redact, spec.cap // 1024)
        if spec.scope == "host" and not host_ok:
            what = "skip (host item, --root is not /; --host-commands runs it on this host)"
        if spec.scope == "cluster" and not cluster_ok:
            what = "skip without --cluster-commands (--root is a mounted disk), else: " + what
        out.write("%-28s %s%s\n" % (spec.id, what, extra))
    out.write("never read: %s\n" % ", ".join(FORBIDDEN))
    out.write("size caps: logs %d MiB in total, everything %d MiB\n" % (LOGS_TOTAL_CAP // MB,
                                                                        TOTAL_CAP // MB))


# ---------------------------------------------------------------------------------------------
# Multi-node: --ssh runs this same file on each node (`ssh node sudo -n python3 - ARGS`, the file
# on stdin, the bundle back on stdout), in parallel, one bundle per node. Host keys are checked
# as the admin's ssh is configured; BatchMode keeps a password prompt from hanging the run.
# ---------------------------------------------------------------------------------------------
SSH_FAILED = 1
SSH_PARALLEL = 16
SSH_SLACK = 120  # seconds on top of --deadline for connecting, archiving and the transfer
# options that stay on the admin machine; value = takes an argument
LOCAL_ONLY = {"--ssh": True, "--ssh-option": True, "--ssh-no-sudo": False, "--ssh-python": True,
              "--output": True, "-o": True, "--verify": False, "--encrypt-to": True, "--quiet": False,
              "-q": False}


def add_ssh_arguments(parser):
    parser.add_argument("--ssh", type=lambda v: [n for n in v.split(",") if n], metavar="NODE,NODE...",
                        help="collect from these nodes over ssh, in parallel, one bundle each (--output "
                             "is then a folder)")
    parser.add_argument("--ssh-option", action="append", default=[], metavar="OPT",
                        help="ssh argument(s), shell-split (\"-p 2222\", \"-i KEY\"), or an ssh_config "
                             "option (\"Port=2222\", given to ssh as -o); repeatable")
    parser.add_argument("--ssh-no-sudo", action="store_true",
                        help="run the remote collector without sudo (when logging in as root)")
    parser.add_argument("--ssh-python", default="python3",
                        help="remote interpreter (default python3; RHEL 8: /usr/libexec/platform-python)")


def check_ssh_options(parser, options):
    if not options.ssh:
        return
    if options.output == "-" or (options.output and not os.path.isdir(options.output)):
        parser.error("with --ssh, --output is an existing folder (one bundle per node is written there)")
    if options.obfuscate:
        parser.error("--obfuscate is not supported with --ssh: run it on each node with the same key")


def remote_arguments(args):
    """This run's arguments minus those that stay local; the remote writes to stdout, quietly."""
    out = []
    skip = False
    for arg in args:
        if skip:
            skip = False
            continue
        name = arg.split("=", 1)[0]
        if name in LOCAL_ONLY:
            skip = LOCAL_ONLY[name] and "=" not in arg
            continue
        if arg.startswith("-o") and len(arg) > 2 and not arg.startswith("--"):
            continue  # -oFILE
        out.append(arg)
    return out + ["--output", "-", "--quiet"]


def ssh_argv(options, node, args):
    argv = ["ssh"]
    for opt in options.ssh_option:
        argv.extend(shlex.split(opt) if opt.startswith("-") else ["-o", opt])
    # after the user's options: ssh keeps the first value it is given for each option
    argv += ["-o", "BatchMode=yes", "-o", "ConnectTimeout=15", "-T", "--", node]
    sudo = [] if options.ssh_no_sudo else ["sudo", "-n"]
    remote = sudo + [options.ssh_python, "-"] + remote_arguments(args)
    return argv + [" ".join(shlex.quote(a) for a in remote)]


NodeResult = collections.namedtuple("NodeResult", "node path error")


def bundle_top(path):
    """(top folder, manifest) of a bundle just received; ValueError when it is not one."""
    try:
        with tarfile.open(path, "r:gz") as tar:
            first = tar.next()
            if first is None or not first.name.endswith("/manifest.json") or first.name.count("/") != 1:
                raise ValueError("no manifest.json first")
            manifest = json.loads(tar.extractfile(first).read().decode("utf-8"))
            return first.name.split("/")[0], manifest
    except (tarfile.TarError, EOFError, OSError, UnicodeDecodeError) as exc:
        raise ValueError(str(exc) or type(exc).__name__) from None


def place_bundle(tmp, folder, node):
    """Name the received bundle after its top folder (plus the ssh node name if that is taken)."""
    top, manifest = bundle_top(tmp)
    suffix = "" if manifest.get("complete") else ".PARTIAL"
    for name in (top + suffix, "%s-%s%s" % (top, safe_name(node), suffix)):
        final = os.path.join(folder, name + ".tar.gz")
        try:
            os.link(tmp, final)  # unlike rename, never replaces an existing file
        except FileExistsError:
            continue
        os.remove(tmp)
        return final, manifest
    raise ValueError("%s exists already" % final)


def collect_node(options, node, args, running):
    """Collect one node over ssh into --output; return a NodeResult."""
    folder = options.output or "."
    fd, tmp = tempfile.mkstemp(prefix=".kubetriage-%s-" % safe_name(node), suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out, open(os.path.abspath(__file__), "rb") as me, \
                tempfile.TemporaryFile() as err:
            proc = subprocess.Popen(ssh_argv(options, node, args), stdin=me, stdout=out, stderr=err,
                                    start_new_session=True)
            running.append(proc)
            try:
                rc = proc.wait(timeout=options.deadline + SSH_SLACK)
            except subprocess.TimeoutExpired:
                rc = None
            finally:
                kill_group(proc)
            out.flush()
            os.fsync(out.fileno())
            err.seek(0)
            why = last_line(err.read()[-STDERR_CAP:])
        if rc is None:
            return NodeResult(node, None, "no answer within %ds; ssh killed" % (options.deadline + SSH_SLACK))
        if rc not in (0, 3):
            return NodeResult(node, None, "remote exit code %d: %s" % (rc, why))
        path, manifest = place_bundle(tmp, folder, node)
        if not manifest.get("complete"):
            return NodeResult(node, path, "remote run was interrupted: bundle is partial")
        return NodeResult(node, path, None)
    except (OSError, ValueError) as exc:
        return NodeResult(node, None, "not a bundle: %s" % exc)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def collect_over_ssh(options, args, log):
    """Collect every --ssh node in parallel; exit 1 when any node failed."""
    if options.dry_run:
        for node in options.ssh:
            sys.stdout.write("%s: %s < %s\n" % (node, " ".join(shlex.quote(a) for a in ssh_argv(
                options, node, args)), os.path.abspath(__file__)))
        return 0
    import concurrent.futures  # only the admin machine needs threads
    running = []
    results = []
    pool = concurrent.futures.ThreadPoolExecutor(min(SSH_PARALLEL, len(options.ssh)))
    try:
        with SignalGuard():
            futures = [pool.submit(collect_node, options, node, args, running) for node in options.ssh]
            for done in concurrent.futures.as_completed(futures):
                result = done.result()
                log("%s: %s" % (result.node, result.error or "done"))
                results.append(result)
    except Interrupted:
        for proc in running:
            kill_group(proc)
        sys.stderr.write("kubetriage-collect: interrupted: ssh sessions killed, no bundles kept\n")
        return 3
    finally:
        pool.shutdown(wait=True)
    code = 0
    for result in sorted(results, key=lambda r: options.ssh.index(r.node)):
        if result.path:
            final, rc = finish_archive(options, result.path) if not result.error else (result.path, 0)
            print(final)
            code = code or rc
        if result.error:
            sys.stderr.write("kubetriage-collect: %s failed: %s\n" % (result.node, result.error))
            code = code or SSH_FAILED
    return code


# =============================================================================================
# Trust 1/3: --verify scans the finished bundle with the same finder the redaction used (a value
# is only missed by both, never found by one alone), after every cut and obfuscation.
# =============================================================================================
def verify_archive(path):
    """Scan every member of a written bundle; return ["member:line: kind", ...]."""
    found = []
    with tarfile.open(path, "r:gz") as tar:
        for member in tar:
            handle = tar.extractfile(member) if member.isfile() else None
            if handle is not None:
                for line, kind in find_secrets(handle.read()):
                    found.append("%s:%d: %s" % (member.name, line, kind))
    return found


# =============================================================================================
# Trust 2/3: --obfuscate hostnames,ips. A token is an HMAC of the value under the run key the
# customer passes to every node, so the nodes of one run map a name to the same token (etcd peer
# URLs still correlate). The token -> value map is written beside the bundle, never into it.
# PEM blocks and base64 runs are left alone: rewriting them would corrupt certificates, whose
# signed SANs cannot be obfuscated (use --exclude pki.cert to leave them out).
# =============================================================================================
_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
IPV4 = re.compile(r"(?<![0-9.])%s(?:\.%s){3}(?![0-9]|\.\d)" % (_OCTET, _OCTET))
PROTECTED = re.compile(r"-----BEGIN [A-Z0-9 ]+-----.*?(?:-----END [A-Z0-9 ]+-----|\Z)|[A-Za-z0-9+/=]{40,}",
                       re.S)
FLAG_HOST_NAMES = re.compile(r"--(?:initial-cluster|name|hostname-override)=([^\s\"']+)")
URL_HOST = re.compile(r"\b[a-z][a-z0-9+.-]*://([A-Za-z0-9][A-Za-z0-9.-]*)(?=[:/\s\"',]|$)")
PUBLIC_NAMES = re.compile(r"^(?:localhost|localhost\.localdomain|ip6-.*|kubernetes(?:\..*)?|.*\.svc(?:\..*)?"
                          r"|.*\.local|[\d.]+)$", re.I)


def _key_material(options):
    if options.obfuscate_key_file:
        with open(options.obfuscate_key_file, "rb") as handle:
            return handle.read().strip()
    return (options.obfuscate_key or "").encode("utf-8")


class Obfuscator(object):
    """Consistent tokens for hostnames and IPv4 addresses (loopback and 0.0.0.0 are kept)."""

    def __init__(self, key, kinds):
        self.key = key
        self.kinds = kinds
        self.mapping = {}
        self.names = set()
        self.host_re = None

    def token(self, kind, value):
        digest = hmac.new(self.key, (kind + ":" + value).encode("utf-8"), hashlib.sha256).digest()
        if kind == "ip":
            token = "10.%d.%d.%d" % (digest[0], digest[1], digest[2])
        else:
            token = "host-" + binascii.hexlify(digest[:4]).decode("ascii")
        self.mapping[token] = value
        return token

    def hostname(self, name):
        return self.token("host", name.lower()) if "hostnames" in self.kinds and name else name

    def learn(self, names):
        """Add hostnames to replace (with their first label when they are FQDNs)."""
        for name in names:
            for candidate in (name, name.split(".")[0]):
                if len(candidate) >= 3 and not PUBLIC_NAMES.match(candidate):
                    self.names.add(candidate.lower())
        ordered = sorted(self.names, key=len, reverse=True)
        self.host_re = re.compile(r"(?<![A-Za-z0-9])(?:%s)(?![A-Za-z0-9])" % "|".join(
            re.escape(n) for n in ordered), re.I) if ordered and "hostnames" in self.kinds else None

    def _ip(self, match):
        value = match.group(0)
        if value.startswith("127.") or value in ("0.0.0.0", "255.255.255.255"):
            return value
        return self.token("ip", value)

    def _plain(self, text):
        if self.host_re is not None:
            text = self.host_re.sub(lambda m: self.token("host", m.group(0).lower()), text)
        if "ips" in self.kinds:
            text = IPV4.sub(self._ip, text)
        return text

    def text(self, text):
        out, last = [], 0
        for match in PROTECTED.finditer(text):
            out.extend([self._plain(text[last:match.start()]), match.group(0)])
            last = match.end()
        out.append(self._plain(text[last:]))
        return "".join(out)

    def discover(self, staging, items, identity):
        """Hostnames to hide: this node's, etcd member names, URL hosts and /etc/hosts names."""
        names = [identity["hostname"]]
        for item in items:
            if not item.get("path") or item["id"] not in ("k8s.static_pod_manifest", "k8s.kubeconfig",
                                                          "net.hosts", "kubeadm.config"):
                continue
            with open(os.path.join(staging, item["path"]), encoding="utf-8", errors="replace") as handle:
                text = handle.read()
            for value in FLAG_HOST_NAMES.findall(text):
                names.extend(part.split("=", 1)[0] for part in value.split(","))
            names.extend(URL_HOST.findall(text))
            if item["source"] == "/etc/hosts":
                for line in text.splitlines():
                    names.extend(line.split("#", 1)[0].split()[1:])
        self.learn(names)

    def apply(self, staging, manifest):
        """Rewrite staged files, their paths and the manifest's records; hash again what changed."""
        identity = manifest["node"]
        self.discover(staging, manifest["items"], identity)
        manifest["options"]["root"] = self.text(manifest["options"]["root"])
        for item in manifest["items"]:
            for key, sha in (("path", "sha256"), ("stderr_path", "stderr_sha256")):
                rel = item.get(key)
                if not rel:
                    continue
                with open(os.path.join(staging, rel), "rb") as handle:
                    data = handle.read()
                if item["id"] != "pki.cert":
                    data = self.text(data.decode("utf-8", "replace")).encode("utf-8")
                new_rel = self.text(rel)
                os.remove(os.path.join(staging, rel))
                target = os.path.join(staging, new_rel)
                if not os.path.isdir(os.path.dirname(target)):
                    os.makedirs(os.path.dirname(target))
                with open(target, "wb") as handle:
                    handle.write(data)
                item[key], item[sha] = new_rel, hashlib.sha256(data).hexdigest()
                if key == "path":
                    item["size"] = len(data)
            for key in ("error", "skipped"):
                if item.get(key):
                    item[key] = self.text(item[key])
            source = item["source"]
            item["source"] = [self.text(a) for a in source] if isinstance(source, list) else self.text(source)
        identity["hostname"] = self.hostname(identity["hostname"])
        identity["ips"] = [self.text(ip) for ip in identity["ips"]]

    def write_map(self, path):
        """The token -> value table, readable by the customer only."""
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump({"note": "kubetriage obfuscation map: keep it, do not send it",
                       "tokens": dict(sorted(self.mapping.items()))}, handle, indent=2)


def make_obfuscator(options):
    if not options.obfuscate:
        return None
    return Obfuscator(_key_material(options), options.obfuscate)


def obfuscation_map_path(options, target, top):
    """Beside the bundle (or --obfuscate-map); refuse to overwrite, like the bundle itself."""
    beside = os.path.join(os.path.dirname(target), top + ".obfuscation-map.KEEP-PRIVATE.json")
    path = options.obfuscate_map or beside
    if os.path.exists(path):
        raise SystemExit("kubetriage-collect: refusing to overwrite %s" % path)
    return path


# =============================================================================================
# Trust 3/3: after the archive is written: --verify, --encrypt-to (the node's own openssl, CMS
# AES-256, so the collector needs no crypto library), and the archive digest support compares.
# =============================================================================================
VERIFY_FAILED = 4
ENCRYPT_FAILED = 5


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(MB), b""):
            digest.update(block)
    return digest.hexdigest()


def encrypt_to(path, cert):
    """Encrypt path to cert as DER CMS; return the new path or raise RuntimeError."""
    out = path + ".cms"
    tmp = out + ".tmp"
    argv = ["openssl", "cms", "-encrypt", "-binary", "-aes256", "-outform", "DER", "-in", path, "-out", tmp,
            cert]
    try:
        proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(last_line(proc.stderr))
        os.rename(tmp, out)
    except (OSError, subprocess.SubprocessError) as exc:
        raise RuntimeError(str(exc)) from None
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    os.remove(path)
    return out


def finish_archive(options, target):
    """Run --verify and --encrypt-to on the written bundle; return (final path, exit code)."""
    if options.verify:
        found = verify_archive(target)
        if found:
            for where in found:
                sys.stderr.write("kubetriage-collect: SECRET? %s\n" % where)
            sys.stderr.write("kubetriage-collect: %s holds %d secret-shaped strings: do NOT send it\n"
                             % (target, len(found)))
            return target, VERIFY_FAILED
    if options.encrypt_to:
        try:
            target = encrypt_to(target, options.encrypt_to)
        except RuntimeError as exc:
            sys.stderr.write("kubetriage-collect: encryption failed, %s left unencrypted: %s\n"
                             % (target, exc))
            return target, ENCRYPT_FAILED
    sys.stderr.write("sha256 %s  %s\n" % (sha256_file(target), os.path.basename(target)))
    return target, 0


def add_trust_arguments(parser):
    parser.add_argument("--verify", action="store_true",
                        help="scan the written bundle for secret-shaped content; exit 4 when any is found")
    parser.add_argument("--obfuscate", type=lambda v: [k for k in v.split(",") if k], metavar="hostnames,ips",
                        help="replace hostnames and/or IPv4 addresses by consistent tokens")
    parser.add_argument("--obfuscate-key", help="run key: the same on every node of one run")
    parser.add_argument("--obfuscate-key-file", help="file holding the run key (preferred: not in ps)")
    parser.add_argument("--obfuscate-map", help="where to write the token map (default: beside the bundle)")
    parser.add_argument("--encrypt-to", metavar="CERT",
                        help="encrypt the bundle to support's X.509 certificate (openssl cms, AES-256)")


def check_trust_options(parser, options):
    for kind in options.obfuscate or []:
        if kind not in ("hostnames", "ips"):
            parser.error("--obfuscate takes hostnames and/or ips, not %r" % kind)
    if options.obfuscate and not (options.obfuscate_key or options.obfuscate_key_file):
        parser.error("--obfuscate needs --obfuscate-key or --obfuscate-key-file (the same on every node)")
    if options.obfuscate_key_file and not os.path.isfile(options.obfuscate_key_file):
        parser.error("--obfuscate-key-file %s is not a file" % options.obfuscate_key_file)
    if options.output == "-" and (options.verify or options.encrypt_to):
        parser.error("--verify and --encrypt-to need a file output, not -")
    if options.output == "-" and options.obfuscate and not options.obfuscate_map:
        parser.error("--obfuscate with --output - needs --obfuscate-map FILE")
    if options.encrypt_to:
        if not os.path.isfile(options.encrypt_to):
            parser.error("--encrypt-to %s is not a file" % options.encrypt_to)
        if not shutil.which("openssl"):
            parser.error("--encrypt-to needs openssl on PATH")


def main(argv=None):
    args = sys.argv[1:] if argv is None else list(argv)
    options = parse_args(args)
    log = (lambda msg: None) if options.quiet else (lambda msg: sys.stderr.write(msg + "\n"))
    if options.ssh:
        return collect_over_ssh(options, args, log)
    signals = SignalGuard()  # from here on a signal is never lost: it ends the run, with a bundle
    if options.dry_run:
        try:
            with signals:
                dry_run(options, sys.stdout)
        except Interrupted:
            sys.stderr.write("kubetriage-collect: interrupted\n")
            return 3
        return 0
    try:
        return collect(options, signals, log)
    except OutputError as exc:
        sys.stderr.write("kubetriage-collect: %s\n" % exc)
        return OUTPUT_FAILED


def collect(options, signals, log):
    """Collect this node into one bundle; return the exit code."""
    started = utcnow()
    identity = node_identity(options)
    obfuscator = make_obfuscator(options)
    bundle_host = obfuscator.hostname(identity["hostname"]) if obfuscator else identity["hostname"]
    stem = "kubetriage-%s-%s" % (safe_name(bundle_host), started.strftime("%Y%m%dT%H%M%SZ"))
    output = Output(options, stem)
    staging = None
    try:
        map_path = obfuscation_map_path(options, output.path or "-", output.top) if obfuscator else None
        staging = make_staging()
        runner = Runner(options, staging, log)
        partial = False
        try:
            with signals:
                runner.run()
        except Interrupted:
            partial = True
            log("interrupted: writing a partial bundle")
        manifest = build_manifest(options, identity, started, runner.items, partial,
                                  kubeconfig_record(runner.ctx.kubeconfig, runner.cluster_ok))
        if obfuscator:
            obfuscator.apply(staging, manifest)
            obfuscator.write_map(map_path)
            log("obfuscation map (keep it, do not send it): %s" % map_path)
        target = output.write(staging, manifest, partial)
        trust_rc = 0
        if target != "-":
            target, trust_rc = finish_archive(options, target)
        failed = sum(1 for i in runner.items if i["error"])
        log("%s: %d items, %d failed, %d redactions%s" % (
            target if target != "-" else "bundle written to stdout", len(runner.items), failed,
            manifest["redactions"]["total"], " (PARTIAL)" if partial else ""))
        if target != "-":
            print(target)
    finally:
        output.discard()
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
    return trust_rc or (3 if partial else 0)


if __name__ == "__main__":
    sys.exit(main())
