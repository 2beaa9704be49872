"""A station as an operator and a visitor see it: saves a gallery can show (display image, animation,
station, random id), the take-home QR code after a visitor's save (none after an unattended one), the
kiosk's counts, and the Prometheus metrics that the frame listener feeds (read back with
prometheus_client's own parser, over a real loopback endpoint).

The app runs for real in an offscreen window with the in-process solver on a 32 px random model.
"""

from __future__ import annotations

import json
import socket
import threading

import cv2
import numpy as np
import pygame
import pytest
from fake_clock import FakeClock

from demo.app.kiosk.config import KioskConfig, apply_config_file
from demo.bench.soak_ops import free_port, scrape
from demo.errors import UserError
from demo.input.actions import Action
from demo.ops.settings import GallerySettings, MetricsSettings

GALLERY = GallerySettings(url="http://gallery.museum.lan:8040/", qr_seconds=5)


def make_station(model, tmp_path, clock, *, listeners=()):
    from demo.app.app import App
    from demo.app.config import AppConfig

    kiosk = KioskConfig(idle_seconds=20, reset_seconds=10, morph_seconds=2, settle_seconds=3, station="hall 2/east",
                        gallery=GALLERY)
    config = AppConfig(model=str(model), size=(640, 480), worker="sync", device="cpu", candidates=2, steps=4, top_k=2,
                       max_fps=0, save_dir=tmp_path / "saves", chunk_seconds=0.05, morph_frames=4, hang_seconds=1e6,
                       kiosk=kiosk, hud=False)
    return App(config, clock=clock, listeners=listeners)


def frames(app, clock, count: int, dt: float = 1 / 60) -> None:
    for _ in range(count):
        clock.advance(dt)
        app.frame()


def stroke(app) -> None:
    x, y, w, h = app.layout.canvas
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONDOWN, pos=(x + 0.2 * w, y + 0.3 * h), button=1, touch=False))
    pygame.event.post(pygame.event.Event(pygame.MOUSEMOTION, pos=(x + 0.8 * w, y + 0.3 * h), rel=(1, 0),
                                         buttons=(1, 0, 0), touch=False))
    pygame.event.post(pygame.event.Event(pygame.MOUSEBUTTONUP, pos=(x + 0.8 * w, y + 0.3 * h), button=1, touch=False))


def finish_animations() -> None:
    for thread in threading.enumerate():
        if thread.name == "save-animation":
            thread.join(30)




def test_a_visitor_save_is_a_gallery_picture_with_a_qr_code_and_the_metrics_count_it(small_model_file, tmp_path):
    from demo.app.kiosk.operations import Operations

    port = free_port()
    operations = Operations.start(MetricsSettings(port=port), station="hall 2/east")
    clock = FakeClock()
    app = make_station(small_model_file, tmp_path, clock, listeners=operations.listeners)
    operations.watch(app.status)
    try:
        for _ in range(400):
            frames(app, clock, 1)
            if app.status().result is not None and app.status().idle:
                break
        stroke(app)
        frames(app, clock, 3)
        for _ in range(400):  # the solver settles: the display image and the morph follow
            frames(app, clock, 1)
            if app.status().idle and app.status().result.morph is not None:
                break
        app.on_action(Action(name="save"))
        frames(app, clock, 1)
        finish_animations()
        saves = tmp_path / "saves"
        (card_path,) = saves.glob("igan-*.json")
        card = json.loads(card_path.read_text())
        name = card_path.stem
        assert name.startswith("igan-hall-2-east-") and card["station"] == "hall 2/east"
        assert len(card["id"]) >= 16 and card["id"] not in name
        notice = app.status().notice  # the kiosk's own confirmation; no file path on the visitor's screen
        assert app.kiosk.hint_state().saved and (notice is None or str(saves) not in notice.text)
        display = cv2.imread(str(saves / f"{name}-display.jpg"))
        side = 4 * app.status().result.resolution  # the x4 display upsampler's image
        assert display.shape == (side, side, 3)
        from PIL import Image

        with Image.open(saves / f"{name}.webp") as animation:
            assert animation.n_frames == 4 and animation.size == (side, side)
        # The take-home code: the gallery's page of this picture, by id, never a path.
        code = app.kiosk.hint_state().qr
        assert code is not None and code.url == f"http://gallery.museum.lan:8040/p/{card['id']}"
        assert code.size >= 21 and code.runs
        frames(app, clock, 1, dt=3.2)  # the 'saved' banner has gone; the code is on screen, and a phone reads it
        # Read it as a camera would, over three frames and also at twice the size: the small test window makes each
        # module 2-3 px, at the edge of what OpenCV's detector finds beside a noisy stand-in image.
        readings = set()
        for _ in range(3):
            frame = np.ascontiguousarray(app.capture()[..., ::-1])
            readings |= {cv2.QRCodeDetector().detectAndDecode(image)[0]
                         for image in (frame, cv2.resize(frame, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST))}
        assert code.url in readings
        frames(app, clock, 1, dt=2.3)
        assert app.kiosk.hint_state().qr is None  # shown for qr_seconds
        # Unattended: saved at the reset, no code.
        stroke(app)
        frames(app, clock, 3)
        frames(app, clock, 1, dt=10.5)
        frames(app, clock, 2)
        finish_animations()
        assert len(list(saves.glob("igan-*.json"))) == 2 and app.kiosk.hint_state().qr is None
        counts = app.status().kiosk
        assert (counts.visits, counts.strokes, counts.saves, counts.unattended_saves, counts.resets) == (1, 2, 1, 1, 1)
        frames(app, clock, 1, dt=0.3)  # the listener copies the counters four times a second
        samples = scrape(f"http://127.0.0.1:{port}/metrics")
        assert samples["igan_visits_total"] == 1 and samples["igan_strokes_total"] == 2
        assert samples['igan_saves_total{kind="visitor"}'] == 1 and samples['igan_saves_total{kind="unattended"}'] == 1
        assert samples["igan_resets_total"] == 1 and samples["igan_errors_total"] == 0
        assert samples["igan_frame_seconds_count"] > 0 and samples["igan_pen_to_image_seconds_count"] > 0
        assert samples["igan_solver_steps_total"] > 0 and samples['igan_resident_memory_bytes{process="app"}'] > 1e6
        model = app.status().result.model_name
        assert samples[f'igan_station_info{{device="cpu",gl_renderer="{app.ctx.info["GL_RENDERER"]}",'
                       f'model="{model}",station="hall 2/east",version="0.1.0"}}'] == 1
        assert operations.metrics.cost_us()["frames"] > 0
    finally:
        app.close()
        operations.close()


