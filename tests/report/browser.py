"""Headless Chromium driven over the DevTools protocol, to test a page as a user sees it.

The protocol runs over ``--remote-debugging-pipe`` (file descriptors 3 and 4, messages are JSON
separated by NUL bytes), so no port, websocket library or Playwright is needed. Every event is
kept, which is how a test sees console errors and each network request the page makes.
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import queue
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["CHROMIUM", "Browser", "PageLoad"]

#: Debian's package installs it here (``make system-deps``)
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--hide-scrollbars",
    "--remote-debugging-pipe",
]


def _above_nine(fd: int) -> int:
    """A copy of ``fd`` numbered 10 or more (the original is closed)."""
    copy = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 10)
    os.close(fd)
    return copy


class PageLoad:
    """What loading one page produced: requests, console errors and exceptions."""

    def __init__(self, events: list[dict[str, Any]]) -> None:
        self.events = events

    def _params(self, method: str) -> list[dict[str, Any]]:
        return [e["params"] for e in self.events if e.get("method") == method]

    @property
    def requests(self) -> list[str]:
        return [p["request"]["url"] for p in self._params("Network.requestWillBeSent")]

    @property
    def errors(self) -> list[str]:
        """Console errors, uncaught exceptions, error log entries and failed loads."""
        out = [
            " ".join(str(a.get("value", a.get("description", ""))) for a in p["args"])
            for p in self._params("Runtime.consoleAPICalled")
            if p["type"] in ("error", "assert")
        ]
        out += [p["exceptionDetails"]["text"] for p in self._params("Runtime.exceptionThrown")]
        out += [
            p["entry"]["text"]
            for p in self._params("Log.entryAdded")
            if p["entry"]["level"] == "error"
        ]
        out += [p["errorText"] for p in self._params("Network.loadingFailed")]
        return out


class Browser:
    """One headless Chromium with one page (``with Browser(tmp) as b: b.load(url)``)."""

    def __init__(self, profile: Path, width: int = 1280, height: int = 4000) -> None:
        if CHROMIUM is None:
            raise FileNotFoundError("chromium is not installed")
        commands_read, self._commands = os.pipe()
        self._replies, replies_write = os.pipe()
        # Chromium reads commands from fd 3 and writes replies to fd 4; bash moves the pipe
        # ends there (a preexec_fn would not be safe in a process with threads), from numbers
        # above 9 so that they cannot be 3 or 4 themselves
        commands_read, replies_write = _above_nine(commands_read), _above_nine(replies_write)
        redirect = f"3<&{commands_read} 4>&{replies_write} {commands_read}<&- {replies_write}>&-"
        self.log = profile / "chromium.log"
        with open(self.log, "w") as log:
            self.process = subprocess.Popen(
                [
                    "bash",
                    "-c",
                    f'exec "$0" "$@" {redirect}',
                    CHROMIUM,
                    *FLAGS,
                    f"--user-data-dir={profile / 'profile'}",
                    f"--window-size={width},{height}",
                    "about:blank",
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                pass_fds=(commands_read, replies_write),
            )
        os.close(commands_read)
        os.close(replies_write)
        self._messages: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        self._next_id = 0
        self.events: list[dict[str, Any]] = []
        self.width, self.height = width, height
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=True)
        self._viewport(height)

    def _read(self) -> None:
        buffer = b""
        while chunk := os.read(self._replies, 1 << 20):
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            for message in messages:
                self._messages.put(json.loads(message))
        self._messages.put(None)

    def send(
        self, method: str, params: dict | None = None, session: bool = False, timeout: float = 60.0
    ) -> dict[str, Any]:
        """Call a protocol method and return its result (events meanwhile are recorded)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = self.session
        os.write(self._commands, json.dumps(message).encode() + b"\0")
        deadline = time.monotonic() + timeout
        while True:
            reply = self._messages.get(timeout=max(deadline - time.monotonic(), 0.01))
            if reply is None:
                raise RuntimeError(f"chromium exited; see {self.log}")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)

    def _wait_for(self, method: str, timeout: float = 60.0) -> None:
        if any(e.get("method") == method for e in self.events):
            return
        deadline = time.monotonic() + timeout
        while True:
            event = self._messages.get(timeout=max(deadline - time.monotonic(), 0.01))
            if event is None:
                raise RuntimeError(f"chromium exited; see {self.log}")
            self.events.append(event)
            if event.get("method") == method:
                return

    def _viewport(self, height: int) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": self.width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            session=True,
        )

    def load(self, url: str) -> PageLoad:
        """Navigate, wait for the load event, return everything the page did."""
        self.events.clear()
        self.send("Page.navigate", {"url": url}, session=True)
        self._wait_for("Page.loadEventFired")
        self.evaluate("new Promise(r => requestAnimationFrame(() => setTimeout(r, 200)))")
        return PageLoad(list(self.events))

    def evaluate(self, expression: str) -> Any:
        """The JSON value of ``expression`` in the page (promises are awaited)."""
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(result["exceptionDetails"]["text"])
        return result["result"].get("value")

    def screenshot(self, path: Path, full_page: bool = False) -> Path:
        """PNG of the viewport (or of the whole page) written to ``path``."""
        if full_page:
            height = self.send("Page.getLayoutMetrics", session=True)["cssContentSize"]["height"]
            self._viewport(int(height))
        data = self.send("Page.captureScreenshot", {"format": "png"}, session=True)["data"]
        path.write_bytes(base64.b64decode(data))
        if full_page:
            self._viewport(self.height)
        return path

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=10)
        except (RuntimeError, queue.Empty):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._commands)
        self._reader.join(timeout=5)
        os.close(self._replies)

    def __enter__(self) -> Browser:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
