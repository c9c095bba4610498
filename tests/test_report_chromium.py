"""The HTML report in a real headless Chromium, driven over the DevTools protocol (--remote-debugging-pipe):
it renders, fetches nothing, raises no script error, and hostile evidence stays text.

Screenshots go to test-artifacts/ (gitignored).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from analyzer.render import render
from analyzer.report import analyze
from tests.conftest import REPO, SAMPLES
from tests.test_report_formats import HOSTILE_LINE, IMG, SCRIPT, hostile_report

CHROMIUM = shutil.which("chromium")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")]
ARTIFACTS = REPO / "test-artifacts"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
         "--remote-debugging-pipe"]
TIMEOUT = 30.0


def first_sample(*names: str) -> Path:
    return next(SAMPLES / n for n in names if any((SAMPLES / n).glob("*.tar.gz")))


def _high_fd(fd: int) -> int:
    high = fcntl.fcntl(fd, fcntl.F_DUPFD, 10)
    os.close(fd)
    return high


class Browser:
    """Chromium with the DevTools protocol on fds 3 (commands in) and 4 (replies out)."""

    def __init__(self, profile: Path) -> None:
        to_child, self._write = os.pipe()
        self._read, from_child = os.pipe()
        # moved above 4 first, so placing one on fd 3 cannot clobber the other
        to_child, from_child = (_high_fd(fd) for fd in (to_child, from_child))

        def onto_3_and_4() -> None:
            os.dup2(to_child, 3)
            os.dup2(from_child, 4)

        self.proc = subprocess.Popen([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                                     preexec_fn=onto_3_and_4, pass_fds=(3, 4),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_child)
        os.close(from_child)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def _message(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._read], [], [], max(0.0, deadline - time.monotonic()))
            chunk = os.read(self._read, 1 << 20) if ready else b""
            if not chunk:
                raise TimeoutError("no answer from chromium")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message: dict[str, Any] = json.loads(raw)
        return message

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> Any:
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._write, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + TIMEOUT
        while True:
            reply = self._message(deadline)
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, event: str, session: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while not any(e.get("method") == event and e.get("sessionId") == session for e in self.events):
            self.events.append(self._message(deadline))

    def close(self) -> None:
        try:
            self.call("Browser.close")
        except (OSError, TimeoutError, RuntimeError):
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._read)
        os.close(self._write)


class Page:
    """One tab that loaded a file, with what it did while loading."""

    def __init__(self, browser: Browser, path: Path, javascript: bool = True) -> None:
        self.browser = browser
        target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        attached = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})
        self.session = attached["sessionId"]
        for domain in ("Page", "Network", "Runtime", "Log"):
            browser.call(f"{domain}.enable", session=self.session)
        browser.call("Emulation.setDeviceMetricsOverride",
                     {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}, self.session)
        if not javascript:
            browser.call("Emulation.setScriptExecutionDisabled", {"value": True}, self.session)
        self.url = path.as_uri()
        browser.call("Page.navigate", {"url": self.url}, self.session)
        browser.wait_for("Page.loadEventFired", self.session)
        self.eval("1")  # a round trip: events raised while loading have arrived

    def eval(self, expression: str) -> Any:
        result = self.browser.call("Runtime.evaluate", {"expression": expression, "returnByValue": True},
                                   self.session)
        assert "exceptionDetails" not in result, result
        return result["result"].get("value")

    def mine(self, method: str) -> list[dict[str, Any]]:
        return [e["params"] for e in self.browser.events
                if e.get("method") == method and e.get("sessionId") == self.session]

    def requests(self) -> list[str]:
        return [e["request"]["url"] for e in self.mine("Network.requestWillBeSent")]

    def problems(self) -> list[Any]:
        """Script errors, console errors and warnings (CSP violations land there), dialogs."""
        return (self.mine("Runtime.exceptionThrown") + self.mine("Page.javascriptDialogOpening")
                + [e for e in self.mine("Log.entryAdded") if e["entry"]["level"] in ("error", "warning")]
                + [e for e in self.mine("Runtime.consoleAPICalled") if e["type"] in ("error", "warning")])

    def screenshot(self, target: Path) -> bytes:
        height = self.eval("document.documentElement.scrollHeight")
        shot = self.browser.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": 1280, "height": min(int(height), 8000), "scale": 1},
        }, self.session)
        data = base64.b64decode(shot["data"])
        target.parent.mkdir(exist_ok=True)
        target.write_bytes(data)
        return data


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with tempfile.TemporaryDirectory(prefix="kubetriage-chromium-") as profile:
        running = Browser(Path(profile))
        try:
            yield running
        finally:
            running.close()


def write_page(tmp_path: Path, name: str, html: str) -> Path:
    path = tmp_path / name
    path.write_text(html, encoding="utf-8")
    return path


@pytest.mark.parametrize("kind, sample", [
    ("failing", first_sample("cascade-etcd-server-cert-expired", "certificates-expired-apiserver")),
    ("healthy", first_sample("healthy-3-node-ha", "healthy-1-node")),
])
def test_report_renders_offline_without_errors(browser: Browser, tmp_path: Path, kind: str, sample: Path):
    report = analyze([sample])
    page = Page(browser, write_page(tmp_path, f"{kind}.html", render(report, "html")))
    assert page.requests() == [page.url], "the page fetched something besides itself"
    assert page.problems() == []
    state = page.eval("""JSON.stringify({
        title: document.title, h1: document.querySelector('h1').textContent,
        findings: document.querySelectorAll('article.finding').length,
        charts: document.querySelectorAll('svg.chart').length,
        controls: document.getElementById('controls') ? !document.getElementById('controls').hidden : null,
        copy: document.querySelectorAll('button.copy:not([hidden])').length,
        width: Math.max(...Array.from(document.querySelectorAll('svg.chart'))
            .map(c => c.getBoundingClientRect().width))})""")
    seen = json.loads(state)
    assert seen["h1"] == report.verdict and seen["title"] == f"kubetriage — {report.verdict}"
    assert seen["findings"] == len(report.findings)
    assert seen["charts"] >= 1 and seen["width"] > 300
    if report.findings:
        assert seen["controls"] is True, "the script revealed the filters"
        assert seen["copy"] == sum(1 for f in report.findings if f.remediation.commands)
    png = page.screenshot(ARTIFACTS / f"report-{kind}-{sample.name}.png")
    assert png.startswith(b"\x89PNG") and len(png) > 20_000


def test_hostile_evidence_is_shown_as_text_and_never_runs(browser: Browser, tmp_path: Path):
    page = Page(browser, write_page(tmp_path, "hostile.html", render(hostile_report(), "html")))
    seen = json.loads(page.eval("""JSON.stringify({
        title: document.title, scripts: document.scripts.length, images: document.images.length,
        text: document.body.textContent, svgText: Array.from(document.querySelectorAll('svg text'))
            .map(t => t.textContent).join('\\n')})"""))
    assert seen["title"].startswith("kubetriage — "), "a payload changed the title"
    assert seen["scripts"] == 1 and seen["images"] == 0
    assert HOSTILE_LINE in seen["text"] and SCRIPT in seen["text"]
    assert IMG in seen["svgText"], "the certificate's hostile file name is a label, not an element"
    assert SCRIPT[:40] in seen["svgText"], "the hostile log signature is a timeline label"
    assert page.mine("Page.javascriptDialogOpening") == []
    assert page.problems() == [] and page.requests() == [page.url]
    page.screenshot(ARTIFACTS / "report-hostile.png")


def test_filters_hide_findings_by_severity(browser: Browser, tmp_path: Path):
    report = analyze([SAMPLES / "certificates-expired-apiserver"])
    page = Page(browser, write_page(tmp_path, "filter.html", render(report, "html")))
    visible = "document.querySelectorAll('article.finding:not([hidden])').length"
    assert page.eval(visible) == len(report.findings)
    page.eval("document.querySelector('#controls input[value=warning]').click()")
    warnings = sum(1 for f in report.findings if f.severity.value == "warning")
    assert warnings and page.eval(visible) == len(report.findings) - warnings
    assert page.eval("document.getElementById('shown').textContent") == (
        f"{len(report.findings) - warnings} of {len(report.findings)} shown")
    page.eval("document.getElementById('collapse').click()")
    assert page.eval("document.querySelectorAll('#findings details[open]').length") == 0
    assert page.problems() == []


def test_report_reads_with_javascript_off(browser: Browser, tmp_path: Path):
    report = analyze([SAMPLES / "certificates-expired-apiserver"])
    page = Page(browser, write_page(tmp_path, "nojs.html", render(report, "html")), javascript=False)
    seen = json.loads(page.eval("""JSON.stringify({
        controls: getComputedStyle(document.getElementById('controls')).display,
        copy: Array.from(document.querySelectorAll('button.copy')).map(b => getComputedStyle(b).display),
        open: document.querySelectorAll('article.finding > details[open]').length,
        text: document.body.innerText})"""))
    assert seen["controls"] == "none" and set(seen["copy"]) == {"none"}, "no dead controls without JS"
    assert seen["open"] == len(report.findings), "findings are unfolded for reading"
    for finding in report.findings:
        assert finding.title in seen["text"]
        assert all(cmd in seen["text"] for cmd in finding.remediation.commands)
    page.screenshot(ARTIFACTS / "report-no-javascript.png")
