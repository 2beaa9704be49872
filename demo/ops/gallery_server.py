"""The gallery's web server (aiohttp): read-only pages and files of ``GalleryIndex``, nothing else.

Routes: ``/`` (every picture, newest first), ``/wall`` (a fullscreen slideshow of the newest), ``/p/{id}``
(one picture: the page a visitor's QR code opens), ``/api/pictures`` (the list as JSON, with an ETag: the
pages poll it every second, so a new save shows within 2 s), ``/f/{id}/{kind}`` (a picture's file), and the
pages' script and style. A request is answered from the index only: no route takes a file name, so
``../``, encoded traversal and absolute paths match nothing (404), and a refused file is a 4xx
(``gallery_index.Refused``). Every answer forbids scripts from anywhere but the gallery itself; the
pages put what visitors made (station names) into text nodes, never into HTML.
"""

from __future__ import annotations

import functools
import json

from aiohttp import web

from demo.ops import gallery_page
from demo.ops.gallery_index import KINDS, GalleryIndex, Picture, Refused

MAX_LISTED = 1000  # the newest this many pictures are listed
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
ID = "{id:[A-Za-z0-9_-]{16,64}}"  # gallery_index.ID_PATTERN


def picture_json(picture: Picture, *, publish_photos: bool) -> dict:
    """What a page needs of a picture: its id, station, time and its files' URLs (None where missing)."""
    def url(kind: str) -> str | None:
        shown = kind in picture.kinds and (kind != "photo" or publish_photos)
        return f"/f/{picture.id}/{kind}" if shown else None

    return {"id": picture.id, "station": picture.station, "saved_at": picture.saved_at, "page": f"/p/{picture.id}",
            **{kind: url(kind) for kind in KINDS}}


class Gallery:
    def __init__(self, index: GalleryIndex):
        self.index = index
        self._listing: tuple[int, bytes] | None = None  # (index version, JSON body): built once per change

    def listing(self) -> tuple[str, bytes]:
        """The ETag and JSON body of the list, rebuilt only when the pictures changed."""
        self.index.refresh()
        version = self.index.version
        if self._listing is None or self._listing[0] != version:
            pictures = [picture_json(p, publish_photos=self.index.publish_photos)
                        for p in self.index.pictures()[:MAX_LISTED]]
            body = json.dumps({"version": version, "pictures": pictures}, separators=(",", ":")).encode("utf-8")
            self._listing = (version, body)
        return f'"v{version}"', self._listing[1]

    async def pictures(self, request: web.Request) -> web.Response:
        etag, body = self.listing()
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(body=body, content_type="application/json",
                            headers={"ETag": etag, "Cache-Control": "no-cache"})

    def _picture(self, request: web.Request) -> Picture:
        self.index.refresh()
        picture = self.index.get(request.match_info["id"])
        if picture is None:
            raise web.HTTPNotFound(text="no such picture")
        return picture

    async def picture(self, request: web.Request) -> web.Response:
        picture = self._picture(request)
        return web.json_response(picture_json(picture, publish_photos=self.index.publish_photos))

    async def file(self, request: web.Request) -> web.Response:
        picture = self._picture(request)
        try:
            data, content_type = self.index.read(picture, request.match_info["kind"])
        except Refused as refused:
            return web.Response(status=refused.status, text=str(refused))
        headers = {"Cache-Control": "public, max-age=86400, immutable"}  # a saved file never changes
        if request.match_info["kind"] == "session":
            headers["Content-Disposition"] = f'attachment; filename="igan-{picture.id}.jsonl"'
        return web.Response(body=data, headers={**headers, "Content-Type": content_type})

    async def page(self, request: web.Request, *, name: str = "grid") -> web.Response:
        if name == "picture":
            self._picture(request)
        return web.Response(text=gallery_page.PAGES[name], content_type="text/html", charset="utf-8")

    async def asset(self, request: web.Request) -> web.Response:
        text, content_type = gallery_page.ASSETS[request.match_info["asset"]]
        return web.Response(text=text, content_type=content_type, charset="utf-8",
                            headers={"Cache-Control": "no-cache"})


@web.middleware
async def guarded(request: web.Request, handler):
    """Security headers on every answer; anything unforeseen is a 400 for this request, never a dead server."""
    try:
        response = await handler(request)
    except web.HTTPException as answer:
        answer.headers.update(SECURITY_HEADERS)
        raise
    except (OSError, ValueError, UnicodeError) as exc:
        response = web.Response(status=400, text=f"bad request ({type(exc).__name__})")
    response.headers.update(SECURITY_HEADERS)
    return response


def make_app(index: GalleryIndex) -> web.Application:
    gallery = Gallery(index)
    server = web.Application(middlewares=[guarded], client_max_size=1024)
    server.router.add_get("/", gallery.page)
    server.router.add_get("/wall", functools.partial(gallery.page, name="wall"))
    server.router.add_get(f"/p/{ID}", functools.partial(gallery.page, name="picture"))
    server.router.add_get("/api/pictures", gallery.pictures)
    server.router.add_get(f"/api/pictures/{ID}", gallery.picture)
    server.router.add_get(f"/f/{ID}/{{kind:[a-z]+}}", gallery.file)
    server.router.add_get(f"/static/{{asset:({'|'.join(name.replace('.', '[.]') for name in gallery_page.ASSETS)})}}",
                       gallery.asset)
    return server
