"""API server: crash loops, flags its version no longer accepts, failing health checks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from ..facts import ClusterView
from ..facts.components import ComponentFact
from ..facts.containers import RUNTIME_ITEMS, ContainerHistory, histories
from ..facts.k8s import ClientErrorFact, PodFact
from ..findings import Category, Evidence, Finding, Remediation, Severity
from ..parsers.kubectl import ContainerStatus
from . import REGISTRY, rule
from .certificates import restart_static_pod
from .shell import quote, quote_glob

#: restarts that, with the last one recent, make a running static pod a crash loop
RESTARTS = 5
RECENT = dt.timedelta(hours=1)
#: the runtime-evidence half of every *_CRASHLOOP rule's `checks`
RUNTIME_CHECK = (f"Where pod objects are absent or older, the runtime's listing (crictl, docker) shows no "
                 f"such container failed with none running, or restarted {RESTARTS}+ times with the "
                 f"newest started within {RECENT.seconds // 3600} h of collection.")
#: waiting reasons of a container that cannot stay up
FAILING_WAITS = ("CrashLoopBackOff", "RunContainerError", "CreateContainerError",
                 "CreateContainerConfigError", "Error")


@dataclass(frozen=True)
class Crashloop:
    """A control-plane container that keeps dying: down now (`down`) or restarting recently."""

    fact: PodFact
    container: ContainerStatus
    down: bool

    def describe(self) -> str:
        c, pod = self.container, self.fact.pod
        parts = [f"{pod.name}: restartCount {c.restart_count}"]
        if c.waiting_reason:
            parts.append(f"waiting {c.waiting_reason}")
        if c.last_restart_ago is not None:
            parts.append(f"last restart {int(c.last_restart_ago.total_seconds())}s before the listing")
        if pod.ready is False:
            parts.append("not ready")
        last = c.last_terminated or c.terminated
        if last is not None:
            when = f" at {last.finished_at:%Y-%m-%d %H:%M:%S} UTC" if last.finished_at else ""
            parts.append(f"last terminated {last.reason or 'unknown reason'} exit code "
                         f"{last.exit_code if last.exit_code is not None else '?'}{when}")
        return ", ".join(parts)


def crashloops(view: ClusterView, component: str) -> list[Crashloop]:
    """Containers of the component's pods that wait in a failure state or restart often lately."""
    out: list[Crashloop] = []
    for fact in view.k8s.pods_of(component):
        now = fact.origin.collected_at
        for c in fact.pod.containers:
            if c.init:
                continue
            last = c.last_terminated
            recent = ((last is not None and last.finished_at is not None and now - last.finished_at <= RECENT)
                      or (c.last_restart_ago is not None and c.last_restart_ago <= RECENT))
            if c.waiting_reason in FAILING_WAITS or c.state == "terminated":
                out.append(Crashloop(fact, c, True))
            elif c.restart_count >= RESTARTS and recent:
                out.append(Crashloop(fact, c, fact.pod.ready is False))
    return out


@dataclass(frozen=True)
class RuntimeCrashloop:
    """A control-plane container the runtime lists dying: none running (`down`), or restarting lately."""

    history: ContainerHistory
    down: bool

    def describe(self) -> str:
        h = self.history
        shown = "; ".join(a.describe() for a in h.attempts[:3])
        return f"the runtime on {h.node} lists {shown}; {'none' if not h.running else 'one'} running"


def _same_pod(history: ContainerHistory, fact: PodFact) -> bool:
    return fact.pod.name in {a.container.pod for a in history.attempts} or fact.pod.node_name == history.node


def _api_judges(view: ClusterView, history: ContainerHistory) -> bool:
    """The API's pod object for this container is as recent as the runtime's listing: it judges alone."""
    listed = history.newest.origin.collected_at
    return any(_same_pod(history, f) and f.origin.collected_at >= listed
               for f in view.k8s.pods_of(history.name))


def runtime_crashloops(view: ClusterView, component: str) -> list[RuntimeCrashloop]:
    """From the runtime's listing, where the API's pod objects are absent or older: no attempt running
    after a failed exit, or a high attempt number with the newest started lately. The kubelet keeps
    one dead attempt per container by default, so the attempt number, not the count of exited rows,
    says how often it restarted; one failed attempt replaced by a running one is not a loop."""
    out: list[RuntimeCrashloop] = []
    for h in histories(view.containers, component):
        if _api_judges(view, h):
            continue
        now, newest = view.now(h.node), h.newest
        failed = [a for a in h.attempts if a.exited and a.container.exit_code != 0]
        if not h.running and failed and not (newest.exited and newest.container.exit_code == 0):
            out.append(RuntimeCrashloop(h, True))
            continue
        if (newest.running and (newest.container.attempt or 0) >= RESTARTS
                and newest.created is not None and now - newest.created <= RECENT):
            out.append(RuntimeCrashloop(h, False))
    return out


