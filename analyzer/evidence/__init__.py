"""Evidence: the registry of evidence types (types.py), recognising text (recognise.py), splitting a
paste into typed segments (paste.py) and reading loose inputs as a node's pseudo-bundle (reader.py)."""
