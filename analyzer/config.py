"""kubetriage.yaml: a team's defaults for `analyze` and `rules` (custom rule folders, waivers, fail-on,
format), found in the current folder or named with --config. Options on the command line win.

    rules: [rules/, /srv/kb/kubetriage-rules]   # folders of custom rule files
    waivers: waivers.yaml
    fail-on: error
    format: md                                  # when neither --format nor -o says

Relative paths are relative to the file, so one config works from any folder that names it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import read_bounded
from .validate import load_yaml_file, validate

CONFIG_NAME = "kubetriage.yaml"
MAX_CONFIG_BYTES = 64 * 1024


@dataclass(frozen=True)
class Config:
    """The settings of one config file (all empty without one)."""

    source: Path | None = None
    rules: tuple[Path, ...] = ()
    waivers: Path | None = None
    fail_on: str | None = None
    format: str | None = None


def load_config(path: Path | None) -> Config:
    """The file named, else ./kubetriage.yaml if there is one; InputError (one line) when it is bad."""
    if path is None:
        path = Path(CONFIG_NAME)
        if not path.is_file():
            return Config()
    where = f"config {path}"
    doc = load_yaml_file(read_bounded(path, MAX_CONFIG_BYTES, "config"), where)
    if doc is None:  # an empty file: no settings
        return Config(path)
    validate(doc, "config.schema.json", where)
    assert isinstance(doc, dict)
    home = path.parent
    waivers = doc.get("waivers")
    return Config(path, tuple(home / p for p in doc.get("rules", ())), home / waivers if waivers else None,
                  doc.get("fail-on"), doc.get("format"))
