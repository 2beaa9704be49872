"""A QR code as rows of dark runs, ready to paint as rectangles (no image, no texture)."""

from __future__ import annotations

from dataclasses import dataclass

BORDER = 2  # light modules around the code (the card's white margin does the rest)


@dataclass(frozen=True)
class QrPicture:
    url: str
    size: int  # modules per side, border included
    runs: tuple[tuple[int, int, int], ...]  # (row, first column, length) of each run of dark modules


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
