"""Score the analyzer on the real-evidence corpus (tests/corpus/README.md).

    python -m benchmarks.corpus [DIR ...]        # default: tests/corpus
    python -m benchmarks.corpus --update-floor   # after an improvement: store the level reached
    python -m benchmarks.corpus --unread-as klog # also score unread items as plain logs (`--as klog`)

Each item is analyzed as a user analyzes it, `kubetriage analyze ITEM --format json` (in-process,
through the click app). A fault item is a hit when a finding of its category is at least a warning,
and, counted apart, when it is at least the item's own severity. A healthy item with an error or
critical finding is a false alarm. Holdout items (`holdout: true`) measure how well the knowledge
generalises: their results are printed as numbers only, never by name. `--unread-as TYPE` scores
the items no reader recognises once more with `--as TYPE`: it measures the knowledge apart from the
readers (a diagnostic, printed apart; the floor and the test never use it).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from click.testing import CliRunner

from analyzer.cli import main as cli
from analyzer.findings import Category, Severity

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "tests" / "corpus"
FLOOR = Path(__file__).with_name("corpus_floor.json")
CATEGORIES = tuple(c.value for c in Category)
ALARM = Severity.ERROR


@dataclass(frozen=True)
class Item:
    """One corpus item: its evidence file and what a careful engineer concludes from it."""

    evidence: Path
    expect: str
    category: str
    severity: Severity
    reason: str
    holdout: bool

    @property
    def name(self) -> str:
        return f"{self.evidence.parent.name}/{self.evidence.name}"


@dataclass(frozen=True)
class Seen:
    """One finding as the JSON report states it."""

    id: str
    category: str
    severity: Severity


@dataclass(frozen=True)
class Outcome:
    """What the analyzer made of one item."""

    item: Item
    #: 'read', 'unread' (not understood: no known evidence type), 'forced' (read only with --as) or
    #: 'failed' (any other error)
    status: str
    findings: tuple[Seen, ...]
    error: str = ""

    def found(self, least: Severity) -> bool:
        return any(f.category == self.item.category and f.severity.at_least(least) for f in self.findings)

    @property
    def hit(self) -> bool:
        return self.found(Severity.WARNING)

    @property
    def hit_at_severity(self) -> bool:
        return self.found(self.item.severity)

    @property
    def false_alarm(self) -> bool:
        return self.item.expect == "healthy" and any(f.severity.at_least(ALARM) for f in self.findings)


def load_items(dirs: Iterable[Path]) -> list[Item]:
    """Every item under the folders: a `<slug>.yaml` with one evidence file of the same slug."""
    items = []
    for folder in dirs:
        for meta_path in sorted(folder.rglob("*.yaml")):
            evidence = [p for p in meta_path.parent.glob(meta_path.stem + ".*")
                        if p.suffix != ".yaml" and p.stem == meta_path.stem]
            if len(evidence) != 1:
                raise SystemExit(f"{meta_path}: expected one evidence file beside it, found {len(evidence)}")
            try:
                meta = yaml.safe_load(meta_path.read_text(encoding="utf-8"))
            except yaml.YAMLError as exc:
                raise SystemExit(f"{meta_path}: not YAML: {' '.join(str(exc).split())}") from None
            expect = str(meta.get("expect", ""))
            if expect not in ("fault", "healthy"):
                raise SystemExit(f"{meta_path}: expect must be fault or healthy, not {expect!r}")
            category = str(meta.get("category") or "") if expect == "fault" else ""
            if expect == "fault" and category not in CATEGORIES:
                raise SystemExit(f"{meta_path}: unknown category {category!r}")
            items.append(Item(evidence[0], expect, category,
                              Severity(meta.get("severity") or "warning"),
                              str(meta.get("reason", "")), bool(meta.get("holdout", False))))
    return items


def analyze(item: Item, runner: CliRunner, as_type: str | None = None) -> Outcome:
    forced = ["--as", as_type] if as_type else []
    result = runner.invoke(cli, ["analyze", str(item.evidence), "--format", "json", "--quiet", *forced])
    if result.exit_code == 2 and '"not-understood"' in result.stdout:
        return Outcome(item, "unread", (), json.loads(result.stdout)["verdict"]["summary"])
    if result.exit_code != 0:
        error = (result.stderr or str(result.exception or "")).strip()
        status = "unread" if "unknown evidence type" in error else "failed"
        last = error.splitlines()[-1].split(" (use --as")[0] if error else f"exit {result.exit_code}"
        last = last.removeprefix("kubetriage: error: ").removeprefix(f"{item.evidence}: ")
        return Outcome(item, status, (), last)
    report = json.loads(result.stdout)
    seen = tuple(Seen(f["id"], f["category"], Severity(f["severity"])) for f in report["findings"])
    return Outcome(item, "forced" if as_type else "read", seen)


def score(items: Sequence[Item], unread_as: str | None = None) -> list[Outcome]:
    runner = CliRunner()
    outcomes = [analyze(item, runner) for item in items]
    if unread_as:
        outcomes = [analyze(o.item, runner, unread_as) if o.status == "unread" else o for o in outcomes]
    return outcomes


@dataclass
class Tally:
    """Per category: items, hits at warning, hits at the item's severity."""

    items: int = 0
    hits: int = 0
    hits_at_severity: int = 0
    missed: list[Outcome] = field(default_factory=list)

    @property
    def recall(self) -> float:
        return self.hits / self.items if self.items else 1.0

    @property
    def recall_at_severity(self) -> float:
        return self.hits_at_severity / self.items if self.items else 1.0


