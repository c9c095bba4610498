"""A paste is a document, not a file of one type: split it into segments and name each one's type.

Lines are first cleaned of what pasting adds (Markdown quote markers and fences, `minikube logs`'
`* ` prefix, carriage returns, a common indentation); every line keeps its number. Then prompt and
command lines, fences and blank lines cut the text into blocks, and a block whose lines change
format (log lines, then a table) is cut again where they change. A command line says what the
output under it is; without one, the content does (analyzer/evidence/recognise.py). A segment no
type recognises is still scanned for every log signature.

>>> [(s.start, s.end, s.type, s.command) for s in split(
...     "$ sudo ETCDCTL_API=3 etcdctl endpoint status -w table\\n"
...     "+------------------------+\\n"
...     "|        ENDPOINT        |\\n")]
[(2, 3, 'etcdctl-status', 'sudo ETCDCTL_API=3 etcdctl endpoint status -w table')]
>>> [(s.start, s.type) for s in split("> ```\\n> member 2eacd324a7820934 is healthy: got healthy result from "
...                                  "http://172.17.8.102:2379\\n> ```\\n")]
[(2, 'etcdctl-cluster-health')]
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .recognise import detect
from .types import TYPES, by_command

#: command words a prompt line or a bare command line starts with (after sudo and VAR=value)
_TOOLS = (r"kubectl|k|oc|etcdctl|kubeadm|journalctl|systemctl|service|openssl|crictl|docker|nerdctl|podman|"
          r"minikube|k3s|rke2|microk8s|kind|cat|tail|head|less|grep|egrep|zcat|find|ls|date|curl|wget|ss|"
          r"netstat|df|du|iptables|iptables-save|ip6tables|nft|ufw|timedatectl|chronyc|ntpq|kubelet|"
          r"stern|for|while|echo|export|watch|ps|free|uptime|hostname|nc|telnet|ping|dig|nslookup|"
          r"systemd-analyze|cd|mkdir|cp|mv|rm|chmod|chown|vi|vim|nano|swapoff|modprobe|sysctl|"
          r"ETCDCTL_API=\d|apt|apt-get|yum|dnf|snap|helm|export|env|\./\S+|/\S+/\w+")
_AFTER_PROMPT = rf"(?:sudo\s+(?:-\S+\s+)*)?(?:\w+=\S*\s+)*(?:{_TOOLS})(?:\s|$)"
#: `$ `, `# `, `user@host:~$ `, `user@host ~ $ ` (Gentoo, CoreOS), `[root@node ~]# `, `root@node:/# `,
#: `group/instance-id:/path# ` (a BOSH VM's shell), `PS C:\> `; any of them numbered as a Markdown list item
#: (`1) [user@host ~]$ `)
_PROMPT = re.compile(r"^\s*(?:\d{1,2}[.)] +)?"
                     r"(?:\[[^\]\n]{1,80}\]\s?[#$]|[\w.@/-]{1,64}(?::[^\s#$]*| [~/][^\s#$]*)?\s?[#$%]|"
                     r"[$#%>❯➜]|PS [^>\n]{1,80}>)\s*(?=" + _AFTER_PROMPT + ")(.*)$")
_BARE = re.compile(r"^\s*(?=(?:sudo\s+)?(?:\w+=\S*\s+)*(?:\./|/\S+/)?(?:kubectl|etcdctl|kubeadm|journalctl|"
                   r"systemctl|openssl|"
                   r"crictl|minikube|k3s|microk8s)\s+-?\w)(.*)$")
#: the header `watch` prints above its command's output: `Every 2.0s: kubectl get nodes   Wed Aug  5 ...`
_WATCH = re.compile(r"^\s*Every \d+(?:\.\d+)?s: (\S.*?)(?:\s{2,}\S.*)?$")
_PREAMBLE = re.compile(r"^\s*(?:\[[\w/-]+\] |Warning: )")
_FENCE = re.compile(r"^\s*(?:```|~~~)")
#: a line of dashes or equals signs only (a separator a person or a tool drew): between outputs
_RULER = re.compile(r"^\s*(?:-{10,}|={10,})\s*$")
#: lines that are log lines whatever wraps them (the change of format that splits a block)
_LOG_LINE = re.compile(r"^\s*(?:[IWEF]\d{4} \d\d:\d\d:\d\d|\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d|"
                       r"[^\W\d_]{3,5}\.? +\d{1,2} \d\d:\d\d:\d\d|\d{1,2}月 +\d{1,2} |\{\"(?:level|log)\":|"
                       r"(?:raft|WARNING: |ERROR: |INFO: )\d{4}/\d\d/\d\d|\[pod/[^\]]+\] |time=\"|"
                       r"(?:INFO|WARN|ERRO|FATA|DEBU)\[\d+\] )")
#: a few lines inside a log that are not log lines (a wrapped message, a stack) stay in the log
_CONTINUATION = 3
#: a paste larger than this is a log file, not a paste: it is read whole, as one type
SPLIT_MAX_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True)
class Segment:
    """Lines start..end (1-based, inclusive) of the cleaned text, what they are, and what said so."""

    start: int
    end: int
    type: str | None  # None: no type recognised it (scanned for log signatures only)
    command: str | None
    text: str  # the segment's cleaned lines


@dataclass(frozen=True)
class Paste:
    """A whole paste: its segments and how many lines were parsed, scanned only or ignored."""

    segments: list[Segment]
    lines: int

    @property
    def parsed(self) -> int:
        return sum(s.end - s.start + 1 for s in self.segments if s.type)

    @property
    def scanned(self) -> int:
        return sum(s.end - s.start + 1 for s in self.segments if not s.type)

    @property
    def ignored(self) -> int:
        return self.lines - self.parsed - self.scanned


def command_of(line: str) -> str | None:
    """The command a prompt line or a bare command line runs, or None when the line is output.

    >>> command_of("core@ip-10-125-98-238 ~ $ docker ps -a | grep kube-controller-manager")
    'docker ps -a | grep kube-controller-manager'
    >>> command_of("[root@master1 ~]# systemctl status kubelet"), command_of("kube-system   etcd-mango   1/1")
    ('systemctl status kubelet', None)

    `watch`'s header names the command too (kubernetes/kubernetes#12269):

    >>> command_of("1) [steven_rui_zhang@k8s-master-9828 ~]$ sudo docker ps -a")  # kubernetes#88205
    'sudo docker ps -a'
    >>> command_of("Every 2.0s: kubectl get nodes                                  Wed Aug  5 12:46:14 2015")
    'kubectl get nodes'
    >>> command_of("server/52168ef9-175e-4f17-9b6c-ecbc23193746:/var/vcap/store# etcdctl endpoint status")
    'etcdctl endpoint status'
    """
    match = _PROMPT.match(line) or _BARE.match(line) or _WATCH.match(line)
    return match.group(1).strip() if match else None


def _majority(lines: list[str], pattern: re.Pattern[str]) -> bool:
    filled = [ln for ln in lines if ln.strip()]
    return bool(filled) and sum(1 for ln in filled if pattern.match(ln)) >= 0.6 * len(filled)


_QUOTE = re.compile(r"^\s*>(?: |$)")
_STAR = re.compile(r"^\* ")
#: `grep -n` (and `cat -n`) line numbers before each line
_NUMBERED = re.compile(r"^\s*\d+(?::(?=[^\d\s])|\t)")
#: a serial console's or dmesg's kernel time before each line (`[   14.414142] : `)
_CONSOLE = re.compile(r"^\[\s*\d+\.\d+\] (?:: )?")
#: terraform's error box (`│ ` before each line, `╷` and `╵` around it)
_BOX = re.compile(r"^[│╷╵] ?")
#: ansible's `stdout_lines`: one quoted string per line, as a YAML list (`  - '[upgrade] ...'`, the
#: yaml callback) or a JSON array (`        "[upgrade] ...",`, the default callback)
_LISTED = re.compile(r"""^\s*(?:- '(.*)'|"((?:[^"\\]|\\.)*)",?)\s*$""")


