"""Control-plane logs: line formats, the signature table, and the one-pass block scanner.

`formats` reads one line of any supported format (wrappers: CRI, docker json-file, journald/syslog;
payloads: klog, etcd zap JSON, capnslog, Go `log`), `signatures` declares what to look for, `scan`
streams a log once and keeps counts, first/last seen, examples and minute counts per signature.
"""
