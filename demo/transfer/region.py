"""Where a colour stroke's change spreads on the photo: the stroke's region, found edge-aware from the photo itself.

numpy/OpenCV only. A person who paints the sky orange means the sky, up to the horizon, not a band around the
stroke. So the region is grown from the colour strokes over the photo:

1. **Geodesic spread.** The whole photo (not only the model's square: a sky goes on beyond it) is resized to
   about ``work_side`` squared pixels, whatever its size, passed through a 3x3 median (specks such as stars are
   no edges; a photo the median changes by more than ``speck_change`` on average is noise, and kept), smoothed a
   little and put in CIE Lab. A step between
   neighbours costs ``spatial_cost`` plus the part of its colour difference above a floor: the floor is
   ``edge_floor`` Lab units, raised to the strokes' own texture (a quantile of the steps under them), so that a
   smooth gradient (a sky) and a texture like the painted one (grass, ripples) are free, and an edge (a
   horizon, a shore) costs its height. Walking on colours far from the strokes' own (beyond their k-means
   centres' spread, less ``colour_tolerance``) costs a little more per step (``colour_cost``), which holds the
   spread back at a weak border (fog, haze). Walking onto ground smoother than under the strokes (less fine
   texture: stars, grain, ripples, as the local mean of the photo's difference from its 3x3 median, below the
   strokes' own ``texture_low_quantile``) costs ``texture_cost`` per step and unit lacking, so that a starry sky
   stops at a smooth ridge of its own colour. A low-contrast photo (fog, haze: its strongest steps, the 99%
   quantile, below ``contrast_reference``) has its steps stretched up to that, by at most ``contrast_gain_max``:
   its borders are weak only in absolute terms. The accumulated cost from the strokes (a geodesic distance, by
   alternating 1-D sweeps in the four directions) is the region's membership: 1 within ``reach`` Lab units, 0
   beyond ``reach + softness``, smooth between. A flat photo is one region; on noise every step is an edge.
2. **Brought up guided by the photo.** He, Sun and Tang's guided filter (2010) turns that soft membership
   into a local linear model of the photo's colour, ``region = a . rgb + b``, per working pixel. Its
   coefficients ``[h, w, 4]`` are what the renderers take: upsampled bilinearly over the whole photo and applied
   to its own pixels at full resolution (the fast guided filter), so the region's border follows the photo's
   edges at any size, soft where the photo's border is soft, and the work stays at ``work_side`` squared pixels.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True, kw_only=True)
class RegionConfig:
    """Working side (pixels), edge costs (Lab units), and the guided filter's window (working pixels) and eps."""

    work_side: int = 192
    speck_change: float = 20.0  # mean change (levels) of the 3x3 median above which a photo is kept as it is
    smooth: float = 0.5  # Gaussian sigma in working pixels before the steps are measured
    edge_floor: float = 2.0  # steps below this many Lab units are free (smooth gradients)
    texture_quantile: float = 0.9  # the floor rises to this quantile of the steps under the strokes ...
    texture_floor_max: float = 12.0  # ... but no higher
    spatial_cost: float = 0.02  # Lab units per working pixel, so that distance alone counts a little
    reach: float = 4.0  # accumulated edge height at which membership starts to fall
    softness: float = 3.0  # and over which it falls to 0
    sweep_rounds: int = 6
    colour_cost: float = 0.01  # Lab units of cost per step, per Lab unit a pixel lies beyond the strokes' colours ...
    colour_tolerance: float = 25.0  # ... less this many (a graded sky is one region)
    colour_clusters: int = 3
    texture_cost: float = 3.0  # Lab units of cost per step, per unit of fine texture a pixel lacks ...
    texture_low_quantile: float = 0.02  # ... below this quantile of the texture under the strokes
    texture_sigma: float = 2.0  # working pixels over which the fine texture is averaged
    texture_samples: int = 64  # strokes covering fewer working pixels take the texture around them too
    contrast_reference: float = 9.0  # a low-contrast photo (fog, haze) whose 99% step is below this many Lab units ...
    contrast_gain_max: float = 4.0  # ... has its steps stretched up to it, by at most this factor
    guide_radius: int = 3
    guide_eps: float = 5e-4

    def __post_init__(self) -> None:
        if self.work_side < 16:
            raise ValueError(f"work_side must be >= 16, got {self.work_side}")
        if self.softness <= 0 or self.reach < 0:
            raise ValueError(f"region needs reach >= 0 and softness > 0, got {self.reach}, {self.softness}")


