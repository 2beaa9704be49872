"""``python -m demo gallery``: the saved pictures of one station or several as a web page, a wall and take-home pages."""

from __future__ import annotations

from pathlib import Path

HELP = "serve the saved pictures of one or more stations as a read-only web gallery, a wall slideshow and take-home pages"
DESCRIPTION = """\
Serve the pictures that kiosks save (--saves: one folder per station, or a folder they share) as a web
page, newest first: each with its display image, the edit as an animation and a link to its session
file. New saves appear within 2 s without a reload. /wall is a fullscreen slideshow of the newest
pictures for a wall screen; /p/ID is one picture's page, which the kiosk's QR code opens (IDs are random:
one picture's URL says nothing about another's). Read-only: it serves only the pictures' own files,
never through a symlink, and never a visitor's photo unless --publish-photos (or the config's
[gallery] publish_photos = true). To take a picture off the gallery, move its files (NAME.*) into a
hidden/ folder inside the save folder. Listens on 127.0.0.1 unless --host says otherwise.

examples:
  python -m demo gallery --saves saves
  python -m demo gallery --saves /srv/igan/hall-1 /srv/igan/hall-2 --host 0.0.0.0 --port 8040
  python -m demo gallery --config deploy/kiosk.toml --saves /srv/igan/saves     host, port and photos from [gallery]
"""


def add_arguments(parser) -> None:
    parser.add_argument("--saves", type=Path, nargs="+", required=True, metavar="DIR",
                        help="save folders (a station's save_dir); several for several stations")
    parser.add_argument("--host", default=None, help="the address to listen on (default: 127.0.0.1, or [gallery] host)")
    parser.add_argument("--port", type=int, default=None, help="the port (default: 8040, or [gallery] port)")
    parser.add_argument("--config", type=Path, default=None, metavar="FILE.toml",
                        help="a station's config file: its [gallery] table (host, port, publish_photos)")
    parser.add_argument("--publish-photos", action="store_true",
                        help="also show visitors' own photos (NAME-photo.png); off by default")


def run(args) -> int:
    import sys

    from aiohttp import web

    from demo.errors import UserError
    from demo.ops.gallery_index import GalleryIndex
    from demo.ops.gallery_server import make_app
    from demo.ops.settings import GallerySettings, load_toml, table_settings

    settings = GallerySettings()
    if args.config is not None:
        table = load_toml(args.config).get("gallery", {})
        settings = table_settings(GallerySettings, table, name="gallery", source=str(args.config))
    for folder in args.saves:
        if not folder.is_dir():
            raise UserError(f"{folder}: no such save folder")
    host = args.host if args.host is not None else settings.host
    port = args.port if args.port is not None else settings.port
    if not 0 < port < 65536:
        raise UserError(f"--port must be 1..65535, got {port}")
    index = GalleryIndex(args.saves, publish_photos=args.publish_photos or settings.publish_photos)
    index.refresh(force=True)
    print(f"gallery: {len(index.pictures())} pictures from {', '.join(map(str, args.saves))} "
          f"on http://{host}:{port}/ (wall: /wall)", file=sys.stderr, flush=True)
    try:
        web.run_app(make_app(index), host=host, port=port, print=None, access_log=None, handle_signals=True)
    except OSError as exc:
        raise UserError(f"gallery: cannot listen on {host}:{port} ({exc.strerror or exc})") from None
    return 0
