"""What UI actions do beyond the UI state, which the reducer (``ui_state.reduce``) changes by itself.

``Effects`` is built from the parts it drives and maps an action's name to what it does. Actions
without an effect (brush, colour, width, HUD toggles...) only change the state.
"""

from __future__ import annotations

from typing import Callable

import numpy as np

from demo.input import Action


def color_at(image: np.ndarray, position: tuple[float, float]) -> tuple[int, int, int]:
    """The colour of ``image`` [H, W, 3] at image coordinates (u, v) in 0..1."""
    u, v = position
    height, width = image.shape[:2]
    row, column = min(height - 1, int(v * height)), min(width - 1, int(u * width))
    return tuple(int(c) for c in image[row, column])


class Effects:
    def __init__(self, *, controller, scene, router, morph, window, dispatch: Callable[[Action], None],
                 save: Callable[[], object], load_photo: Callable[[str], None]):
        """``dispatch`` is the app's action path (reducer, then effects); ``save`` and ``load_photo`` its file jobs."""
        self.controller = controller
        self.scene = scene
        self.router = router
        self.morph = morph
        self.dispatch = dispatch
        self._handlers: dict[str, Callable[[object], None]] = {
            "eyedropper": self.eyedropper,
            "pick_step": self.pick_step,
            "toggle_fullscreen": lambda value: window.toggle_fullscreen(),
            "morph_play": lambda value: morph.toggle(available=self._morph_available()),
            "morph_seek": lambda value: morph.seek(value, available=self._morph_available()),
            "cancel": lambda value: morph.leave(),
            "save": lambda value: save(),
            "load_photo": load_photo,
        }

    def run(self, action: Action) -> None:
        """Do what ``action`` does beyond the UI state, if anything."""
        handler = self._handlers.get(action.name)
        if handler is not None:
            handler(action.value)

    def eyedropper(self, position) -> None:
        """Pick the shown image's colour under the pointer as the brush colour."""
        result = self.controller.result
        if result is None or not len(result.images) or position is None:
            return
        self.dispatch(Action(name="color", value=color_at(result.image, position)))

    def pick_step(self, step: int) -> None:
        """Show the next (+1) or previous (-1) candidate."""
        count, _ = self.scene.shown_counts()
        if count:
            self.router.act(Action(name="pick", value=(self.controller.shown_index() + step) % count))

    def _morph_available(self) -> bool:
        return self.scene.shown_counts()[1] > 0
