"""Edit quality: do a few natural strokes lead the solver to a natural picture of the scene they came from?

Held-out scenes (seeds 10,200,000+, never trained or tuned on) are drawn at 256^2 and area-downsampled to
64^2: landscapes, or avatar portraits for ``--model avatars64``. From each, the strokes a person would paint
(demo/bench/edit_strokes.py): for a landscape, bands of its own colours and short strokes over its sun or
moon, ridge and water; for a portrait, its background, hair, face and clothes. They are replayed through the
same solver path as ``python -m demo edit`` (demo.engine.replay), ``--steps-per-stroke`` Adam steps after each
stroke.

Per set it reports, medians over the scenes:
- recall: RMSE (0..255, at 64^2) of the result to the scene the strokes came from;
- the floor: RMSE of the hybrid projection of the whole scene (what the manifold can do with every pixel);
- the reference: the same solver with a long budget (``--reference-steps-per-stroke``) from the same
  strokes: the manifold's best answer from the same information;
- with ``--neighbours N``, what a prior over scenes could recover from the strokes alone: the N training
  scenes that match the strokes best, and how far they are from the scene (demo/bench/edit_neighbours.py);
- the stroke colour error (0..255) of the shown candidate, beside the source scenes' own (the truth is not
  flat under a stroke: a result that matches the strokes much more closely than that is painting bands);
- realism: SWD of the results against other held-out scenes per pyramid level (64 / 32 / 16), beside as
  many unedited samples of the model and the edited scenes themselves (the measure's floor at that count);
  ``realism_ratio`` is the 64/32 mean of the results over the samples';
- seconds and steps.
A palette case replays the same strokes in the app's palette colours (the nearest to the scene's), as a
visitor paints; it judges realism only. Writes DIR/report.json and DIR/grid.png (scene | strokes | result |
bicubic | display image: the README's picture is the first two rows).

examples:
  python -m demo bench edits
  python -m demo bench edits --scenes 8 --no-reference --out out/edits_quick
  python -m demo bench edits --model avatars64 --no-reference --out out/edits_avatars   # portraits
  python -m demo bench edits --scenes 8 --no-reference --no-palette --neighbours 500 --out out/edits_prior
  python -m demo bench edits --scene-seed 40000000 --no-reference --no-palette --solver typical_weight=0.5
  python -m demo bench edits --scene-seed 40000000 --no-reference --no-palette --out out/edits_validation
      # the validation seeds: choose a setting there, report on the default (held-out) ones
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

import numpy as np

from demo.metrics.swd import mean_over, swd_per_level
from demo.safe_files import replace_file

SCENE_FIRST = 10_200_000  # held-out seeds: the edited scenes, and from OTHER_OFFSET on the realism reference
OTHER_OFFSET = 100_000
VALIDATION_FIRST = 40_000_000  # --scene-seed for choosing settings: the figures are taken on SCENE_FIRST's
REALISM_LEVELS = (64, 32)
GRID_ROWS = 8


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="landscape64", help="model (default: landscape64)")
    parser.add_argument("--kind", choices=("landscapes", "avatars"), default=None,
                        help="the scenes and strokes: landscapes (bands, ridge, water, sun) or avatars (background, "
                             "hair, face, clothes; needs Node). Default: the model's (avatars for avatars64)")
    parser.add_argument("--scenes", type=int, default=64,
                        help="held-out scenes (default: 64). Realism needs about that many: the SWD of a small set is "
                             "mostly its own sampling noise, so with fewer the ratio crowds toward 1 (the same solver "
                             "on the validation seeds: 1.26 with 24 scenes, 1.93 with 64)")
    parser.add_argument("--steps-per-stroke", type=int, default=40,
                        help="solver steps after each stroke, as an interactive user gets in about a second (default: 40)")
    parser.add_argument("--candidates", type=int, default=None, help="K (default: the engine's, 8 on CPU)")
    parser.add_argument("--reference-steps-per-stroke", type=int, default=120,
                        help="the reference's budget per stroke (default: 120)")
    parser.add_argument("--no-reference", action="store_true", help="skip the long-budget reference")
    parser.add_argument("--no-palette", action="store_true", help="skip the palette case")
    parser.add_argument("--neighbours", type=int, default=0, metavar="N",
                        help="also compare with the N training scenes that best match the strokes (e.g. 2000: "
                             "about 1.5 minutes to draw them; default: 0, skipped)")
    parser.add_argument("--solver", action="append", default=[], metavar="KEY=VALUE",
                        help="a SolverConfig setting to try, e.g. --solver free_prior_weight=1 (repeatable)")
    parser.add_argument("--scene-seed", type=int, default=SCENE_FIRST,
                        help=f"first seed of the scenes (default: {SCENE_FIRST:,}, the held-out ones); the realism "
                             f"reference starts {OTHER_OFFSET:,} later. Choose settings on other seeds, e.g. "
                             f"{VALIDATION_FIRST}, and report on the default ones")
    parser.add_argument("--out", type=Path, default=Path("out/bench_edits"), help="report.json and grid.png here")


def kind_of(args) -> str:
    """The scenes' kind: --kind, else the shipped model's (avatars64: avatars), else landscapes."""
    from demo.bench.display import MODELS

    return args.kind or {model: kind for kind, model in MODELS.items()}.get(str(args.model), "landscapes")


def scenes_64(seeds: list[int], kind: str = "landscapes") -> np.ndarray:
    """uint8 [N, 64, 64, 3]: true scenes drawn at 256^2 and area-downsampled (avatars need Node: UserError)."""
    from demo.bench.display import true_scenes_64

    scenes = true_scenes_64(kind, seeds)
    if scenes is None:
        from demo.errors import UserError

        raise UserError("bench edits: the avatar renderer is not installed (needs Node and `npm ci` in tools/avatars)")
    return scenes


def stroke_plans(kind: str, seeds: list[int], scenes: np.ndarray) -> list:
    """Each scene's strokes, as a person would paint a scene of its kind (demo/bench/edit_strokes.py)."""
    from demo.bench.edit_strokes import plan_portrait_strokes, plan_strokes

    if kind == "avatars":
        return [plan_portrait_strokes(scene) for scene in scenes]
    from demo.data.landscapes import describe_landscape

    descriptions = [describe_landscape(seed) for seed in seeds]
    return [plan_strokes(scene, horizon=d["horizon"], water=d["water"] != "none") for scene, d in zip(scenes, descriptions)]