def _unlisted(line: str) -> str:
    """One `stdout_lines` entry without its quotes and escapes (YAML doubles a quote, JSON escapes)."""
    m = _LISTED.match(line)
    if not m:
        return line
    if m.group(1) is not None:
        return m.group(1).replace("''", "'")
    try:
        return str(json.loads(f'"{m.group(2)}"'))
    except ValueError:
        return m.group(2)


def clean(lines: list[str]) -> list[str]:
    """Undo what pasting added, line by line (the count never changes): carriage returns, Markdown
    quote markers, a line wrapped in backticks, `minikube logs`' `* ` prefix, a kernel console's
    time, terraform's error box, ansible's quoted `stdout_lines`; tabs turned into spaces by a
    browser are left alone.

    ansible's yaml callback printing `kubeadm upgrade apply` (allenporter/k8s-gitops#237):

    >>> clean(["  - '[upgrade/staticpods] Component \\"kube-apiserver\\" upgraded successfully!'",
    ...        "  - '[apiclient] Found 1 Pods for label selector component=kube-apiserver'"])[0]
    '[upgrade/staticpods] Component "kube-apiserver" upgraded successfully!'
    """
    out = [ln.rstrip("\r") for ln in lines]
    if _majority(out, _QUOTE):
        out = [_QUOTE.sub("", ln, count=1) for ln in out]
    if _majority(out, _STAR):
        out = [ln[2:] if ln.startswith("* ") else ln for ln in out]
    if _majority(out, _NUMBERED):
        out = [_NUMBERED.sub("", ln, count=1) for ln in out]
    for prefix in (_CONSOLE, _BOX):
        if _majority(out, prefix):
            out = [prefix.sub("", ln, count=1) for ln in out]
    if _majority(out, _LISTED):
        out = [_unlisted(ln) for ln in out]
    out = _strip_common_prefix(out)
    # a Markdown inline-code span opened on one line and closed on another
    out = [ln[1:] if ln.startswith("`") and ln.count("`") == 1 else ln for ln in out]
    out = [ln[:-1] if ln.endswith("`") and ln.count("`") == 1 else ln for ln in out]
    # one line wrapped whole in backticks (Markdown inline code) or in double quotes (a quoted error)
    return [ln.strip()[1:-1] if len(ln.strip()) > 2 and ln.strip()[0] == ln.strip()[-1] in "`\""
            and ln.strip()[0] not in ln.strip()[1:-1] else ln for ln in out]


