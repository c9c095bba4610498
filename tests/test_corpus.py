"""The real-evidence corpus holds the analyzer to the recall it reached, with no false alarm.

benchmarks/corpus_floor.json stores the non-holdout recall per category; after an improvement,
`python -m benchmarks.corpus --update-floor` raises it. Holdout items are not scored here.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from benchmarks.corpus import CORPUS, FLOOR, floor_of, load_items, main, score, tally

REAL = Path(__file__).parent / "fixtures" / "real"


def test_corpus_recall_holds_and_no_false_alarm() -> None:
    items = [i for i in load_items([CORPUS]) if not i.holdout]
    outcomes = score(items)
    alarms = [o.item.name for o in outcomes if o.false_alarm]
    assert not alarms, f"false alarms on healthy items: {alarms}"
    floor = json.loads(FLOOR.read_text(encoding="utf-8"))
    reached = floor_of(outcomes)
    dropped = {k: (reached.get(k, 0.0), v) for k, v in floor.items() if reached.get(k, 0.0) < v - 1e-9}
    assert not dropped, f"recall (reached, floor) dropped below the floor: {dropped}"


def _item(folder: Path, fixture: str, meta: str) -> None:
    shutil.copy(REAL / fixture, folder / f"{Path(fixture).stem}.log")
    (folder / f"{Path(fixture).stem}.yaml").write_text(meta, encoding="utf-8")


def test_scorer_counts_hits_misses_and_false_alarms(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    """Real fixtures with deliberately right and wrong expectations: the scorer must tell them apart."""
    _item(tmp_path, "klog-apiserver-etcd-refused-k8s-89368.log",
          "expect: fault\ncategory: etcd\nseverity: critical\nreason: etcd refused\nholdout: false\n")
    _item(tmp_path, "klog-scheduler-lost-master-rancher-22384.log",
          "expect: fault\ncategory: ha\nseverity: error\nreason: wrong category on purpose\nholdout: false\n")
    _item(tmp_path, "cri-apiserver-etcd-refused-k8s-107491.log",
          "expect: healthy\nreason: an alarm on purpose\nholdout: false\n")
    _item(tmp_path, "klog-apiserver-bind-in-use-rke2-370.log",
          "expect: fault\ncategory: apiserver\nseverity: critical\nreason: secret\nholdout: true\n")
    outcomes = score(load_items([tmp_path]))
    by_name = {o.item.evidence.stem: o for o in outcomes}
    assert by_name["klog-apiserver-etcd-refused-k8s-89368"].hit_at_severity
    assert not by_name["klog-scheduler-lost-master-rancher-22384"].hit
    assert by_name["cri-apiserver-etcd-refused-k8s-107491"].false_alarm
    seen = tally(o for o in outcomes if not o.item.holdout)
    assert (seen["all"].items, seen["all"].hits) == (2, 1)
    main([str(tmp_path)])
    printed = capsys.readouterr().out
    assert "missed [ha] " in printed and "false alarm " in printed
    assert "holdout (numbers only)" in printed and "rke2-370" not in printed
