#!/usr/bin/env python3
"""kubetriage collector: snapshot a Kubernetes control-plane node into one support bundle.

One file, Python standard library only, python3.6+. Copy it to a control-plane node and run it
as root; it only reads (files under --root, read-only commands) and writes one tarball.

Read top-down: the SPECS table says what is collected; Runner executes it; redaction and the
archive follow. Bundle format: docs/bundle-format.md in the kubetriage repository.
"""
import argparse
import collections
import datetime
import fnmatch
import glob
import hashlib
import io
import json
import os
import platform
import re
import shutil
import signal
import socket
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

# ---------------------------------------------------------------------------------------------
# What is collected. One row per item id; a glob row yields one record per matching file.
#   kind     file | cert | command
#   source   list of globs (file, cert) or argv template (command); "{name}" tokens are filled
#            from the node's context (see Context), a token alone may expand to several args
#   scope    any     : reads the node's files under --root
#            host    : inspects the running host (ss, iptables, df ...): only when --root is / or
#                      --host-commands is given
#            cluster : talks to etcd or the API server over the network, with key/cert paths
#                      taken under --root
#   redact   none | text | kubeconfig | cert   (see redact())
#   needs    a gate that must have passed first ("api": /healthz answered)
# ---------------------------------------------------------------------------------------------
Spec = collections.namedtuple("Spec", "id kind source scope timeout cap redact needs env")
Spec.__new__.__defaults__ = ("any", 15, FILE_CAP, "text", None, None)

ETCDCTL = ["etcdctl", "{etcd_endpoints}", "{etcd_tls}", "--dial-timeout=3s", "--command-timeout=5s"]
KUBECTL = ["kubectl", "--kubeconfig={admin_conf}", "--request-timeout=5s"]
ETCD_ENV = {"ETCDCTL_API": "3"}
CP_PODS = "kube-system_{kube-apiserver,etcd,kube-controller-manager,kube-scheduler}-*"

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
                                    "/etc/kubernetes/scheduler.conf", "/etc/kubernetes/kubelet.conf"],
         redact="kubeconfig"),
    # -- certificates (public parts only; *.key is never opened) ----------------------------
    Spec("pki.cert", "cert", ["/etc/kubernetes/pki/**/*.crt", "/etc/kubernetes/pki/**/*.pem",
                              "/var/lib/kubelet/pki/*.crt", "/var/lib/kubelet/pki/*.pem"],
         redact="cert"),
    # -- logs --------------------------------------------------------------------------------
    Spec("logs.pod", "file", ["/var/log/pods/" + CP_PODS + "/*/*.log",
                              "/var/log/pods/kube-system_*/*/*.log"], cap=LOG_CAP),
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
    # -- container runtime ---------------------------------------------------------------------
    Spec("cri.ps", "command", ["crictl", "--timeout=5s", "ps", "-a"], scope="host"),
    Spec("cri.pods", "command", ["crictl", "--timeout=5s", "pods"], scope="host"),
    Spec("cri.ps_json", "command", ["crictl", "--timeout=5s", "ps", "-a", "-o", "json"], scope="host"),
    # -- etcd ------------------------------------------------------------------------------------
    Spec("etcd.version", "command", ETCDCTL + ["version"], scope="cluster", env=ETCD_ENV),
    Spec("etcd.endpoint_health", "command", ETCDCTL + ["endpoint", "health", "--cluster", "-w", "json"],
         scope="cluster", env=ETCD_ENV, timeout=20),
    Spec("etcd.endpoint_status", "command", ETCDCTL + ["endpoint", "status", "--cluster", "-w", "json"],
         scope="cluster", env=ETCD_ENV, timeout=20),
    Spec("etcd.endpoint_status_local", "command", ETCDCTL + ["endpoint", "status", "-w", "json"],
         scope="cluster", env=ETCD_ENV),
    Spec("etcd.member_list", "command", ETCDCTL + ["member", "list", "-w", "json"],
         scope="cluster", env=ETCD_ENV),
    Spec("etcd.alarm_list", "command", ETCDCTL + ["alarm", "list", "-w", "json"],
         scope="cluster", env=ETCD_ENV),
    Spec("etcd.data_dir_usage", "command", ["du", "-sk", "{etcd_data_dir}"], timeout=30),
    # -- API server (only once /healthz answered) ------------------------------------------------
    Spec("k8s.healthz", "command", KUBECTL + ["get", "--raw=/healthz"], scope="cluster", timeout=8),
    Spec("k8s.livez", "command", KUBECTL + ["get", "--raw=/livez?verbose"], scope="cluster", needs="api"),
    Spec("k8s.readyz", "command", KUBECTL + ["get", "--raw=/readyz?verbose"], scope="cluster", needs="api"),
    Spec("k8s.version", "command", KUBECTL + ["version", "-o", "json"], scope="cluster", needs="api"),
    Spec("k8s.nodes", "command", KUBECTL + ["get", "nodes", "-o", "yaml"], scope="cluster", needs="api"),
    Spec("k8s.pods", "command", KUBECTL + ["get", "pods", "-n", "kube-system", "-o", "yaml"],
         scope="cluster", needs="api"),
    Spec("k8s.pending_pods", "command", KUBECTL + ["get", "pods", "-A",
                                                   "--field-selector=status.phase=Pending", "-o", "yaml"],
         scope="cluster", needs="api"),
    Spec("k8s.events", "command", KUBECTL + ["get", "events", "-A", "-o", "yaml"], scope="cluster",
         needs="api", cap=CMD_CAP, timeout=20),
    Spec("k8s.leases", "command", KUBECTL + ["get", "leases", "-n", "kube-system", "-o", "yaml"],
         scope="cluster", needs="api"),
    Spec("k8s.node_leases", "command", KUBECTL + ["get", "leases", "-n", "kube-node-lease", "-o", "yaml"],
         scope="cluster", needs="api"),
    Spec("k8s.endpointslices", "command", KUBECTL + ["get", "endpointslices", "-n", "default",
                                                     "-l", "kubernetes.io/service-name=kubernetes",
                                                     "-o", "yaml"], scope="cluster", needs="api"),
    # deprecated since 1.19 and known to report 10251/10252 falsely; kept for old clusters
    Spec("k8s.componentstatuses", "command", KUBECTL + ["get", "componentstatuses", "-o", "yaml"],
         scope="cluster", needs="api"),
    # -- network ---------------------------------------------------------------------------------
    Spec("net.iptables_save", "command", ["iptables-save"], scope="host"),
    Spec("net.ip6tables_save", "command", ["ip6tables-save"], scope="host"),
    Spec("net.nft_ruleset", "command", ["nft", "list", "ruleset"], scope="host"),
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
    Spec("host.runtime_version", "command", ["crictl", "--timeout=5s", "version"], scope="host"),
    Spec("host.kubelet_version", "command", ["kubelet", "--version"], scope="host"),
]

