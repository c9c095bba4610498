"""Errors the CLI turns into one line on stderr and exit code 2."""

from pathlib import Path


class InputError(Exception):
    """The user's input cannot be read as evidence (missing path, not a bundle, unsafe archive)."""


def read_bounded(path: Path, limit: int, what: str) -> bytes:
    """A small input file the user named (a baseline, a waivers file), read whole up to `limit` bytes;
    InputError naming `what` when it cannot be read or is larger."""
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise InputError(f"{what} {path}: cannot read it ({exc.strerror})") from exc
    if len(data) > limit:
        raise InputError(f"{what} {path}: larger than {limit} bytes")
    return data
