"""The stroke overlay at screen resolution, drawn on the GPU so that it keeps up with the pen.

``rasterise`` from demo.tools.brushes costs 16-40 ms per call at 384 px on the 2-core CPU, too slow
to redo each frame of a drag; here each stroke is drawn as instanced capsules (``ui_strokes.glsl``)
from the geometry its brush declares (``Brush.overlay``, built on ``demo.tools.geometry``, the same
footprint the solver's raster is painted from). Finished
strokes are rendered once into a committed layer; each frame of a drag copies that layer and adds
only the stroke in progress, and while that stroke grows only its new segments are drawn. The
layer is premultiplied RGBA in numpy row order.
"""

from __future__ import annotations

import moderngl
import numpy as np

from demo.gl import RenderTarget, Texture, load_program
from demo.tools.brushes import BRUSHES, Stroke
from demo.tools.edit_state import EditState

INSTANCE_FLOATS = 10  # a (x, y, r), b (x, y, r), color (r, g, b, a)


def stroke_instances(stroke: Stroke, size: int) -> list[tuple[np.ndarray, bool]]:
    """A stroke's overlay geometry (from its brush) as runs of [n, 10] float32 capsules and their erase flag."""
    runs = []
    for part in BRUSHES[stroke.tool].overlay(stroke, size):
        colors = np.broadcast_to(np.asarray(part.rgba, np.float32), (len(part.capsules), 4))
        runs.append((np.ascontiguousarray(np.concatenate([part.capsules, colors], axis=1), dtype=np.float32), part.erase))
    return runs


