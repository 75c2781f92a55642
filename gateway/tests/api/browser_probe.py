#!/usr/bin/env python3
"""Drives headless Chromium over the DevTools protocol on a pipe (no
websocket library, standard library only) for the admin-console test.

Usage: browser_probe.py CHROMIUM PLAN.json
PLAN: {"headers": {...}, "pages": [{"name", "url", "width", "height", "screenshot"}]}
Prints one JSON object per page: name, width, inner_width, scroll_width,
title, text (body innerText), thumbs and thumbs_loaded (img.thumb elements, and
those that decoded), status (of the main document), screenshot.
"""
import base64
import json
import os
import signal
import subprocess
import sys
import tempfile


class Browser:
    def __init__(self, binary):
        # Chromium reads commands on fd 3 and writes answers on fd 4.
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()
        self._profile = tempfile.TemporaryDirectory(prefix="soko-cdp-")

        def wire():
            # Through fds 100/101 first, so neither end is clobbered by the other's dup2.
            os.dup2(to_child_r, 100)
            os.dup2(from_child_w, 101)
            os.dup2(100, 3)
            os.dup2(101, 4)

        self._proc = subprocess.Popen(
            [
                binary, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--hide-scrollbars", "--remote-debugging-pipe",
                "--user-data-dir=" + self._profile.name, "about:blank",
            ],
            preexec_fn=wire, pass_fds=(3, 4, to_child_r, from_child_w),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buffer = b""
        self._next_id = 0
        self.events = []

    def _read_message(self):
        while b"\0" not in self._buffer:
            chunk = os.read(self._from_child, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method, params=None, session=None):
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_child, json.dumps(message).encode() + b"\0")
        while True:
            answer = self._read_message()
            if answer.get("id") == self._next_id:
                if "error" in answer:
                    raise RuntimeError(f"{method}: {answer['error']}")
                return answer.get("result", {})
            self.events.append(answer)

    def wait_event(self, method, session):
        for event in self.events:
            if event.get("method") == method and event.get("sessionId") == session:
                return event
        while True:
            event = self._read_message()
            self.events.append(event)
            if event.get("method") == method and event.get("sessionId") == session:
                return event

    def close(self):
        try:
            self.call("Browser.close")
        except Exception:
            pass
        try:
            self._proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self._proc.kill()
        self._profile.cleanup()


# Waits (up to 3 s) for the thumbnails in view to finish, then measures; `thumbs_loaded`
# counts the ones that decoded (a thumbnail the page's CSP blocks never does).
MEASURE = """(async () => {
  const thumbs = [...document.querySelectorAll("img.thumb")];
  const inView = thumbs.filter(i => i.getBoundingClientRect().top < window.innerHeight);
  const deadline = Date.now() + 3000;
  while (Date.now() < deadline && inView.some(i => !i.complete)) {
    await new Promise(done => setTimeout(done, 50));
  }
  return JSON.stringify({
    inner_width: window.innerWidth,
    scroll_width: document.documentElement.scrollWidth,
    scroll_height: document.documentElement.scrollHeight,
    title: document.title,
    text: document.body ? document.body.innerText : "",
    thumbs: thumbs.length,
    thumbs_loaded: thumbs.filter(i => i.complete && i.naturalWidth > 0).length
  });
})()"""


def probe(browser, headers, page):
    target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    width, height = page["width"], page.get("height", 900)
    browser.call("Emulation.setDeviceMetricsOverride",
                 {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600}, session)
    browser.call("Network.enable", {}, session)
    browser.call("Network.setExtraHTTPHeaders", {"headers": headers}, session)
    browser.call("Page.enable", {}, session)
    browser.call("Page.navigate", {"url": page["url"]}, session)
    browser.wait_event("Page.loadEventFired", session)
    status = None
    for event in browser.events:
        if (event.get("sessionId") == session and event.get("method") == "Network.responseReceived"
                and event["params"].get("type") == "Document"):
            status = event["params"]["response"]["status"]
    browser.events = []
    value = browser.call("Runtime.evaluate", {"expression": MEASURE, "returnByValue": True, "awaitPromise": True}, session)
    result = json.loads(value["result"]["value"])
    result.update({"name": page["name"], "width": width, "status": status})
    if page.get("screenshot"):
        clip_height = min(result["scroll_height"], 6000)
        shot = browser.call("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": clip_height, "scale": 1},
        }, session)
        with open(page["screenshot"], "wb") as out:
            out.write(base64.b64decode(shot["data"]))
        result["screenshot"] = page["screenshot"]
    browser.call("Target.closeTarget", {"targetId": target})
    return result


def main():
    binary, plan_path = sys.argv[1], sys.argv[2]
    # A page that never finishes loading fails the run instead of hanging it.
    signal.alarm(int(os.environ.get("BROWSER_PROBE_TIMEOUT", "180")))
    with open(plan_path) as f:
        plan = json.load(f)
    browser = Browser(binary)
    try:
        for page in plan["pages"]:
            print(json.dumps(probe(browser, plan.get("headers", {}), page)), flush=True)
    finally:
        browser.close()


if __name__ == "__main__":
    main()