# Paths never opened, whatever a glob matches: private keys and service-account signing keys.
FORBIDDEN = ["*.key", "*/sa.key", "*-key.pem", "*.p12", "*.pfx"]


# ---------------------------------------------------------------------------------------------
# Redaction: applied to every byte before it is written to the bundle.
# ---------------------------------------------------------------------------------------------
REDACTED = "REDACTED"
PEM_BLOCK = re.compile(r"-----BEGIN ([A-Z0-9 ]+)-----.*?(?:-----END \1-----|\Z)", re.S)
KUBECONFIG_SECRET = re.compile(
    r"^(\s*-?\s*(?:client-key-data|client-key|token|id-token|refresh-token|access-token|password"
    r"|secret|client-secret)\s*:\s*)(\S.*)$", re.M | re.I)
TEXT_RULES = [
    # Authorization headers and bearer tokens in logs
    (re.compile(r"(?i)(authorization:\s*(?:bearer|basic)\s+)[^\s\"']+"), r"\1" + REDACTED),
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9._~+/=-]{8,}"), r"\1" + REDACTED),
    # JWTs (service-account and bootstrap tokens look like this)
    (re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"), REDACTED),
    # kubeadm bootstrap tokens
    (re.compile(r"\b[a-z0-9]{6}\.[a-z0-9]{16}\b"), REDACTED),
    # --token=..., --password ..., --oidc-client-secret=... (but keep --token-auth-file=<path>)
    (re.compile(r"(?i)(--?[a-z0-9-]*(?:token|password|passwd|secret)(?![a-z0-9-]*-(?:file|dir|path))"
                r"[a-z0-9-]*(?:=|\s+))(?!-|(?:true|false)\b)[^\s\"',]+"), r"\1" + REDACTED),
    # key: value pairs whose key says secret (YAML, env files, JSON)
    (re.compile(r"(?i)([\"']?\b[a-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key)"
                r"[\"']?\s*[:=]\s*)(?![\s\"']*(?:\{|\[|$))[\"']?[^\s\"',}]+[\"']?"), r"\1" + REDACTED),
    # cloud access keys
    (re.compile(r"\b(?:AKIA|ASIA)[A-Z0-9]{16}\b"), REDACTED),
]
ENV_SECRET_NAME = re.compile(r"^(\s*-?\s*name:\s*[\"']?)([A-Za-z0-9_]*(?:PASSWORD|PASSWD|SECRET|TOKEN|API_KEY"
                             r"|ACCESS_KEY|CREDENTIAL)[A-Za-z0-9_]*)", re.I)
