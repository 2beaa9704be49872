"""The painter behind ``demo.data.landscapes``: one ``Scene`` draws one landscape, layer by layer, from one rng
(the sky layers are in ``demo.data.landscape_sky``; mountains, land, water, trees and the grade are here).

The order of the rng's draws is the data set: changing it changes every image of every seed. The label map
(``labels``: sky, ridge, water, ground per pixel) is kept beside the image and draws nothing from the rng.
"""

from __future__ import annotations

import cv2
import numpy as np

from demo.data.landscape_sky import SkyLayers
from demo.data.noise import fractal1d, fractal2d, jitter, noise2d, smoothstep

SKIES = ("day", "golden", "dusk", "night", "overcast")
SKY_WEIGHTS = (0.34, 0.2, 0.16, 0.12, 0.18)
WATERS = ("none", "lake", "sea")
GROUNDS = ("grass", "fields", "desert")
LABELS = ("sky", "ridge", "water", "ground")  # the values 0..3 of ``Scene.labels``
SKY, RIDGE, WATER, GROUND = range(len(LABELS))

# Light falling on the land per sky kind (multiplies albedo).
LIGHT = {
    "day": (1.0, 1.0, 0.97),
    "golden": (1.08, 0.86, 0.62),
    "dusk": (0.62, 0.48, 0.55),
    "night": (0.13, 0.16, 0.28),
    "overcast": (0.78, 0.80, 0.83),
}