def test_a_metrics_port_in_use_is_one_line_and_the_station_runs_on(capsys):
    from demo.app.kiosk.operations import Operations

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        operations = Operations.start(MetricsSettings(port=taken.getsockname()[1]), station="s")
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "running without metrics" in err[0] and "in use" in err[0]
    assert operations.listeners == []
    operations.watch(lambda: None)
    operations.close()


def test_the_config_file_reads_the_metrics_and_gallery_tables(tmp_path):
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=0)
    path = tmp_path / "station.toml"
    path.write_text('[kiosk]\nstation = "hall-1"\n[metrics]\nport = 9410\n'
                    '[gallery]\nurl = "http://g.lan:8040"\nqr_seconds = 30\npublish_photos = true\n')
    _, kiosk = apply_config_file(parser, parser.parse_args([]), path)
    assert kiosk.station == "hall-1" and kiosk.metrics == MetricsSettings(port=9410, host="127.0.0.1")
    assert kiosk.gallery == GallerySettings(url="http://g.lan:8040", qr_seconds=30, publish_photos=True)
    assert kiosk.gallery.picture_url("abc") == "http://g.lan:8040/p/abc"
    for text, says in (("[metrics]\nport = 0\n", "port must be"), ("[metrics]\nhost = 'x'\n", "needs port"),
                       ("[gallery]\nurl = 'file:///etc'\n", "url must start"), ("[gallery]\nqr = 1\n", "must be a bool"),
                       ("[gallery]\nwall = 1\n", "unknown key [gallery].wall"), ("metrics = 3\n", "must be a table")):
        path.write_text(text)
        with pytest.raises(UserError, match=says.replace("[", r"\[").replace(".", r"\.")):
            apply_config_file(parser, parser.parse_args([]), path)


def test_saves_of_one_second_at_one_station_never_collide_and_keep_their_ids_apart(tmp_path):
    from demo.app.edit.saving import save_result

    image = np.full((8, 8, 3), 9, np.uint8)
    paths = [save_result(tmp_path, image=image, events=[], meta={"station": "../x y"}, now=0, display=image)
             for _ in range(3)]
    assert [p.name for p in paths] == ["igan-x-y-19700101-000000.png", "igan-x-y-19700101-000000-1.png",
                                       "igan-x-y-19700101-000000-2.png"]
    ids = {json.loads(p.with_suffix(".json").read_text())["id"] for p in paths}
    assert len(ids) == 3