ENV_VALUE = re.compile(r"^(\s*value:\s*)(\S.*)$")


def redact_text(text):
    """Redact secrets from free text (logs, manifests, command output); return (text, count)."""
    count = 0

    def drop_key(match):
        nonlocal count
        if "PRIVATE KEY" in match.group(1):
            count += 1
            return "-----%s %s-----" % (REDACTED, match.group(1))
        return match.group(0)

    text = PEM_BLOCK.sub(drop_key, text)
    for pattern, repl in TEXT_RULES:
        text, n = pattern.subn(repl, text)
        count += n
    # env: - name: DB_PASSWORD / value: xyz  (the value sits on the next line)
    lines = text.split("\n")
    for i in range(len(lines) - 1):
        if ENV_SECRET_NAME.match(lines[i]) and ENV_VALUE.match(lines[i + 1]):
            if REDACTED not in lines[i + 1]:
                lines[i + 1] = ENV_VALUE.sub(r"\1" + REDACTED, lines[i + 1])
                count += 1
    return "\n".join(lines), count


def redact_kubeconfig(text):
    """Blank client keys, tokens and passwords; keep CA and client certificates (public)."""
    text, count = KUBECONFIG_SECRET.subn(r"\1" + REDACTED, text)
    text, more = redact_text(text)
    return text, count + more


def public_certificates(text):
    """Keep only CERTIFICATE PEM blocks; everything else in the file (keys) is dropped."""
    blocks = [m.group(0) for m in PEM_BLOCK.finditer(text) if m.group(1) == "CERTIFICATE"]
    dropped = sum(1 for m in PEM_BLOCK.finditer(text) if m.group(1) != "CERTIFICATE")
    return "\n".join(blocks) + ("\n" if blocks else ""), dropped


def redact(mode, data):
    """Apply one redaction mode to raw bytes; return (bytes, redaction count)."""
    if mode == "none":
        return data, 0
    text = data.decode("utf-8", "replace")
    if mode == "cert":
        text, count = public_certificates(text)
    elif mode == "kubeconfig":
        text, count = redact_kubeconfig(text)
    else:
        text, count = redact_text(text)
    return text.encode("utf-8"), count


# ---------------------------------------------------------------------------------------------
# Context: facts about the node that fill argv templates ({etcd_endpoints} ...).
# ---------------------------------------------------------------------------------------------
def read_static_pod_flags(root, name):
    """Return {flag: value} from a static pod manifest's command list (stdlib: no YAML parser)."""
    path = os.path.join(root, "etc/kubernetes/manifests", name + ".yaml")
    flags = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            for line in handle:
                match = re.match(r"^\s*-\s+[\"']?--([a-z0-9-]+)=(.*?)[\"']?\s*$", line)
                if match:
                    flags[match.group(1)] = match.group(2)
    except OSError:
        pass
    return flags