class Scene(SkyLayers):
    """Draws one landscape layer by layer into ``self.img`` ([n, n, 3] float32, 0..1)."""

    def __init__(self, rng: np.random.Generator, n: int):
        self.rng = rng
        self.n = n
        self.ys = (np.arange(n, dtype=np.float32) + 0.5) / n  # [n] 0..1 top to bottom
        self.xs = self.ys.copy()  # [n] 0..1 left to right
        self.sky_kind = SKIES[rng.choice(len(SKIES), p=SKY_WEIGHTS)]
        self.horizon = float(rng.uniform(0.42, 0.72))  # fraction of height
        self.water = WATERS[rng.choice(3, p=(0.34, 0.36, 0.30))]
        self.ground = GROUNDS[rng.choice(3, p=(0.5, 0.28, 0.22))]
        if self.ground == "desert" and self.water == "lake":
            self.water = "none" if rng.random() < 0.6 else "lake"
        self.light = jitter(rng, LIGHT[self.sky_kind], 0.03)
        self.sun_x = float(rng.uniform(0.12, 0.88))
        self.sun_y: float | None = None  # the sky layers set it when a sun or moon is in the frame
        self.img = np.zeros((n, n, 3), np.float32)
        self.labels = np.full((n, n), SKY, np.uint8)  # [n, n] which of LABELS each pixel mostly shows

    def render(self) -> np.ndarray:
        h_px = int(round(self.horizon * self.n))
        self._sky()
        self._sun_or_moon()
        self._clouds()
        self._mountains(h_px)
        if self.water == "none":
            shore_px = h_px
        else:
            shore_px = h_px + (self.n - h_px if self.water == "sea" else int((self.n - h_px) * self.rng.uniform(0.25, 0.7)))
        if self.water != "none":
            self._water(h_px)
        self._land(h_px, shore_px)
        self._trees(h_px, shore_px)
        self._grade()
        return self.img

    # Mountains ----------------------------------------------------------------------------------

    def _mountains(self, h_px: int) -> None:
        rng, n = self.rng, self.n
        count = int(rng.choice((1, 2, 3, 4), p=(0.2, 0.35, 0.3, 0.15)))
        if rng.random() < 0.08:
            return  # Open plain or sea horizon.
        rock_palette = np.array([
            (0.42, 0.40, 0.40), (0.45, 0.38, 0.30), (0.32, 0.38, 0.30), (0.35, 0.38, 0.48),
            (0.50, 0.42, 0.35), (0.28, 0.32, 0.26),
        ], np.float32)
        max_height = self.horizon * n * rng.uniform(0.35, 0.85)
        for i in range(count):
            depth = 1.0 - i / max(count - 1, 1) if count > 1 else rng.uniform(0.2, 0.8)  # 1 = farthest
            style = rng.choice(("jagged", "rolling", "peak", "mesa"), p=(0.4, 0.3, 0.2, 0.1))
            height = max_height * (0.45 + 0.55 * depth) * rng.uniform(0.6, 1.05) if i == 0 or count == 1 else max_height * rng.uniform(0.25, 0.7) * (0.5 + 0.5 * depth)
            profile = self._ridge_profile(style)  # [n] 0..1
            top = h_px - height * profile  # [n] row of the ridge top
            # Only rows between the highest peak and the horizon can be covered.
            r0 = int(np.clip(np.floor(top.min() - 1), 0, h_px))
            rows = np.arange(r0, h_px, dtype=np.float32)[:, None]  # [r, 1]
            mask = smoothstep(-0.7, 0.7, rows - top[None, :])  # [r, n] anti-aliased inside
            rock = jitter(rng, rock_palette[rng.integers(len(rock_palette))], 0.04)
            forested = style in ("rolling", "peak") and depth < 0.6 and rng.random() < 0.6
            if forested:
                rock = jitter(rng, (0.16, 0.28, 0.14), 0.03)
            # Shade by slope: faces towards the sun are brighter.
            slope = np.gradient(top) * (1 if self.sun_x > 0.5 else -1)  # [n]
            lit = np.clip(1.0 - 0.08 * slope, 0.6, 1.3)[None, :]
            tex = 0.85 + 0.3 * fractal2d(rng, n, n, 6, 10, octaves=3)[r0:h_px]
            down = 1 - 0.25 * np.clip((rows - top[None, :]) / max(height, 1), 0, 1)  # darker towards the base
            color = rock[None, None] * (lit * tex * down)[..., None] * self.light
            # Snow caps on tall, far ridges.
            if height > 0.2 * n and style != "mesa" and not forested and rng.random() < 0.6:
                snow_line = h_px - height * rng.uniform(0.45, 0.75) + 3 * fractal1d(rng, n, cells=12, octaves=3, persistence=0.6) * height * 0.1
                snow = smoothstep(1.0, -1.0, rows - snow_line[None, :])
                snow_col = np.array([0.95, 0.96, 1.0], np.float32) * self.light * (0.8 + 0.25 * lit)[..., None]
                color = color * (1 - snow[..., None]) + snow_col * snow[..., None]
            haze = 0.7 * depth ** 1.3 if count > 1 else 0.3 * depth
            haze_col = self.sky_horizon * (0.9 if self.sky_kind != "night" else 1.0)
            color = color * (1 - haze) + haze_col * haze
            band = self.img[r0:h_px]
            self.img[r0:h_px] = band * (1 - mask[..., None]) + color * mask[..., None]
            self.labels[r0:h_px][mask >= 0.5] = RIDGE

    def _ridge_profile(self, style: str) -> np.ndarray:
        rng, n = self.rng, self.n
        xs = self.xs
        if style == "jagged":
            p = np.abs(fractal1d(rng, n, cells=int(rng.integers(2, 5)), octaves=5, persistence=0.55))
            p = 1 - np.abs(fractal1d(rng, n, cells=int(rng.integers(2, 4)), octaves=5, persistence=0.5)) * 0.8 + 0.2 * p
        elif style == "rolling":
            p = 0.5 + 0.5 * fractal1d(rng, n, cells=int(rng.integers(1, 4)), octaves=3, persistence=0.35)
            p = cv2.GaussianBlur(p[None, :], (0, 0), n / 40).ravel()
        elif style == "peak":
            cx, w = rng.uniform(0.2, 0.8), rng.uniform(0.15, 0.35)
            p = np.exp(-np.abs(xs - cx) / w) ** 1.3 + 0.12 * fractal1d(rng, n, cells=8, octaves=4, persistence=0.6)
        else:  # mesa
            p = 0.5 + 0.5 * fractal1d(rng, n, cells=int(rng.integers(2, 4)), octaves=2, persistence=0.3)
            p = np.clip((p - 0.4) * 3, 0, 1) * 0.85 + 0.1 * fractal1d(rng, n, cells=16, octaves=2, persistence=0.5)
        p = p - p.min()
        return (p / max(float(p.max()), 1e-6)).astype(np.float32)

    # Ground -------------------------------------------------------------------------------------

    def _land(self, h_px: int, shore_px: int) -> None:
        rng, n = self.rng, self.n
        start = shore_px if self.water != "none" else h_px
        if self.water != "none":
            start = max(h_px + 1, start - 3)  # room for the wavy shoreline
        rows = n - start
        if rows <= 0:
            return
        # Perspective depth: 0 at the horizon, 1 at the bottom edge.
        v = ((np.arange(start, n, dtype=np.float32) - h_px + 1) / max(n - h_px, 1))[:, None]  # [rows, 1]
        if self.ground == "grass":
            base = jitter(rng, (0.30, 0.50, 0.18) if rng.random() < 0.7 else (0.55, 0.55, 0.25), 0.05)
            tex = fractal2d(rng, rows, n, 3, 4, octaves=4)[..., None]
            color = base * (0.75 + 0.5 * tex) * (0.8 + 0.35 * v[..., None])
        elif self.ground == "fields":
            palette = np.array([(0.78, 0.68, 0.30), (0.35, 0.55, 0.20), (0.48, 0.35, 0.22), (0.58, 0.62, 0.25), (0.55, 0.45, 0.60)], np.float32)
            depth_coord = 1.0 / (v + 0.08)  # [rows, 1] large far, small near
            tilt = rng.uniform(-0.6, 0.6) * (self.xs[None, :] - 0.5)
            band = np.floor(depth_coord * rng.uniform(0.8, 1.6) + tilt * (1 + depth_coord * 0.3) + rng.uniform(0, 10)).astype(np.int64)
            cols = palette[rng.integers(0, len(palette), 64)] * rng.uniform(0.85, 1.1, (64, 1)).astype(np.float32)
            color = cols[band % 64]  # [rows, n, 3]
            stripe = 0.9 + 0.1 * np.sin(self.xs[None, :] * rng.uniform(40, 120) / (depth_coord * 0.3 + 0.5))
            color = color * stripe[..., None] * (0.85 + 0.25 * v[..., None])
        else:  # desert
            base = jitter(rng, (0.86, 0.68, 0.44), 0.05)
            phase = fractal2d(rng, rows, n, 2, 3, octaves=2) * rng.uniform(6, 14)
            dunes = np.sin(1.0 / (v + 0.1) * rng.uniform(1.5, 3.0) + phase)  # [rows, n]
            color = base * (0.85 + 0.15 * dunes[..., None]) * (0.85 + 0.2 * v[..., None])
        color = color * self.light
        haze = (0.45 * np.exp(-v * 5))[..., None]  # far land fades into the sky colour
        color = color * (1 - haze) + self.sky_horizon * 0.9 * haze
        if self.water != "none":  # Wavy, anti-aliased shoreline.
            edge = start + 3 + 3 * (self.n / 128) * fractal1d(rng, n, cells=6, octaves=3, persistence=0.5)
            rr = np.arange(start, n, dtype=np.float32)[:, None]
            a = smoothstep(-0.7, 0.7, rr - edge[None, :])[..., None]
            self.img[start:] = self.img[start:] * (1 - a) + color * a
            self.labels[start:][a[..., 0] >= 0.5] = GROUND
        else:
            self.img[start:] = color
            self.labels[start:] = GROUND

    def _water(self, h_px: int) -> None:
        rng, n = self.rng, self.n
        rows = np.arange(h_px, n)
        if rows.size == 0:
            return
        # Mirror what is above the horizon, with ripples that grow towards the viewer.
        src = np.clip(2 * h_px - rows - 1, 0, h_px - 1)  # [r]
        v = (rows - h_px + 1) / max(n - h_px, 1)  # [r] 0..1
        ripple = (np.sin(rows[:, None] * rng.uniform(0.8, 1.6) + self.xs[None, :] * rng.uniform(2, 6)) * (0.5 + 4 * v[:, None]) * (n / 128))
        cols = np.clip(np.arange(n)[None, :] + ripple.astype(np.int64), 0, n - 1)  # [r, n]
        reflection = self.img[src[:, None], cols]  # [r, n, 3]
        water_col = jitter(rng, (0.10, 0.22, 0.32) if self.water == "sea" else (0.12, 0.25, 0.28), 0.03) * self.light
        reflect = rng.uniform(0.45, 0.85) * (1 - 0.5 * v)[:, None, None]
        water = reflection * reflect + water_col * (1 - reflect)
        # Wave streaks and a glitter path under the sun.
        streaks = fractal2d(rng, rows.size, n, max(2, rows.size // 4), 3, octaves=2)[..., None]
        water = water * (0.9 + 0.2 * streaks)
        if self.sun_y is not None:
            glitter = np.exp(-((self.xs[None, :] - self.sun_x) / (0.03 + 0.1 * v[:, None])) ** 2) * smoothstep(0.55, 0.8, streaks[..., 0])
            strength = {"day": 0.5, "golden": 0.8, "dusk": 0.6, "night": 0.5}.get(self.sky_kind, 0.0)
            water = water + glitter[..., None] * strength * np.array([1.0, 0.9, 0.7], np.float32) * self.light / max(self.light.max(), 1e-3)
        self.img[h_px:] = water
        self.labels[h_px:] = WATER

    # Trees --------------------------------------------------------------------------------------

    def _trees(self, h_px: int, shore_px: int) -> None:
        rng, n = self.rng, self.n
        dark = jitter(rng, (0.10, 0.20, 0.10), 0.03) * self.light
        # A forest strip along the far shore or the horizon.
        if self.ground != "desert" and rng.random() < 0.5:
            base_row = h_px if self.water != "lake" else h_px
            heights = n * rng.uniform(0.02, 0.06) * (0.6 + 0.4 * np.abs(fractal1d(rng, n, cells=3, octaves=2, persistence=0.5)))
            teeth = np.abs(((self.xs * rng.uniform(25, 60)) % 1.0) - 0.5) * 2  # [n] conifer tips
            top = base_row - heights * (1 - 0.6 * teeth)
            extent = smoothstep(0.2, 0.5, noise2d(rng, 1, n, 1, 4)[0] + rng.uniform(-0.1, 0.3))
            rows = np.arange(n, dtype=np.float32)[:, None]
            mask = smoothstep(-0.7, 0.7, rows - top[None, :]) * (rows <= base_row) * extent[None, :]
            forest = dark * 1.1 * 0.7 + self.sky_horizon * 0.3 * 0.6
            self.img = self.img * (1 - mask[..., None]) + forest * mask[..., None]
            self.labels[mask >= 0.5] = GROUND  # a treeline on the far shore or the horizon
            if self.water != "none":  # Its reflection.
                refl_rows = np.arange(h_px, min(n, shore_px))
                src = np.clip(2 * h_px - refl_rows - 1, 0, n - 1)
                m = mask[src][..., None] * 0.7
                self.img[refl_rows] = self.img[refl_rows] * (1 - m) + forest * 0.7 * m
        # Foreground trees on land.
        land_top = shore_px if self.water != "none" else h_px
        if self.ground == "desert" or land_top >= n - 4 or rng.random() < 0.35:
            return
        count = int(rng.integers(1, 9))
        canvas = self.img.copy()
        for _ in range(count):
            y = int(rng.uniform(land_top + 2, n + 0.25 * (n - land_top)))
            y = min(y, n + 4)
            scale = (y - h_px) / max(n - h_px, 1)  # nearer is bigger
            size = n * (0.04 + 0.22 * scale) * rng.uniform(0.7, 1.3)
            x = rng.uniform(-0.05, 1.05) * n
            tone = dark * rng.uniform(0.7, 1.4)
            color = tuple(float(c) for c in np.clip(tone, 0, 1))
            shift = 4  # sub-pixel precision for cv2 drawing
            f = 2**shift
            if rng.random() < 0.6:  # Conifer: stacked triangles.
                for k in range(3):
                    yb = y - size * 0.3 * k
                    half = size * (0.28 - 0.07 * k)
                    pts = np.array([[x - half, yb], [x + half, yb], [x, yb - size * 0.55]]) * f
                    cv2.fillPoly(canvas, [pts.astype(np.int32)], color, cv2.LINE_AA, shift)
            else:  # Broadleaf: trunk and crown.
                trunk = tuple(float(c) for c in np.clip(np.array([0.25, 0.17, 0.1]) * self.light, 0, 1))
                cv2.rectangle(canvas, (int(x - size * 0.04), int(y - size * 0.5)), (int(x + size * 0.04), int(y)), trunk, -1)
                for _k in range(3):
                    cx, cy = x + rng.uniform(-0.15, 0.15) * size, y - size * rng.uniform(0.55, 0.8)
                    cv2.circle(canvas, (int(cx * f), int(cy * f)), int(size * rng.uniform(0.18, 0.28) * f), tuple(c * rng.uniform(1.0, 1.5) for c in color), -1, cv2.LINE_AA, shift)
        self.labels[(canvas != self.img).any(-1)] = GROUND
        self.img = canvas

    # Grade --------------------------------------------------------------------------------------

    def _grade(self) -> None:
        rng = self.rng
        # Small exposure / contrast variation and a faint vignette, like different cameras.
        gain = rng.uniform(0.9, 1.1)
        contrast = rng.uniform(0.9, 1.15)
        mean = self.img.mean()
        self.img = (self.img - mean) * contrast + mean * gain
        yy, xx = self.ys[:, None] - 0.5, self.xs[None, :] - 0.5
        self.img *= (1 - rng.uniform(0.0, 0.35) * (yy**2 + xx**2))[..., None]
