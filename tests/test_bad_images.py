"""Bad image files, one fault per test, injected for real: broken files give one clear line (UserError;
exit 2 and no traceback in the CLI); odd modes, odd shapes and huge images are handled or refused by name."""

from __future__ import annotations

import io
import json
import os
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from cli_errors import assert_one_clear_line, run_cli
from PIL import Image

from demo.errors import UserError
from demo.tools.photo import centre_crop_resize, load_photo, open_photo

REPO = Path(__file__).resolve().parents[1]


def png_header_only(path: Path, width: int, height: int, colour_type: int = 2) -> Path:
    """A PNG whose header claims ``width`` x ``height`` (8-bit), with a token of pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\0" * 64))
                     + chunk(b"IEND", b""))
    return path


def jpeg_claiming(path: Path, width: int, height: int, *, progressive: bool) -> Path:
    """A small real JPEG whose frame header (SOF0/SOF2) is patched to claim ``width`` x ``height``."""
    buffer = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 30)).save(buffer, "JPEG", progressive=progressive)
    data = bytearray(buffer.getvalue())
    marker = data.index(b"\xff\xc2" if progressive else b"\xff\xc0")
    data[marker + 5 : marker + 9] = struct.pack(">HH", height, width)
    path.write_bytes(bytes(data))
    return path


# Image files: broken.


def test_corrupt_image_is_one_line(tmp_path, small_model_file, capsys):
    good = io.BytesIO()
    Image.fromarray(np.full((32, 32, 3), 90, np.uint8)).save(good, "PNG")
    data = bytearray(good.getvalue())
    data[40:80] = os.urandom(40)  # inside IHDR/IDAT: CRC and zlib stream both broken
    path = tmp_path / "corrupt.png"
    path.write_bytes(bytes(data))
    with pytest.raises(UserError, match="corrupt.png"):
        load_photo(path)
    assert_one_clear_line(*run_cli(["project", str(path), "--model", str(small_model_file), "--method", "opt", "--out", str(tmp_path / "o")], capsys),
                          "corrupt.png")


def test_truncated_jpeg_is_one_line(tmp_path):
    buffer = io.BytesIO()
    Image.fromarray((np.random.default_rng(0).random((64, 64, 3)) * 255).astype(np.uint8)).save(buffer, "JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(UserError, match=r"cut\.jpg: .*truncated"):
        load_photo(path)


def test_empty_file_is_one_line(tmp_path):
    path = tmp_path / "empty.jpg"
    path.write_bytes(b"")
    with pytest.raises(UserError, match=r"empty\.jpg: the file is empty"):
        load_photo(path)


def test_not_an_image_is_one_line(tmp_path, small_model_file, capsys):
    path = tmp_path / "notes.png"
    path.write_text("these are my notes, not a picture\n")
    with pytest.raises(UserError, match=r"notes\.png: not an image"):
        load_photo(path)
    with pytest.raises(UserError, match="is a folder"):
        load_photo(tmp_path)
    assert_one_clear_line(*run_cli(["project", str(path), "--model", str(small_model_file), "--method", "opt", "--out", str(tmp_path / "o")], capsys),
                          "notes.png", "not an image")


# Image files: every mode becomes RGB.


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    Image.new("CMYK", (24, 16), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg", quality=95)  # pure red in CMYK
    photo = load_photo(tmp_path / "cmyk.jpg")
    assert photo.shape == (16, 24, 3) and photo.dtype == np.uint8
    assert photo[8, 12, 0] > 200 and photo[8, 12, 1:].max() < 60


def test_palette_images_keep_their_colours_and_transparency(tmp_path):
    pixels = np.zeros((20, 30, 3), np.uint8)
    pixels[:, 15:] = (0, 0, 255)
    Image.fromarray(pixels).convert("P", palette=Image.Palette.ADAPTIVE, colors=4).save(tmp_path / "p.png")
    photo = load_photo(tmp_path / "p.png")
    assert photo[5, 5].tolist() == [0, 0, 0] and photo[5, 25].tolist() == [0, 0, 255]
    clear = Image.new("P", (10, 10), 0)
    clear.putpalette([0, 0, 0, 200, 0, 0])
    clear.info["transparency"] = 0
    clear.save(tmp_path / "clear.png", transparency=0)
    assert load_photo(tmp_path / "clear.png")[0, 0].tolist() == [255, 255, 255]
    # Scaling a palette image averages colours, not palette indices.
    halves = load_photo(tmp_path / "p.png", max_side=3)
    assert halves.shape == (2, 3, 3) and 0 < halves[0, 1, 2] < 255


def test_16_bit_rgb_and_grey_are_scaled_not_clipped(tmp_path):
    rgb16 = np.zeros((10, 12, 3), np.uint16)
    rgb16[..., 0] = 65535  # BGR order for OpenCV: this is blue
    rgb16[..., 2] = 32768
    cv2.imwrite(str(tmp_path / "rgb16.png"), rgb16)
    assert load_photo(tmp_path / "rgb16.png")[0, 0].tolist() == [128, 0, 255]
    Image.fromarray(np.full((8, 8), 32768, np.uint16)).save(tmp_path / "grey16.png")
    assert load_photo(tmp_path / "grey16.png")[0, 0].tolist() == [128, 128, 128]


def test_grey_with_alpha_is_composited_on_white(tmp_path):
    la = np.zeros((8, 8, 2), np.uint8)
    la[..., 0] = 0
    la[:, :4, 1] = 255  # left half opaque black, right half transparent
    Image.fromarray(la).save(tmp_path / "la.png")  # [H, W, 2] uint8 is grey + alpha
    photo = load_photo(tmp_path / "la.png")
    assert photo[4, 1].tolist() == [0, 0, 0] and photo[4, 6].tolist() == [255, 255, 255]


# Image files: odd shapes.


def test_one_pixel_image_projects(tmp_path, small_model_file, capsys):
    Image.new("RGB", (1, 1), (30, 120, 200)).save(tmp_path / "dot.png")
    photo = load_photo(tmp_path / "dot.png")
    assert photo.shape == (1, 1, 3)
    assert centre_crop_resize(photo, 32)[16, 16].tolist() == [30, 120, 200]
    out = tmp_path / "out"
    code, err = run_cli(["project", str(tmp_path / "dot.png"), "--model", str(small_model_file), "--method", "opt",
                         "--steps", "2", "--candidates", "2", "--out", str(out), "--device", "cpu"], capsys)
    assert code == 0, err
    assert json.loads((out / "report.json").read_text())["photo_size"] == [1, 1]


def test_sliver_loads_crops_and_scales(tmp_path):
    sliver = np.zeros((12, 4000, 3), np.uint8)
    sliver[:, 1994:2006] = (250, 250, 0)  # the centred square is yellow
    Image.fromarray(sliver).save(tmp_path / "sliver.png")
    assert load_photo(tmp_path / "sliver.png").shape == (12, 4000, 3)
    assert centre_crop_resize(load_photo(tmp_path / "sliver.png"), 64)[32, 32].tolist() == [250, 250, 0]
    assert load_photo(tmp_path / "sliver.png", max_side=1024).shape == (3, 1024, 3)  # never below 1 pixel
    assert load_photo(tmp_path / "sliver.png", max_side=100).shape == (1, 100, 3)


def test_animated_gif_takes_the_first_frame(tmp_path):
    frames = [Image.new("RGB", (16, 16), colour) for colour in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with Image.open(tmp_path / "anim.gif") as check:
        assert check.n_frames == 3
    assert load_photo(tmp_path / "anim.gif")[8, 8].tolist() == [255, 0, 0]


def test_exif_rotation_is_applied_after_downscaling(tmp_path):
    pixels = np.zeros((40, 60, 3), np.uint8)
    pixels[:, :30] = (255, 0, 0)  # left half red
    image = Image.fromarray(pixels)
    exif = image.getexif()
    exif[0x0112] = 6  # shown rotated 90 degrees clockwise: the red half on top
    image.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    loaded = open_photo(tmp_path / "rot.jpg", max_side=30)
    assert loaded.original_size == (40, 60)
    assert loaded.pixels.shape == (30, 20, 3)
    assert loaded.pixels[3, 10, 0] > 200 and loaded.pixels[26, 10, 0] < 60


# Image files: huge.


def test_huge_png_header_is_refused_naming_the_limit_without_decoding(tmp_path, small_model_file, capsys):
    path = png_header_only(tmp_path / "huge.png", 20000, 20000)
    with pytest.raises(UserError, match=r"huge\.png: a 20000x20000 PNG image needs .* MB limit"):
        load_photo(path)
    assert_one_clear_line(*run_cli(["project", str(path), "--model", str(small_model_file), "--method", "opt", "--out", str(tmp_path / "o")], capsys),
                          "huge.png", "limit")


def test_beyond_20000x20000_is_refused_naming_the_limit(tmp_path):
    with pytest.raises(UserError, match=r"30000x30000 is too large to open: the limit is 400 megapixels"):
        load_photo(png_header_only(tmp_path / "bomb.png", 30000, 30000))


def test_huge_progressive_jpeg_is_refused_before_decoding(tmp_path):
    path = jpeg_claiming(tmp_path / "prog.jpg", 20000, 20000, progressive=True)
    with pytest.raises(UserError, match=r"prog\.jpg: a 20000x20000 progressive JPEG needs .* baseline JPEGs"):
        load_photo(path)


def test_large_jpeg_is_decoded_at_reduced_scale(tmp_path):
    """For projection an 8000x2000 JPEG is decoded at 1/8 scale: the process never holds it at full size."""
    small = (np.random.default_rng(0).random((40, 160, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "wide.jpg"), cv2.resize(small, (8000, 2000), interpolation=cv2.INTER_LINEAR))
    # VmHWM: this process's own peak (ru_maxrss would count the parent a child is spawned from).
    script = ("import re, sys; from demo.tools.photo import open_photo; "
              "q = open_photo(sys.argv[1], max_side=None, min_side=64); "
              "peak = int(re.search(r'VmHWM:\\s*(\\d+) kB', open('/proc/self/status').read()).group(1)) * 1024; "
              "print(q.pixels.shape, q.original_size, peak)")
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path / "wide.jpg")], cwd=REPO, check=True,
                         capture_output=True, text=True).stdout
    *shapes, peak = out.replace("(", "").replace(")", "").replace(",", " ").split()
    assert [int(v) for v in shapes] == [64, 256, 3, 8000, 2000]
    assert int(peak) < 8000 * 2000 * 3
    # A longer-side limit (the GL texture size for the photo view) is kept the same way.
    assert load_photo(tmp_path / "wide.jpg", max_side=1000).shape == (250, 1000, 3)


# Image files: too large for the asked size.
def test_a_jpeg_too_large_to_decode_at_the_asked_size_opens_at_the_largest_scale_that_fits(tmp_path, monkeypatch):
    """Asked for 8000 px of an 8000x2000 JPEG with room for only a quarter of it, libjpeg decodes at 1/2
    (as a 16384 px texture limit asks of a 20000 px photo, which then opens at 10000 px)."""
    from demo.tools import photo

    small = (np.random.default_rng(0).random((40, 160, 3)) * 255).astype(np.uint8)
    cv2.imwrite(str(tmp_path / "wide.jpg"), cv2.resize(small, (8000, 2000), interpolation=cv2.INTER_LINEAR))
    monkeypatch.setattr(photo, "FULL_DECODE_BUDGET", 4000 * 1000 * 4)  # room for 4000x1000 RGBX
    assert photo.load_photo(tmp_path / "wide.jpg", max_side=8000).shape == (1000, 4000, 3)
    assert photo.load_photo(tmp_path / "wide.jpg", max_side=2000).shape == (500, 2000, 3)  # fits as asked