class StrokeOverlay:
    def __init__(self, ctx: moderngl.Context):
        self.ctx = ctx
        self.program = load_program(ctx, "ui_strokes.glsl")
        self.committed = RenderTarget(ctx)
        self.shown = RenderTarget(ctx)
        self.size = 0
        self._capacity = 0
        self._quad = ctx.buffer(np.array([0, 0, 1, 0, 0, 1, 1, 1], "f4").tobytes())
        self._buffer: moderngl.Buffer | None = None
        self._vao: moderngl.VertexArray | None = None
        self._committed_strokes: list[Stroke] = []
        self._shown_version = -1
        self._active_drawn: Stroke | None = None  # the stroke in progress as far as it is drawn on ``shown``
        self._instances: dict[int, tuple[Stroke, int, list]] = {}  # id -> (stroke, size, runs of capsules)

    @property
    def texture(self) -> Texture:
        return self.shown.texture

    def update(self, state: EditState, size: int) -> bool:
        """Bring the shown layer up to ``state``; True if it was redrawn."""
        size = max(1, int(size))
        resized = size != self.size
        if resized:
            self.size = size
            self.committed.ensure((size, size))
            self.shown.ensure((size, size))
        if not resized and state.version == self._shown_version:
            return False
        strokes, active = state.strokes, state.active
        committed_same = not resized and len(strokes) == len(self._committed_strokes) and _is_prefix(self._committed_strokes, strokes)
        if committed_same and active is not None and _extends(active, self._active_drawn):
            # The same stroke, longer: draw its new segments only.
            drawn = len(self._active_drawn.points)
            self._render(self.shown, [active], clear=False, first_capsule=drawn)
            self.shown.texture.touch(self._reach([active], first_capsule=drawn))
        else:
            if not committed_same:
                if resized or not _is_prefix(self._committed_strokes, strokes):
                    self._render(self.committed, strokes, clear=True)
                else:
                    self._render(self.committed, strokes[len(self._committed_strokes):], clear=False)
                self._committed_strokes = list(strokes)
            self.ctx.copy_framebuffer(self.shown.fbo, self.committed.fbo)
            if active is not None:
                self._render(self.shown, [active], clear=False)
            self.shown.texture.touch()
        self._active_drawn = active
        self._shown_version = state.version
        self._forget_unused(strokes, state.active)
        return True

    def _capsules(self, stroke: Stroke) -> list[tuple[np.ndarray, bool]]:
        cached = self._instances.get(id(stroke))
        if cached is not None and cached[0] is stroke and cached[1] == self.size:
            return cached[2]
        capsules = stroke_instances(stroke, self.size)
        self._instances[id(stroke)] = (stroke, self.size, capsules)
        return capsules

    def _reach(self, strokes: list[Stroke], *, first_capsule: int = 0) -> tuple[float, float, float, float]:
        """The uv box that the capsules drawn by ``_render`` can touch (with the shader's pad)."""
        capsules = np.concatenate([c[first_capsule:] for stroke in strokes for c, _ in self._capsules(stroke)])  # [n, 10]
        if not len(capsules):
            return (0.0, 0.0, 0.0, 0.0)
        pad = capsules[:, [2, 5]].max(axis=1) + 1.0  # as ui_strokes.glsl pads each quad
        lo = np.minimum(capsules[:, 0:2], capsules[:, 3:5]) - pad[:, None]  # [n, 2] (x, y)
        hi = np.maximum(capsules[:, 0:2], capsules[:, 3:5]) + pad[:, None]
        x0, y0 = lo.min(axis=0) / self.size
        x1, y1 = hi.max(axis=0) / self.size
        return (float(x0), float(y0), float(x1), float(y1))

    def _forget_unused(self, strokes: list[Stroke], active: Stroke | None) -> None:
        live = {id(s) for s in strokes} | ({id(active)} if active is not None else set())
        for key in [k for k in self._instances if k not in live]:
            del self._instances[key]

    def _render(self, target: RenderTarget, strokes: list[Stroke], *, clear: bool, first_capsule: int = 0) -> None:
        """Draw strokes in order; erasers remove what is under them (one draw per run of a blend mode).

        ``first_capsule`` skips the first capsules of a single stroke (those already drawn)."""
        target.use()
        if clear:
            self.ctx.clear(0.0, 0.0, 0.0, 0.0)
        self.program["u_size"].value = (float(self.size), float(self.size))
        runs: list[tuple[bool, list[np.ndarray]]] = []
        for stroke in strokes:
            if not stroke.points:
                continue
            for capsules, erase in self._capsules(stroke):
                if not runs or runs[-1][0] != erase:
                    runs.append((erase, []))
                runs[-1][1].append(capsules[first_capsule:])
        for erase, parts in runs:
            capsules = np.concatenate(parts) if len(parts) > 1 else parts[0]
            self._upload(capsules)
            if erase:
                self.ctx.blend_func = moderngl.ZERO, moderngl.ONE_MINUS_SRC_ALPHA
            else:
                self.ctx.blend_func = moderngl.ONE, moderngl.ONE_MINUS_SRC_ALPHA
            self._vao.render(moderngl.TRIANGLE_STRIP, vertices=4, instances=len(capsules))

    def _upload(self, capsules: np.ndarray) -> None:
        """Write the instances into the reused buffer (grown by doubling)."""
        needed = capsules.nbytes
        if needed > self._capacity:
            if self._vao is not None:
                self._vao.release()
                self._buffer.release()
            self._capacity = max(needed, 2 * self._capacity, 4096)
            self._buffer = self.ctx.buffer(reserve=self._capacity, dynamic=True)
            self._vao = self.ctx.vertex_array(self.program, [
                (self._quad, "2f", "in_uv"),
                (self._buffer, "3f 3f 4f/i", "in_a", "in_b", "in_color"),
            ])
        self._buffer.write(capsules.tobytes())

    def release(self) -> None:
        for target in (self.committed, self.shown):
            target.release()
        if self._vao is not None:
            self._vao.release()
            self._buffer.release()
        self._quad.release()


def _extends(stroke: Stroke, drawn: Stroke | None) -> bool:
    """``stroke`` is ``drawn`` with more points (brushes that do not grow, such as warp, are always redrawn)."""
    if drawn is None or not BRUSHES[stroke.tool].grows or (stroke.tool, stroke.color, stroke.width) != (drawn.tool, drawn.color, drawn.width):
        return False
    n = len(drawn.points)
    return len(stroke.points) > n and stroke.points[0] == drawn.points[0] and stroke.points[n - 1] == drawn.points[n - 1]


def _is_prefix(prefix: list[Stroke], strokes: list[Stroke]) -> bool:
    return len(prefix) <= len(strokes) and all(a is b for a, b in zip(prefix, strokes))
