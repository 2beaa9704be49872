"""Drawing only what changed: the damage rule (pure) and, in the real app, that a frame drawn where it was
damaged equals the same frame drawn in full, pixel for pixel."""

from __future__ import annotations

import numpy as np
import pytest

from demo.app.render.damage import DrawOp, area, damage, merge
from demo.app.render.scene import BACKGROUND
from demo.gl import RenderTarget
from demo.input import Action

SIZE = (200, 100)


class FakeTexture:
    """Versioned contents with a known change history, like demo.gl.Texture."""

    def __init__(self, size=(10, 10)):
        self.size = size
        self.version = 0
        self.changes: list[tuple[int, tuple | None]] = []

    def touch(self, region=None):
        self.version += 1
        self.changes.append((self.version, region))

    def changed_since(self, version):
        regions = [r for v, r in self.changes if v > version]
        if any(r is None for r in regions):
            return None
        if not regions:
            return (0.0, 0.0, 0.0, 0.0)
        return (min(r[0] for r in regions), min(r[1] for r in regions), max(r[2] for r in regions), max(r[3] for r in regions))


def op(rect, *, color=(1, 1, 1, 1), textures=()):
    return DrawOp(kind="rect" if not textures else "image", rect=rect, params=(color,), textures=tuple(textures),
                  uvs=tuple((0.0, 0.0, 1.0, 1.0) for _ in textures), versions=tuple(t.version for t in textures))


def test_the_first_frame_is_drawn_whole_and_an_unchanged_one_not_at_all():
    frame = [op((0, 0, 50, 50)), op((10, 10, 20, 20), color=(1, 0, 0, 1))]
    assert damage(None, frame, size=SIZE) == [(0, 0, 200, 100)]
    again = [op((0, 0, 50, 50)), op((10, 10, 20, 20), color=(1, 0, 0, 1))]
    assert damage(frame, again, size=SIZE) == []


def test_a_moved_op_damages_where_it_was_and_where_it_is_and_nothing_else():
    before = [op((0, 0, 200, 100)), op((10, 10, 10, 10)), op((150, 50, 20, 20))]
    after = [op((0, 0, 200, 100)), op((14, 10, 10, 10)), op((150, 50, 20, 20))]
    boxes = damage(before, after, size=SIZE)
    assert boxes == [(9, 9, 25, 21)]  # the old and the new square, merged as they overlap, with a pixel of edge


def test_an_op_that_appears_in_the_middle_damages_only_its_own_bounds():
    before = [op((0, 0, 200, 100)), op((150, 50, 20, 20))]
    after = [op((0, 0, 200, 100)), op((40, 40, 10, 10), color=(0, 1, 0, 1)), op((150, 50, 20, 20))]
    assert damage(before, after, size=SIZE) == [(39, 39, 51, 51)]


def test_swapping_two_overlapping_ops_damages_them():
    a, b = op((10, 10, 30, 30), color=(1, 0, 0, 1)), op((20, 20, 30, 30), color=(0, 0, 1, 1))
    boxes = damage([a, b], [b, a], size=SIZE)
    covered = np.zeros(SIZE[::-1], bool)
    for x0, y0, x1, y1 in boxes:
        covered[y0:y1, x0:x1] = True
    assert covered[20:40, 20:40].all()  # where they overlap, the order decides the colour


def test_a_texture_change_in_a_known_region_damages_only_that_region_as_drawn():
    texture = FakeTexture(size=(100, 100))
    before = [op((0, 0, 200, 100), textures=[texture])]  # drawn 2x wide, 1x tall
    texture.touch((0.5, 0.5, 0.6, 0.6))
    after = [op((0, 0, 200, 100), textures=[texture])]
    ((x0, y0, x1, y1),) = damage(before, after, size=SIZE)
    assert 96 <= x0 <= 100 and 119 <= x1 <= 124 and 47 <= y0 <= 50 and 60 <= y1 <= 63
    texture.touch()  # the whole texture
    assert damage(after, [op((0, 0, 200, 100), textures=[texture])], size=SIZE) == [(0, 0, 200, 100)]


def test_changes_that_piled_up_over_skipped_frames_all_count():
    texture = FakeTexture(size=(200, 100))
    before = [op((0, 0, 200, 100), textures=[texture])]
    texture.touch((0.0, 0.0, 0.1, 0.1))
    texture.touch((0.9, 0.9, 1.0, 1.0))
    boxes = damage(before, [op((0, 0, 200, 100), textures=[texture])], size=SIZE)
    assert boxes[0][0] <= 0 and boxes[0][2] >= 200  # one box from the first change to the last