def rmse(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.sqrt(((a.astype(np.float64) - b) ** 2).mean()))


def replay(args, plans, *, seed: int, steps: int):
    """The solver's answer to the strokes: (result image [64, 64, 3], stroke colour error, steps, seconds)."""
    from demo.bench.edit_strokes import session_of
    from demo.engine.replay import replay_session

    outcome = replay_session(session_of(plans), model=args.model, steps=steps, candidates=args.candidates,
                             seed=seed, device=args.device, resolution=64, solver=solver_settings(args.solver))
    final = outcome.final
    return final.image, float(final.color_rmse[final.current]), outcome.steps, outcome.seconds


def solver_settings(pairs: list[str]) -> dict:
    """{"free_prior_weight": 1.0, ...} from KEY=VALUE strings (numbers, true/false)."""
    settings = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        settings[key.strip()] = {"true": True, "false": False}.get(value.lower(), None)
        if settings[key.strip()] is None:
            settings[key.strip()] = float(value) if any(c in value for c in ".e") else int(value)
    return settings


def unedited_samples(model, count: int) -> np.ndarray:
    """uint8 [count, 64, 64, 3]: a loaded model's samples from a seed of their own, realism's reference."""
    from demo.bench.display import samples_of

    return samples_of(model, count, seed=12345)