@dataclass(frozen=True, kw_only=True)
class PhotoRegion:
    """The colour strokes' region on the whole photo, at the working size [h, w] (about ``work_side`` squared pixels)."""

    membership: np.ndarray  # [h, w] float32 in [0, 1]: the geodesic spread, before the guided filter
    coefficients: np.ndarray  # [h, w, 4] float32: region = a_r r + a_g g + a_b b + offset, photo rgb in 0..1
    square: tuple[int, int, int, int]  # the model's square (x0, y0, width, height) in working pixels

    def at(self, image: np.ndarray) -> np.ndarray:
        """The region [H, W] in [0, 1] over ``image`` ([H, W, 3] uint8, the whole photo at any size)."""
        height, width = image.shape[:2]
        coefficients = cv2.resize(self.coefficients, (width, height), interpolation=cv2.INTER_LINEAR)
        rgb = image.astype(np.float32) / 255.0
        value = (coefficients[..., :3] * rgb).sum(-1) + coefficients[..., 3]
        return np.clip(value, 0.0, 1.0)

    def in_square(self, size: int) -> np.ndarray:
        """[size, size] the membership over the model's square (INTER_AREA), for the colour model."""
        x0, y0, width, height = self.square
        crop = self.membership[y0:y0 + height, x0:x0 + width]
        return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA if width > size else cv2.INTER_LINEAR)


def geodesic_distance(start: np.ndarray, cost_x: np.ndarray, cost_y: np.ndarray, *, rounds: int) -> np.ndarray:
    """Shortest 4-connected path cost from ``start`` ([h, w], 0 at seeds, inf elsewhere) over step costs.

    ``cost_x`` [h, w-1] is the cost between (y, x) and (y, x+1); ``cost_y`` [h-1, w] between (y, x) and (y+1, x).
    Each sweep is exact along its lines (d[i] = C[i] + min over j <= i of d[j] - C[j], with C the cumulative
    cost), so a few rounds of the four sweeps reach paths that turn a few times.
    """
    height, width = start.shape
    along_x = np.concatenate([np.zeros((height, 1)), np.cumsum(cost_x, axis=1, dtype=np.float64)], axis=1)  # [h, w]
    along_y = np.concatenate([np.zeros((1, width)), np.cumsum(cost_y, axis=0, dtype=np.float64)], axis=0)  # [h, w]
    distance = start.astype(np.float64)
    for _ in range(rounds):
        before = distance
        # Sweep left to right, right to left, top to bottom, bottom to top.
        distance = np.minimum(distance, along_x + np.minimum.accumulate(distance - along_x, axis=1))
        distance = np.minimum(distance, np.minimum.accumulate((distance + along_x)[:, ::-1], axis=1)[:, ::-1] - along_x)
        distance = np.minimum(distance, along_y + np.minimum.accumulate(distance - along_y, axis=0))
        distance = np.minimum(distance, np.minimum.accumulate((distance + along_y)[::-1], axis=0)[::-1] - along_y)
        if np.array_equal(distance, before):
            break
    return distance.astype(np.float32)


def guided_coefficients(guide: np.ndarray, source: np.ndarray, *, radius: int, eps: float) -> np.ndarray:
    """He et al.'s guided filter with a colour guide: [h, w, 4] (a_r, a_g, a_b, b), averaged over the windows.

    ``guide`` [h, w, 3] float32 in 0..1, ``source`` [h, w] float32. ``(a . guide + b)`` is the filtered source.
    """

    def mean(x: np.ndarray) -> np.ndarray:
        return cv2.boxFilter(x, -1, (2 * radius + 1,) * 2, borderType=cv2.BORDER_REFLECT)

    mean_guide = mean(guide)  # [h, w, 3]
    mean_source = mean(source)  # [h, w]
    cross = mean(guide * source[..., None]) - mean_guide * mean_source[..., None]  # [h, w, 3]
    products = np.stack([guide[..., i] * guide[..., j] for i in range(3) for j in range(3)], axis=-1)  # [h, w, 9]
    covariance = mean(products).reshape(*source.shape, 3, 3) - mean_guide[..., :, None] * mean_guide[..., None, :]
    covariance = covariance + eps * np.eye(3, dtype=np.float32)
    a = np.linalg.solve(covariance, cross[..., None])[..., 0]  # [h, w, 3]
    b = mean_source - (a * mean_guide).sum(-1)  # [h, w]
    return np.dstack([mean(a), mean(b)]).astype(np.float32)