def test_merge_joins_overlaps_and_keeps_far_apart_boxes_apart_up_to_the_limit():
    assert sorted(merge([(0, 0, 10, 10), (5, 5, 15, 15)])) == [(0, 0, 15, 15)]
    apart = [(0, 0, 10, 10), (100, 0, 110, 10)]
    assert sorted(merge(apart)) == apart
    many = [(20 * i, 0, 20 * i + 5, 5) for i in range(9)]
    merged = merge(many, limit=4)
    assert len(merged) <= 4
    assert sum(area(box) for box in merged) >= sum(area(box) for box in many)


# The real app: damage-tracked frames against full redraws.
def full_redraw(app) -> np.ndarray:
    """The recorded frame drawn whole, into the same kind of target as the app drew it: the window itself
    (the test reads the tracked frame first; when they are equal this redraw changes nothing), or a fresh
    layer. [H, W, 3] in framebuffer row order."""
    painter = app.scene.painter
    painter.invalidate()
    if app.scene.target == "window":
        painter.render(app.window, background=BACKGROUND)
        pixels = app.window.read_pixels()[::-1]
        app.window.back_buffer.mark(app.window.framebuffer)  # drawn after the swap: mark it as present does
        return pixels
    target = RenderTarget(app.ctx)
    try:
        target.ensure(app.window.size)
        painter.render(target, background=BACKGROUND)
        return target.read(components=3)
    finally:
        target.release()


@pytest.mark.parametrize("hud, into_window", [(True, True), (False, True), (True, False)])
def test_every_frame_drawn_where_damaged_equals_the_frame_drawn_whole(small_model_file, tmp_path, hud, into_window):
    """Drawn straight into a window that keeps its back buffer (llvmpipe does), or into the layer and copied."""
    from demo.app.app import App
    from demo.app.config import AppConfig

    app = App(AppConfig(model=str(small_model_file), size=(640, 480), worker="sync", device="cpu", candidates=4,
                        steps=6, top_k=4, max_fps=0, save_dir=tmp_path / "saves", chunk_seconds=0.05, morph_frames=4, hud=hud))
    app.window.back_buffer.enabled = into_window
    canvas = app.layout.viewport
    partial = []

    def frame_then_compare(what: str) -> None:
        record = app.frame(capture=True)  # the window's pixels, read before the swap
        if record.changed:
            partial.append(sum(area(box) for box in app.scene.painter.last_damage) / (640 * 480))
        shown = app.captured[::-1]  # framebuffer row order, as the target reads
        whole = full_redraw(app)
        where = np.argwhere((shown != whole).any(-1))
        assert not len(where), f"after {what}, the damage-tracked frame differs at {len(where)} pixels, e.g. {where[:3].tolist()} {shown[tuple(where[0])]} {whole[tuple(where[0])]}"

    steps = [
        ("start", lambda: None),
        ("hover", lambda: app.router.pointer("mouse", "move", *canvas.to_window(0.3, 0.3), 0.0)),
        ("hover again", lambda: app.router.pointer("mouse", "move", *canvas.to_window(0.35, 0.32), 0.0)),
        ("pen down", lambda: app.router.pointer("mouse", "down", *canvas.to_window(0.2, 0.5), 1.0)),
        ("drag", lambda: app.router.pointer("mouse", "move", *canvas.to_window(0.3, 0.52), 1.0)),
        ("drag on", lambda: app.router.pointer("mouse", "move", *canvas.to_window(0.45, 0.55), 0.6)),
        ("pen up", lambda: app.router.pointer("mouse", "up", *canvas.to_window(0.45, 0.55), 0.0)),
        ("a colour", lambda: app.on_action(Action(name="color", value=(40, 90, 200)))),
        ("the sketch tool", lambda: app.on_action(Action(name="tool", value="sketch"))),
        ("a stroke of it", lambda: (app.router.pointer("mouse", "down", *canvas.to_window(0.6, 0.2), 1.0),
                                    app.router.pointer("mouse", "move", *canvas.to_window(0.7, 0.8), 1.0))),
        ("its end", lambda: app.router.pointer("mouse", "up", *canvas.to_window(0.7, 0.8), 0.0)),
        ("hidden strokes", lambda: app.on_action(Action(name="toggle_overlay"))),
        ("a notice", lambda: app.on_action(Action(name="notice", value=("hello", "notice", app.clock() + 60)))),
        ("help", lambda: app.on_action(Action(name="toggle_help"))),
        ("no help", lambda: app.on_action(Action(name="toggle_help"))),
        ("undo", lambda: app.on_action(Action(name="command", value="undo"))),
        ("the profile graph", lambda: app.on_action(Action(name="toggle_profile"))),
    ]
    try:
        for what, do in steps:
            do()
            for _ in range(3):  # results arrive between frames
                frame_then_compare(what)
        assert app.ctx.error == "GL_NO_ERROR"
        assert app.scene.target == ("window" if into_window else "layer")
        assert app.window.back_buffer.enabled == into_window  # the window kept every frame, or was never asked
    finally:
        app.close()
    assert min(partial) < 0.05  # some frames (the cursor, a stroke growing) redrew a small part of the window


