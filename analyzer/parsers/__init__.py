"""Parsers: each turns one kind of collected text into typed objects, never raising on bad input."""