def neighbour_steps(lab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(step_x [h, w-1], step_y [h-1, w]): the Lab distance between neighbours."""
    return np.linalg.norm(np.diff(lab, axis=1), axis=-1), np.linalg.norm(np.diff(lab, axis=0), axis=-1)


def texture_floor(steps: tuple[np.ndarray, np.ndarray], seeds: np.ndarray, *, config: RegionConfig) -> float:
    """Steps below this many Lab units are free: ``edge_floor``, raised to the texture under the strokes (a
    quantile of its ``steps`` in both directions), never past ``texture_floor_max``."""
    step_x, step_y = steps
    under = np.concatenate([step_x[seeds[:, 1:] & seeds[:, :-1]], step_y[seeds[1:] & seeds[:-1]]])
    if not under.size:
        return config.edge_floor
    return float(np.clip(np.quantile(under, config.texture_quantile), config.edge_floor, config.texture_floor_max))


def step_costs(steps: tuple[np.ndarray, np.ndarray], *, floor: float, config: RegionConfig) -> tuple[np.ndarray, np.ndarray]:
    """(cost_x [h, w-1], cost_y [h-1, w]): the edge height of each step above ``floor``, plus distance."""
    step_x, step_y = steps
    return (config.spatial_cost + np.maximum(step_x - floor, 0.0), config.spatial_cost + np.maximum(step_y - floor, 0.0))


def contrast_gain(steps: tuple[np.ndarray, np.ndarray], *, config: RegionConfig) -> float:
    """How much a low-contrast photo's steps are stretched so that its strongest ones (the 99% quantile of the
    neighbour steps) reach ``contrast_reference``: 1 for an ordinary photo, up to ``contrast_gain_max`` in fog."""
    every = np.concatenate([step.ravel() for step in steps])
    strongest = float(np.quantile(every, 0.99)) if every.size else 0.0
    return float(np.clip(config.contrast_reference / max(strongest, 1e-6), 1.0, config.contrast_gain_max))


def despeckle(view: np.ndarray, median: np.ndarray, *, config: RegionConfig) -> np.ndarray:
    """[h, w, 3] uint8: ``view``'s 3x3 ``median``, so that specks (stars, dust, grain) are no edges, unless the
    median changes the photo by more than ``speck_change`` levels on average: then it is all texture (noise), kept."""
    change = float(np.abs(view.astype(np.int16) - median).mean())
    return view if change > config.speck_change else median


def fine_texture(view: np.ndarray, median: np.ndarray, *, sigma: float) -> np.ndarray:
    """[h, w] the local mean (Gaussian, ``sigma`` working pixels) of how far the photo's lightness lies from its
    3x3 median's (Lab L units): stars, grain and ripples give some, a smooth sky or ridge none."""
    lightness = [cv2.cvtColor(image.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)[..., 0] for image in (view, median)]
    return cv2.GaussianBlur(np.abs(lightness[0] - lightness[1]), (0, 0), sigma, borderType=cv2.BORDER_REFLECT)


def texture_shortfall(texture: np.ndarray, seeds: np.ndarray, *, config: RegionConfig) -> np.ndarray:
    """[h, w] how much less fine texture each pixel has than the strokes' own: the ``texture_low_quantile`` of it
    under the strokes, or within ``2 * texture_sigma`` of them when they cover fewer than ``texture_samples``
    working pixels (a tiny stroke's few pixels are too few to go by)."""
    under = seeds
    if seeds.sum() < config.texture_samples:
        reach = int(np.ceil(2 * config.texture_sigma))
        under = cv2.dilate(seeds.astype(np.uint8), cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1,) * 2)) > 0
    return np.maximum(float(np.quantile(texture[under], config.texture_low_quantile)) - texture, 0.0)


def colour_distance(lab: np.ndarray, seeds: np.ndarray, *, clusters: int) -> np.ndarray:
    """[h, w] Lab units from each pixel to the nearest of the strokes' colours (k-means centres), beyond its spread."""
    samples = lab[seeds].astype(np.float32)  # [n, 3]
    count = int(min(clusters, len(samples)))
    if count > 1:
        criteria = (cv2.TERM_CRITERIA_EPS + cv2.TERM_CRITERIA_MAX_ITER, 20, 0.5)
        cv2.setRNGSeed(0)
        _, assigned, centres = cv2.kmeans(samples, count, None, criteria, 2, cv2.KMEANS_PP_CENTERS)
        assigned = assigned.ravel()
    else:
        centres, assigned = samples.mean(0, keepdims=True), np.zeros(len(samples), int)
    result = np.full(lab.shape[:2], np.inf, np.float32)
    for index, centre in enumerate(centres):
        members = samples[assigned == index]
        if not len(members):
            continue
        spread = float(np.quantile(np.linalg.norm(members - centre, axis=-1), 0.9))
        result = np.minimum(result, np.maximum(np.linalg.norm(lab - centre, axis=-1) - spread, 0.0))
    return result