def _crashloop_finding(rule_id: str, component: str, severity: Severity, node: str,
                       subject: tuple[str, str], what: str, evidence: list[Evidence], title: str,
                       docker: bool = False) -> Finding:
    """subject: (the pod name or a glob for it, the finding's object)."""
    pod, obj = subject
    log_dir = f"/var/log/pods/kube-system_{pod}_*/{component}/"
    # dockershim-era nodes (a `docker ps` listing) have no crictl
    tool, name = ("docker", f"--filter name=k8s_{component}_") if docker else \
        ("crictl", f"--name {quote(component)}")
    return REGISTRY[rule_id].finding(severity=severity, title=title,
        detail=(f"{what} A static pod that keeps exiting is almost always rejected "
                f"configuration (a removed or misspelled flag), a certificate or key it cannot load, "
                f"or a dependency it cannot reach; its previous log says which."),
        remediation=Remediation(
            f"On {node}, read the previous container's log (the kubelet keeps it under {log_dir}), "
            f"fix the cause in /etc/kubernetes/manifests/{component}.yaml or the files it points at, "
            f"then restart the static pod by moving its manifest out of the folder and back.",
            (f"{tool} ps -a {name}",
             f"{tool} logs $({tool} ps -a {name} -q | head -n 1)",
             f"tail -n 50 /var/log/pods/kube-system_{quote_glob(pod)}_*/{quote(component)}/*.log",
             restart_static_pod(component))),
        evidence=evidence, nodes=[node], objects=[obj])


def crashloop_findings(view: ClusterView, rule_id: str, component: str,
                       restarting: Severity) -> Iterator[Finding]:
    """One finding per crash-looping pod: what the kubelet last reported to the API, else what the
    node's container runtime lists. A component that is down has the rule's declared severity; one
    that still restarts, `restarting`."""
    down = REGISTRY[rule_id].severity
    runtime = histories(view.containers, component)
    for loop in crashloops(view, component):
        if any(_same_pod(h, loop.fact) and h.newest.origin.collected_at > loop.fact.origin.collected_at
               for h in runtime):
            continue  # the runtime's listing is newer than this pod object: it judges below
        pod = loop.fact.pod
        node = pod.node_name or loop.fact.origin.node
        last = loop.container.last_terminated
        hint = (f" The last run ended with exit code {last.exit_code} ({last.reason})."
                if last is not None and last.exit_code is not None else "")
        yield _crashloop_finding(rule_id, component, down if loop.down else restarting, node,
                                 (pod.name, f"{pod.namespace}/{pod.name}"), f"{loop.describe()}.{hint}",
                                 [loop.fact.origin.evidence(loop.describe())],
                                 f"{component} is crash-looping on {node}")
    for rloop in runtime_crashloops(view, component):
        h, newest = rloop.history, rloop.history.newest
        title = (f"{component} exited and is not running on {h.node}" if rloop.down
                 else f"{component} is crash-looping on {h.node}")
        yield _crashloop_finding(rule_id, component, down if rloop.down else restarting, h.node,
                                 (newest.container.pod or f"{component}-*", newest.subject),
                                 f"{rloop.describe()}.",
                                 [e for a in h.attempts[:3] for e in a.evidence()], title,
                                 docker=newest.origin.item_id == "loose.docker_ps")


@rule("APISERVER_CRASHLOOP", Category.APISERVER, Severity.CRITICAL, "API server crash-looping",
      "No kube-apiserver container waits in CrashLoopBackOff (or another start failure) or restarted "
      f"{RESTARTS}+ times with the last exit within {RECENT.seconds // 3600} h of collection. "
      + RUNTIME_CHECK,
      ("k8s.pods",) + RUNTIME_ITEMS)
def apiserver_crashloop(view: ClusterView) -> Iterator[Finding]:
    yield from crashloop_findings(view, "APISERVER_CRASHLOOP", "kube-apiserver", Severity.ERROR)


# -- flags removed in the version the manifest runs ------------------------------------------------

@dataclass(frozen=True)
class Removed:
    minor: int
    replacement: str
    source: str


