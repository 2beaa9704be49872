"""Solver benchmark: steps/s of the constrained solver against a bare forward+backward+Adam loop.

Both run over the same generator, batch and device in the same process, interleaved in rounds
so machine noise hits both alike; the ratio solver/bare is the overhead figure (1.0 = none).
The solver runs twice: with the color term alone, and with every term (color, HOG sketch, warp);
``--step-mode`` lists the step modes to time for the latter (eager, compile, reduce-overhead,
graphs). The generator's FLOPs per step (forward + backward to z, counted by torch) turn steps/s
into GFLOP/s, quoted next to a same-run single-precision matrix product (sgemm) on the device.

examples:
  python -m demo bench solver --device cpu --threads 1 --batches 8,64
  python -m demo bench solver --device cpu --threads 1 --clock cpu     on a machine other jobs share
  python -m demo bench solver --device cuda --ngf 64 --batches 8,64 --step-mode eager,graphs
"""

from __future__ import annotations

import statistics
import time

import torch

from demo.engine.checkpoint import load_model, random_stand_in
from demo.engine.compiled import STEP_MODES
from demo.engine.device import pick_device
from demo.engine.inference_generator import inference_generator
from demo.engine.solver import ConstraintSolver
from demo.engine.solver_config import SolverConfig
from demo.errors import UserError
from demo.tools.edit_state import EditState
from demo.tools.session import Event


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="landscape64", help="model to time (default: landscape64; 'random' = stand-in)")
    parser.add_argument("--ngf", type=int, default=None,
                        help="time a random-weight 64x64 generator of this base width instead of --model "
                             "(64 = iGAN's scale: widths 512-256-128-64, nz 100)")
    parser.add_argument("--batches", default="1,8,64", help="comma-separated batch sizes K (default: 1,8,64)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per batch (default: 5)")
    parser.add_argument("--steps", type=int, default=20, help="steps per timing round (default: 20)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")
    parser.add_argument("--step-mode", "--compile", dest="step_mode", default="eager",
                        help=f"comma-separated solver step modes to time with every term on: {', '.join(STEP_MODES)} "
                             "(default: eager; a mode that cannot run falls back to eager and says so)")
    parser.add_argument("--sgemm-size", type=int, default=2048, help="side of the same-run sgemm (default: 2048)")
    parser.add_argument("--clock", choices=("wall", "cpu"), default="wall",
                        help="wall: elapsed seconds (default); cpu: CPU seconds of this process, which other "
                             "processes' load does not inflate (a shared machine; CPU device only)")


def demo_constraints(resolution: int, *, tools: tuple[str, ...]):
    """A fixed set of strokes: a color band, a sketch line and a warp drag, as asked."""
    state = EditState()
    strokes = {
        "color": [(0.1, 0.2), (0.9, 0.25)],
        "sketch": [(0.1, 0.6), (0.5, 0.45), (0.9, 0.6)],
        "warp": [(0.5, 0.7), (0.6, 0.7)],
    }
    for tool in tools:
        (x0, y0), *rest = strokes[tool]
        state.apply(Event(t=0, type="down", tool=tool, x=x0, y=y0, color=(240, 120, 30), width=0.12))
        for x, y in rest:
            state.apply(Event(t=0, type="move", x=x, y=y))
        state.apply(Event(t=0, type="up"))
    return state.constraints(resolution)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize()


def _bare_loop(G, z0: torch.Tensor, target: torch.Tensor, steps: int) -> None:
    """What any latent optimiser must do: forward, a loss, backward, Adam."""
    z = z0.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([z], lr=0.1)
    for _ in range(steps):
        optimizer.zero_grad(set_to_none=True)
        ((G(z) - target) ** 2).mean().backward()
        optimizer.step()


def generator_flops(G, z0: torch.Tensor, target: torch.Tensor) -> int:
    """FLOPs of one bare step's forward and backward (to z), as torch counts them (convolutions, matmuls)."""
    from torch.utils.flop_counter import FlopCounterMode

    counter = FlopCounterMode(display=False)
    with counter:
        _bare_loop(G, z0, target, 1)
    return counter.get_total_flops()


def sgemm_gflops(device: torch.device, size: int, *, clock=time.perf_counter, repeats: int = 5) -> float:
    """Same-run reference: GFLOP/s of a float32 [size, size] @ [size, size] (median of ``repeats``)."""
    generator = torch.Generator().manual_seed(0)
    a = torch.rand(size, size, generator=generator).to(device)
    b = torch.rand(size, size, generator=generator).to(device)
    out = torch.empty(size, size, device=device)
    torch.mm(a, b, out=out)
    rates = []
    for _ in range(repeats):
        _sync(device)
        t0 = clock()
        torch.mm(a, b, out=out)
        _sync(device)
        rates.append(2 * size**3 / (clock() - t0) / 1e9)
    return statistics.median(rates)