def estimate_region(view: np.ndarray, coverage: np.ndarray, *, square: tuple[int, int, int, int] | None = None,
                    config: RegionConfig = RegionConfig()) -> PhotoRegion | None:
    """The region of the colour strokes ``coverage`` ([h, w] in 0..1) on ``view`` ([h, w, 3] uint8 RGB, the photo at
    its working size); ``square``: the model's square there (default: all of it). None without a colour stroke."""
    if view.shape[:2] != coverage.shape:
        raise ValueError(f"strokes {coverage.shape} must match the photo {view.shape[:2]}")
    if not (coverage > 0).any():
        return None
    seeds = coverage >= 0.5
    if not seeds.any():  # a stroke thinner than a working pixel: its strongest pixels
        seeds = coverage >= coverage.max() * 0.5
    median = cv2.medianBlur(view, 3)
    rgb = despeckle(view, median, config=config).astype(np.float32) / 255.0
    smoothed = cv2.GaussianBlur(rgb, (0, 0), config.smooth, borderType=cv2.BORDER_REFLECT) if config.smooth > 0 else rgb
    lab = cv2.cvtColor(smoothed, cv2.COLOR_RGB2Lab)  # [s, s, 3] L in 0..100
    # The neighbour steps, once; a foggy photo's borders are weak only in absolute terms, so they are stretched.
    steps = neighbour_steps(lab)  # ([h, w-1], [h-1, w]) Lab units
    gain = contrast_gain(steps, config=config)
    steps = (steps[0] * gain, steps[1] * gain)
    cost_x, cost_y = step_costs(steps, floor=texture_floor(steps, seeds, config=config), config=config)
    beyond = colour_distance(lab, seeds, clusters=config.colour_clusters)  # [s, s] Lab units beyond the strokes' colours
    beyond = np.maximum(beyond - config.colour_tolerance, 0.0)
    # Per-pixel charges on the steps that touch them: colours far from the strokes', ground smoother than theirs.
    charges = []
    if config.colour_cost > 0:
        charges.append(config.colour_cost * beyond)
    if config.texture_cost > 0:
        charges.append(config.texture_cost * texture_shortfall(fine_texture(view, median, sigma=config.texture_sigma),
                                                               seeds, config=config))
    for charge in charges:
        cost_x = cost_x + np.maximum(charge[:, 1:], charge[:, :-1])
        cost_y = cost_y + np.maximum(charge[1:], charge[:-1])
    start = np.where(seeds, 0.0, np.inf)
    distance = geodesic_distance(start, cost_x, cost_y, rounds=config.sweep_rounds)  # [s, s] Lab units
    t = np.clip((distance - config.reach) / config.softness, 0.0, 1.0)
    membership = (1.0 - t * t * (3.0 - 2.0 * t)).astype(np.float32)  # 1 - smoothstep
    coefficients = guided_coefficients(rgb, membership, radius=config.guide_radius, eps=config.guide_eps)
    square = (0, 0, view.shape[1], view.shape[0]) if square is None else tuple(int(v) for v in square)
    return PhotoRegion(membership=membership, coefficients=coefficients, square=square)


def photo_region(photo: np.ndarray, rect: tuple[int, int, int, int], paint: np.ndarray, *,
                 config: RegionConfig = RegionConfig()) -> PhotoRegion | None:
    """The colour strokes' region on the whole ``photo``; ``rect``: the model's square on it (x0, y0, w, h);
    ``paint``: the strokes' coverage over that square, at any side (``rasterise(strokes, work_side).color_mask``).

    The photo is worked on at about ``work_side`` squared pixels, its aspect kept, so that a sky that goes on
    beyond the model's square changes there too, up to its own border."""
    height, width = photo.shape[:2]
    scale = min(1.0, config.work_side / np.sqrt(height * width))
    size = (max(8, round(width * scale)), max(8, round(height * scale)))
    view = cv2.resize(photo, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)  # [h, w, 3]
    x0, y0, rect_w, rect_h = rect
    sx, sy = size[0] / width, size[1] / height
    square = (round(x0 * sx), round(y0 * sy), max(1, round(rect_w * sx)), max(1, round(rect_h * sy)))
    seeds = np.zeros(view.shape[:2], np.float32)
    seeds[square[1]:square[1] + square[3], square[0]:square[0] + square[2]] = cv2.resize(
        paint.astype(np.float32), square[2:], interpolation=cv2.INTER_AREA if paint.shape[0] > square[2] else cv2.INTER_LINEAR)
    return estimate_region(view, seeds, square=square, config=config)
