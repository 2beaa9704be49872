"""The loaded photo with the current edit carried onto it (demo.transfer), estimated off the UI thread.

The edit is what changed from the photo's projection G(z_photo) to the image shown G(z): flow, a local
color model and a change mask, estimated at model resolution (about 25 ms on the 2-core CPU, so on a
background thread that keeps only the newest pair), then drawn at the photo's full resolution by the
warp/blend shader. A colour stroke changes its region of the photo (``demo.transfer.region``: grown from the
strokes over the whole photo, about 40 ms, on the same thread and only when the strokes change). The
canvas shows the centred square the model saw, so strokes stay registered.
"""

from __future__ import annotations

import threading

import cv2
import moderngl
import numpy as np

from demo.gl import Texture
from demo.tools.brushes import rasterise
from demo.transfer.edit_region import edit_region

from demo.transfer.pipeline import EditTransfer, GLTransfer, TransferEstimator, centre_square, fit_photo
from demo.transfer.region import PhotoRegion, RegionConfig, photo_region

UPDATE_PERIOD = 0.1  # seconds between estimates while the solver is still moving
# The shown copy's shorter side: the canvas's on screen, rounded up to VIEW_STEP pixels (a resize of a few
# pixels draws nothing again), within these bounds; never above the photo's own. The saved copy is full resolution.
VIEW_STEP, MIN_VIEW_SIDE, MAX_VIEW_SIDE = 32, 256, 2048
DISPLAY_SIDE = 1024  # until the canvas is known


