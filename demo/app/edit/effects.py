"""What UI actions do beyond the UI state, which the reducer (``ui_state.reduce``) changes by itself.

``EFFECTS`` maps an action's name to a function of the app and the action's value. Actions without
an effect (brush, colour, width, HUD toggles...) only change the state.
"""

from __future__ import annotations

import numpy as np

from demo.input import Action


def color_at(image: np.ndarray, position: tuple[float, float]) -> tuple[int, int, int]:
    """The colour of ``image`` [H, W, 3] at image coordinates (u, v) in 0..1."""
    u, v = position
    height, width = image.shape[:2]
    row, column = min(height - 1, int(v * height)), min(width - 1, int(u * width))
    return tuple(int(c) for c in image[row, column])


def eyedropper(app, position) -> None:
    """Pick the shown image's colour under the pointer as the brush colour."""
    result = app.controller.result
    if result is None or not len(result.images) or position is None:
        return
    app.on_action(Action(name="color", value=color_at(result.image, position)))


def pick_step(app, step: int) -> None:
    """Show the next (+1) or previous (-1) candidate."""
    count = app.scene.thumbnails.count
    if count:
        app.router.act(Action(name="pick", value=(app.controller.shown_index() + step) % count))


def _morph_available(app) -> bool:
    return app.scene.canvas_view.morph_frames > 0


EFFECTS = {
    "eyedropper": eyedropper,
    "pick_step": pick_step,
    "toggle_fullscreen": lambda app, value: app.window.toggle_fullscreen(),
    "morph_play": lambda app, value: app.morph.toggle(available=_morph_available(app)),
    "morph_seek": lambda app, value: app.morph.seek(value, available=_morph_available(app)),
    "cancel": lambda app, value: app.morph.leave(),
    "save": lambda app, value: app.save(),
    "load_photo": lambda app, value: app.load_photo(value),
}