class Context(object):
    """Values for argv templates, derived from the node's own configuration."""

    def __init__(self, root, since):
        self.root = root
        self.values = {"since": since}
        self.missing = {}
        etcd = read_static_pod_flags(root, "etcd")
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
        if all(v for _, v in tls):
            self.values["etcd_tls"] = ["--%s=%s" % (k, self.under_root(v)) for k, v in tls]
        else:
            self.missing["etcd_tls"] = "etcd TLS file paths not found in the etcd/API server manifests"
        data_dir = self.under_root(etcd.get("data-dir") or "/var/lib/etcd")
        if os.path.isdir(data_dir):
            self.values["etcd_data_dir"] = data_dir
        else:
            self.missing["etcd_data_dir"] = "etcd data dir %s not found" % data_dir
        admin = self.under_root("/etc/kubernetes/admin.conf")
        if os.path.exists(admin):
            self.values["admin_conf"] = admin
        else:
            self.missing["admin_conf"] = "no /etc/kubernetes/admin.conf"
        journal = self.under_root("/var/log/journal")
        if root == "/":
            self.values["journal_dir"] = []
        elif os.path.isdir(journal):
            self.values["journal_dir"] = ["--directory=" + journal]
        else:
            self.missing["journal_dir"] = "no journal under --root (%s)" % journal

    def under_root(self, path):
        return os.path.join(self.root, path.lstrip("/"))

    def expand(self, argv):
        """Fill an argv template; raise KeyError(reason) when a value is unknown."""
        out = []
        for token in argv:
            names = re.findall(r"\{([a-z_]+)\}", token)
            for name in names:
                if name not in self.values:
                    raise KeyError(self.missing.get(name, "unknown value " + name))
            if len(names) == 1 and token == "{%s}" % names[0] and isinstance(self.values[names[0]], list):
                out.extend(self.values[names[0]])
            else:
                for name in names:
                    token = token.replace("{%s}" % name, str(self.values[name]))
                out.append(token)
        return out


# ---------------------------------------------------------------------------------------------
# Runner: executes SPECS, writes files into a staging folder, records one item each.
# ---------------------------------------------------------------------------------------------
class Interrupted(Exception):
    pass


