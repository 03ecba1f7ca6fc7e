#!/usr/bin/env python3
"""Opens pages of `sansrtc serve` in headless Chromium and waits for their automatic test.

The served page (cli/web/index.html) has automatic modes (`?auto=echo&count=N`,
`?auto=room&room=R&count=N`) that set `window.sansrtcResult = {"ok": ..., ...}` when done.
This script starts Chromium with a DevTools port (same hardening flags as chromium_peer.py:
loopback only, no mDNS-hidden candidates), opens every --url in its own tab at once, reads
`window.sansrtcResult` of each tab over the DevTools protocol (Runtime.evaluate, with the
`websockets` package), prints one JSON line per tab and exits 0 only when every tab says ok.

    python3 serve_browser.py --url 'http://127.0.0.1:8090/?auto=echo&count=1000'
    python3 serve_browser.py --url 'http://127.0.0.1:8090/?auto=room&room=r&count=200' \
                             --url 'http://127.0.0.1:8090/?auto=room&room=r&count=200'
"""
import argparse
import asyncio
import base64
import itertools
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.parse
import urllib.request

from websockets.asyncio.client import connect

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from chromium_peer import chromium_cmd  # noqa: E402


def devtools(port, path, method="GET"):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read().decode())


async def wait_devtools(port, deadline):
    while time.monotonic() < deadline:
        try:
            return await asyncio.to_thread(devtools, port, "/json/version")
        except Exception:  # noqa: BLE001
            await asyncio.sleep(0.2)
    raise RuntimeError("Chromium DevTools did not come up")


async def run_tab(port, url, deadline, screenshot=None):
    target = await asyncio.to_thread(devtools, port, "/json/new?" + urllib.parse.quote(url, safe=""), "PUT")
    ids = itertools.count(1)
    async with connect(target["webSocketDebuggerUrl"], max_size=16 << 20) as ws:

        async def call(method, params):
            i = next(ids)
            await ws.send(json.dumps({"id": i, "method": method, "params": params}))
            while True:
                msg = json.loads(await ws.recv())
                if msg.get("id") == i:
                    return msg

        while time.monotonic() < deadline:
            r = await call("Runtime.evaluate", {
                "expression": "JSON.stringify(window.sansrtcResult || null)",
                "returnByValue": True,
            })
            value = r.get("result", {}).get("result", {}).get("value")
            if value and value != "null":
                if screenshot:
                    await asyncio.sleep(0.5)  # let the log and states render
                    shot = await call("Page.captureScreenshot", {"format": "png"})
                    with open(screenshot, "wb") as f:
                        f.write(base64.b64decode(shot["result"]["data"]))
                return json.loads(value)
            await asyncio.sleep(0.2)
        r = await call("Runtime.evaluate", {
            "expression": "document.getElementById('echo-log').innerText + '\\n' + document.getElementById('room-log').innerText",
            "returnByValue": True,
        })
        page_log = r.get("result", {}).get("result", {}).get("value", "")
        return {"ok": False, "why": "no result before the deadline", "pageLog": page_log[-2000:]}


async def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", action="append", required=True, help="page to open (repeatable: one tab each)")
    ap.add_argument("--timeout", type=float, default=90, help="seconds for everything")
    ap.add_argument("--screenshot", help="PNG of the first tab once it has its result")
    ap.add_argument("--devtools-port", type=int, default=9333)
    ap.add_argument("--chromium", default=os.environ.get("CHROMIUM") or shutil.which("chromium") or "chromium")
    ap.add_argument("--chromium-log", default=os.environ.get("CHROMIUM_LOG"))
    opts = ap.parse_args()

    deadline = time.monotonic() + opts.timeout
    profile = tempfile.mkdtemp(prefix="serve-browser-profile-")
    cmd = chromium_cmd(opts.chromium, "about:blank", profile, [f"--remote-debugging-port={opts.devtools_port}"])
    log = open(opts.chromium_log, "ab") if opts.chromium_log else asyncio.subprocess.DEVNULL
    proc = await asyncio.create_subprocess_exec(*cmd, stdout=log, stderr=log, start_new_session=True)
    ok = False
    try:
        version = await wait_devtools(opts.devtools_port, deadline)
        print(f"serve_browser: {version.get('Browser')}", flush=True)
        results = await asyncio.gather(*(run_tab(opts.devtools_port, u, deadline, opts.screenshot if i == 0 else None)
                                         for i, u in enumerate(opts.url)))
        ok = True
        for url, r in zip(opts.url, results):
            print(json.dumps({"url": url, **r}), flush=True)
            ok = ok and bool(r.get("ok"))
    finally:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
            await asyncio.wait_for(proc.wait(), 5)
        except Exception:  # noqa: BLE001
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        shutil.rmtree(profile, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
