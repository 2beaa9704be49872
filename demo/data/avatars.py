"""DiceBear avatar portraits: a second, licence-clean training domain for models/avatars64.

The SVG avatars come from the npm packages ``@dicebear/collection`` and ``@dicebear/core``. They are
rasterised by ``@resvg/resvg-js``, which ships prebuilt binaries, inside a small Node script
(``tools/avatars/render.mjs``). The package versions are pinned by ``tools/avatars/package-lock.json``.
We keep only styles whose package metadata gives CC0-1.0 or CC-BY-4.0, and each image's style is recorded
so that the model card can credit the artists.

Image i is planned from one integer seed (``numpy.random.default_rng(seed)``): the style, the DiceBear
seed string, and a solid background colour. The avatar is drawn at ``size * supersample``, composited
over the background, then area-downsampled, so the set is the same on every machine. Node only renders;
every random choice is made here.

numpy + OpenCV + subprocess; no torch. ``render_avatars(seeds)`` -> uint8 [N, size, size, 3] RGB.
"""

from __future__ import annotations

import colorsys
import dataclasses
import json
import shutil
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import cv2
import numpy as np

from demo.errors import UserError

TOOL_DIR = Path(__file__).resolve().parents[2] / "tools" / "avatars"
ALLOWED_LICENCES = ("CC0-1.0", "CC-BY-4.0")
# DiceBear's licence names (style.meta.license.name) -> SPDX ids.
DICEBEAR_LICENCES = {"CC0 1.0": "CC0-1.0", "CC BY 4.0": "CC-BY-4.0"}


@dataclass(frozen=True, kw_only=True)
class AvatarStyle:
    """One DiceBear style and the attribution its licence asks for (as its package metadata states it)."""

    name: str  # export name in @dicebear/collection
    title: str
    creator: str
    licence: str  # SPDX id
    licence_url: str
    source: str

    def attribution(self) -> str:
        return f"'{self.title}' by {self.creator} ({self.source}), {self.licence} ({self.licence_url}), via DiceBear"


# Head-and-shoulders portraits in colour, framed alike, so that the set is one aligned domain.
STYLES = (
    AvatarStyle(name="personas", title="Personas by Draftbit", creator="Draftbit - draftbit.com", licence="CC-BY-4.0",
                licence_url="https://creativecommons.org/licenses/by/4.0/", source="https://personas.draftbit.com/"),
    AvatarStyle(name="micah", title="Avatar Illustration System", creator="Micah Lanier", licence="CC-BY-4.0",
                licence_url="https://creativecommons.org/licenses/by/4.0/",
                source="https://www.figma.com/community/file/829741575478342595"),
    AvatarStyle(name="toonHead", title="ToonHead", creator="Johan Melin", licence="CC-BY-4.0",
                licence_url="https://creativecommons.org/licenses/by/4.0/",
                source="https://www.figma.com/community/file/1589627891082866389"),
    AvatarStyle(name="adventurer", title="Adventurer", creator="Lisa Wischofsky", licence="CC-BY-4.0",
                licence_url="https://creativecommons.org/licenses/by/4.0/",
                source="https://www.figma.com/community/file/1184595184137881796"),
)
STYLE_NAMES = tuple(style.name for style in STYLES)
RENDERER_LICENCE = ("renderer code: @dicebear/core and @dicebear/collection (MIT), @resvg/resvg-js (MPL-2.0); "
                    "versions pinned in tools/avatars/package-lock.json")


@dataclass(frozen=True, kw_only=True)
class AvatarConfig:
    """Output size, anti-aliasing factor and the styles to draw from (uniformly)."""

    size: int = 64
    supersample: int = 2
    styles: tuple[str, ...] = STYLE_NAMES

    def __post_init__(self) -> None:
        if self.size < 8:
            raise ValueError(f"size must be >= 8, got {self.size}")
        if self.supersample < 1:
            raise ValueError(f"supersample must be >= 1, got {self.supersample}")
        unknown = [s for s in self.styles if s not in STYLE_NAMES]
        if unknown or not self.styles:
            raise ValueError(f"styles must be a non-empty subset of {STYLE_NAMES}, got {self.styles}")


@dataclass(frozen=True, kw_only=True)
class AvatarJob:
    """Everything one image depends on."""

    style: str
    seed: str  # DiceBear's seed string: it picks hair, face, clothes, colours...
    background: tuple[int, int, int]  # RGB 0..255