#: a terminal wraps at 80 columns or more; a paste wrapped at W has several lines exactly W long
MIN_WRAP = 79
#: aligned columns (tables, padded listings): lines that long are laid out, not wrapped
_COLUMNS = re.compile(r"^.{35,}?\S {3,}\S")


def unwrap(lines: list[str]) -> tuple[list[str], set[int]]:
    """Join lines a terminal wrapped (copied from a window W columns wide, every line longer than W
    was cut into W-long pieces): the joined line takes the first piece's place, the others' places
    are returned so that they stay empty and line numbers do not move.

    Two lines of rancher/rancher#9667 (a terminal 80 columns wide):

    >>> joined, folded = unwrap([
    ...     "member 609d837ceaf22e4a is unhealthy: got unhealthy result from http://10.42.218", ".183:2379",
    ...     "member 663e8e43312368f0 is unreachable: [http://10.42.61.255:2379] are all unrea", "chable"])
    >>> joined[0][-25:], joined[2][-19:], sorted(folded)
    ('http://10.42.218.183:2379', 'are all unreachable', [1, 3])
    """
    widths = [len(ln) for ln in lines]
    wide = max(widths, default=0)
    filled = [w for w in widths if w]
    ends = sum(1 for w, after in zip(widths, widths[1:], strict=False)
               if w >= wide - 1 and 0 < after < wide - 1)
    if wide < MIN_WRAP or ends < 2 or sum(1 for w in filled if w >= wide - 1) > 0.75 * len(filled):
        return lines, set()
    out, folded = list(lines), set()
    head, piece = None, 0
    for index, line in enumerate(lines):
        if head is not None and line.strip() and not command_of(line) and not _LOG_LINE.match(line):
            # a piece one short of the width lost the space the terminal wrapped at
            out[head] += ("" if piece == wide else " ") + line
            folded.add(index)
        else:
            head = index
        piece = len(line)
        head = head if piece >= wide - 1 and not _COLUMNS.match(line) else None
    return out, folded


#: a prefix a remote runner puts before every line: `172.16.112.205:22: ` (sealos, pssh),
#: `module.k8s.null_resource.x (remote-exec): ` (terraform)
_RUNNER = re.compile(r"^(\S[^:\s]*(?::\d+)?(?: \([\w-]+\))?: ?)(?!/)")


def _strip_common_prefix(lines: list[str]) -> list[str]:
    filled = [ln for ln in lines if ln.strip()]
    prefixes = [m.group(1) for ln in filled if (m := _RUNNER.match(ln)) and not _LOG_LINE.match(ln)]
    if len(filled) < 3 or not prefixes:
        return lines
    common = max(set(prefixes), key=prefixes.count)
    if prefixes.count(common) < 0.6 * len(filled) or len(common.strip()) < 4:
        return lines
    return [ln[len(common):] if ln.startswith(common) else ln for ln in lines]


#: an Ansible task result that failed (`fatal: [host]: FAILED! =>`, Ansible 1.x `failed: [host] =>`),
#: and the marker Ansible prints under it when the task has `ignore_errors`
_ANSIBLE_FAILED = re.compile(r"^\s*(?:fatal|failed): \[[^\]]+\]")
_ANSIBLE_IGNORING = re.compile(r"^\s*\.\.\.ignoring\s*$")


