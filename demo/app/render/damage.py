"""Which pixels of a frame can differ from the last one: draw operations compared (no GL, pure).

A frame is recorded as a list of ``DrawOp``s, in draw order. An op's pixels depend only on its ``key``
(program, rectangle, parameters, which textures over which uv rectangles) and on the contents of its
textures, of which it records the ``versions``. Comparing this frame's ops with the last frame's:

- ops are matched in order (longest common subsequence of their keys), so matched ops keep their
  relative order;
- an unmatched op, old or new, damages its bounds;
- a matched op whose textures changed damages where they changed (``Texture.changed_since``), mapped
  into its rectangle, or all of it when that is not known.

A pixel outside the damage is covered by the same ops, in the same order, with the same inputs, as
last frame, so it keeps its colour; redrawing every op that meets the damage, clipped to it, gives the
same picture as redrawing everything (tests/test_damage.py checks this pixel for pixel).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property
from difflib import SequenceMatcher
from typing import Protocol, Sequence

Rect = tuple[float, float, float, float]  # (x, y, width, height), window pixels, origin top-left
Box = tuple[int, int, int, int]  # (x0, y0, x1, y1), whole pixels, x1 and y1 exclusive
UvRect = tuple[float, float, float, float]  # (u0, v0, u1, v1)

EDGE_PX = 1  # anti-aliasing and rounding reach this far outside an op's rectangle
MAX_BOXES = 4  # more damaged boxes than this are merged (each box replays the ops that meet it)


class Versioned(Protocol):
    version: int
    size: tuple[int, int]

    def changed_since(self, version: int) -> UvRect | None: ...


@dataclass(frozen=True, eq=False)
class DrawOp:
    kind: str  # the program that draws it
    rect: Rect
    params: tuple = ()  # everything else that decides its pixels (uniforms, blending, filtering), hashable
    textures: tuple = ()  # the Versioned textures it samples, in unit order
    uvs: tuple[UvRect, ...] = ()  # the uv rectangle of each texture drawn over ``rect``
    versions: tuple[int, ...] = ()

    @cached_property
    def key(self) -> tuple:
        return (self.kind, self.rect, self.params, tuple(id(texture) for texture in self.textures), self.uvs)

    @cached_property
    def bounds(self) -> Box:
        x, y, w, h = self.rect
        return (math.floor(x) - EDGE_PX, math.floor(y) - EDGE_PX, math.ceil(x + w) + EDGE_PX, math.ceil(y + h) + EDGE_PX)

    def stale_area(self, before: "DrawOp") -> list[Box]:
        """Where this op's pixels changed since ``before`` (the same op, older texture contents)."""
        boxes = []
        for texture, uv, old, new in zip(self.textures, self.uvs, before.versions, self.versions):
            if old == new:
                continue
            region = texture.changed_since(old)
            if region is None:
                return [self.bounds]
            if region[0] < region[2] and region[1] < region[3]:
                boxes.append(self._window_box(texture, uv, region))
        return boxes

    def _window_box(self, texture: Versioned, uv: UvRect, region: UvRect) -> Box:
        """``region`` of the texture, as drawn by this op, grown by the reach of linear filtering."""
        x, y, w, h = self.rect
        u0, v0, u1, v1 = uv
        sx, sy = w / max(u1 - u0, 1e-9), h / max(v1 - v0, 1e-9)  # window pixels per unit of u, v
        reach_x = 1.0 + sx / max(1, texture.size[0])  # one texel, in window pixels, and a pixel for rounding
        reach_y = 1.0 + sy / max(1, texture.size[1])
        box = (math.floor(x + (region[0] - u0) * sx - reach_x), math.floor(y + (region[1] - v0) * sy - reach_y),
               math.ceil(x + (region[2] - u0) * sx + reach_x), math.ceil(y + (region[3] - v0) * sy + reach_y))
        return intersect(box, self.bounds)


def damage(old: Sequence[DrawOp] | None, new: Sequence[DrawOp], *, size: tuple[int, int]) -> list[Box]:
    """The boxes of the window to redraw for ``new``, given ``old`` was drawn last (None: nothing was)."""
    whole = (0, 0, size[0], size[1])
    if old is None:
        return [whole]
    boxes: list[Box] = []
    for tag, i1, i2, j1, j2 in _opcodes([op.key for op in old], [op.key for op in new]):
        if tag == "equal":
            for before, after in zip(old[i1:i2], new[j1:j2]):
                if before.versions != after.versions:
                    boxes.extend(after.stale_area(before))
        else:
            boxes.extend(op.bounds for op in old[i1:i2])
            boxes.extend(op.bounds for op in new[j1:j2])
    clipped = [intersect(box, whole) for box in boxes]
    return merge([box for box in clipped if area(box) > 0])


def _opcodes(old: list, new: list) -> list[tuple[str, int, int, int, int]]:
    """SequenceMatcher's opcodes for two key lists, with their common prefix and suffix matched first
    (most frames change a few ops in the middle, or none: then no matcher runs at all)."""
    shorter = min(len(old), len(new))
    head = 0
    while head < shorter and old[head] == new[head]:
        head += 1
    tail = 0
    while tail < shorter - head and old[-1 - tail] == new[-1 - tail]:
        tail += 1
    codes = [("equal", 0, head, 0, head)] if head else []
    old_end, new_end = len(old) - tail, len(new) - tail
    if head < old_end and head < new_end:
        matcher = SequenceMatcher(None, old[head:old_end], new[head:new_end], autojunk=False)
        codes += [(tag, i1 + head, i2 + head, j1 + head, j2 + head) for tag, i1, i2, j1, j2 in matcher.get_opcodes()]
    elif head < old_end or head < new_end:
        codes.append(("replace", head, old_end, head, new_end))
    if tail:
        codes.append(("equal", old_end, len(old), new_end, len(new)))
    return codes


def merge(boxes: list[Box], *, limit: int = MAX_BOXES) -> list[Box]:
    """Fewer, larger boxes covering ``boxes``: overlapping ones always merge, and the cheapest pairs
    merge until at most ``limit`` remain."""
    boxes = list(boxes)
    while len(boxes) > 1:
        best = None
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                joined = union(boxes[i], boxes[j])
                cost = area(joined) - area(boxes[i]) - area(boxes[j])
                overlap = area(intersect(boxes[i], boxes[j])) > 0
                if (overlap or len(boxes) > limit) and (best is None or cost < best[0]):
                    best = (cost, i, j, joined)
        if best is None:
            break
        _, i, j, joined = best
        boxes = [box for k, box in enumerate(boxes) if k not in (i, j)] + [joined]
    return boxes


def meets(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def intersect(a: Box, b: Box) -> Box:
    return (max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3]))


def union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def area(box: Box) -> int:
    return max(0, box[2] - box[0]) * max(0, box[3] - box[1])
