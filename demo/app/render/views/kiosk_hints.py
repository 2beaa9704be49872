"""Big, friendly on-screen hints for exhibition visitors, the 'saved' confirmation and the take-home QR
code (kiosk mode)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import moderngl

from demo.app.render.painter import Painter
from demo.gl import Texture

if TYPE_CHECKING:
    from demo.ops.qr import QrPicture

ATTRACT_LINES = ("Touch the screen to paint!",
                 "Paint a few colours:", "the computer dreams up a picture to match.")
START_LINES = ("Drag your finger to paint",
               "Colour the sky, the ground, the water...", "and watch the picture follow.")
GAMEPAD_LINE = "Gamepad: left stick moves, right trigger paints, B undoes, Back starts over."
GAMEPAD_WAKE_LINE = "...or press any button on the gamepad."
PAINTING_LINE = "Tap a small picture on the right to pick it.  New: start over.  Save: keep yours."
QR_LINE = "Scan to take your picture home"


@dataclass(frozen=True, kw_only=True)
class HintState:
    """What to tell the visitor this frame."""

    attract: bool  # the attract loop is playing
    fresh: bool  # a fresh start with nothing painted yet
    drawing: bool  # a stroke is being drawn (the hints step aside)
    gamepad: bool  # a gamepad is plugged in
    saved: str | None = None  # a picture was just saved (its confirmation line)
    save_failed: str | None = None  # a save just failed (e.g. the disk is full)
    exit_progress: float = 0.0  # 0..1: the operator is holding the exit chord
    qr: QrPicture | None = None  # the saved picture's gallery page, to scan


def hint_lines(state: HintState) -> tuple[str, ...]:
    """The big centred lines: a title first, then its explanation."""
    if state.attract:
        return ATTRACT_LINES + ((GAMEPAD_WAKE_LINE,) if state.gamepad else ())
    if state.fresh and not state.drawing:
        return START_LINES + ((GAMEPAD_LINE,) if state.gamepad else ())
    return ()


class KioskHintsView:
    def __init__(self) -> None:
        self._qr_texture: Texture | None = None  # the code shown, one pixel per module
        self._qr_url: str | None = None

    def draw(self, painter: Painter, size: tuple[int, int], canvas: tuple[float, float, float, float],
             state: HintState) -> None:
        width, height = size
        lines = hint_lines(state)
        if lines:
            self._card(painter, canvas, lines)
        elif not state.drawing:
            x, y, w, h = canvas
            painter.rect((x, y + h - 40, w, 40), (0.0, 0.0, 0.0, 0.5))
            painter.text("kiosk.painting", PAINTING_LINE, (x + w / 2, y + h - 20),
                         size=_fit(painter, PAINTING_LINE, 24, w - 24), anchor="center",
                         color=(1, 1, 1, 0.95))
        if state.qr is not None:  # under the 'saved' confirmation, which goes after 3 s
            self._qr(painter, canvas, state.qr)
        if state.saved or state.save_failed:
            text = state.saved or state.save_failed
            color = (0.12, 0.5, 0.2, 0.95) if state.saved else (0.6, 0.12, 0.1, 0.95)
            text_w, text_h = painter.text_size(text, size=44)
            box = (width / 2 - text_w / 2 - 24, height / 2 - text_h / 2 - 16, text_w + 48, text_h + 32)
            painter.rect(box, color, radius=14)
            painter.text("kiosk.saved", text, (width / 2, height / 2), size=44, anchor="center")
        if state.exit_progress > 0:
            painter.rect((width - 220, 8, 212, 14), (0.2, 0.2, 0.2, 0.8), radius=4)
            painter.rect((width - 218, 10, 208 * state.exit_progress, 10), (0.95, 0.6, 0.2, 1.0), radius=3)

    def _qr(self, painter: Painter, canvas, code: QrPicture) -> None:
        """The code on a white card in the canvas's bottom-right corner (above the hint bar), a line above it;
        one texture, drawn nearest."""
        x, y, w, h = canvas
        module = max(2, int(min(w, h) * 0.4) // code.size)  # whole pixels per module: a sharp code
        side = module * code.size
        left, top = x + w - side - 24, y + h - side - 64
        painter.rect((left - 12, top - 52, side + 24, side + 64), (1, 1, 1, 1), radius=10)
        painter.text("kiosk.qr", QR_LINE, (left + side / 2, top - 26), size=_fit(painter, QR_LINE, 24, side + 16),
                     anchor="center", color=(0.05, 0.05, 0.1, 1))
        if self._qr_texture is None:
            self._qr_texture = Texture(painter.ctx, filter=moderngl.NEAREST)
        if code.url != self._qr_url:
            self._qr_texture.update(code.pixels())
            self._qr_url = code.url
        painter.image(self._qr_texture, (left, top, side, side), nearest=True)

    def release(self) -> None:
        if self._qr_texture is not None:
            self._qr_texture.release()
            self._qr_texture = None

    @staticmethod
    def _card(painter: Painter, canvas, lines: tuple[str, ...]) -> None:
        """A translucent card over the lower part of the canvas: a big title, then smaller lines."""
        x, y, w, h = canvas
        sizes = [_fit(painter, line, size, w - 64) for line, size in zip(lines, [56] + [30] * (len(lines) - 1))]
        heights = [painter.text_size(line, size=s)[1] + 10 for line, s in zip(lines, sizes)]
        card_h = sum(heights) + 30
        top = y + h - card_h - 20
        painter.rect((x + 16, top, w - 32, card_h), (0.02, 0.02, 0.05, 0.72), radius=18)
        line_y = top + 15
        for i, (line, s, line_h) in enumerate(zip(lines, sizes, heights)):
            color = (1.0, 0.82, 0.35, 1.0) if i == 0 else (1, 1, 1, 0.95)
            painter.text(f"kiosk.hint.{i}", line, (x + w / 2, line_y + line_h / 2), size=s, anchor="center", color=color)
            line_y += line_h


def _fit(painter: Painter, text: str, size: int, width: float, *, smallest: int = 14) -> int:
    """The largest font size up to ``size`` (in steps of 4) at which ``text`` fits in ``width`` pixels."""
    while size > smallest and painter.text_size(text, size=size)[0] > width:
        size -= 4
    return max(size, smallest)
