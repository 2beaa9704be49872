"""Solver benchmark: steps/s of the constrained solver against a bare forward+backward+Adam loop.

Both run over the same generator, batch and device in the same process, interleaved in rounds
so machine noise hits both alike; the ratio solver/bare is the overhead figure (1.0 = none).
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from demo.engine.checkpoint import load_model
from demo.engine.device import pick_device
from demo.engine.solver import ConstraintSolver
from demo.tools.edit_state import EditState
from demo.tools.session import Event


def add_arguments(parser) -> None:
    parser.add_argument("--model", default="landscape64", help="model to time (default: landscape64; 'random' = stand-in)")
    parser.add_argument("--batches", default="1,8,64", help="comma-separated batch sizes K (default: 1,8,64)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds per batch (default: 5)")
    parser.add_argument("--steps", type=int, default=20, help="steps per timing round (default: 20)")
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's choice)")


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


def run(args) -> dict:
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(args.device)
    model = load_model(args.model, device=device)
    card = model.card
    batches = [int(b) for b in str(args.batches).split(",") if b]
    color_only = demo_constraints(card.resolution, tools=("color",))
    all_terms = demo_constraints(card.resolution, tools=("color", "sketch", "warp"))
    rows = []
    for k in batches:
        generator = torch.Generator().manual_seed(args.seed)
        z0 = (torch.rand(k, card.nz, generator=generator) * 2 - 1).to(device)
        target = torch.zeros(k, card.generator.get("channels", 3), card.resolution, card.resolution, device=device)
        solvers = {}
        for name, constraints in (("color", color_only), ("all", all_terms)):
            solver = ConstraintSolver(model, candidates=k, device=device, seed=args.seed)
            solver.set_constraints(constraints)
            solver.step(2)  # warm-up
            solvers[name] = solver
        _bare_loop(model.G, z0, target, 2)
        times: dict[str, list[float]] = {"bare": [], "color": [], "all": []}
        # Interleave the three so noise hits each alike.
        for _ in range(args.rounds):
            for name in times:
                _sync(device)
                t0 = time.perf_counter()
                if name == "bare":
                    _bare_loop(model.G, z0, target, args.steps)
                else:
                    solvers[name].step(args.steps)
                _sync(device)
                times[name].append(args.steps / (time.perf_counter() - t0))
        bare, color, full = (statistics.median(times[n]) for n in ("bare", "color", "all"))
        rows.append({
            "K": k,
            "bare_steps_per_s": round(bare, 2),
            "solver_steps_per_s": round(color, 2),
            "ratio": round(color / bare, 3),
            "solver_all_terms_steps_per_s": round(full, 2),
            "ratio_all_terms": round(full / bare, 3),
        })
    return {
        "bench": "solver",
        "model": card.name,
        "stand_in": card.stand_in,
        "generator_widths": card.generator["widths"],
        "device": str(device),
        "torch_threads": torch.get_num_threads(),
        "rounds": args.rounds,
        "steps_per_round": args.steps,
        "rows": rows,
        "note": "solver = color term only (the ratio target); all_terms adds HOG sketch and warp",
    }
