"""A saved picture's edit as a short animation: the morph's frames (start image -> the picture) as an
animated WebP, encoded and published on a thread of its own so that the UI thread never waits for it."""

from __future__ import annotations

import io
import sys
import threading
from pathlib import Path

import cv2
import numpy as np

from demo.safe_files import publish, write_new_temp

SIDE = 256  # the animation's side in pixels (the display image's size)
FRAME_MS = 90
HOLD_MS = 1500  # the finished picture stays this long before the animation starts again
QUALITY = 70
TEMP_LABEL = "igan-anim"


def display_frames(frames: np.ndarray, *, side: int = SIDE) -> np.ndarray:
    """[N, H, W, 3] uint8 frames at ``side`` x ``side`` (bicubic when they are smaller)."""
    if frames.shape[1:3] == (side, side):
        return frames
    return np.stack([cv2.resize(frame, (side, side), interpolation=cv2.INTER_CUBIC) for frame in frames])


def encode_webp(frames: np.ndarray, *, frame_ms: int = FRAME_MS, hold_ms: int = HOLD_MS, quality: int = QUALITY) -> bytes:
    """[N, H, W, 3] uint8 RGB frames -> an animated WebP that loops, holding the last frame."""
    from PIL import Image

    if len(frames) < 2:
        raise ValueError(f"an animation needs at least 2 frames, got {len(frames)}")
    images = [Image.fromarray(np.ascontiguousarray(frame)) for frame in frames]
    durations = [frame_ms] * (len(images) - 1) + [hold_ms]
    buffer = io.BytesIO()
    images[0].save(buffer, format="WEBP", save_all=True, append_images=images[1:], duration=durations, loop=0,
                   quality=quality, method=4)
    return buffer.getvalue()


def write_animation(target: Path, frames: np.ndarray, *, side: int = SIDE) -> bool:
    """Encode ``frames`` (at ``side`` px) and publish them as ``target`` without replacing a file; False if the
    name was taken."""
    temp = write_new_temp(target.parent, encode_webp(display_frames(frames, side=side)), label=TEMP_LABEL)
    try:
        return publish([(temp, target)])
    finally:
        temp.unlink(missing_ok=True)


def write_animation_later(target: Path, frames: np.ndarray, *, side: int = SIDE) -> threading.Thread:
    """``write_animation`` on a new thread (not a daemon: a quitting app still finishes it); a failure is one
    line on stderr, since the picture itself is already saved."""

    def write() -> None:
        try:
            write_animation(target, frames, side=side)
        except (OSError, ValueError) as exc:
            print(f"{target}: the animation was not saved ({exc})", file=sys.stderr)

    thread = threading.Thread(target=write, name="save-animation")
    thread.start()
    return thread
