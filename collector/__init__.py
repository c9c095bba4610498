"""The node-side collector. `kubetriage_collect.py` is one stdlib-only file that also runs alone."""