def utcnow():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def read_tail(path, cap):
    """Read at most cap bytes, keeping the end (newest log lines); return (bytes, truncated)."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        size = handle.tell()
        if size <= cap:
            handle.seek(0)
            return handle.read(), False
        handle.seek(size - cap)
        data = handle.read(cap)
        newline = data.find(b"\n")
        return (data[newline + 1:] if 0 <= newline < len(data) - 1 else data), True


def selected_specs(exclude):
    """The spec rows left after --exclude (ids or globs)."""
    return [s for s in SPECS if not any(fnmatch.fnmatch(s.id, e) for e in exclude or [])]


def is_forbidden(path):
    return any(fnmatch.fnmatch(path, pattern) for pattern in FORBIDDEN)


def expand_globs(root, patterns):
    """Yield (node path, real path) for every file a pattern matches, each once, sorted."""
    seen = set()
    for pattern in patterns:
        for brace in expand_braces(pattern):
            for real in sorted(glob.glob(os.path.join(root, brace.lstrip("/")), recursive=True)):
                node_path = "/" + os.path.relpath(real, root)
                if node_path not in seen and os.path.isfile(real):
                    seen.add(node_path)
                    yield node_path, real


def expand_braces(pattern):
    match = re.search(r"\{([^{}]*,[^{}]*)\}", pattern)
    if not match:
        return [pattern]
    out = []
    for choice in match.group(1).split(","):
        out.extend(expand_braces(pattern[:match.start()] + choice + pattern[match.end():]))
    return out


def run_command(argv, timeout, out_path, err_path, env_extra):
    """Run argv in its own process group; kill the group on timeout. Return (rc, timed_out, err)."""
    env = dict(os.environ)
    env.update(env_extra or {})
    env["LC_ALL"] = "C"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        try:
            proc = subprocess.Popen(argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    env=env, start_new_session=True)
        except OSError as exc:
            return None, False, "cannot run %s: %s" % (argv[0], exc.strerror or exc)
        try:
            return proc.wait(timeout=timeout), False, None
        except subprocess.TimeoutExpired:
            kill_group(proc)
            return None, True, "timed out after %.0fs; process group killed" % timeout
        except BaseException:
            kill_group(proc)
            raise


def kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


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
        self.gates = {}
        self.deadline = time.monotonic() + options.deadline
        self.host_ok = options.root == "/" or options.host_commands

    def run(self, stop):
        specs = selected_specs(self.opt.exclude)
        for index, spec in enumerate(specs):
            if stop():
                raise Interrupted()
            self.log("[%d/%d] %s" % (index + 1, len(specs), spec.id))
            if spec.kind == "command":
                self.run_command_spec(spec)
            else:
                self.run_file_spec(spec)

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

    def stage(self, rel, data):
        """Write bytes into the staging folder, within the total cap; return (path, size, sha, cut)."""
        room = max(0, TOTAL_CAP - self.total)
        cut = len(data) > room
        if cut:
            data = data[len(data) - room:]
        target = os.path.join(self.staging, rel)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as handle:
            handle.write(data)
        self.total += len(data)
        return rel, len(data), hashlib.sha256(data).hexdigest(), cut

    def skip_reason(self, spec):
        if spec.scope == "host" and not self.host_ok:
            return "host command skipped: --root is not / (use --host-commands to run it anyway)"
        if spec.needs and not self.gates.get(spec.needs):
            return "skipped: the API server did not answer /healthz"
        if time.monotonic() >= self.deadline:
            return "skipped: collection deadline reached"
        return None

    # -- files -----------------------------------------------------------------------------------
    def run_file_spec(self, spec):
        started = utcnow()
        if spec.scope == "host" and not self.host_ok:
            self.record(spec, spec.source, started, skipped=self.skip_reason(spec))
            return
        matched = False
        for node_path, real in expand_globs(self.root, spec.source):
            matched = True
            started = utcnow()
            if is_forbidden(node_path):
                self.record(spec, node_path, started, skipped="private key: never collected")
                continue
            reason = self.skip_reason(spec)
            if reason:
                self.record(spec, node_path, started, skipped=reason)
                continue
            try:
                data, truncated = read_tail(real, spec.cap)
            except OSError as exc:
                self.record(spec, node_path, started, error="cannot read: %s" % (exc.strerror or exc))
                continue
            data, count = redact(spec.redact, data)
            if spec.kind == "cert" and not data:
                self.record(spec, node_path, started, redactions=count,
                            skipped="no certificate in file (private key material dropped)")
                continue
            rel, size, sha, cut = self.stage("files" + node_path, data)
            self.record(spec, node_path, started, path=rel, size=size, sha256=sha,
                        truncated=truncated or cut, redactions=count)
        if not matched:
            self.record(spec, spec.source, started, skipped="not found on this node")

    # -- commands --------------------------------------------------------------------------------
    def run_command_spec(self, spec):
        started = utcnow()
        try:
            argv = self.ctx.expand(spec.source)
        except KeyError as exc:
            self.record(spec, spec.source, started, skipped="not applicable: %s" % exc.args[0])
            return
        reason = self.skip_reason(spec)
        if reason:
            self.record(spec, argv, started, skipped=reason)
            return
        timeout = max(1.0, min(spec.timeout, self.deadline - time.monotonic()))
        out_path = os.path.join(self.staging, ".cmd.out")
        err_path = os.path.join(self.staging, ".cmd.err")
        rc, timed_out, error = run_command(argv, timeout, out_path, err_path, spec.env)
        fields = {"exit_code": rc, "timed_out": timed_out, "error": error}
        if rc is not None or timed_out:
            out, truncated = read_tail(out_path, spec.cap)
            err, _ = read_tail(err_path, 64 * 1024)
            out, count = redact(spec.redact, out)
            err, more = redact(spec.redact, err)
            rel, size, sha, cut = self.stage("commands/%s.out" % spec.id, out)
            fields.update(path=rel, size=size, sha256=sha, truncated=truncated or cut,
                          redactions=count + more)
            if err:
                fields["stderr_path"], _, fields["stderr_sha256"], _ = self.stage(
                    "commands/%s.err" % spec.id, err)
            if rc not in (0, None) and not error:
                fields["error"] = "exit code %d: %s" % (rc, last_line(err))
        for path in (out_path, err_path):
            if os.path.exists(path):
                os.remove(path)
        if spec.id == "k8s.healthz":
            self.gates["api"] = rc == 0
        self.record(spec, argv, started, **fields)


def last_line(data):
    lines = [line for line in data.decode("utf-8", "replace").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no stderr)"


# ---------------------------------------------------------------------------------------------
# Node identity, manifest, archive.
# ---------------------------------------------------------------------------------------------
def read_first_line(path):
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.readline().strip()
    except OSError:
        return ""


def os_pretty_name(root):
    try:
        with open(os.path.join(root, "etc/os-release"), encoding="utf-8", errors="replace") as handle:
            for line in handle:
                if line.startswith("PRETTY_NAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def node_identity(options):
    live = options.root == "/"
    name = options.node_name or read_first_line(os.path.join(options.root, "etc/hostname")) \
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


def build_manifest(options, identity, started, items, partial):
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
                    "exclude": options.exclude or [], "host_commands": options.host_commands},
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


def output_target(options, filename):
    """Return the final path ('-' for stdout); refuse to overwrite anything."""
    if options.output == "-":
        return "-"
    out = options.output or "."
    if os.path.isdir(out):
        out = os.path.join(out, filename)
    if os.path.exists(out):
        raise SystemExit("kubetriage-collect: refusing to overwrite %s" % out)
    return out


def parse_duration(text):
    match = re.match(r"^(\d+)([smhd])$", text.strip())
    if not match:
        raise argparse.ArgumentTypeError("expected a duration like 30m, 24h or 7d, not %r" % text)
    return int(match.group(1)) * {"s": 1, "m": 60, "h": 3600, "d": 86400}[match.group(2)]


def parse_args(argv):
    parser = argparse.ArgumentParser(
        prog="kubetriage-collect",
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
    parser.add_argument("--node-name", help="node name to record (default: the hostname)")
    parser.add_argument("--node-ip", action="append", help="extra node IP to record (repeatable)")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on stderr")
    parser.add_argument("--version", action="version", version="kubetriage-collect " + COLLECTOR_VERSION)
    options = parser.parse_args(argv)
    options.root = os.path.abspath(options.root)
    options.since_arg = "-%ds" % options.since
    if not os.path.isdir(options.root):
        parser.error("--root %s is not a folder" % options.root)
    return options


def dry_run(options, out):
    ctx = Context(options.root, options.since_arg)
    host_ok = options.root == "/" or options.host_commands
    for spec in selected_specs(options.exclude):
        if spec.kind == "command":
            try:
                what = "run  " + " ".join(ctx.expand(spec.source))
            except KeyError as exc:
                what = "skip (%s)" % exc.args[0]
            if spec.scope == "host" and not host_ok:
                what = "skip (host command, --root is not /)"
            extra = " [timeout %ss%s]" % (spec.timeout, ", after /healthz" if spec.needs else "")
        else:
            files = [p for p, _ in expand_globs(options.root, spec.source)]
            what = "read " + (", ".join(files) if files else "(nothing matches %s)" % ", ".join(spec.source))
            extra = " [redact %s, cap %d KiB]" % (spec.redact, spec.cap // 1024)
        out.write("%-28s %s%s\n" % (spec.id, what, extra))
    out.write("never read: %s\n" % ", ".join(FORBIDDEN))


def main(argv=None):
    options = parse_args(sys.argv[1:] if argv is None else argv)
    log = (lambda msg: None) if options.quiet else (lambda msg: sys.stderr.write(msg + "\n"))
    if options.dry_run:
        dry_run(options, sys.stdout)
        return 0
    started = utcnow()
    identity = node_identity(options)
    top = "kubetriage-%s-%s" % (safe_name(identity["hostname"]), started.strftime("%Y%m%dT%H%M%SZ"))
    target = output_target(options, top + ".tar.gz")
    signalled = []

    def on_signal(signum, frame):
        signalled.append(signum)

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    staging = tempfile.mkdtemp(prefix="kubetriage-collect-")
    runner = Runner(options, staging, log)
    partial = False
    try:
        try:
            runner.run(lambda: bool(signalled))
        except Interrupted:
            partial = True
            log("interrupted: writing a partial bundle")
        manifest = build_manifest(options, identity, started, runner.items, partial)
        if target == "-":
            write_archive(staging, top, manifest, sys.stdout.buffer)
            sys.stdout.buffer.flush()
        else:
            if partial:
                target = re.sub(r"\.tar\.gz$", "", target) + ".PARTIAL.tar.gz"
            tmp = target + ".tmp"
            try:
                with open(tmp, "wb") as handle:
                    write_archive(staging, top, manifest, handle)
                    handle.flush()
                    os.fsync(handle.fileno())
                os.rename(tmp, target)
            finally:
                if os.path.exists(tmp):
                    os.remove(tmp)
        failed = sum(1 for i in runner.items if i["error"])
        log("%s: %d items, %d failed, %d redactions%s" % (
            target if target != "-" else "bundle written to stdout", len(runner.items), failed,
            manifest["redactions"]["total"], " (PARTIAL)" if partial else ""))
        if target != "-":
            print(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return 3 if partial else 0


if __name__ == "__main__":
    sys.exit(main())