def view_side(canvas_side: float) -> int:
    """The shown copy's shorter side for a canvas ``canvas_side`` pixels wide."""
    return int(min(MAX_VIEW_SIDE, max(MIN_VIEW_SIDE, -(-canvas_side // VIEW_STEP) * VIEW_STEP)))


class PhotoEdit:
    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.renderer = GLTransfer(ctx)  # the shown copy, at most display_side
        self.display_side = DISPLAY_SIDE
        self.full_renderer: GLTransfer | None = None  # full resolution, made when saving
        self.estimator = TransferEstimator()
        self.region_config = RegionConfig()
        self.shown: tuple[np.ndarray, tuple] | None = None  # the shown photo and the model's square on it
        self._region: tuple[tuple, PhotoRegion | None] | None = None  # (strokes, their region), estimator thread only
        self.photo: np.ndarray | None = None  # full resolution (within GL_MAX_TEXTURE_SIZE)
        self.params: EditTransfer | None = None  # the edit shown
        self.size: tuple[int, int] | None = None  # (width, height) of the photo as shown
        self.crop = (0.0, 0.0, 1.0, 1.0)  # uv of the model's square in the output
        self.message: str | None = None  # set when the photo had to be scaled down
        self.ready = False  # an output has been drawn for this photo
        self.error: str | None = None  # the last failure of the estimator thread, for the app to show
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._pending: tuple[int, np.ndarray, np.ndarray, tuple, tuple] | None = None
        self._done: tuple[int, EditTransfer] | None = None
        self._generation = 0
        self._last_submit = -1.0
        self._closing = False
        self._thread = threading.Thread(target=self._work, daemon=True, name="photo-edit")
        self._thread.start()

    def set_photo(self, photo: np.ndarray) -> None:
        """A new photo ([H, W, 3] uint8): shown unedited until the first estimate arrives."""
        self.photo, self.message = fit_photo(photo, max_size=self.renderer.max_size)
        self._show()
        with self._lock:
            self._generation += 1
            self._pending = None
            self._done = (self._generation, EditTransfer.identity(16, 16))
        self._last_submit = -1.0

    def _show(self) -> None:
        """The shown copy of the photo, at most ``display_side`` on its shorter side, into the renderer."""
        height, width = self.photo.shape[:2]
        scale = min(1.0, self.display_side / min(height, width))
        shown = self.photo if scale == 1.0 else cv2.resize(
            self.photo, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
        height, width = shown.shape[:2]
        x0, y0, side, _ = centre_square(height, width)
        self.renderer.set_photo(shown, rect=(x0, y0, side, side))
        self.shown = (shown, (x0, y0, side, side))
        self.size = (width, height)
        self.crop = (x0 / width, y0 / height, (x0 + side) / width, (y0 + side) / height)

    def fit_view(self, canvas_side: float) -> bool:
        """Show the photo at the canvas's size (GL thread): a 1024 px copy in a 552 px canvas drew four times the
        pixels it showed, every update. The edit on screen is drawn again at the new size (its fields are at model
        resolution, its region at the working size: neither is estimated again). True if the view changed."""
        wanted = view_side(canvas_side)
        if wanted == self.display_side:
            return False
        self.display_side = wanted
        if self.photo is None:
            return False
        self._show()
        if self.params is not None:
            self.renderer.upload(self.params)
            self.renderer.draw()
            self.ctx.enable(moderngl.BLEND)  # the transfer pass turns blending off
        return True

    def submit(self, source: np.ndarray, target: np.ndarray, *, now: float, settled: bool, strokes: tuple = ()) -> None:
        """Ask for the edit G(z_photo) -> G(z) ([R, R, 3] uint8 each), confined to the ``strokes``' region
        (G's edit is global; the strokes say what was asked for); throttled unless ``settled``."""
        if self.size is None or (not settled and now - self._last_submit < UPDATE_PERIOD):
            return
        self._last_submit = now
        with self._lock:
            self._pending = (self._generation, source, target, tuple(strokes), self.shown)
        self._wake.set()

    def _work(self) -> None:
        while True:
            self._wake.wait()
            self._wake.clear()
            if self._closing:
                return
            with self._lock:
                job, self._pending = self._pending, None
            if job is None:
                continue
            generation, source, target, strokes, shown = job
            try:
                # The strokes at model resolution and their region on the photo, here, off the UI thread.
                region = edit_region(rasterise(strokes, source.shape[0]))
                params = self.estimator(source.astype(np.float32) / 255.0, target.astype(np.float32) / 255.0,
                                        region=region, spread=self.photo_region(strokes, shown, generation=generation))
            except Exception as exc:  # noqa: BLE001 - shown by the app; the thread keeps serving
                self.error = f"edit transfer failed: {type(exc).__name__}: {exc}"
                continue
            with self._lock:
                if generation == self._generation:
                    self._done = (generation, params)

    def photo_region(self, strokes: tuple, shown: tuple, *, generation: int) -> PhotoRegion | None:
        """The colour strokes' region on the shown photo, estimated again only when the strokes or the photo change."""
        key = (strokes, generation)
        if self._region is None or self._region[0] != key:
            paint = rasterise(strokes, self.region_config.work_side).color_mask
            self._region = (key, photo_region(*shown, paint, config=self.region_config))
        return self._region[1]

    def upload(self) -> bool:
        """Render the newest finished estimate at full resolution (GL thread). True if the output changed."""
        with self._lock:
            done, self._done = self._done, None
        if done is None:
            return False
        self.params = done[1]
        self.renderer.upload(self.params)
        self.renderer.draw()
        self.ctx.enable(moderngl.BLEND)  # the transfer pass turns blending off
        self.ready = True
        return True

    @property
    def texture(self) -> Texture:
        return self.renderer.target.texture

    def render_full(self) -> np.ndarray:
        """The photo with the edit at full resolution, [H, W, 3] uint8 (for saving; one render)."""
        if self.full_renderer is None:
            self.full_renderer = GLTransfer(self.ctx)
        height, width = self.photo.shape[:2]
        self.full_renderer.set_photo(self.photo, rect=centre_square(height, width))
        pixels = self.full_renderer.render(self.params)
        self.ctx.enable(moderngl.BLEND)
        return pixels

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        self._thread.join(2.0)
