"""The gallery under load, on loopback: ``python -m demo.ops.gallery_load --json out/gallery_load.json``.

A save folder with ``--pictures`` pictures (procedural landscapes written by the app's saver, each with its
animation); the gallery (``python -m demo gallery``) in a process of its own; then, per run:

- page loads: ``--rounds`` rounds of ``--concurrent`` loads at once, each as a browser loads the page:
  the HTML, then its script and style together, then the list of pictures (thumbnails load lazily, so
  none here); the time of each whole load, p50 / p95 / max;
- a new save: a picture is saved, and the list is asked for every 50 ms until it is in it (the page's
  script asks every second, so a page shows it within that plus up to 1 s);
- idle: the gallery's CPU over ``--idle-seconds`` without requests, then as long with one page open
  (polling every second).

Runs are repeated ``--runs`` times against a new gallery process each; the client shares the machine's
cores with the server, so the load times include the client's own work.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from demo.ops.browser_check import free_port, wait_http
from demo.ops.report import print_report
from demo.ops.sample_saves import fill, save_sample
from demo.profile.stats import median_range


async def page_load(session, base: str) -> float:
    started = time.perf_counter()
    for paths in (["/"], ["/static/gallery.js", "/static/gallery.css"], ["/api/pictures"]):
        responses = await asyncio.gather(*(session.get(base + path) for path in paths))
        for response in responses:
            await response.read()
            response.release()
            if response.status != 200:
                raise RuntimeError(f"{response.url}: {response.status}")
    return time.perf_counter() - started


async def one_run(folder: Path, *, concurrent: int, rounds: int, idle_seconds: float, seed: int) -> dict:
    import aiohttp
    import psutil

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "demo", "gallery", "--saves", str(folder), "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as session:
            await wait_http(session, base + "/api/pictures", seconds=60)
            process = psutil.Process(server.pid)
            # Idle: no requests at all, then one page open.
            before = sum(process.cpu_times()[:2])
            await asyncio.sleep(idle_seconds)
            idle = (sum(process.cpu_times()[:2]) - before) / idle_seconds
            etag, before, end = None, sum(process.cpu_times()[:2]), time.monotonic() + idle_seconds
            while time.monotonic() < end:
                async with session.get(base + "/api/pictures", headers={"If-None-Match": etag} if etag else {}) as r:
                    await r.read()
                    etag = r.headers.get("ETag", etag)
                await asyncio.sleep(1.0)
            one_page = (sum(process.cpu_times()[:2]) - before) / idle_seconds
            # Page loads, all at once, round after round.
            loads = []
            for _ in range(rounds):
                loads += await asyncio.gather(*(page_load(session, base) for _ in range(concurrent)))
            # A new save, asked for every 50 ms.
            new = save_sample(folder, 10_000 + seed, station="new", now=time.time())
            new_id = json.loads(new.with_suffix(".json").read_text())["id"]
            saved = time.perf_counter()
            while True:
                async with session.get(base + "/api/pictures") as r:
                    ids = [p["id"] for p in (await r.json())["pictures"]]
                if ids and ids[0] == new_id:
                    break
                if time.perf_counter() - saved > 30:
                    raise TimeoutError("the new save did not show within 30 s")
                await asyncio.sleep(0.05)
            shown = time.perf_counter() - saved
            rss_mb = process.memory_info().rss / 2**20
    finally:
        server.terminate()
        server.wait(10)
    ms = np.array(loads) * 1000
    return {"loads": len(loads), "load_ms_p50": round(float(np.percentile(ms, 50)), 1),
            "load_ms_p95": round(float(np.percentile(ms, 95)), 1), "load_ms_max": round(float(ms.max()), 1),
            "new_save_listed_s": round(shown, 3), "idle_cpu_share_of_a_core": round(idle, 4),
            "one_page_open_cpu_share_of_a_core": round(one_page, 4), "server_rss_mb": round(rss_mb, 1)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pictures", type=int, default=500)
    parser.add_argument("--concurrent", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=20.0)
    parser.add_argument("--folder", type=Path, default=Path("out/gallery_load/saves"))
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    if len(list(args.folder.glob("*.json"))) < args.pictures:
        shutil.rmtree(args.folder, ignore_errors=True)
        print(f"writing {args.pictures} pictures into {args.folder}...", file=sys.stderr)
        fill(args.folder, args.pictures)
    runs = [asyncio.run(one_run(args.folder, concurrent=args.concurrent, rounds=args.rounds,
                                idle_seconds=args.idle_seconds, seed=n)) for n in range(args.runs)]
    summary = {key: median_range(run[key] for run in runs) for key in runs[0] if key != "loads"}
    report = {"pictures": len(list(args.folder.glob("*.json"))), "concurrent": args.concurrent, "rounds": args.rounds,
              "runs": runs, "summary": summary, "target": {"load_ms_p95": 200, "new_save_s": 2,
                                                           "idle_cpu_share_of_a_core": 0.05}}
    print_report(report, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