def ignored_failures(lines: list[str]) -> set[int]:
    """Indexes of Ansible task results the playbook ignores (`...ignoring` under them): a probe whose
    failure the playbook expects (kubespray's "Check if etcd cluster is healthy" before etcd is
    installed) is not evidence of a fault. A result runs from its `fatal:` line to the marker.

    >>> sorted(ignored_failures(["TASK [Check etcd] ***", 'fatal: [m]: FAILED! => {"rc": 1}', "...ignoring",
    ...                          'fatal: [m]: FAILED! => {"rc": 2}']))
    [1, 2]
    """
    ignored: set[int] = set()
    for end, line in enumerate(lines):
        if not _ANSIBLE_IGNORING.match(line):
            continue
        start = end - 1
        while start >= 0 and lines[start].strip() and not _ANSIBLE_FAILED.match(lines[start]) \
                and not lines[start].lstrip().startswith("TASK"):
            start -= 1
        if start >= 0 and _ANSIBLE_FAILED.match(lines[start]):
            ignored.update(range(start, end + 1))
    return ignored


def _dedent(lines: list[str]) -> list[str]:
    widths = [len(ln) - len(ln.lstrip(" \t")) for ln in lines if ln.strip()]
    cut = min(widths, default=0)
    return [ln[cut:] for ln in lines]


def _runs(block: list[tuple[int, str]]) -> list[list[tuple[int, str]]]:
    """Cut a block where its lines change between log lines and other text."""
    kinds = [bool(_LOG_LINE.match(line)) for _, line in block]
    runs: list[list[tuple[int, str]]] = []
    start = 0
    for i in range(1, len(block) + 1):
        if i < len(block) and kinds[i] == kinds[start]:
            continue
        runs.append(block[start:i])
        start = i
    merged: list[list[tuple[int, str]]] = []
    for run in runs:
        is_log = bool(_LOG_LINE.match(run[0][1]))
        if merged and not is_log and len(run) <= _CONTINUATION and _LOG_LINE.match(merged[-1][0][1]) \
                and run is not runs[-1]:
            merged[-1].extend(run)
        elif merged and is_log and _LOG_LINE.match(merged[-1][0][1]):
            merged[-1].extend(run)
        else:
            merged.append(list(run))
    return merged


Lines = list[tuple[int, str]]


def _typed(block: Lines, command: str | None) -> list[tuple[Lines, str | None]]:
    announced = by_command(command) if command else None
    text = "\n".join(ln for _, ln in block)
    found = detect(text)
    if announced and found in (None, announced):
        return [(block, announced)]
    runs = _runs(block)
    if found is not None and (len(runs) == 1 or not TYPES[found].is_log):
        return [(block, found)]
    # lines of a log that are not log lines (a banner, a usage text) belong to the log unless they
    # are evidence of their own (etcdctl's JSON under its stderr warning)
    fallback = found if found is not None and TYPES[found].is_log else None
    return [(run, detect("\n".join(ln for _, ln in run)) or fallback) for run in runs]


def split(text: str) -> list[Segment]:
    """The segments of a paste, in order (see the module docstring)."""
    return read(text).segments


def read(text: str) -> Paste:
    lines, folded = unwrap(clean(text.splitlines()))
    ignored = ignored_failures(lines)
    lines = ["" if i in ignored else ln for i, ln in enumerate(lines)]
    pieces: list[tuple[list[tuple[int, str]], str | None, str | None]] = []
    command: str | None = None
    block: list[tuple[int, str]] = []

    def close() -> None:
        if block:
            dedented = _dedent([ln for _, ln in block])
            numbered = [(n, ln) for (n, _), ln in zip(block, dedented, strict=True)]
            pieces.extend((run, kind, command) for run, kind in _typed(numbered, command))
            block.clear()

    for number, line in enumerate(lines, start=1):
        if number - 1 in folded:
            block.append((number, ""))  # joined to the line before: its place stays, empty
            continue
        said = command_of(line)
        if _FENCE.match(line) or said is not None:
            close()
            if said is not None:
                command = said
        elif not line.strip() or _RULER.match(line):
            close()
        else:
            block.append((number, line))
    close()
    # a tool's preamble (`[check-expiration] Reading ...`, `Warning: v1 ComponentStatus is deprecated`)
    # belongs to the output it comes before
    for index in range(len(pieces) - 1):
        run, kind, said = pieces[index]
        after = pieces[index + 1]
        if kind is None and after[1] and not TYPES[after[1]].is_log and after[2] == said and all(
                _PREAMBLE.match(line) for _, line in run):
            pieces[index] = (run, after[1], said)
    segments: list[Segment] = []
    for run, kind, said in pieces:
        start, end = run[0][0], run[-1][0]
        body = "\n".join(ln for _, ln in run)
        last = segments[-1] if segments else None
        if last and kind is None and last.type and last.command == said:
            kind = last.type  # a command's output goes on after a blank line (ufw's rules, kubeadm's CAs)
        if last and last.type == kind and last.command == said:
            gap = lines[last.end:start - 1]
            if all(not g.strip() for g in gap):
                padding = "\n" * (start - last.end)
                segments[-1] = Segment(last.start, end, kind, said, last.text + padding + body)
                continue
        segments.append(Segment(start, end, kind, said, body))
    return Paste(segments, len(lines))