def plan_avatar(seed: int, *, styles: Sequence[str] = STYLE_NAMES) -> AvatarJob:
    """The style, DiceBear seed and background of image ``seed`` (no rendering, no Node)."""
    rng = np.random.default_rng(seed)
    style = styles[int(rng.integers(len(styles)))]
    hue, saturation, value = rng.uniform(0, 1), rng.uniform(0.08, 0.6), rng.uniform(0.45, 0.97)
    background = tuple(int(round(c * 255)) for c in colorsys.hsv_to_rgb(hue, saturation, value))
    return AvatarJob(style=style, seed=f"igan-{seed}", background=background)


def composite(rgba: np.ndarray, background: tuple[int, int, int], *, size: int) -> np.ndarray:
    """Premultiplied uint8 RGBA [S, S, 4] over a solid background, area-downsampled -> uint8 [size, size, 3]."""
    pixels = rgba.astype(np.float32) / 255.0  # [S, S, 4]
    alpha = pixels[..., 3:]  # [S, S, 1]
    rgb = pixels[..., :3] + np.asarray(background, np.float32) / 255.0 * (1.0 - alpha)  # [S, S, 3]
    if rgb.shape[0] != size:
        rgb = cv2.resize(rgb, (size, size), interpolation=cv2.INTER_AREA)
    return (np.clip(rgb, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


# Node side ---------------------------------------------------------------------------------------


def ensure_renderer(tool_dir: Path = TOOL_DIR, *, log: Callable[[str], None] = print) -> Path:
    """Check that node and npm exist, and run ``npm ci`` in tool_dir when node_modules is missing or stale."""
    for program in ("node", "npm"):
        if shutil.which(program) is None:
            raise UserError(f"{tool_dir / 'render.mjs'}: needs '{program}' on PATH to render avatars "
                            "(install Node.js >= 18 with npm, e.g. apt-get install nodejs npm)")
    lock = tool_dir / "package-lock.json"
    if not lock.exists():
        raise UserError(f"{lock}: missing; the avatar renderer's dependencies are pinned there")
    installed = tool_dir / "node_modules" / ".package-lock.json"
    if installed.exists() and installed.stat().st_mtime >= lock.stat().st_mtime:
        return tool_dir
    log(f"installing the avatar renderer's npm packages (npm ci in {tool_dir}) ...")
    done = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=tool_dir, capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip()[-600:]
        raise UserError(f"{lock}: 'npm ci' failed (exit {done.returncode}); is the npm registry reachable?\n{tail}")
    return tool_dir


def style_metadata(tool_dir: Path = TOOL_DIR) -> dict[str, dict]:
    """Every DiceBear style's metadata (title, creator, source, licence) as the installed packages state it."""
    done = subprocess.run(["node", str(tool_dir / "render.mjs"), "--meta"], cwd=tool_dir, capture_output=True, text=True)
    if done.returncode != 0:
        raise UserError(f"{tool_dir / 'render.mjs'}: --meta failed: {done.stderr.strip()[-400:]}")
    return json.loads(done.stdout)


def check_licences(styles: Sequence[str], metadata: dict[str, dict]) -> list[AvatarStyle]:
    """The styles, after checking that the installed packages still give the licence and author we credit."""
    checked = []
    for style in (s for s in STYLES if s.name in styles):
        meta = metadata.get(style.name)
        if meta is None:
            raise UserError(f"{TOOL_DIR / 'package-lock.json'}: style {style.name!r} is not in the installed @dicebear/collection")
        licence = DICEBEAR_LICENCES.get(meta["license"]["name"])
        if licence not in ALLOWED_LICENCES or licence != style.licence or meta["creator"] != style.creator:
            raise UserError(f"{TOOL_DIR / 'package-lock.json'}: style {style.name!r} now says licence "
                            f"{meta['license']['name']!r} by {meta['creator']!r}; we credit {style.licence} by "
                            f"{style.creator!r} (allowed: {', '.join(ALLOWED_LICENCES)}); update demo/data/avatars.py")
        checked.append(style)
    return checked


def _render_slice(
    jobs: Sequence[AvatarJob], out: np.ndarray, *, size: int, draw_size: int, tool_dir: Path, on_image: Callable[[], None]
) -> None:
    """Render jobs with one Node process, compositing each image into out[i] as it arrives."""
    request = json.dumps({"size": draw_size, "jobs": [{"style": j.style, "seed": j.seed} for j in jobs]})
    nbytes = draw_size * draw_size * 4
    with subprocess.Popen(["node", str(tool_dir / "render.mjs")], cwd=tool_dir, stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE) as proc:
        # Feed the job list from a thread: Node reads all of stdin before it writes anything back.
        feeder = threading.Thread(target=_feed, args=(proc.stdin, request.encode()), daemon=True)
        feeder.start()
        for i, job in enumerate(jobs):
            data = proc.stdout.read(nbytes)
            if len(data) != nbytes:
                proc.wait()
                message = proc.stderr.read().decode(errors="replace").strip()[-600:]
                raise UserError(f"{tool_dir / 'render.mjs'}: stopped after {i} of {len(jobs)} images "
                                f"(exit {proc.returncode}): {message or 'no message'}")
            rgba = np.frombuffer(data, np.uint8).reshape(draw_size, draw_size, 4)
            out[i] = composite(rgba, job.background, size=size)
            on_image()
        feeder.join()


def _feed(pipe, payload: bytes) -> None:
    try:
        pipe.write(payload)
        pipe.close()
    except BrokenPipeError:
        pass  # Node died early; the reader reports its stderr.


def render_avatars(
    seeds: Sequence[int],
    *,
    config: AvatarConfig = AvatarConfig(),
    workers: int = 1,
    tool_dir: Path = TOOL_DIR,
    out: np.ndarray | None = None,
    on_image: Callable[[], None] = lambda: None,
) -> np.ndarray:
    """Avatars for ``seeds`` as uint8 [N, size, size, 3] RGB (written into ``out`` when given, e.g. a memmap).

    ``workers`` Node processes render contiguous slices at once. The result does not depend on it.
    Call ensure_renderer() first.
    """
    jobs = [plan_avatar(int(s), styles=config.styles) for s in seeds]
    if out is None:
        out = np.zeros((len(jobs), config.size, config.size, 3), np.uint8)
    bounds = np.linspace(0, len(jobs), max(1, min(workers, len(jobs))) + 1).astype(int)
    errors: list[BaseException] = []

    def work(start: int, stop: int) -> None:
        try:
            _render_slice(jobs[start:stop], out[start:stop], size=config.size,
                          draw_size=config.size * config.supersample, tool_dir=tool_dir, on_image=on_image)
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(a, b)) for a, b in zip(bounds[:-1], bounds[1:]) if b > a]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return out