#: (component, flag) -> when it was removed; each entry cites the release note or PR that removed it
REMOVED_FLAGS: dict[tuple[str, str], Removed] = {
    ("kube-apiserver", "insecure-port"): Removed(24, "nothing: insecure serving is gone since 1.20",
                                                 "kubernetes/kubernetes#95856"),
    ("kube-apiserver", "port"): Removed(24, "nothing (only --secure-port remains)",
                                        "kubernetes/kubernetes#95856"),
    ("kube-apiserver", "address"): Removed(24, "--bind-address", "kubernetes/kubernetes#95856"),
    ("kube-apiserver", "insecure-bind-address"): Removed(24, "--bind-address", "kubernetes/kubernetes#95856"),
    ("kube-controller-manager", "port"): Removed(24, "--secure-port (10257)", "CHANGELOG-1.24"),
    ("kube-controller-manager", "address"): Removed(24, "--bind-address", "CHANGELOG-1.24"),
    ("kube-controller-manager", "experimental-cluster-signing-duration"): Removed(
        25, "--cluster-signing-duration", "kubernetes/kubernetes#108476"),
    ("kube-controller-manager", "pod-eviction-timeout"): Removed(
        27, "nothing: taint-based eviction (tolerationSeconds) applies", "kubernetes/kubernetes#115840"),
    ("kube-controller-manager", "enable-taint-manager"): Removed(27, "nothing",
                                                                 "kubernetes/kubernetes#115840"),
}


def _removed(view: ClusterView, component: str) -> Iterator[tuple[ComponentFact, str, Removed]]:
    for comp in view.components:
        if comp.component != component or comp.version is None or comp.version.major != 1:
            continue
        for flag in comp.flags:
            removed = REMOVED_FLAGS.get((component, flag))
            if removed is not None and comp.version.minor >= removed.minor:
                yield comp, flag, removed


def removed_flag_findings(view: ClusterView, rule_id: str, component: str) -> Iterator[Finding]:
    for comp, flag, removed in _removed(view, component):
        manifest = comp.manifest_path
        backup = f"/root/{component}.yaml.bak"
        yield REGISTRY[rule_id].finding(
            title=f"{component} on {comp.node} is given --{flag}, removed in 1.{removed.minor}",
            detail=(f"{comp.location} runs {comp.image} ({comp.version}) with --{flag}; the flag was removed "
                    f"in v1.{removed.minor} ({removed.source}), so the binary exits with "
                    f"'unknown flag: --{flag}' and the static pod crash-loops. Use instead: "
                    f"{removed.replacement}."),
            remediation=Remediation(
                f"On {comp.node}, back the manifest up outside /etc/kubernetes/manifests (the kubelet "
                f"runs every file in that folder), delete the --{flag} line; the kubelet restarts the pod "
                f"when the manifest changes. If kubeadm manages the cluster, also drop the flag from the "
                f"ClusterConfiguration extraArgs in the kubeadm-config ConfigMap so upgrades do not put it "
                f"back.",
                (f"cp {quote(manifest)} {backup}",
                 f"sed -i '/- --{flag}\\(=\\|$\\)/d' {quote(manifest)}",
                 "kubectl -n kube-system edit configmap kubeadm-config")),
            evidence=[comp.evidence(flag), comp.evidence()],
            nodes=[comp.node], objects=[comp.location])


@rule("APISERVER_REMOVED_FLAG", Category.APISERVER, Severity.CRITICAL,
      "API server flag removed in its version",
      "No kube-apiserver manifest passes a flag its image's version removed (e.g. --insecure-port on 1.24+).",
      ("k8s.static_pod_manifest", "k8s.pods"))
def apiserver_removed_flag(view: ClusterView) -> Iterator[Finding]:
    yield from removed_flag_findings(view, "APISERVER_REMOVED_FLAG", "kube-apiserver")


# -- health endpoints ---------------------------------------------------------------------------------

def _health_commands(view: ClusterView, node: str, endpoint: str, failed: list[str]) -> tuple[str, ...]:
    commands = [f"kubectl get --raw='/{endpoint}?verbose'"]
    commands += [f"kubectl get --raw={quote(f'/{endpoint}/{name}')}" for name in failed[:3]]
    if "etcd" in failed:
        servers = next((c.flags.get("etcd-servers", "") for c in view.components
                        if c.node == node and c.component == "kube-apiserver"), "") or "https://127.0.0.1:2379"
        commands.append(f"ETCDCTL_API=3 etcdctl --endpoints={quote(servers)} "
                        "--cacert=/etc/kubernetes/pki/etcd/ca.crt "
                        "--cert=/etc/kubernetes/pki/apiserver-etcd-client.crt "
                        "--key=/etc/kubernetes/pki/apiserver-etcd-client.key endpoint health")
    commands.append("crictl logs --tail 100 $(crictl ps -a --name kube-apiserver -q | head -n 1)")
    return tuple(commands)


@rule("APISERVER_HEALTH_CHECK_FAILED", Category.APISERVER, Severity.ERROR, "API server health check failed",
      "/healthz, /livez?verbose and /readyz?verbose report every check [+] ok.",
      ("k8s.healthz", "k8s.livez", "k8s.readyz"))
