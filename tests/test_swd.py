"""The sliced Wasserstein distance on Laplacian pyramids sees blur at the finest level and not at the coarsest."""

from __future__ import annotations

import cv2
import numpy as np

from demo.metrics.swd import laplacian_pyramid, level_sizes, sliced_wasserstein, swd_per_level


def scenes(count: int, first: int) -> np.ndarray:
    from demo.data.landscapes import LandscapeConfig, render_batch

    return render_batch(list(range(first, first + count)), config=LandscapeConfig(size=128))


def test_the_pyramid_adds_back_to_the_image_and_has_a_level_per_octave():
    image = scenes(1, 10_000_000)[0]
    bands = laplacian_pyramid(image, levels=4)
    assert [band.shape[0] for band in bands] == level_sizes(128) == [128, 64, 32, 16]
    rebuilt = bands[-1]
    for band in reversed(bands[:-1]):
        rebuilt = cv2.pyrUp(rebuilt, dstsize=band.shape[1::-1]) + band
    assert np.abs(rebuilt - image).max() < 1e-3


def test_one_set_against_itself_is_zero_and_sets_of_unequal_size_compare():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((500, 147)).astype(np.float32)
    assert sliced_wasserstein(a, a, rng=rng) == 0.0
    assert sliced_wasserstein(a, a + 1.0, rng=rng) > 500  # a shift of 1 in every coordinate, x10^3
    assert abs(sliced_wasserstein(a, a[::2], rng=rng)) < 100


def test_blur_is_far_at_the_fine_levels_and_near_at_the_coarse():
    truth, other = scenes(24, 10_000_000), scenes(24, 10_000_024)
    blurred = np.stack([cv2.resize(cv2.resize(x, (32, 32), interpolation=cv2.INTER_AREA), (128, 128),
                                   interpolation=cv2.INTER_CUBIC) for x in other])
    floor = swd_per_level(truth, other, seed=1)
    blur = swd_per_level(truth, blurred, seed=1)
    # Each set is normalised by its own spread (as ProGAN does), so blur shows in the shape of the finest
    # band's distribution, not merely in its energy.
    assert blur[128] > 1.8 * floor[128]
    assert abs(blur[16] - floor[16]) < 0.1 * floor[16]  # the layout is the same