def node_version() -> str:
    return subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()


def package_versions(tool_dir: Path = TOOL_DIR) -> dict[str, str]:
    """The pinned versions of the renderer's direct dependencies, from package-lock.json."""
    lock = json.loads((tool_dir / "package-lock.json").read_text())
    wanted = lock["packages"][""]["dependencies"]
    return {name: lock["packages"][f"node_modules/{name}"]["version"] for name in wanted}


def write_dataset(
    out: Path, seeds: Sequence[int], *, config: AvatarConfig, workers: int = 1, progress: bool = True
) -> dict[str, object]:
    """Write out/avatars.npy (uint8 [N, S, S, 3]), out/preview.png and out/meta.json; return the meta."""
    import time

    from tqdm import tqdm

    from demo.data.grid import image_grid, save_png

    ensure_renderer()
    styles = check_licences(config.styles, style_metadata())
    out.mkdir(parents=True, exist_ok=True)
    path = out / "avatars.npy"
    array = np.lib.format.open_memmap(path, mode="w+", dtype=np.uint8, shape=(len(seeds), config.size, config.size, 3))
    start = time.perf_counter()
    with tqdm(total=len(seeds), unit="img", desc="avatars", disable=not progress) as bar:
        lock = threading.Lock()

        def tick() -> None:
            with lock:
                bar.update(1)

        render_avatars(seeds, config=config, workers=workers, out=array, on_image=tick)
    seconds = time.perf_counter() - start
    array.flush()
    save_png(out / "preview.png", image_grid(np.asarray(array[:64])))
    counts = {s.name: 0 for s in styles}
    for seed in seeds:
        counts[plan_avatar(int(seed), styles=config.styles).style] += 1
    meta = {
        "kind": "avatars",
        "file": path.name,
        "count": len(seeds),
        "size": config.size,
        "supersample": config.supersample,
        "seeds": f"{seeds[0]}..{seeds[-1]}",
        "styles": [{**dataclasses.asdict(s), "images": counts[s.name], "attribution": s.attribution()} for s in styles],
        "licence": ("images: CC-BY-4.0 (derived from the DiceBear styles listed, each CC-BY-4.0 or CC0-1.0; credit "
                    "the artists as in 'styles'); " + RENDERER_LICENCE),
        "renderer": {"node": node_version(), **package_versions()},
        "workers": workers,
        "seconds": round(seconds, 2),
        "images_per_second": round(len(seeds) / seconds, 1),
    }
    (out / "meta.json").write_text(json.dumps(meta, indent=2) + "\n")
    return meta
