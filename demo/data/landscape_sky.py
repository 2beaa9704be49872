"""The sky layers of a landscape: gradient, sun or moon, stars and clouds (``SkyLayers``, a part of
``demo.data.landscape_scene.Scene``). They draw from the scene's rng in the order ``Scene.render`` calls them."""

from __future__ import annotations

import numpy as np

from demo.data.noise import fractal2d, jitter, noise2d, smoothstep

# Sky colours per kind: (zenith, horizon) RGB in 0..1; dusk adds a middle band.
SKY_COLORS = {
    "day": ((0.22, 0.45, 0.85), (0.68, 0.80, 0.95)),
    "golden": ((0.30, 0.45, 0.78), (1.00, 0.72, 0.38)),
    "dusk": ((0.10, 0.10, 0.32), (0.98, 0.50, 0.28)),
    "night": ((0.01, 0.02, 0.07), (0.07, 0.10, 0.22)),
    "overcast": ((0.52, 0.55, 0.60), (0.76, 0.77, 0.79)),
}
CLOUD_COLORS = {
    "day": (0.97, 0.97, 0.98),
    "golden": (1.0, 0.80, 0.60),
    "dusk": (0.85, 0.45, 0.50),
    "night": (0.16, 0.18, 0.26),
    "overcast": (0.66, 0.67, 0.70),
}


class SkyLayers:
    """Sky painters of a ``Scene``: they read rng, n, ys, xs, sky_kind, horizon and sun_x, paint into img, and
    leave sky_horizon and sun_y for the layers below (the water reflects them)."""

    def _sky(self) -> None:
        rng = self.rng
        top, bottom = (jitter(rng, c, 0.04) for c in SKY_COLORS[self.sky_kind])
        t = np.clip(self.ys / max(self.horizon, 1e-3), 0, 1) ** rng.uniform(0.8, 2.2)  # [n]
        sky = top[None] * (1 - t[:, None]) + bottom[None] * t[:, None]  # [n, 3]
        if self.sky_kind == "dusk":
            mid = jitter(rng, (0.55, 0.25, 0.45), 0.06)
            band = np.exp(-(((t - 0.65) / 0.2) ** 2))[:, None]
            sky = sky * (1 - 0.6 * band) + mid[None] * 0.6 * band
        self.img[:] = sky[:, None, :]
        self.sky_horizon = bottom

    def _sun_or_moon(self) -> None:
        rng, kind = self.rng, self.sky_kind
        if kind == "overcast":
            return
        yy, xx = self.ys[:, None], self.xs[None, :]
        if kind == "night":
            self._stars()
            if rng.random() < 0.75:
                my, mx, r = self.horizon * rng.uniform(0.15, 0.6), self.sun_x, rng.uniform(0.025, 0.045)
                d = np.sqrt((yy - my) ** 2 + (xx - mx) ** 2)
                disc = smoothstep(r, r * 0.8, d)
                if rng.random() < 0.5:  # Crescent: cut an offset disc.
                    off = rng.uniform(0.4, 0.9) * r * np.array([rng.choice((-1, 1)), rng.uniform(-0.5, 0.5)])
                    d2 = np.sqrt((yy - my - off[1]) ** 2 + (xx - mx - off[0]) ** 2)
                    disc = disc * (1 - smoothstep(r, r * 0.8, d2))
                glow = 0.25 * np.exp(-d / (r * 2.5))
                self.img += (disc[..., None] * np.array([0.92, 0.92, 0.85]) + glow[..., None] * np.array([0.35, 0.4, 0.55])).astype(np.float32)
                self.sun_y = my
            return
        if rng.random() < (0.3 if kind == "day" else 0.12):
            self.sun_y = None
            return  # Sun out of frame.
        height = {"day": (0.08, 0.5), "golden": (0.55, 0.92), "dusk": (0.85, 1.02)}[kind]
        sy = self.horizon * rng.uniform(*height)
        r = rng.uniform(0.02, 0.035) if kind == "day" else rng.uniform(0.03, 0.06)
        color = {"day": (1.0, 0.98, 0.9), "golden": (1.0, 0.85, 0.5), "dusk": (1.0, 0.55, 0.3)}[kind]
        d = np.sqrt((yy - sy) ** 2 + (xx - self.sun_x) ** 2)
        disc = smoothstep(r, r * 0.85, d)
        glow = np.exp(-d / rng.uniform(0.06, 0.14)) * (0.6 if kind == "day" else 0.8)
        col = np.array(color, np.float32)
        self.img = self.img * (1 - disc[..., None]) + disc[..., None] * col + glow[..., None] * col * 0.6
        self.sun_y = sy

    def _stars(self) -> None:
        rng, n = self.rng, self.n
        count = int(rng.uniform(40, 160) * (n / 128) ** 2)
        h = max(1, int(self.horizon * n))
        ys, xs = rng.integers(0, h, count), rng.integers(0, n, count)
        bright = rng.uniform(0.4, 1.0, count).astype(np.float32) * (1 - ys / h) ** 0.5
        for dy in (0, 1):  # 2x2 stars survive the downsample.
            for dx in (0, 1):
                yy, xx = np.minimum(ys + dy, n - 1), np.minimum(xs + dx, n - 1)
                self.img[yy, xx] = np.maximum(self.img[yy, xx], bright[:, None] * np.array([0.95, 0.95, 1.0]))

    def _clouds(self) -> None:
        rng, n, kind = self.rng, self.n, self.sky_kind
        amount = {"day": 0.55, "golden": 0.6, "dusk": 0.5, "night": 0.35, "overcast": 1.0}[kind]
        if rng.random() > amount:
            return
        # Wider than tall: more noise cells down than across.
        cells_x = int(rng.integers(2, 5))
        cells_y = cells_x * int(rng.integers(2, 5))
        noise = fractal2d(rng, n, n, cells_y, cells_x, octaves=3)  # [n, n]
        cover = rng.uniform(0.35, 0.65) if kind != "overcast" else rng.uniform(0.05, 0.35)
        alpha = smoothstep(cover, cover + rng.uniform(0.12, 0.3), noise)
        fade = 1 - smoothstep(self.horizon * 0.7, self.horizon, self.ys)[:, None]  # thinner near horizon
        alpha = alpha * fade * rng.uniform(0.6, 1.0)
        base = jitter(rng, CLOUD_COLORS[kind], 0.04)
        shade = (0.75 + 0.25 * noise2d(rng, n, n, 3, 5))[..., None]  # soft self-shadowing
        under = np.clip(np.linspace(1.05, 0.8, n, dtype=np.float32), 0, 1)[:, None, None]
        cloud = base * shade * under
        if kind == "overcast":
            cloud = cloud * 0.9 + 0.1 * self.sky_horizon
        self.img = self.img * (1 - alpha[..., None]) + cloud * alpha[..., None]
