"""The `kubetriage` command line: collect on a node, analyze bundles anywhere."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from . import __version__
from .errors import InputError
from .findings import Severity
from .render import FORMATS, render
from .report import analyze as run_analysis

SEVERITIES = [s.value for s in Severity]
SUFFIX_FORMATS = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".json": "json"}


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
              help="Report format (default: from the -o suffix, else md on stdout).")
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Write the report to this file instead of stdout.")
@click.option("--force", is_flag=True, help="Overwrite --output if it exists.")
@click.option("--fail-on", type=click.Choice(SEVERITIES),
              help="Exit 1 when any finding is at least this severe (for CI).")
def analyze(paths: tuple[Path, ...], fmt: str | None, output: Path | None, force: bool,
            fail_on: str | None) -> None:
    """Analyze bundles: tarballs, unpacked folders, or folders of bundles (one per node).

    Several PATHS are the nodes of one cluster. Exit codes: 0 done, 1 findings at or above
    --fail-on, 2 bad usage or unreadable input.
    """
    if output is not None:
        if output.exists() and not force:
            fail(f"{output} exists; use --force to overwrite it")
        fmt = fmt or SUFFIX_FORMATS.get(output.suffix.lower())
        if fmt is None:
            fail(f"cannot tell the format from {output.name!r}; pass --format {'|'.join(FORMATS)}")
    try:
        report = run_analysis(list(paths))
    except InputError as exc:
        fail(str(exc))
    text = render(report, fmt or "md")
    if output is None:
        click.echo(text, nl=False)
    else:
        tmp = output.with_name(f".{output.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        os.replace(tmp, output)
        click.echo(f"{report.verdict}: {len(report.findings)} finding(s); report written to {output}",
                   err=True)
    if fail_on and report.worst and report.worst.at_least(Severity(fail_on)):
        sys.exit(1)