def _model(args, device: torch.device):
    if args.ngf is None:
        return load_model(args.model, device=device)
    if args.ngf < 1:
        raise UserError(f"--ngf must be >= 1, got {args.ngf}")
    model = random_stand_in(resolution=64, nz=100, base=args.ngf, seed=args.seed)
    model.G.to(device)
    return model


def _modes(text: str) -> list[str]:
    modes = [m for m in str(text).split(",") if m]
    unknown = [m for m in modes if m not in STEP_MODES]
    if unknown or not modes:
        raise UserError(f"--step-mode takes {', '.join(STEP_MODES)} (comma-separated), got {text!r}")
    return modes


def run(args) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    modes = _modes(args.step_mode)
    if args.clock == "cpu" and device.type != "cpu":
        raise UserError("--clock cpu times CPU seconds; it is meaningful only with --device cpu")
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    model = _model(args, device)
    card = model.card
    batches = [int(b) for b in str(args.batches).split(",") if b]
    color_only = demo_constraints(card.resolution, tools=("color",))
    all_terms = demo_constraints(card.resolution, tools=("color", "sketch", "warp"))
    sgemm = sgemm_gflops(device, args.sgemm_size, clock=clock)
    rows = []
    for k in batches:
        generator = torch.Generator().manual_seed(args.seed)
        z0 = (torch.rand(k, card.nz, generator=generator) * 2 - 1).to(device)
        target = torch.zeros(k, card.generator.get("channels", 3), card.resolution, card.resolution, device=device)
        network = inference_generator(model.G)  # what the solver steps through (G, BatchNorm folded)
        flops = generator_flops(network, z0, target)
        solvers, first_step_s = {}, {}
        for name, constraints, mode in [("color", color_only, "eager")] + [(f"all_{m}", all_terms, m) for m in modes]:
            solver = ConstraintSolver(model, candidates=k, device=device, seed=args.seed,
                                      config=SolverConfig(step_mode=mode))
            solver.set_constraints(constraints)
            _sync(device)
            t0 = time.perf_counter()
            solver.step(1)  # warm-up (and compile or capture)
            _sync(device)
            first_step_s[name] = time.perf_counter() - t0
            solver.step(2)
            solver.take_timings()
            solvers[name] = solver
        _bare_loop(network, z0, target, 2)
        times: dict[str, list[float]] = {"bare": [], **{name: [] for name in solvers}}
        # Interleave them so noise hits each alike.
        for _ in range(args.rounds):
            for name in times:
                _sync(device)
                t0 = clock()
                if name == "bare":
                    _bare_loop(network, z0, target, args.steps)
                else:
                    solvers[name].step(args.steps)
                _sync(device)
                times[name].append(args.steps / (clock() - t0))
        median = {name: statistics.median(rates) for name, rates in times.items()}
        bare = median["bare"]
        row = {
            "K": k,
            "gflop_per_step": round(flops / 1e9, 4),
            "bare_steps_per_s": round(bare, 2),
            "bare_gflops": round(bare * flops / 1e9, 2),
            "solver_steps_per_s": round(median["color"], 2),
            "ratio": round(median["color"] / bare, 3),
        }
        for mode in modes:
            name = f"all_{mode}"
            solver = solvers[name]
            timings = solver.take_timings()
            per_step = {stage: round(1e3 * timings[stage] / max(1, timings["steps"]), 3)
                        for stage in ("forward", "backward", "adam")}
            suffix = "" if mode == "eager" else f"_{mode}"
            row.update({
                f"solver_all_terms_steps_per_s{suffix}": round(median[name], 2),
                f"ratio_all_terms{suffix}": round(median[name] / bare, 3),
                f"solver_all_terms_gflops{suffix}": round(median[name] * flops / 1e9, 2),
                f"stage_ms{suffix}": per_step,
                f"first_step_s{suffix}": round(first_step_s[name], 2),
                f"step_mode_ran{suffix}": solver.step_mode,
                f"spread_all_terms{suffix}": [round(min(times[name]), 2), round(max(times[name]), 2)],
            })
        row["spread_bare"] = [round(min(times["bare"]), 2), round(max(times["bare"]), 2)]
        rows.append(row)
    return {
        "bench": "solver",
        "model": card.name if args.ngf is None else f"random ngf={args.ngf}",
        "stand_in": card.stand_in,
        "generator_widths": card.generator["widths"],
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "clock": args.clock,
        "rounds": args.rounds,
        "steps_per_round": args.steps,
        "step_modes": modes,
        "sgemm_gflops": round(sgemm, 1),
        "sgemm_size": args.sgemm_size,
        "rows": rows,
        "note": "solver = color term only; all_terms adds HOG sketch and warp (target: ratio_all_terms >= 0.9); "
                "GFLOP/s count the generator's forward+backward FLOPs per step; spread = [min, max] steps/s over rounds",
    }
