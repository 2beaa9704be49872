"""The app with photos and faults: a dropped photo is projected with progress and shown; a bad photo,
a missing model and a dead worker process are shown on screen and the window stays.

Nothing is mocked: a real window (SDL offscreen driver) with a real GL context on llvmpipe, a 32 px
random model (conftest's ``app_model``), input through pygame's real event queue, and assertions
that read the window's pixels back.
"""

from __future__ import annotations

import time

import cv2
import numpy as np
import pygame
from app_window import STROKES, canvas_pixels, make_app, run_until


def test_dropping_a_photo_projects_it_with_progress_and_shows_it(app_model, tmp_path):
    photo = np.zeros((90, 120, 3), np.uint8)
    photo[:45] = (70, 130, 230)
    photo[45:] = (40, 120, 40)
    path = tmp_path / "lake.png"
    cv2.imwrite(str(path), cv2.cvtColor(photo, cv2.COLOR_RGB2BGR))
    app = make_app(app_model, tmp_path, hud=False)
    seen_progress = []
    try:
        run_until(app, lambda: app.controller.result is not None)
        pygame.event.post(pygame.event.Event(pygame.DROPFILE, file=str(path)))

        def projected():
            result = app.controller.result
            if result.projecting:
                seen_progress.append(result.progress)
            return result.photo_z is not None and not result.projecting and app.controller.idle

        run_until(app, projected, frames=2000)
        assert app.controller.request.photo_version == 1
        assert app.controller.photo.shape == (90, 120, 3)
        run_until(app, lambda: app.photos.edit.params is not None and app.photos.edit.params.flow.shape[0] == 32, pause=0.01)
        canvas = canvas_pixels(app)
        saved = app.save()
    finally:
        app.close()
    assert seen_progress and all(0 <= p <= 1 for p in seen_progress) and min(seen_progress) < 0.5
    # The canvas shows the photo's centred square (with the edit, which is small without strokes).
    h = canvas.shape[0]
    assert np.abs(canvas[int(0.1 * h):int(0.4 * h)].reshape(-1, 3).mean(0) - (70, 130, 230)).max() < 30
    assert np.abs(canvas[int(0.6 * h):int(0.9 * h)].reshape(-1, 3).mean(0) - (40, 120, 40)).max() < 30
    full = cv2.imread(str(saved.with_name(saved.stem + "-photo.png")))
    assert full.shape == (90, 120, 3)


def test_a_bad_photo_and_a_missing_model_are_shown_not_fatal(tmp_path):
    bad = tmp_path / "notes.png"
    bad.write_text("not an image")
    app = make_app(tmp_path / "missing.safetensors", tmp_path)
    try:
        pygame.event.post(pygame.event.Event(pygame.DROPFILE, file=str(bad)))
        run_until(app, lambda: app.controller.error is not None)
        app.frame()
        assert app.ui.running
        assert "missing.safetensors" in app.controller.error
        top = app.capture()[:20].reshape(-1, 3).astype(np.float32).mean(axis=0)
        assert top[0] > 1.5 * top[1]  # the red error banner
        assert "notes.png" in app.ui.notice.text
    finally:
        app.close()


def test_a_dead_worker_process_is_restarted_and_the_window_stays(app_model, tmp_path):
    import multiprocessing

    app = make_app(app_model, tmp_path, worker="process")
    try:
        run_until(app, lambda: app.controller.result is not None, frames=100000, pause=0.005)
        (worker,) = [p for p in multiprocessing.active_children() if p.name == "igan-engine"]
        worker.kill()
        worker.join(10)
        for event in STROKES[:4]:
            app.on_event(event, at=time.perf_counter())
        stamp_before = app.controller.result.stamp
        run_until(app, lambda: app.controller.result.stamp > stamp_before and app.controller.idle, frames=100000, pause=0.005)
        assert app.client.alive and app.ui.running
        assert app.watchdog.restarts == 1, (app.watchdog.restarts, app.ui.notice)
        assert app.controller.result.steps_done > 0
    finally:
        app.close()
