"""A QR code as rows of dark runs, and as a small image to draw scaled up (one pixel per module)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

BORDER = 2  # light modules around the code (the card's white margin does the rest)


@dataclass(frozen=True)
class QrPicture:
    url: str
    size: int  # modules per side, border included
    runs: tuple[tuple[int, int, int], ...]  # (row, first column, length) of each run of dark modules

    def pixels(self) -> np.ndarray:
        """[size, size, 3] uint8: black modules on white, one pixel each (draw it scaled, nearest)."""
        image = np.full((self.size, self.size, 3), 255, np.uint8)
        for row, column, length in self.runs:
            image[row, column:column + length] = 0
        return image


def qr_picture(url: str, *, border: int = BORDER) -> QrPicture:
    """The QR code of ``url`` (error correction M: readable off a screen at an angle)."""
    import segno

    code = segno.make(url, error="m", micro=False)
    runs = []
    size = 0
    for row, modules in enumerate(code.matrix_iter(scale=1, border=border)):
        modules = list(modules)
        size = len(modules)
        column = 0
        while column < size:
            if modules[column]:
                start = column
                while column < size and modules[column]:
                    column += 1
                runs.append((row, start, column - start))
            else:
                column += 1
    return QrPicture(url=url, size=size, runs=tuple(runs))
