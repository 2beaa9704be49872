"""Edit state: strokes with undo/redo, built from session events (numpy only).

Every input path (mouse, pen, gamepad, replay) produces ``session.Event``s and feeds them to
``EditState.apply``; that is what makes a replay reproduce a live session.
"""

from __future__ import annotations

from demo.tools.brushes import Stroke, rasterise
from demo.tools.constraints import Constraints
from demo.tools.session import Event


class EditState:
    def __init__(self) -> None:
        self.strokes: list[Stroke] = []
        self.redo_stack: list[Stroke] = []
        self.active: Stroke | None = None
        self.version = 0
        self._cache: dict[int, tuple[int, Constraints]] = {}

    def _changed(self) -> None:
        self.version += 1

    def apply(self, event: Event) -> str | None:
        """Apply one event. Returns the engine command it asks for (fix, reset, pick), if any."""
        if event.type == "down":
            self.active = Stroke(tool=event.tool, color=event.color, width=event.width,
                                 points=((event.x, event.y, event.pressure),))
            self._changed()
        elif event.type == "move" and self.active is not None:
            self.active = Stroke(tool=self.active.tool, color=self.active.color, width=self.active.width,
                                 points=self.active.points + ((event.x, event.y, event.pressure),))
            self._changed()
        elif event.type == "up" and self.active is not None:
            self.strokes.append(self.active)
            self.redo_stack.clear()
            self.active = None
            self._changed()
        elif event.type == "command":
            return self._command(event)
        return None

    def _command(self, event: Event) -> str | None:
        if event.name == "undo":
            if self.strokes:
                self.redo_stack.append(self.strokes.pop())
                self._changed()
            return None
        if event.name == "redo":
            if self.redo_stack:
                self.strokes.append(self.redo_stack.pop())
                self._changed()
            return None
        if event.name == "reset":
            self.clear()
        return event.name  # fix, reset, pick go on to the engine.

    def clear(self) -> None:
        self.strokes.clear()
        self.redo_stack.clear()
        self.active = None
        self._changed()

    @property
    def visible_strokes(self) -> list[Stroke]:
        return self.strokes + ([self.active] if self.active is not None else [])

    def constraints(self, resolution: int) -> Constraints:
        """The strokes rasterised at ``resolution``; cached until the next change."""
        cached = self._cache.get(resolution)
        if cached is not None and cached[0] == self.version:
            return cached[1]
        canvas = rasterise(self.visible_strokes, resolution)
        constraints = Constraints.from_arrays(
            version=self.version,
            color=canvas.color, color_mask=canvas.color_mask,
            sketch=canvas.sketch, sketch_mask=canvas.sketch_mask,
            warp=canvas.warp, warp_mask=canvas.warp_mask,
        )
        self._cache[resolution] = (self.version, constraints)
        return constraints
