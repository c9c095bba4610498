"""kubetriage analyzer: bundles -> parsers -> facts -> rules -> findings -> reports."""

__version__ = "0.1.0"