def tally(outcomes: Iterable[Outcome]) -> dict[str, Tally]:
    """Fault items per category, plus 'all'."""
    tallies: dict[str, Tally] = {}
    for outcome in outcomes:
        if outcome.item.expect != "fault":
            continue
        for key in (outcome.item.category, "all"):
            t = tallies.setdefault(key, Tally())
            t.items += 1
            t.hits += outcome.hit
            t.hits_at_severity += outcome.hit_at_severity
            if not outcome.hit and key != "all":
                t.missed.append(outcome)
    return tallies


def _pct(part: int, whole: int) -> str:
    return f"{part}/{whole} {100 * part / whole:5.1f}%" if whole else "-"


def render(outcomes: Sequence[Outcome], title: str, names: bool) -> str:
    """The per-category table; with `names`, the missed, false-alarm and unread items by name."""
    faults = [o for o in outcomes if o.item.expect == "fault"]
    healthy = [o for o in outcomes if o.item.expect == "healthy"]
    unread = [o for o in outcomes if o.status == "unread"]
    failed = [o for o in outcomes if o.status == "failed"]
    alarms = [o for o in healthy if o.false_alarm]
    forced = [o for o in outcomes if o.status == "forced"]
    lines = [f"== {title}: {len(outcomes)} items ({len(faults)} fault, {len(healthy)} healthy); "
             f"{len(unread)} unread, {len(failed)} failed"
             + (f", {len(forced)} read only with --unread-as" if forced else ""),
             f"{'category':<20}{'items':>6}  {'recall >= warning':<20}{'recall >= item severity':<22}"]
    tallies = tally(outcomes)
    for key in (*(c for c in CATEGORIES if c in tallies), "all"):
        t = tallies.get(key, Tally())
        lines.append(f"{key:<20}{t.items:>6}  {_pct(t.hits, t.items):<20}"
                     f"{_pct(t.hits_at_severity, t.items):<22}")
    warned = sum(1 for o in healthy if any(f.severity.at_least(Severity.WARNING) for f in o.findings))
    lines.append(f"{'healthy':<20}{len(healthy):>6}  false alarms (error/critical): {len(alarms)}; "
                 f"with a warning: {warned}")
    if not names:
        return "\n".join(lines)
    for key in CATEGORIES:
        for o in tallies.get(key, Tally()).missed:
            got = ", ".join(f"{f.id}({f.category},{f.severity.value})" for f in o.findings) or "nothing"
            lines.append(f"  missed [{key}] {o.item.name}: {o.item.reason} -- found: {got}")
    for o in faults:
        if o.hit and not o.hit_at_severity:
            lines.append(f"  below severity [{o.item.category}>={o.item.severity.value}] {o.item.name}: "
                         + ", ".join(f"{f.id}({f.severity.value})" for f in o.findings
                                     if f.category == o.item.category))
    for o in alarms:
        lines.append(f"  false alarm {o.item.name}: " + ", ".join(
            f"{f.id}({f.category},{f.severity.value})" for f in o.findings if f.severity.at_least(ALARM)))
    for o in unread + failed:
        lines.append(f"  {o.status} {o.item.name}: {o.error}")
    return "\n".join(lines)


def floor_of(outcomes: Sequence[Outcome]) -> dict[str, float]:
    """The recall (at warning) reached per category: what the test holds the analyzer to."""
    return {k: round(t.recall, 4) for k, t in sorted(tally(outcomes).items())}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.corpus", description=__doc__.split("\n")[0])
    parser.add_argument("dirs", nargs="*", type=Path, default=[CORPUS], metavar="DIR")
    parser.add_argument("--update-floor", action="store_true",
                        help=f"store the non-holdout recall reached in {FLOOR.name}")
    parser.add_argument("--unread-as", metavar="TYPE",
                        help="score unread items again with `--as TYPE` (a diagnostic; not for the floor)")
    args = parser.parse_args(argv)
    if args.update_floor and args.unread_as:
        parser.error("--update-floor measures what users get: without --unread-as")
    outcomes = score(load_items(args.dirs), args.unread_as)
    seen = [o for o in outcomes if not o.item.holdout]
    held = [o for o in outcomes if o.item.holdout]
    print(render(seen, "non-holdout", names=True))
    if held:
        print(render(held, "holdout (numbers only)", names=False))
    if args.update_floor:
        FLOOR.write_text(json.dumps(floor_of(seen), indent=2) + "\n", encoding="utf-8")
        print(f"floor written to {FLOOR}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