def apiserver_health(view: ClusterView) -> Iterator[Finding]:
    for fact in view.k8s.health:
        report = fact.report
        if report.passed is not False:
            continue
        failed = [c.name for c in report.failed]
        what = ", ".join(failed) or "unnamed check"
        reasons = "; ".join(f"[-]{c.name} failed: {c.reason}" for c in report.failed)
        etcd = (" The etcd check fails when the API server cannot reach or authenticate to etcd; "
                "etcd's own health and the API server's etcd client certificate come next."
                if "etcd" in failed else "")
        node = fact.origin.node
        yield REGISTRY["APISERVER_HEALTH_CHECK_FAILED"].finding(
            title=f"API server /{fact.endpoint} check failed on {node}'s view: {what}",
            detail=(f"/{fact.endpoint} reports {reasons or 'failure'}"
                    f"{' (the body was cut off)' if report.truncated else ''}. The reason is withheld from "
                    f"the endpoint; the API server's log gives it.{etcd}"),
            remediation=Remediation(
                "Query the failing checks one by one and read the API server's log on the node serving "
                "the request for the withheld reason; fix that dependency before restarting anything.",
                _health_commands(view, node, fact.endpoint, failed)),
            evidence=[fact.origin.evidence(reasons or f"{fact.endpoint} check failed")],
            nodes=[node], objects=[f"/{fact.endpoint}"])


#: what each kind of kubectl error says about the control plane: category, severity, what it means
_CLIENT_ERRORS: dict[str, tuple[Category, Severity, str, str]] = {
    "refused": (Category.APISERVER, Severity.CRITICAL, "nothing listens for the API server",
                "The API server is down or not listening on that address: look at its container and log."),
    "no-kubeconfig": (Category.CONNECTIVITY, Severity.WARNING, "kubectl has no kubeconfig",
                      "kubectl fell back to localhost:8080: it found no kubeconfig (run it as the user that "
                      "has ~/.kube/config, or export KUBECONFIG=/etc/kubernetes/admin.conf)."),
    "x509-expired": (Category.CERTIFICATES, Severity.CRITICAL, "a certificate has expired",
                     "The API server's serving certificate or kubectl's client certificate has expired: "
                     "check both dates and renew (kubeadm certs renew, then restart the control plane)."),
    "x509-authority": (Category.CERTIFICATES, Severity.ERROR, "the API server's certificate is not trusted",
                       "kubectl's kubeconfig carries another CA than the one that signed the serving "
                       "certificate (a rebuilt cluster, an old kubeconfig)."),
    "x509-name": (Category.CERTIFICATES, Severity.ERROR,
                  "the API server's certificate does not name that address",
                  "The serving certificate lacks the address kubectl used in its SANs: regenerate it with "
                  "that name or IP, or point the kubeconfig at a name it carries."),
    "unauthorized": (Category.CERTIFICATES, Severity.ERROR, "kubectl's credentials are refused",
                     "The API server rejects kubectl's credentials: an expired client certificate or token, "
                     "or a kubeconfig from another cluster."),
    "timeout": (Category.CONNECTIVITY, Severity.ERROR, "the API server does not answer in time",
                "Something between kubectl and the API server drops or delays the connection (a load "
                "balancer without healthy backends, a firewall), or the API server hangs."),
    "dns": (Category.CONNECTIVITY, Severity.ERROR, "the API server's name does not resolve",
            "The kubeconfig names a host DNS cannot resolve."),
}


@rule("KUBECTL_CANNOT_REACH_API", Category.APISERVER, Severity.CRITICAL, "kubectl cannot use the API server",
      "kubectl printed no client-side error about reaching the API server (`The connection to the server ... "
      "was refused`, `Unable to connect to the server: x509/timeout`, `You must be logged in`). Findings "
      "carry the cause's own category.",
      ("logs.kubectl",), also=(Category.CERTIFICATES, Category.CONNECTIVITY))
def kubectl_cannot_reach_api(view: ClusterView) -> Iterator[Finding]:
    seen: dict[tuple[str, str], list[ClientErrorFact]] = {}
    for fact in view.k8s.client_errors:
        if fact.error.kind in _CLIENT_ERRORS:
            seen.setdefault((fact.error.kind, fact.error.server), []).append(fact)
    for (kind, server), facts in sorted(seen.items()):
        category, severity, what, advice = _CLIENT_ERRORS[kind]
        where = f" at {server}" if server else ""
        yield REGISTRY["KUBECTL_CANNOT_REACH_API"].finding(severity=severity, category=category,
            title=f"kubectl cannot use the API server{where}: {what}",
            detail=f"kubectl said: {facts[0].error.message[:300]}" + (
                f" ({len(facts)} times)" if len(facts) > 1 else ""),
            remediation=Remediation(advice, ("kubectl config view --minify",
                                             "crictl ps -a | grep kube-apiserver",
                                             "ss -ltnp | grep 6443")),
            evidence=[f.origin.evidence(f.error.message) for f in facts[:3]],
            nodes=sorted({f.origin.node for f in facts}), objects=[f"{kind}:{server}"])