def stroke_constraints(plans, side: int = 64):
    """The strokes rasterised as the solver sees them (``Constraints``: colour and mask)."""
    from demo.bench.edit_strokes import session_of
    from demo.tools.edit_state import EditState

    state = EditState()
    for event in session_of(plans).events:
        state.apply(event)
    return state.constraints(side)


def strokes_tile(plans, side: int = 64) -> np.ndarray:
    """The strokes on a grey canvas, as the solver rasterises them."""
    constraints = stroke_constraints(plans, side)
    grey = np.full((side, side, 3), 0.5, np.float32)
    mask = constraints.color_mask[..., None]
    return (255 * (grey * (1 - mask) + constraints.color * mask)).round().astype(np.uint8)


def stroke_colour_error(image: np.ndarray, plans) -> float:
    """RMS (0..255) of ``image`` [64, 64, 3] uint8 against the stroke colours over the painted pixels, as the
    solver's colour error is taken: of the source scene, how far the truth itself lies from its strokes."""
    constraints = stroke_constraints(plans, image.shape[0])
    mask = constraints.color_mask[..., None]
    squared = ((image / 255.0 - constraints.color) ** 2 * mask).sum() / (3 * max(float(mask.sum()), 1e-6))
    return float(np.sqrt(squared) * 255)


def grid(rows: list[tuple[np.ndarray, ...]]) -> np.ndarray:
    """Rows of 256^2 tiles: scene | strokes | result (nearest x4) | bicubic | display image, 4 px apart."""
    import cv2

    big = lambda image: image if image.shape[0] == 256 else cv2.resize(image, (256, 256), interpolation=cv2.INTER_NEAREST)  # noqa: E731
    gap = np.full((256, 4, 3), 255, np.uint8)
    lines = [np.concatenate([part for tile in row for part in (big(tile), gap)][:-1], axis=1) for row in rows]
    spacer = np.full((4, lines[0].shape[1], 3), 255, np.uint8)
    return np.concatenate([part for line in lines for part in (line, spacer)][:-1], axis=0)


def summary(values: list[float]) -> dict:
    return {"median": round(statistics.median(values), 2), "min": round(min(values), 2), "max": round(max(values), 2)}


def edit_set(args, scenes, plan_sets, *, steps: int) -> dict:
    """Replay each scene's strokes; the per-scene results and figures."""
    from tqdm import tqdm

    results, colour_errors, seconds, steps_run = [], [], [], []
    for i, plans in enumerate(tqdm(plan_sets, desc=f"edits ({steps} steps/stroke)", unit="scene", disable=None)):
        image, colour_error, n, s = replay(args, plans, seed=i, steps=steps)
        results.append(image)
        colour_errors.append(colour_error)
        steps_run.append(n)
        seconds.append(s)
    results = np.stack(results)
    return {"images": results, "recall": [rmse(r, s) for r, s in zip(results, scenes)],
            "colour_error": colour_errors, "seconds": seconds, "steps": steps_run}


