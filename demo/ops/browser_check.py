"""The gallery as a visitor's browser sees it: headless Chromium (Debian's ``chromium``) opens the gallery,
a picture is saved, and the new picture must appear in the page; then screenshots of the page, of the
new picture's take-home page and of the wall.

    python -m demo.ops.browser_check --out out/gallery-browser      # exit 0: passed; 3: no chromium

The gallery runs as ``python -m demo gallery`` in a process of its own on a loopback port; Chromium is
driven over its DevTools protocol (a websocket, with aiohttp's client): navigate, evaluate, screenshot.
Every wait is bounded. ``tests/test_gallery_browser.py`` runs it, and skips with a line that says so
when Chromium is not installed.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import itertools
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from demo.ops.sample_saves import fill, save_sample

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
HOSTILE_STATION = 'hall-3 <img src=x onerror="window.pwned=1">'  # what a station's name must not do to the page
NO_BROWSER = 3  # exit status when no Chromium is installed


def find_browser() -> str | None:
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def wait_http(session, url: str, *, seconds: float) -> dict | str:
    """GET ``url`` until it answers 200 (JSON or text), for at most ``seconds``."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            async with session.get(url) as response:
                if response.status == 200:
                    return await (response.json() if "json" in response.content_type else response.text())
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer within {seconds:g} s")
        await asyncio.sleep(0.2)


class DevTools:
    """The least of the DevTools protocol: send a command, wait for its answer."""

    def __init__(self, socket_):
        self.socket = socket_
        self.ids = itertools.count(1)

    async def call(self, method: str, **params):
        number = next(self.ids)
        await self.socket.send_json({"id": number, "method": method, "params": params})
        while True:
            message = await asyncio.wait_for(self.socket.receive_json(), 30)
            if message.get("id") == number:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})

    async def evaluate(self, expression: str):
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True)
        return result["result"].get("value")

    async def wait_for(self, expression: str, *, seconds: float, period: float = 0.1) -> float:
        """Seconds until ``expression`` is true in the page; TimeoutError past ``seconds``."""
        started = time.monotonic()
        while not await self.evaluate(expression):
            if time.monotonic() - started > seconds:
                raise TimeoutError(f"{expression} still false after {seconds:g} s")
            await asyncio.sleep(period)
        return time.monotonic() - started


async def check(browser: str, out: Path, *, pictures: int = 6) -> dict:
    import aiohttp

    saves = out / "saves"
    shutil.rmtree(saves, ignore_errors=True)
    fill(saves, pictures)
    gallery_port, devtools_port = free_port(), free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    gallery = subprocess.Popen([sys.executable, "-m", "demo", "gallery", "--saves", str(saves), "--port", str(gallery_port)],
                               env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    profile = tempfile.mkdtemp(prefix="igan-chromium-")
    chrome = subprocess.Popen([browser, "--headless=new", "--no-sandbox", "--disable-gpu", "--no-first-run",
                               "--disable-dev-shm-usage", f"--user-data-dir={profile}", "--window-size=1280,900",
                               f"--remote-debugging-port={devtools_port}", "about:blank"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as session:
            url = f"http://127.0.0.1:{gallery_port}/"
            await wait_http(session, url + "api/pictures", seconds=60)
            targets = await wait_http(session, f"http://127.0.0.1:{devtools_port}/json/list", seconds=60)
            page = next(target for target in targets if target.get("type") == "page")
            async with session.ws_connect(page["webSocketDebuggerUrl"], max_msg_size=64 * 1024 * 1024) as ws:
                tools = DevTools(ws)
                await tools.call("Page.enable")
                await tools.call("Page.navigate", url=url)
                count = "document.querySelectorAll('figure.picture').length"
                await tools.wait_for(f"{count} === {pictures}", seconds=30)
                # A visitor saves: the new picture must appear without a reload.
                new = save_sample(saves, 999, station=HOSTILE_STATION, now=time.time())
                new_id = json.loads(new.with_suffix(".json").read_text())["id"]
                appeared = await tools.wait_for(
                    f"{count} === {pictures + 1} && document.querySelector('figure.picture').dataset.id === '{new_id}'",
                    seconds=30)
                await tools.wait_for("[...document.images].slice(0, 8).every(i => i.complete && i.naturalWidth > 0)",
                                     seconds=30)
                first_station = await tools.evaluate("document.querySelector('figure.picture .station').textContent")
                injected = await tools.evaluate("window.pwned !== undefined || document.querySelectorAll('img[src=x]').length > 0")
                shot = await tools.call("Page.captureScreenshot", format="png")
                screenshot = out / "gallery.png"
                screenshot.write_bytes(base64.b64decode(shot["data"]))
                await tools.call("Page.navigate", url=url + f"p/{new_id}")
                await tools.wait_for("document.querySelectorAll('#picture img').length === 2", seconds=30)
                (out / "picture.png").write_bytes(base64.b64decode(
                    (await tools.call("Page.captureScreenshot", format="png"))["data"]))
                await tools.call("Page.navigate", url=url + "wall")
                await tools.wait_for("document.getElementById('slide-display').complete && "
                                     "document.getElementById('slide-display').naturalWidth > 0", seconds=30)
                (out / "wall.png").write_bytes(base64.b64decode(
                    (await tools.call("Page.captureScreenshot", format="png"))["data"]))
    finally:
        chrome.terminate()
        gallery.terminate()
        for process in (chrome, gallery):
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(profile, ignore_errors=True)
    return {"pictures_shown": pictures + 1, "new_picture_seconds": round(appeared, 2), "newest_station": first_station,
            "station_shown_as_text": first_station == HOSTILE_STATION and not injected,
            "screenshot": str(screenshot), "picture_page": str(out / "picture.png"), "wall": str(out / "wall.png")}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=Path("out/gallery-browser"))
    args = parser.parse_args(argv)
    browser = find_browser()
    if browser is None:
        print("browser check skipped: no Chromium installed (apt-get install chromium)")
        return NO_BROWSER
    args.out.mkdir(parents=True, exist_ok=True)
    report = asyncio.run(check(browser, args.out))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
