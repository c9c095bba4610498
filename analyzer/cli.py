"""The `kubetriage` command line: collect on a node, analyze bundles anywhere."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import signal
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from . import __version__
from .browse import grep, lines, listing, members
from .bundle import Bundle, discover, open_bundle
from .errors import InputError
from .findings import Severity
from .progress import listening
from .render import FORMATS, render
from .render.terminal import ProgressPrinter, input_size, summary
from .safetext import one_line, visible

if TYPE_CHECKING:
    from .config import Config
    from .custom import CustomRules
    from .report import Report

SEVERITIES = [s.value for s in Severity]
SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json",
                  ".sarif": "sarif", ".xml": "junit", ".junit": "junit", ".txt": "text", ".text": "text"}
#: inputs at least this big get progress lines on stderr
PROGRESS_MIN_BYTES = 32 * 1024 * 1024
#: a paste on stdin is read whole, up to this much
MAX_STDIN_BYTES = 64 * 1024 * 1024


def fail(message: str) -> None:
    """One clear line on stderr, exit code 2: the input or the usage was wrong."""
    click.echo(f"kubetriage: error: {one_line(' '.join(message.split()))}", err=True)
    sys.exit(2)


class _EvidenceTypeOption(click.Option):
    """--as TYPE: the evidence registry (it imports every parser) is loaded when the option is parsed
    or its help shown, so `kubetriage --version` and `--help` do not wait for it."""

    def _load(self) -> None:
        from .evidence.types import TYPES

        self.type = click.Choice(list(TYPES))
        self.help = ("Type of loose evidence files (a log or command output rather than a bundle), instead "
                     "of detecting it: " + ", ".join(TYPES) + ".")

    def get_help_record(self, ctx: click.Context) -> tuple[str, str] | None:
        self._load()
        return super().get_help_record(ctx)

    def process_value(self, ctx: click.Context, value: object) -> object:
        self._load()
        return super().process_value(ctx, value)


def _output_format(output: Path, fmt: str | None, inputs: list[Path]) -> str:
    """The format -o is written in (--format, else its suffix); fail() before any work when the file
    cannot be written there or is one of the inputs. An existing report is replaced, as every -o does."""
    if output.is_dir():
        fail(f"-o {output} is a folder; give a file name such as {output / 'report.html'}")
    if not output.parent.is_dir():
        fail(f"-o {output}: no folder {output.parent} to write it in")
    if any(output.resolve() == p.resolve() for p in inputs if p.is_file()):
        fail(f"-o {output} is one of the inputs: write the report elsewhere")
    implied = SUFFIX_FORMATS.get(output.suffix.lower())
    if fmt is not None and implied is not None and implied != fmt:
        click.echo(f"kubetriage: warning: writing {fmt} into {one_line(output.name)}, whose name says "
                   f"{implied}", err=True)
    chosen = fmt or implied
    if chosen is None:
        fail(f"cannot tell the format from {output.name!r}; pass --format {'|'.join(FORMATS)}")
    return str(chosen)


def _write_atomically(output: Path, text: str) -> None:
    """Replace `output` in one step: a reader sees the old report or the new one, never half of one."""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{output.name}.", suffix=".tmp", dir=output.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)  # as a plain create would make it, not mkstemp's 0600
            os.replace(tmp, output)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="kubetriage")
def main() -> None:
    """Offline support bundles for Kubernetes control planes.

    On a control-plane node, `kubetriage collect` (or the stand-alone
    collector/kubetriage_collect.py) writes one bundle. Anywhere, `kubetriage analyze`
    reads bundles and reports what is wrong and how to fix it.
    """


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
              add_help_option=False)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def collect(args: tuple[str, ...]) -> None:
    """Collect a bundle from this node (run as root). Options: `kubetriage collect --help`."""
    from collector.kubetriage_collect import main as collector_main

    sys.exit(collector_main(list(args), prog="kubetriage collect"))  # type: ignore[no-untyped-call]


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS),
              help="Report format (default: from the -o suffix; without -o, a summary on stdout).")
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Write the report to this file instead of stdout (replaced if it exists).")
@click.option("--force", is_flag=True, hidden=True, help="Accepted for old scripts: -o always replaces.")
@click.option("--fail-on", type=click.Choice(SEVERITIES),
              help="Exit 1 when any finding is at least this severe (for CI).")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False),
              help="A previous --format json report: mark findings new / unchanged / resolved.")
@click.option("--fail-on-new", type=click.Choice(SEVERITIES),
              help="With --baseline: exit 1 when any NEW finding is at least this severe.")
@click.option("--waivers", type=click.Path(path_type=Path, dir_okay=False),
              help="YAML of accepted findings (rule, reason, expires, optional node/match): shown as "
                   "waived, not counted by --fail-on/--fail-on-new, left out of SARIF and JUnit.")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              metavar="DIR", help="A folder of custom rule files (YAML, docs/custom-rules.md); repeatable.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Settings file (default: ./kubetriage.yaml if present): rules, waivers, fail-on, format.")
@click.option("--separate", is_flag=True,
              help="Bundles of different clusters: analyze each cluster on its own, one report per "
                   "cluster (-o r.html writes r.NODES.html for each); exit code the worst of them.")
@click.option("--one-cluster", is_flag=True,
              help="The nodes belong to one cluster even though no CA or etcd cluster id is shared "
                   "(by default such bundles are refused: merging clusters invents findings).")
@click.option("--quiet", "-q", is_flag=True, help="No progress or status lines on stderr.")
@click.option("--key", type=click.Path(path_type=Path, dir_okay=False),
              help="support.key (support.crt beside it) to open encrypted bundles (*.cms).")
@click.option("--as", "as_type", cls=_EvidenceTypeOption, metavar="TYPE")
@click.option("--node", "node", metavar="NAME",
              help="The node loose evidence came from (default: one node, 'pasted evidence').")
def analyze(paths: tuple[Path, ...], fmt: str | None, output: Path | None, force: bool,
            fail_on: str | None, baseline: Path | None, fail_on_new: str | None, waivers: Path | None,
            rule_dirs: tuple[Path, ...], config_file: Path | None, separate: bool, one_cluster: bool,
            quiet: bool, key: Path | None, as_type: str | None, node: str | None) -> None:
    """Analyze bundles: tarballs, unpacked folders, or folders of bundles (one per node); or loose
    evidence: logs, command outputs, a pasted ticket (`-` reads stdin), a folder of such files.

    Several PATHS are the nodes of one cluster. Without -o or --format, prints a one-screen
    summary. Exit codes: 0 done, 1 findings at or above --fail-on (or new ones at or above
    --fail-on-new), 2 bad usage, unreadable input, or input not understood as evidence at all.
    """
    from .report import analyze as run_analysis  # heavy: imported when a command needs it
    from .report import analyze_clusters, load_baseline
    from .trust import decrypted
    from .waivers import apply_waivers, load_waivers

    config = _config(config_file)
    waivers = waivers or config.waivers
    fail_on = fail_on or config.fail_on
    if output is None and fmt is None:
        fmt = config.format
    if output is not None:
        fmt = _output_format(output, fmt, [*paths, *(p for p in (waivers, key) if p)])
    if fail_on_new and baseline is None:
        fail("--fail-on-new needs --baseline PREVIOUS.json")
    if separate:
        _check_separate(fmt, output, baseline, one_cluster)
    stdin = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1) if Path("-") in paths else None
    if stdin is not None and len(stdin) > MAX_STDIN_BYTES:
        fail(f"stdin: more than {MAX_STDIN_BYTES} bytes; save it to a file and analyze the file")
    big = input_size(paths, PROGRESS_MIN_BYTES) >= PROGRESS_MIN_BYTES
    printer = ProgressPrinter(enabled=big and not quiet)
    try:
        previous = load_baseline(baseline) if baseline else None
        accepted = load_waivers(waivers) if waivers else []
        custom = _custom_rules([*config.rules, *rule_dirs])
        with listening(printer):
            with decrypted(list(paths), key) as plain_paths:
                reports = (analyze_clusters(plain_paths, as_type, node, stdin, custom) if separate else
                           [("", run_analysis(plain_paths, as_type, node, stdin, one_cluster, custom))])
            shown = {str(plain): str(path) for plain, path in zip(plain_paths, paths, strict=True)}
            texts: list[str] = []
            for _, report in reports:
                for facts in report.view.nodes:  # the user's FILE.cms, not its decrypted temp copy
                    facts.bundle_source = shown.get(facts.bundle_source, facts.bundle_source)
                report.baseline = previous
                report.waived, lapsed = apply_waivers(report.findings, accepted, dt.date.today())
                report.view.problems.extend(lapsed)
                if fmt:
                    printer("rendering " + fmt, None)
                    texts.append(render(report, fmt))
    except InputError as exc:
        fail(str(exc))
    codes = []
    several = len(reports) > 1
    for n, (name, report) in enumerate(reports):
        target = output
        if several and output is not None:
            target = output.with_name(f"{output.stem}.{name}{output.suffix}")
        elif several:  # one section per cluster; the name is made of safe characters (clusters.py)
            heading = f"cluster {n + 1} of {len(reports)}: {name}"
            heading = f"# C{heading[1:]}\n\n" if fmt == "md" else f"== {heading} ==\n"
            click.echo(("\n" if n else "") + heading, nl=False)
        _deliver(report, fmt, texts[n] if fmt else "", target, quiet)
        codes.append(_exit_code(report, fail_on, fail_on_new))
    if max(codes):
        sys.exit(max(codes))


def _check_separate(fmt: str | None, output: Path | None, baseline: Path | None, one_cluster: bool) -> None:
    """--separate makes several reports: on stdout only as readable sections, with one baseline never."""
    if one_cluster:
        fail("--separate and --one-cluster contradict each other: choose one")
    if baseline is not None:
        fail("--baseline compares one report: analyze that cluster's bundles without --separate")
    if output is None and fmt not in (None, "text", "md"):
        fail(f"--separate writes one {fmt} report per cluster: give -o FILE (each cluster's name is added "
             "before the suffix)")


def _deliver(report: Report, fmt: str | None, text: str, output: Path | None, quiet: bool) -> None:
    """The summary on stdout, the report on stdout, or the report in its file."""
    if fmt is None:
        # on a terminal (or with COLUMNS set), fit the screen; piped into a file or a ticket, keep
        # titles whole
        fit = sys.stdout.isatty() or "COLUMNS" in os.environ
        width = min(shutil.get_terminal_size((100, 24)).columns, 160) if fit else 10_000
        click.echo(summary(report, width), nl=False)
    elif output is None:
        click.echo(text, nl=False)
    else:
        _write_atomically(output, text)
        if not quiet:
            click.echo(f"{report.verdict}: {len(report.findings)} finding(s); report written to "
                       f"{one_line(str(output))}",
                       err=True)


def _exit_code(report: Report, fail_on: str | None, fail_on_new: str | None) -> int:
    """2: nothing was read as evidence (never let CI take that as a pass); 1: findings at or above
    --fail-on, or new ones at or above --fail-on-new; else 0."""
    if report.judgement.kind == "not-understood":
        return 2
    if fail_on and any(f.severity.at_least(Severity(fail_on)) for f in report.active):
        return 1
    delta = report.delta
    if fail_on_new and delta and any(f.severity.at_least(Severity(fail_on_new)) and f.key not in report.waived
                                     for f in delta.new):
        return 1
    return 0


def _config(path: Path | None) -> Config:
    """kubetriage.yaml (named, or in the current folder), or exit 2 with one line."""
    from .config import load_config

    try:
        return load_config(path)
    except InputError as exc:
        fail(str(exc))
        raise  # fail() exits: for the type checker


def _custom_rules(folders: list[Path]) -> CustomRules | None:
    """The custom rules of the folders (None without any); InputError when a file is wrong."""
    if not folders:
        return None
    from .custom import load_rules

    return load_rules(folders)


# -- discoverability ---------------------------------------------------------------------------------
@main.command("rules")
@click.argument("rule_id", required=False, metavar="[ID]")
@click.option("--rules", "rule_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              metavar="DIR", help="Also list (or explain) the custom rules of this folder; repeatable.")
@click.option("--test", "test_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              metavar="DIR", help="Validate the custom rules of this folder and analyze each rule's "
                                  "examples: PASS/FAIL per rule, exit 1 on a failure; repeatable.")
@click.option("--config", "config_file", type=click.Path(path_type=Path, dir_okay=False),
              help="Settings file (default: ./kubetriage.yaml if present): its rules folders are listed too.")
def rules_command(rule_id: str | None, rule_dirs: tuple[Path, ...], test_dirs: tuple[Path, ...],
                  config_file: Path | None) -> None:
    """List every rule (id, severity, category, title), or explain one: what it checks and which
    evidence it needs (docs/rules.md has the built-in ones, generated; docs/custom-rules.md says how
    to write your own)."""
    from .rules import all_rules

    if test_dirs:
        _test_rules(list(test_dirs))
        return
    try:
        custom = _custom_rules([*_config(config_file).rules, *rule_dirs])
    except InputError as exc:
        fail(str(exc))
    known = [*all_rules(), *(custom.checks if custom else ())]
    if rule_id is None:
        width = max(len(r.id) for r in known)
        for r in known:
            click.echo(one_line(f"{r.id:<{width}}  {r.severity.value:<8}  {r.category.value:<18}  {r.title}"
                                + (f"  (custom: {r.source})" if r.source else "")))
        return
    chosen = next((r for r in known if r.id == rule_id.upper()), None)
    if chosen is None:
        close = [r.id for r in known if rule_id.upper() in r.id]
        fail(f"no rule {visible(rule_id)!r}" + (f"; did you mean {', '.join(close[:5])}?" if close else
                                                 "; `kubetriage rules` lists them"))
        return
    click.echo(visible(f"{chosen.id}  ({chosen.severity.value}, {chosen.category.value})\n{chosen.title}\n\n"
                       f"checks: {chosen.checks}\n"
                       f"needs any of: {', '.join(chosen.needs)}\n"
                       "(without any of them in the evidence, the report lists the rule as not checked)"))
    mine = next((c for c in custom.rules if c.id == chosen.id), None) if custom else None
    if mine is not None:
        fix = mine.remediation
        click.echo(visible(f"\ncustom rule from {mine.path}\nremediation: {fix.text}"
                           + "".join(f"\n  check first: {c}" for c in fix.diagnose)
                           + "".join(f"\n  fix: {c}" for c in fix.commands)
                           + (f"\n  DESTRUCTIVE, only {fix.destructive_when}:" if fix.destructive else "")
                           + "".join(f"\n    {c}" for c in fix.destructive)
                           + (f"\nknowledge base: {fix.link}" if fix.link else "")))


def _test_rules(folders: list[Path]) -> None:
    """`rules --test`: every rule file valid, and every example found (or not) as it says."""
    from .custom import run_examples

    try:
        custom = _custom_rules(folders)
    except InputError as exc:
        fail(str(exc))
    assert custom is not None
    failed = 0
    for rule in custom.rules:
        try:
            problems = run_examples(rule)
        except InputError as exc:  # an example the reader refuses (too large, binary)
            problems = [str(exc)]
        verdict = "FAIL" if problems else "PASS"
        click.echo(one_line(f"{verdict}  {rule.id}  ({len(rule.examples)} example(s), {rule.path})"))
        for problem in problems:
            click.echo(f"      {one_line(problem)}")
        failed += bool(problems)
    click.echo(f"{len(custom.rules) - failed} passed, {failed} failed")
    if failed:
        sys.exit(1)


@main.command("types")
def types_command() -> None:
    """List the evidence types `kubetriage analyze` reads in loose files and pastes (docs/evidence.md
    shows a real example of each)."""
    from .evidence.types import TYPES

    width = max(len(name) for name in TYPES)
    for evidence in TYPES.values():
        click.echo(f"{evidence.name:<{width}}  {evidence.item_id:<24}  {evidence.what}")


# -- browsing: what the customer sent, as files -----------------------------------------------------
def _bundles_of(paths: tuple[Path, ...]) -> list[Bundle]:
    """Every kubetriage bundle the paths name (a folder of bundles gives each), or exit 2."""
    opened: list[Bundle] = []
    try:
        for path in discover(list(paths)):
            opened.append(open_bundle(path))
    except InputError as exc:
        for bundle in opened:
            bundle.close()
        fail(str(exc))
    return opened


def _echo_lines(rows: Iterable[str]) -> int:
    """Print rows; a reader that went away (`| head`) ends the command quietly. Returns the count."""
    count = 0
    try:
        for row in rows:
            click.echo(row)
            count += 1
    except BrokenPipeError:
        sys.stderr.close()  # nothing more can be said; keep Python from complaining at exit
        os._exit(0 if count else 1)
    return count


@main.command()
@click.argument("bundle", type=click.Path(path_type=Path))
@click.argument("item", required=False)
def show(bundle: Path, item: str | None) -> None:
    """List a bundle's items and what became of each, or print ITEM (an item id such as
    `etcd.endpoint_status`, or a path inside the bundle) with line numbers.

    BUNDLE is a node's tarball, its unpacked folder, or a folder of several nodes' bundles.
    """
    for opened in _bundles_of((bundle,)):
        try:
            if item is None:
                _echo_lines(listing(opened))
                continue
            chosen = members(opened, item)
            if not chosen:
                fail(f"{opened.source}: no item or file {visible(item)!r}; `kubetriage show "
                     f"{opened.source}` lists them")
            for member in chosen:
                _echo_lines([f"==> {one_line(opened.node)}: {one_line(member.path)} <=="])
                _echo_lines(f"{n:>6}  {text}" for n, text in lines(opened, member.path))
        except InputError as exc:
            fail(str(exc))
        finally:
            opened.close()


@main.command("grep")
@click.argument("pattern")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--ignore-case", "-i", is_flag=True, help="Match upper and lower case alike.")
@click.option("--fixed-strings", "-F", is_flag=True, help="PATTERN is plain text, not a regular expression.")
@click.option("--item", metavar="ID", help="Search only this item id (or path inside the bundle).")
def grep_command(pattern: str, paths: tuple[Path, ...], ignore_case: bool, fixed_strings: bool,
                 item: str | None) -> None:
    """Search every item of the bundles (Python regular expression); print BUNDLE:PATH:LINE: TEXT.

    Exit codes, as grep's: 0 lines found, 1 none, 2 bad pattern or unreadable input.
    """
    try:
        regex = re.compile(re.escape(pattern) if fixed_strings else pattern,
                           re.IGNORECASE if ignore_case else 0)
    except re.error as exc:
        fail(f"bad pattern {visible(pattern)!r}: {exc}")
    found = 0
    for opened in _bundles_of(paths):
        try:
            found += _echo_lines(grep(opened, regex, item))
        except InputError as exc:
            fail(str(exc))
        finally:
            opened.close()
    sys.exit(0 if found else 1)


@main.command("redact")
@click.argument("bundle", type=click.Path(path_type=Path))
@click.option("--output", "-o", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The new bundle (.tar.gz); the input is never changed.")
@click.option("--obfuscate", metavar="hostnames,ips", default="",
              help="Also replace hostnames and/or IPv4 addresses with consistent tokens.")
@click.option("--obfuscate-key-file", type=click.Path(path_type=Path, dir_okay=False),
              help="File holding the run key: the same key gives the same tokens on every node.")
def redact_command(bundle: Path, output: Path, obfuscate: str, obfuscate_key_file: Path | None) -> None:
    """Apply today's redaction (and obfuscation) to a bundle collected earlier, as a new bundle.

    Every item goes through the collector's secret finder; certificate items keep their
    CERTIFICATE blocks only. Prints what was redacted, the new archive's SHA-256, and what a
    secret scan still finds in it (exit 1 then). Exit 2: unreadable input or unwritable output.
    """
    from .redact import redact_bundle

    kinds = [k for k in obfuscate.split(",") if k]
    unknown = sorted(set(kinds) - {"hostnames", "ips"})
    if unknown:
        fail(f"--obfuscate takes hostnames and/or ips, not {', '.join(map(repr, unknown))}")
    if kinds and obfuscate_key_file is None:
        fail("--obfuscate needs --obfuscate-key-file (the same key for every node of one cluster)")
    if not output.name.endswith((".tar.gz", ".tgz")):
        fail(f"{visible(str(output))}: the output is a bundle, name it *.tar.gz")
    if output.exists() and output.resolve() == bundle.resolve():
        fail("the output would replace the input: write the redacted bundle to another file")
    found = _bundles_of((bundle,))
    if len(found) != 1:
        for extra in found:
            extra.close()
        fail(f"{visible(str(bundle))} holds {len(found)} bundles: redact one node's bundle at a time")
    opened = found[0]
    try:
        key = obfuscate_key_file.read_bytes().strip() if obfuscate_key_file else b""
        done = redact_bundle(opened, output, kinds, key)
    except OSError as exc:
        fail(f"{obfuscate_key_file}: cannot read the key ({exc.strerror})")
        return
    except InputError as exc:
        fail(str(exc))
        return
    finally:
        opened.close()
    for item_id, count in sorted(done.by_item.items()):
        click.echo(f"redacted {count} in {item_id}")
    click.echo(f"{done.total} redaction(s); written {visible(str(output))}")
    if done.map_path:
        click.echo(f"obfuscation map (keep it, do not send it): {visible(str(done.map_path))}")
    click.echo(f"sha256 {done.sha256}  {visible(output.name)}")
    for member, line, kind in done.remaining:
        click.echo(f"still secret-shaped: {visible(member)}:{line}: {kind}")
    if done.remaining:
        sys.exit(1)


# -- trust: verify before sending, decrypt and keys for support ------------------------------------
@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--key", type=click.Path(path_type=Path, dir_okay=False),
              help="support.key, to verify encrypted bundles (*.cms).")
def verify(paths: tuple[Path, ...], key: Path | None) -> None:
    """Check bundles before sending or opening them: per-file SHA-256 and sizes against the
    manifest, and no secret-shaped content (private keys, tokens, cloud keys, passwords).

    Prints FILE:LINE: KIND for each suspect and the archive's SHA-256 (compare it with the one
    the collector printed). Exit codes: 0 clean, 1 problems found, 2 unreadable input.
    """
    from .trust import verify_paths

    try:
        results = verify_paths(list(discover(list(paths))), key)
    except InputError as exc:
        fail(str(exc))
    for result in results:
        source = one_line(str(result.source))
        for problem in result.integrity:
            click.echo(f"{source}: integrity: {one_line(problem)}")
        for hit in result.secrets:
            click.echo(f"{source}: {one_line(hit.member)}:{hit.line}: {one_line(hit.kind)}")
        verdict = "ok" if result.ok else (f"{len(result.secrets)} secret-shaped string(s), "
                                           f"{len(result.integrity)} integrity problem(s)")
        click.echo(f"{source}: {verdict}")
        # the collector's own line, character for character: compare the two by eye or with diff
        click.echo(f"sha256 {result.archive_sha256}  {one_line(result.source.name)}" if result.archive_sha256
                   else f"sha256 (none: {source} is a folder, not an archive)")
    if not all(r.ok for r in results):
        sys.exit(1)


@main.command()
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--key", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="support.key (support.crt beside it).")
@click.option("--output", "-o", type=click.Path(path_type=Path, dir_okay=False),
              help="Where to write the plain tarball (default: PATH without .cms).")
def decrypt(path: Path, key: Path, output: Path | None) -> None:
    """Decrypt a bundle the collector encrypted with --encrypt-to (written 0600)."""
    from .trust import CMS_SUFFIX, decrypt_file, is_encrypted, load_support_key, write_private

    target = output or path.with_name(path.name.removesuffix(CMS_SUFFIX) if is_encrypted(path)
                                      else path.name + ".tar.gz")
    try:
        if target.exists():
            raise InputError(f"{target} exists: refusing to overwrite it")
        write_private(target, decrypt_file(path, load_support_key(key)))
    except InputError as exc:
        fail(str(exc))
    except OSError as exc:  # a missing folder, no permission, a full disk
        fail(f"cannot write {target}: {exc.strerror or exc}")
    click.echo(one_line(str(target)))


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for support.key (0600, keep it) and support.crt (give it to customers).")
def keygen(out_dir: Path) -> None:
    """Make support's key pair and the self-signed certificate customers encrypt bundles to."""
    from .trust import keygen as make_keys

    try:
        key_path, cert_path = make_keys(out_dir)
    except InputError as exc:
        fail(str(exc))
    click.echo(f"private key (keep it): {key_path}\ncertificate (send it): {cert_path}")


class Interrupted(BaseException):
    """Ctrl-C: unwinds like KeyboardInterrupt (temporary files are removed on the way), but click does
    not turn it into "Aborted!" and exit 1, the code of findings at or above --fail-on."""


def _interrupt(signum: int, frame: object) -> None:
    raise Interrupted


def run() -> None:
    """Console entry point: a bug still ends in one line, not a traceback (KUBETRIAGE_DEBUG=1 shows it);
    Ctrl-C ends in one line and exit 130, as in a shell."""
    signal.signal(signal.SIGINT, _interrupt)
    try:
        main(standalone_mode=True)
    except Interrupted:
        click.echo("kubetriage: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - last resort: click handled usage errors already
        if os.environ.get("KUBETRIAGE_DEBUG"):
            raise
        reason = one_line(" ".join(str(exc).split())[:300])
        click.echo(f"kubetriage: internal error: {type(exc).__name__}: {reason} "
                   "(please report it; KUBETRIAGE_DEBUG=1 shows the traceback)", err=True)
        sys.exit(3)
