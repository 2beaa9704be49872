"""The soak's operator and gallery visitor (``python -m demo soak --metrics --gallery``).

``MetricsScraper`` scrapes the station's metrics endpoint every 5 s, as Prometheus would, and parses each
answer with prometheus_client's own parser; at the end its counters are compared with the soak's report.
``GalleryWatcher`` runs ``python -m demo gallery`` on the soak's save folder and keeps a page open on it:
the list every second (with its ETag, as the page's script polls), and each new picture's display image.
Both count their failures; each runs on a thread of its own, off the app's frame loop.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from demo.ops.browser_check import free_port

SCRAPE_SECONDS = 5.0
POLL_SECONDS = 1.0


def scrape(url: str) -> dict[str, float]:
    """Every sample of a metrics endpoint, parsed by prometheus_client: 'name{label="value"}' -> value."""
    from prometheus_client.parser import text_string_to_metric_families

    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode("utf-8")
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            labels = ",".join(f'{key}="{value}"' for key, value in sorted(sample.labels.items()))
            samples[f"{sample.name}{{{labels}}}" if labels else sample.name] = sample.value
    return samples


class MetricsScraper(threading.Thread):
    def __init__(self, port: int):
        super().__init__(daemon=True, name="soak-scraper")
        self.url = f"http://127.0.0.1:{port}/metrics"
        self.scrapes = 0
        self.failures: list[str] = []
        self.last: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.wait(SCRAPE_SECONDS):
            self.scrape_now()

    def scrape_now(self) -> dict[str, float]:
        try:
            self.last = scrape(self.url)
            self.scrapes += 1
        except (OSError, ValueError) as exc:
            self.failures.append(f"{type(exc).__name__}: {exc}"[:160])
        return self.last

    def agreement(self, report: dict) -> dict:
        """Each counter as scraped and as the report has it."""
        kiosk = {**report["kiosk"], **report["kiosk_visits"]}
        pairs = {
            "igan_worker_restarts_total": report["worker_restarts"], "igan_errors_total": report["errors"],
            "igan_visits_total": kiosk.get("visits"), "igan_strokes_total": kiosk.get("strokes"),
            'igan_saves_total{kind="visitor"}': kiosk.get("saves"),
            'igan_saves_total{kind="unattended"}': kiosk.get("unattended_saves"),
            "igan_resets_total": kiosk.get("resets"), "igan_attract_rounds_total": kiosk.get("attract_rounds"),
        }
        return {name: [self.last.get(name), expected] for name, expected in pairs.items()}


class GalleryWatcher(threading.Thread):
    def __init__(self, save_dir: Path):
        super().__init__(daemon=True, name="soak-gallery")
        import psutil

        save_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process = subprocess.Popen([sys.executable, "-m", "demo", "gallery", "--saves", str(save_dir),
                                         "--port", str(self.port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.psutil_process = psutil.Process(self.process.pid)
        self.polls = 0
        self.images = 0
        self.failures: list[str] = []
        self.pictures = 0
        self.rss_mb: list[float] = []
        self.stop = threading.Event()
        self._seen: set[str] = set()
        self._etag: str | None = None

    def _get(self, path: str, headers: dict | None = None) -> tuple[int, bytes, dict]:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as answer:
            return answer.code, b"", dict(answer.headers)

    def run(self) -> None:
        deadline = time.monotonic() + 60
        while not self.stop.is_set():  # wait for the server (it imports aiohttp), at most a minute
            try:
                self._get("/api/pictures")
                break
            except OSError:
                if time.monotonic() > deadline:
                    self.failures.append("the gallery did not start within 60 s")
                    return
                time.sleep(0.2)
        while not self.stop.wait(POLL_SECONDS):
            try:
                self._poll()
            except OSError as exc:
                self.failures.append(f"{type(exc).__name__}: {exc}"[:160])

    def _poll(self) -> None:
        status, body, headers = self._get("/api/pictures", {"If-None-Match": self._etag} if self._etag else {})
        self.polls += 1
        if len(self.rss_mb) < 2 or self.polls % 60 == 0:
            self.rss_mb.append(round(self.psutil_process.memory_info().rss / 2**20, 1))
        if status == 304:
            return
        if status != 200:
            self.failures.append(f"/api/pictures: {status}")
            return
        self._etag = headers.get("ETag")
        pictures = json.loads(body)["pictures"]
        self.pictures = len(pictures)
        for picture in pictures:
            if picture["id"] not in self._seen and picture["display"]:
                self._seen.add(picture["id"])
                status, _, _ = self._get(picture["display"])
                self.images += 1
                if status != 200:
                    self.failures.append(f"{picture['display']}: {status}")

    def close(self) -> dict:
        self.stop.set()
        self.join(15)
        self.rss_mb.append(round(self.psutil_process.memory_info().rss / 2**20, 1))
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        return {"polls": self.polls, "pictures_listed": self.pictures, "display_images_fetched": self.images,
                "failures": len(self.failures), "failure_messages": self.failures[:10],
                "rss_mb_first_last": [self.rss_mb[0], self.rss_mb[-1]] if self.rss_mb else []}
