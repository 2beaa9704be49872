"""The procedural landscape generator and the `data landscapes` command, for real, at small sizes."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from demo.cli import main
from demo.data.landscapes import (LABELS, LandscapeConfig, describe_landscape, render_batch, render_landscape,
                                  render_landscape_with_labels)

SMALL = LandscapeConfig(size=32, supersample=2)


def test_same_seed_same_image_and_seeds_differ():
    a = render_landscape(11, config=SMALL)
    assert a.dtype == np.uint8 and a.shape == (32, 32, 3)
    assert np.array_equal(a, render_landscape(11, config=SMALL))
    others = render_batch(range(12, 20), config=SMALL)
    diffs = [np.abs(a.astype(int) - o.astype(int)).mean() for o in others]
    assert min(diffs) > 3.0  # every other seed is a visibly different picture


def test_images_use_the_range_and_are_not_flat():
    images = render_batch(range(40), config=SMALL)
    assert images.min() < 30 and images.max() > 220
    assert all(img.std() > 4 for img in images)


def test_scene_choices_cover_every_sky_water_and_ground():
    scenes = [describe_landscape(s) for s in range(300)]
    assert {s["sky"] for s in scenes} == {"day", "golden", "dusk", "night", "overcast"}
    assert {s["water"] for s in scenes} == {"none", "lake", "sea"}
    assert {s["ground"] for s in scenes} == {"grass", "fields", "desert"}


def test_day_skies_are_blue_on_top_and_nights_are_dark():
    seeds = range(120)
    kinds = [describe_landscape(s)["sky"] for s in seeds]
    images = render_batch(seeds, config=SMALL).astype(np.float64)  # [N, H, W, 3]
    day = images[[k == "day" for k in kinds]]
    night = images[[k == "night" for k in kinds]]
    assert len(day) >= 10 and len(night) >= 4
    top = day[:, :6].mean(axis=(0, 1, 2))  # RGB of the top rows
    assert top[2] > top[0] + 30  # blue sky
    assert day[:, :6].mean() > day[:, -6:].mean()  # sky brighter than the ground
    assert night.mean() < 0.5 * day.mean()


def test_bad_size_is_a_user_error():
    with pytest.raises(ValueError, match="size"):
        LandscapeConfig(size=4)


def test_data_command_writes_array_preview_and_meta(tmp_path, capsys):
    out = tmp_path / "set"
    assert main(["data", "landscapes", "--count", "20", "--size", "16", "--out", str(out)]) == 0
    array = np.load(out / "landscapes.npy")
    assert array.shape == (20, 16, 16, 3) and array.dtype == np.uint8
    assert np.array_equal(array[3], render_landscape(3, config=LandscapeConfig(size=16)))
    meta = json.loads((out / "meta.json").read_text())
    assert meta["count"] == 20 and meta["images_per_second"] > 0
    assert (out / "preview.png").stat().st_size > 100


def test_data_command_other_seed_gives_other_images(tmp_path):
    assert main(["data", "landscapes", "--count", "4", "--size", "16", "--out", str(tmp_path / "a")]) == 0
    assert main(["data", "landscapes", "--count", "4", "--size", "16", "--seed", "1", "--out", str(tmp_path / "b")]) == 0
    assert not np.array_equal(np.load(tmp_path / "a" / "landscapes.npy"), np.load(tmp_path / "b" / "landscapes.npy"))


def test_data_command_rejects_bad_count(tmp_path, capsys):
    assert main(["data", "landscapes", "--count", "0", "--out", str(tmp_path)]) == 2
    assert "--count" in capsys.readouterr().err


def test_label_maps_leave_every_image_bit_identical():
    # The hashes of these images before the label maps existed: the data sets stay what they were.
    images = render_batch(range(40))
    assert hashlib.sha256(images.tobytes()).hexdigest() == "b56b40baa9a7773c5c4d2a4784dfd51c6e5ccadff8175232eb62a3ff913a0e4c"
    large = render_batch(range(3), config=LandscapeConfig(size=256))
    assert hashlib.sha256(large.tobytes()).hexdigest() == "b00c8f2652ce8f0700570ddfbee5909f1fd2074a5e0eabf40b22fc0246ba5b5d"
    image, labels = render_landscape_with_labels(2, config=LandscapeConfig(size=256))
    assert np.array_equal(image, large[2])


def test_label_maps_name_sky_above_and_water_or_ground_below():
    for seed in range(12):
        image, labels = render_landscape_with_labels(seed, config=SMALL)
        assert labels.shape == (32, 32) and labels.dtype == np.uint8 and labels.max() < len(LABELS)
        assert (labels[0] == LABELS.index("sky")).mean() > 0.9  # the top row is sky
        water = describe_landscape(seed)["water"]
        bottom = labels[-1]
        if water == "sea":
            assert (bottom == LABELS.index("water")).mean() > 0.9
        elif water == "none":
            assert (labels == LABELS.index("water")).sum() == 0
            assert (bottom == LABELS.index("ground")).mean() > 0.9