def run(args) -> dict:
    from tqdm import tqdm

    from demo.bench.edit_strokes import in_palette
    from demo.data.grid import save_png
    from demo.engine.checkpoint import load_model
    from demo.engine.projection import project
    from demo.engine.upsample import load_display, upsample_or_resize

    kind = kind_of(args)
    seeds = list(range(args.scene_seed, args.scene_seed + args.scenes))
    scenes = scenes_64(seeds, kind)
    plan_sets = stroke_plans(kind, seeds, scenes)
    other_first = args.scene_seed + OTHER_OFFSET
    others = scenes_64(list(range(other_first, other_first + max(64, args.scenes))), kind)
    model = load_model(args.model)
    samples = unedited_samples(model, args.scenes)
    sample_swd = swd_per_level(samples, others, seed=args.seed)
    started = time.perf_counter()
    method = "hybrid" if model.E is not None else "opt"  # hybrid needs the model's encoder
    floor = [rmse(project(model, scene, method=method, steps=100, seed=0).image, scene)
             for scene in tqdm(scenes, desc=f"floor ({method} projection)", unit="scene", disable=None)]
    floor_seconds = time.perf_counter() - started
    edited = edit_set(args, scenes, plan_sets, steps=args.steps_per_stroke)
    edited_swd = swd_per_level(edited["images"], others, seed=args.seed)
    floor_median = statistics.median(floor)
    report: dict = {
        "suite": "edits", "model": args.model, "kind": kind, "scenes": args.scenes, "seeds": [seeds[0], seeds[-1]],
        "solver": solver_settings(args.solver),
        "steps_per_stroke": args.steps_per_stroke, "strokes_per_scene": summary([len(p) for p in plan_sets]),
        "recall_rmse": summary(edited["recall"]), "floor_rmse": summary(floor),
        "recall_over_floor": round(statistics.median(edited["recall"]) / floor_median, 2),
        "colour_error": summary(edited["colour_error"]),
        # The source scenes against their own strokes: a stroke is the median colour of ground that is not flat.
        "colour_error_true_scenes": summary([stroke_colour_error(scene, plans) for scene, plans in zip(scenes, plan_sets)]),
        "swd_results": edited_swd, "swd_unedited_samples": sample_swd,
        "swd_true_scenes": swd_per_level(scenes, others, seed=args.seed),  # the measure's floor at this set size
        "realism_ratio": round(mean_over(edited_swd, REALISM_LEVELS) / mean_over(sample_swd, REALISM_LEVELS), 2),
        "seconds_per_scene": summary(edited["seconds"]), "steps_per_scene": summary(edited["steps"]),
        "floor_method": method, "floor_seconds_per_scene": round(floor_seconds / args.scenes, 2),
    }
    if not args.no_reference:
        reference = edit_set(args, scenes, plan_sets, steps=args.reference_steps_per_stroke)
        report["reference"] = {"steps_per_stroke": args.reference_steps_per_stroke,
                               "recall_rmse": summary(reference["recall"]),
                               "recall_over_floor": round(statistics.median(reference["recall"]) / floor_median, 2),
                               "colour_error": summary(reference["colour_error"])}
    if args.neighbours > 0:
        from demo.bench.edit_neighbours import neighbour_recall

        pool = scenes_64(list(range(args.neighbours)), kind).astype(np.float32)  # training seeds
        found = [neighbour_recall(pool, scene.astype(np.float32), plans) for scene, plans in zip(scenes, plan_sets)]
        report["neighbours"] = {"pool": args.neighbours, **{
            name: {"rmse": summary([f[name] for f in found]),
                   "over_floor": round(statistics.median(f[name] for f in found) / floor_median, 2)}
            for name in found[0]}}
    if not args.no_palette:
        from demo.app.render.layout import PALETTE

        palette = edit_set(args, scenes, [in_palette(p, PALETTE) for p in plan_sets], steps=args.steps_per_stroke)
        palette_swd = swd_per_level(palette["images"], others, seed=args.seed)
        report["palette"] = {"swd_results": palette_swd, "colour_error": summary(palette["colour_error"]),
                             "realism_ratio": round(mean_over(palette_swd, REALISM_LEVELS)
                                                    / mean_over(sample_swd, REALISM_LEVELS), 2)}
    display = upsample_or_resize(load_display(settings=model.card.display), edited["images"][:GRID_ROWS])
    bicubic = upsample_or_resize(None, edited["images"][:GRID_ROWS])
    rows = [(scene, strokes_tile(plans), result, plain, shown)
            for scene, plans, result, plain, shown in zip(scenes, plan_sets, edited["images"], bicubic, display)]
    args.out.mkdir(parents=True, exist_ok=True)
    report["grid"] = str(save_png(args.out / "grid.png", grid(rows)))
    replace_file(args.out / "report.json", json.dumps(report, indent=2) + "\n")
    report["report"] = str(args.out / "report.json")
    return report
