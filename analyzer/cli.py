"""The `kubetriage` command line: collect on a node, analyze bundles anywhere."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import click

from . import __version__
from .bundle import discover
from .errors import InputError
from .evidence.types import TYPES as LOOSE_TYPES
from .findings import Severity
from .progress import listening
from .render import FORMATS, render
from .render.terminal import ProgressPrinter, input_size, summary
from .report import analyze as run_analysis
from .report import load_baseline
from .trust import (
    CMS_SUFFIX,
    decrypt_file,
    decrypted,
    is_encrypted,
    load_support_key,
    verify_paths,
    write_private,
)
from .trust import keygen as make_keys

SEVERITIES = [s.value for s in Severity]
SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json",
                  ".sarif": "sarif", ".xml": "junit"}
#: inputs at least this big get progress lines on stderr
PROGRESS_MIN_BYTES = 32 * 1024 * 1024
#: a paste on stdin is read whole, up to this much
MAX_STDIN_BYTES = 64 * 1024 * 1024


def fail(message: str) -> None:
    """One clear line on stderr, exit code 2: the input or the usage was wrong."""
    one_line = " ".join(message.split())
    click.echo(f"kubetriage: error: {one_line}", err=True)
    sys.exit(2)


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

    sys.exit(collector_main(list(args)))  # type: ignore[no-untyped-call]


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--format", "-f", "fmt", type=click.Choice(FORMATS),
              help="Report format (default: from the -o suffix; without -o, a summary on stdout).")
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Write the report to this file instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@click.option("--fail-on", type=click.Choice(SEVERITIES),
              help="Exit 1 when any finding is at least this severe (for CI).")
@click.option("--baseline", type=click.Path(path_type=Path, dir_okay=False),
              help="A previous --format json report: mark findings new / unchanged / resolved.")
@click.option("--fail-on-new", type=click.Choice(SEVERITIES),
              help="With --baseline: exit 1 when any NEW finding is at least this severe.")
@click.option("--quiet", "-q", is_flag=True, help="No progress or status lines on stderr.")
@click.option("--key", type=click.Path(path_type=Path, dir_okay=False),
              help="support.key (support.crt beside it) to open encrypted bundles (*.cms).")
@click.option("--as", "as_type", type=click.Choice(list(LOOSE_TYPES)), metavar="TYPE",
              help="Type of loose evidence files (a log or command output rather than a bundle), "
                   "instead of detecting it: " + ", ".join(LOOSE_TYPES) + ".")
@click.option("--node", "node", metavar="NAME",
              help="The node loose evidence came from (default: one node, 'pasted evidence').")
def analyze(paths: tuple[Path, ...], fmt: str | None, output: Path | None, force: bool,
            fail_on: str | None, baseline: Path | None, fail_on_new: str | None, quiet: bool,
            key: Path | None, as_type: str | None, node: str | None) -> None:
    """Analyze bundles: tarballs, unpacked folders, or folders of bundles (one per node); or loose
    evidence: logs, command outputs, a pasted ticket (`-` reads stdin), a folder of such files.

    Several PATHS are the nodes of one cluster. Without -o or --format, prints a one-screen
    summary. Exit codes: 0 done, 1 findings at or above --fail-on (or new ones at or above
    --fail-on-new), 2 bad usage or unreadable input.
    """
    if output is not None:
        if output.exists() and not force:
            fail(f"{output} exists; use --force to overwrite it")
        fmt = fmt or SUFFIX_FORMATS.get(output.suffix.lower())
        if fmt is None:
            fail(f"cannot tell the format from {output.name!r}; pass --format {'|'.join(FORMATS)}")
    if fail_on_new and baseline is None:
        fail("--fail-on-new needs --baseline PREVIOUS.json")
    stdin = sys.stdin.buffer.read(MAX_STDIN_BYTES + 1) if Path("-") in paths else None
    if stdin is not None and len(stdin) > MAX_STDIN_BYTES:
        fail(f"stdin: more than {MAX_STDIN_BYTES} bytes; save it to a file and analyze the file")
    big = input_size(paths, PROGRESS_MIN_BYTES) >= PROGRESS_MIN_BYTES
    printer = ProgressPrinter(enabled=big and not quiet)
    try:
        previous = load_baseline(baseline) if baseline else None
        with listening(printer):
            with decrypted(list(paths), key) as plain_paths:
                report = run_analysis(plain_paths, as_type, node, stdin)
            shown = {str(plain): str(path) for plain, path in zip(plain_paths, paths, strict=True)}
            for facts in report.view.nodes:  # the user's FILE.cms, not its decrypted temp copy
                facts.bundle_source = shown.get(facts.bundle_source, facts.bundle_source)
            report.baseline = previous
            if fmt:
                printer("rendering " + fmt, None)
                text = render(report, fmt)
    except InputError as exc:
        fail(str(exc))
    if fmt is None:
        # on a terminal (or with COLUMNS set), fit the screen; piped into a file or a ticket, keep
        # titles whole
        fit = sys.stdout.isatty() or "COLUMNS" in os.environ
        width = min(shutil.get_terminal_size((100, 24)).columns, 160) if fit else 10_000
        click.echo(summary(report, width), nl=False)
    elif output is None:
        click.echo(text, nl=False)
    else:
        tmp = output.with_name(f".{output.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, output)
        if not quiet:
            click.echo(f"{report.verdict}: {len(report.findings)} finding(s); report written to {output}",
                       err=True)
    if fail_on and report.worst and report.worst.at_least(Severity(fail_on)):
        sys.exit(1)
    delta = report.delta
    if fail_on_new and delta and any(f.severity.at_least(Severity(fail_on_new)) for f in delta.new):
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
    try:
        results = verify_paths(list(discover(list(paths))), key)
    except InputError as exc:
        fail(str(exc))
    for result in results:
        for problem in result.integrity:
            click.echo(f"{result.source}: integrity: {problem}")
        for hit in result.secrets:
            click.echo(f"{result.source}: {hit.member}:{hit.line}: {hit.kind}")
        verdict = "ok" if result.ok else (f"{len(result.secrets)} secret-shaped string(s), "
                                           f"{len(result.integrity)} integrity problem(s)")
        click.echo(f"{result.source}: {verdict}; sha256 {result.archive_sha256 or '(a folder)'}")
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
    target = output or path.with_name(path.name.removesuffix(CMS_SUFFIX) if is_encrypted(path)
                                      else path.name + ".tar.gz")
    try:
        if target.exists():
            raise InputError(f"{target} exists: refusing to overwrite it")
        write_private(target, decrypt_file(path, load_support_key(key)))
    except InputError as exc:
        fail(str(exc))
    click.echo(str(target))


@main.command()
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder for support.key (0600, keep it) and support.crt (give it to customers).")
def keygen(out_dir: Path) -> None:
    """Make support's key pair and the self-signed certificate customers encrypt bundles to."""
    try:
        key_path, cert_path = make_keys(out_dir)
    except InputError as exc:
        fail(str(exc))
    click.echo(f"private key (keep it): {key_path}\ncertificate (send it): {cert_path}")


def run() -> None:
    """Console entry point: a bug still ends in one line, not a traceback (KUBETRIAGE_DEBUG=1 shows it)."""
    try:
        main(standalone_mode=True)
    except Exception as exc:  # noqa: BLE001 - last resort: click handled usage errors already
        if os.environ.get("KUBETRIAGE_DEBUG"):
            raise
        click.echo(f"kubetriage: internal error: {type(exc).__name__}: {' '.join(str(exc).split())[:300]} "
                   "(please report it; KUBETRIAGE_DEBUG=1 shows the traceback)", err=True)
        sys.exit(3)