def test_thumbnails_follow_a_stream_of_results_at_their_refresh_rate_and_a_settled_one_at_once(ctx):
    from demo.app.render.views.thumbnails import REFRESH_SECONDS, ThumbnailsView
    from demo.engine.api import EditResult

    def result(value, *, steps_left=5):
        images = np.full((4, 8, 8, 3), value, np.uint8)  # [k, R, R, 3]
        return EditResult(stamp=value, images=images, slots=np.arange(4), steps_left=steps_left)

    view = ThumbnailsView(ctx)
    assert view.upload(result(10), now=0.0)  # the first candidates show at once
    shown = view.atlas.version
    assert not view.upload(result(20), now=0.5 * REFRESH_SECONDS)  # held back
    assert view.atlas.version == shown
    assert not view.refresh(0.9 * REFRESH_SECONDS)
    assert view.refresh(1.1 * REFRESH_SECONDS)  # due: the newest pending result
    assert view.atlas.gl.read()[0] == 20
    assert view.upload(result(30, steps_left=0), now=1.2 * REFRESH_SECONDS)  # settled: at once
    assert view.atlas.gl.read()[0] == 30
    assert not view.refresh(10.0)  # nothing pending
    view.atlas.release()


def test_the_window_probe_trusts_a_kept_back_buffer_and_gives_up_on_a_lost_one():
    from demo.app.render.window import Window

    window = Window((96, 64))
    try:
        probe = window.back_buffer
        assert probe.enabled  # Mesa's software drivers keep the back buffer across swaps
        assert not window.holds_last_frame()  # nothing presented yet
        window.use()
        window.ctx.clear(0.5, 0.25, 0.125, 1.0)
        window.present()
        assert window.holds_last_frame()
        pixels = window.read_pixels()
        assert pixels[-1, 0].tolist() == list(probe.code(probe.frames))  # the code, for the next frame to redraw
        assert (pixels[:-1] == [128, 64, 32]).all() and (pixels[-1, 1:] == [128, 64, 32]).all()  # the rest is kept
        for miss in range(3):  # a swap that loses the back buffer: here, someone paints over it
            window.present()
            window.use()
            window.ctx.clear(0.0, 0.0, 0.0, 1.0)
            assert not window.holds_last_frame()
        assert not probe.enabled  # three misses in a row: the layer and the copy from now on
        window.present()
        assert not window.holds_last_frame()
    finally:
        window.close()


@pytest.mark.parametrize("old, new", [
    ("abcdef", "abcdef"), ("abcdef", "abXdef"), ("abcdef", "abcXYdef"), ("abcdef", "abef"), ("abc", "abcde"),
    ("cde", "abcde"), ("", "ab"), ("ab", ""), ("abcabc", "abcXabc"), ("aaaa", "aa"), ("abcd", "dcba"),
])
def test_the_trimmed_matching_pairs_every_op_once_in_order(old, new):
    from demo.app.render.damage import _opcodes

    codes = _opcodes(list(old), list(new))
    matched = [(i, j) for tag, i1, i2, j1, j2 in codes if tag == "equal" for i, j in zip(range(i1, i2), range(j1, j2))]
    assert all(old[i] == new[j] for i, j in matched)
    assert [i for i, _ in matched] == sorted({i for i, _ in matched}) and [j for _, j in matched] == sorted({j for _, j in matched})
    # Every op of either frame is covered once, by an equal or an unequal code, in order.
    assert [i for _, i1, i2, _, _ in codes for i in range(i1, i2)] == list(range(len(old)))
    assert [j for _, _, _, j1, j2 in codes for j in range(j1, j2)] == list(range(len(new)))
    full = sum(i2 - i1 for tag, i1, i2, _, _ in codes if tag == "equal")
    from difflib import SequenceMatcher
    assert full >= sum(block.size for block in SequenceMatcher(None, old, new, autojunk=False).get_matching_blocks())
