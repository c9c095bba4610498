"""Hostile bundles: archives built to hurt the analyst (traversal, links, bombs, malformed content)."""
