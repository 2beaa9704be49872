"""The gallery as an operator and a hostile visitor use it: a real aiohttp server on 127.0.0.1, raw HTTP
requests (http.client sends paths as written), real save folders written by the app's own saver.

Each bad request gets a 4xx and the server goes on serving: ``../``, an encoded traversal, an absolute
path, a symlink out of the folder, a 2 GB file, a truncated PNG, a non-UTF-8 name.
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from demo.app.edit.saving import save_result
from demo.ops.animation import write_animation
from demo.ops.gallery_index import GalleryIndex
from demo.ops.gallery_server import make_app

REPO = Path(__file__).resolve().parents[1]
IMAGE = (np.random.default_rng(0).random((16, 16, 3)) * 255).astype(np.uint8)


def save(folder: Path, *, station: str = "hall-1", now: float | None = None, photo: bool = False) -> Path:
    path = save_result(folder, image=IMAGE, events=[], meta={"station": station}, now=now, display=IMAGE,
                       photo_result=IMAGE if photo else None)
    write_animation(path.with_suffix(".webp"), np.stack([IMAGE, 255 - IMAGE]), side=16)
    return path


def card(path: Path) -> dict:
    return json.loads(path.with_suffix(".json").read_text())


class Served:
    """The gallery app on a free loopback port, in a thread of its own."""

    def __init__(self, index: GalleryIndex):
        from aiohttp import web

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.runner = web.AppRunner(make_app(index))

        async def start():
            await self.runner.setup()
            site = web.TCPSite(self.runner, "127.0.0.1", 0)
            await site.start()
            return site._server.sockets[0].getsockname()[1]

        self.port = asyncio.run_coroutine_threadsafe(start(), self.loop).result(30)

    def get(self, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.putrequest("GET", path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                connection.putheader(name, value)
            connection.endheaders()
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def listing(self) -> list[dict]:
        status, _, body = self.get("/api/pictures")
        assert status == 200
        return json.loads(body)["pictures"]

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)
        self.loop.close()


@pytest.fixture
def gallery(tmp_path):
    folders = [tmp_path / "hall-1", tmp_path / "hall-2"]
    for folder in folders:
        folder.mkdir()
    index = GalleryIndex(folders)
    served = Served(index)
    yield served, folders, index
    served.close()


def test_pictures_of_several_stations_newest_first_with_their_files(gallery):
    served, (one, two), index = gallery
    first = save(one, now=100)
    second = save(two, station="hall-2", now=200, photo=True)
    index.refresh(force=True)
    pictures = served.listing()
    assert [p["id"] for p in pictures] == [card(second)["id"], card(first)["id"]]
    assert [p["station"] for p in pictures] == ["hall-2", "hall-1"]
    newest = pictures[0]
    assert newest["photo"] is None  # a visitor's own photo is not published by default
    for kind, content_type, starts in (("display", "image/jpeg", b"\xff\xd8"), ("animation", "image/webp", b"RIFF"),
                                       ("image", "image/png", b"\x89PNG"), ("session", "application/x-ndjson", b'{"type"')):
        status, headers, body = served.get(newest[kind])
        assert status == 200 and headers["Content-Type"].startswith(content_type) and body.startswith(starts)
    assert served.get(f"/f/{newest['id']}/photo")[0] == 404
    for page in ("/", "/wall", newest["page"], "/static/gallery.js", "/static/gallery.css"):
        status, headers, body = served.get(page)
        assert status == 200 and "script-src" not in headers["Content-Security-Policy"]
        assert b"hall-2" not in body  # pages carry no visitor data: the script fetches it as JSON
    # ETag: an unchanged list is a 304, a new save changes it.
    status, headers, _ = served.get("/api/pictures")
    assert served.get("/api/pictures", {"If-None-Match": headers["ETag"]})[0] == 304
    save(one, now=300)
    index.refresh(force=True)
    assert served.get("/api/pictures", {"If-None-Match": headers["ETag"]})[0] == 200


def test_photos_are_shown_only_when_the_config_allows_it(tmp_path):
    path = save(tmp_path, photo=True)
    index = GalleryIndex([tmp_path], publish_photos=True)
    served = Served(index)
    try:
        (picture,) = served.listing()
        assert picture["photo"] and served.get(picture["photo"])[0] == 200
        assert card(path)["id"] == picture["id"]
    finally:
        served.close()


def test_hidden_autosaved_temporary_and_unreadable_saves_are_not_shown(gallery):
    served, (one, _), index = gallery
    kept, hidden = save(one, now=1), save(one, now=2)
    hidden_id = card(hidden)["id"]
    (one / "hidden").mkdir()
    for file in one.glob(hidden.stem + "*"):  # the operator's action: move NAME.* into hidden/
        shutil.move(file, one / "hidden" / file.name)
    (one / ".autosave").mkdir()
    shutil.copy(kept.with_suffix(".json"), one / ".autosave" / "auto.json")
    (one / ".igan.123.abc.tmp").write_text("{}")
    (one / "broken.json").write_text('{"id": ')
    (one / "list.json").write_text('["not", "a", "card"]')
    (one / "bad-id.json").write_text('{"id": "../../etc/passwd"}')
    os.symlink(kept.with_suffix(".json"), one / "linked.json")
    (one / "huge.json").write_bytes(b'{"id": "' + b"a" * 70000 + b'"}')
    index.refresh(force=True)
    assert [p["id"] for p in served.listing()] == [card(kept)["id"]]
    assert served.get(f"/p/{hidden_id}")[0] == 404 and served.get(f"/api/pictures/{hidden_id}")[0] == 404


def test_every_bad_request_is_a_4xx_and_the_server_goes_on(gallery, tmp_path):
    served, (one, _), index = gallery
    good = save(one, now=1)
    link, large, torn = save(one, now=2), save(one, now=3), save(one, now=4)
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"\xff\xd8 a file outside the gallery \xff\xd9")
    (one / f"{link.stem}-display.jpg").unlink()
    os.symlink(secret, one / f"{link.stem}-display.jpg")  # a symlink that leads out of the folder
    with open(one / f"{large.stem}-display.jpg", "r+b") as handle:
        handle.truncate(2 * 1024**3)  # a 2 GB file (sparse)
    png = torn.read_bytes()
    torn.write_bytes(png[: len(png) // 2])  # a truncated PNG
    bad_name = os.fsencode(str(one)) + b"/igan-\xff\xfe.json"
    with open(bad_name, "wb") as handle:  # a name that is not UTF-8, with a card inside
        handle.write(json.dumps({"id": "x" * 20}).encode())
    index.refresh(force=True)
    ids = {path: card(path)["id"] for path in (good, link, large, torn)}
    assert {p["id"] for p in served.listing()} == set(ids.values())
    requests = {
        "/f/../../etc/passwd": 404, "/../../etc/passwd": 404, "/f/%2e%2e/%2e%2e/etc/passwd": 404,
        "/f/..%2f..%2fetc%2fpasswd/display": 404, "//etc/passwd": 404, "/static/..%2fgallery_server.py": 404,
        f"/f/{ids[good]}/..%2f..%2fsecret": 404, f"/f/{ids[good]}/photo": 404, "/f/%ff%fe/display": 404,
        f"/p/{'x' * 20}": 404, f"/f/{ids[link]}/display": 403, f"/f/{ids[large]}/display": 413,
        f"/f/{ids[torn]}/image": 422, "/api/pictures?%ff=%fe": 200,
    }
    for path, expected in requests.items():
        status, _, body = served.get(path)
        assert status == expected, (path, status, body[:200])
        assert b"outside the gallery" not in body
        assert served.get(f"/f/{ids[good]}/display")[0] == 200  # still serving


def test_the_gallery_on_a_missing_folder_is_one_line_and_status_2(tmp_path):
    run = subprocess.run([sys.executable, "-m", "demo", "gallery", "--saves", str(tmp_path / "nowhere")], cwd=REPO,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 2 and run.stderr.strip().count("\n") == 0 and "no such save folder" in run.stderr
