"""The app replays, saves and starts: session replay moves the canvas and is deterministic, the CLI
replays with the process worker, saves never overwrite, a saved session replays from its start, the
start preview shows before the worker has loaded, and the GPU overlay matches the rasteriser.

Nothing is mocked: a real window (SDL offscreen driver) with a real GL context on llvmpipe, a 32 px
random model (conftest's ``app_model``), input through pygame's real event queue, and assertions
that read the window's pixels back.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import cv2
import moderngl
import numpy as np
from app_window import GREEN, RED, STROKES, app_action, band, canvas_pixels, distance, make_app, run_until

from demo.app.render.overlay import StrokeOverlay
from demo.gl import create_headless_context
from demo.tools.brushes import rasterise
from demo.tools.edit_state import EditState
from demo.tools.session import Event, read_session, write_session


def test_replay_moves_the_canvas_toward_the_stroke_colors_and_draws_thumbnails(app_model, tmp_path):
    session = write_session(tmp_path / "two.jsonl", STROKES)
    app = make_app(app_model, tmp_path, replay=session, steps=30, hud=False)  # the HUD would cover the red band
    try:
        app.on_action(app_action("toggle_overlay"))  # judge the generated image, not the painted strokes
        run_until(app, lambda: app.controller.result is not None and app.replay.position == 0 and app.controller.idle)
        app.frame()
        before = canvas_pixels(app)
        run_until(app, app.done)
        after_image = app.capture()
        after = canvas_pixels(app, after_image)
        result = app.controller.result
        assert app.ctx.error == "GL_NO_ERROR"
    finally:
        app.close()
    assert result.steps_done == 2 * 30 and result.steps_left == 0
    # The solver moved the image toward red in the red band and toward green in the green band (a random
    # 32 px generator cannot reach saturated colors, so the test asks for the direction, not the color).
    red_before, red_after = band(before, 0.2), band(after, 0.2)
    green_before, green_after = band(before, 0.8), band(after, 0.8)
    redness = lambda p: float((p[:, 0] - p[:, 1]).mean())
    assert distance(red_after, RED) < 0.95 * distance(red_before, RED)
    assert distance(green_after, GREEN) < 0.95 * distance(green_before, GREEN)
    assert redness(red_after) > redness(red_before) + 8
    assert -redness(green_after) > -redness(green_before) + 8
    # Each thumbnail shows its candidate (upscaled), the shown one first.
    for i, rect in enumerate(app.layout.thumbnails):
        x, y, w, h = (int(round(v)) for v in rect)
        drawn = after_image[y + 3:y + h - 3, x + 3:x + w - 3].astype(np.float32)
        expected = cv2.resize(result.images[i], (w, h), interpolation=cv2.INTER_LINEAR)[3:-3, 3:-3].astype(np.float32)
        assert np.abs(drawn - expected).mean() < 12, f"thumbnail {i} differs from candidate {i}"


def test_replay_is_deterministic(app_model, tmp_path):
    session = write_session(tmp_path / "s.jsonl", STROKES[:4] + [Event(t=0.2, type="command", name="fix")] + STROKES[4:]
                            + [Event(t=0.5, type="command", name="pick", index=1)])
    images = []
    for _ in range(2):
        app = make_app(app_model, tmp_path, replay=session, hud=False)
        try:
            run_until(app, app.done)
            images.append((app.controller.result.images.copy(), canvas_pixels(app)))
        finally:
            app.close()
    assert np.array_equal(images[0][0], images[1][0])
    assert np.array_equal(images[0][1], images[1][1])


def test_cli_replays_with_the_process_worker_and_writes_a_screenshot(app_model, tmp_path):
    session = write_session(tmp_path / "s.jsonl", STROKES)
    shot = tmp_path / "shot.png"
    done = subprocess.run([sys.executable, "-m", "demo", "--model", str(app_model), "--replay", str(session),
                           "--exit-when-done", "--screenshot", str(shot), "--size", "640x480", "--candidates", "4",
                           "--steps", "10", "--device", "cpu"],
                          capture_output=True, text=True, timeout=240, cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    image = cv2.cvtColor(cv2.imread(str(shot)), cv2.COLOR_BGR2RGB)
    assert image.shape == (480, 640, 3)
    assert image[:, :, 0].std() > 10  # a drawn window, not a blank one


def test_gpu_overlay_covers_what_the_brushes_rasterise():
    ctx = create_headless_context()
    try:
        assert ctx.error == "GL_NO_ERROR"
        ctx.enable(moderngl.BLEND)
        overlay = StrokeOverlay(ctx)
        state = EditState()
        for event in STROKES + [Event(t=1, type="down", tool="erase", x=0.5, y=0.1, width=0.2),
                                Event(t=1, type="move", x=0.5, y=0.9, pressure=0.3), Event(t=1, type="up"),
                                Event(t=1, type="down", tool="color", x=0.2, y=0.5, pressure=0.5, color=(0, 0, 255), width=0.1),
                                Event(t=1, type="move", x=0.8, y=0.6)]:  # the last stroke is still in progress
            state.apply(event)
        assert overlay.update(state, 128)
        assert not overlay.update(state, 128)  # nothing changed: nothing redrawn
        layer = overlay.shown.read(components=4)  # premultiplied RGBA, numpy row order
        assert ctx.error == "GL_NO_ERROR"
        overlay.release()
    finally:
        ctx.release()
    canvas = rasterise(state.visible_strokes, 128)
    drawn, wanted = layer[..., 3] > 127, canvas.color_mask > 0.5
    iou = (drawn & wanted).sum() / (drawn | wanted).sum()
    assert iou > 0.93
    # Colors agree where both are solid.
    solid = (layer[..., 3] == 255) & (canvas.color_mask > 0.99)
    assert np.abs(layer[solid, :3].astype(np.float32) - canvas.color[solid] * 255).mean() < 3


def test_save_never_overwrites_and_the_session_replays(app_model, tmp_path):
    app = make_app(app_model, tmp_path)
    try:
        run_until(app, lambda: app.controller.result is not None)
        for event in STROKES[:4]:
            app.on_event(event, at=0.0)
        run_until(app, lambda: app.controller.idle)
        first = app.save()
        second = app.save()
        image = app.controller.result.image
    finally:
        app.close()
    assert first != second and first.exists() and second.exists()
    saved = cv2.cvtColor(cv2.imread(str(first)), cv2.COLOR_BGR2RGB)
    assert np.array_equal(saved, image)
    session = read_session(first.with_suffix(".jsonl"))
    assert session.events == tuple(STROKES[:4])
    info = json.loads(first.with_suffix(".json").read_text())
    assert info["model"] == str(app_model) and info["candidates"] == 4


def test_the_window_shows_the_models_start_preview_before_the_worker_has_loaded(tmp_path):
    from demo.app.loop.start_preview import load_start_preview

    preview = load_start_preview("landscape64", seed=2)
    app = make_app("landscape64", tmp_path, worker="process", seed=2, hud=False, candidates=8)
    try:
        app.frame()  # the worker is still importing torch
        assert app.controller.result is None and app.startup.preview_at is not None
        shown = canvas_pixels(app)
    finally:
        app.close()
    expected = cv2.resize(preview, shown.shape[1::-1], interpolation=cv2.INTER_LINEAR).astype(np.float32)
    assert np.abs(shown - expected)[4:-4, 4:-4].mean() < 6


def test_a_saved_session_replays_from_the_fresh_start_it_began_at(app_model, tmp_path):
    """A kiosk clears the history at each new visitor; the save says which fresh start the strokes began at."""
    app = make_app(app_model, tmp_path, hud=False)
    try:
        for _ in range(2):
            app.router.act(app_action("command", "reset"))
        app.controller.fresh_session()  # as the kiosk does for a new visitor
        run_until(app, lambda: app.controller.result is not None and app.controller.result.steps_left == 0
                  and app.controller.idle)
        start_z0 = app.controller.result.z0[np.argsort(app.controller.result.slots)]
        picture = app.save()
    finally:
        app.close()
    session = read_session(picture.with_suffix(".jsonl"))
    assert session.meta["start"] == 2 and not any(e.type == "command" for e in session.events)
    replayed = make_app(app_model, tmp_path, hud=False, replay=picture.with_suffix(".jsonl"))
    try:
        assert replayed.controller.request.start == 2
        run_until(replayed, lambda: replayed.controller.result is not None)
        result = replayed.controller.result
        assert np.allclose(result.z0[np.argsort(result.slots)], start_z0)
    finally:
        replayed.close()
