"""Errors the CLI turns into one line on stderr and exit code 2."""


class InputError(Exception):
    """The user's input cannot be read as evidence (missing path, not a bundle, unsafe archive)."""
