"""Fuzzing the parsers: shared target discovery (targets.py) and an atheris harness (fuzz_parsers.py)."""
