"""How the solver runs one step: eager, torch.compile, or a captured CUDA graph, each falling back to eager.

- ``eager``: plain PyTorch (the default; on a CPU it measured fastest, see docs/benchmarks.md).
- ``compile``: ``torch.compile`` of the forward (latent -> G -> fused loss); AOTAutograd compiles
  its backward too. The first step pays the compile time (minutes on a small CPU; cached on disk
  by Inductor for the next start).
- ``reduce-overhead``: the same with ``mode="reduce-overhead"`` (CUDA graphs inside torch.compile).
- ``graphs`` (CUDA only): the whole step (forward, backward, Adam, NaN restart) captured once in a
  CUDA graph and replayed; captured again when the constraints, start or anchoring change.

A mode that fails (no compiler, no CUDA, a capture error) warns once and runs eager; ``mode`` on
the runner says what actually runs.

Eager steps render ahead: after Adam, the step renders the updated latents (keeping the autograd
graph) and returns that render; the next step starts from it instead of rendering again, and the
solver ranks on it. So a result shows the latents its step produced, at no extra cost: the result
that answers a stroke shows a step taken under that stroke. The compiled and graphed steps return
nothing, and the solver renders afresh for a result.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable

import torch

STEP_MODES = ("eager", "compile", "reduce-overhead", "graphs")

Rendered = tuple[torch.Tensor, torch.Tensor]  # (z [K, nz], images [K, C, R, R])
Ahead = tuple[torch.Tensor, torch.Tensor, int]  # a render with its graph, and the optimised tensor's version then
# render() -> the current latents and their images; loss(z, images) -> total [K];
# finish(total, grad) applies Adam and the NaN restarts.
Render = Callable[[], Rendered]
Loss = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


class StepRunner:
    """Runs one solver step per ``__call__``, timed in stages; an eager step returns its render ahead."""

    def __init__(self, mode: str, *, device: torch.device, render: Render, loss: Loss, param: torch.Tensor,
                 finish: Callable[[torch.Tensor, torch.Tensor | None], None], state: list[torch.Tensor]):
        if mode not in STEP_MODES:
            raise ValueError(f"step mode must be one of {', '.join(STEP_MODES)}, got {mode!r}")
        if mode == "graphs" and device.type != "cuda":
            mode = _fallback(mode, "CUDA graphs need a CUDA device")
        self.mode = mode
        self.param = param  # [K, nz] the optimised tensor
        self.state = state  # every tensor a step changes in place (saved and restored around graph warm-up)
        self._render = render
        self._loss = loss

        def forward() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
            z, images = render()
            return z, images, loss(z, images)

        self._eager_forward = forward
        self._finish = finish
        self._forward = forward
        if mode in ("compile", "reduce-overhead"):
            self._forward = torch.compile(forward, mode=None if mode == "compile" else "reduce-overhead")
        self._graph: torch.cuda.CUDAGraph | None = None

    def __call__(self, timer, ahead: Ahead | None = None) -> Ahead | None:
        """One step; eager: the render of the updated latents, with its graph (else None).

        ``ahead`` is the previous step's render ahead; it is used only if the optimised tensor has not
        changed since (its in-place version counter is the same), else the step renders again.
        """
        if self.mode == "graphs":
            try:
                self._graphed(timer)
                return None
            except Exception as exc:  # A capture that fails runs eager from here on.
                self.mode = _fallback("graphs", f"{type(exc).__name__}: {exc}")
                self._graph = None
        timer.start()
        if self.mode == "eager":
            fresh = ahead is None or ahead[2] != self.param._version
            z, images = self._render() if fresh else ahead[:2]
            total = self._loss(z, images)
        else:
            z, images, total = self._compiled_forward()
        timer.lap()
        total.sum().backward()
        timer.lap()
        self._finish(total.detach(), None)
        timer.lap()
        if self.mode != "eager":
            timer.finish()
            return None
        # Render the updated latents now: the result shows them, and the next step starts from this graph.
        timer.ahead()
        z, images = self._render()
        timer.lap()
        timer.finish()
        return z, images, self.param._version

    def _compiled_forward(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        try:
            if self.mode == "reduce-overhead":
                torch.compiler.cudagraph_mark_step_begin()
            return self._forward()
        except Exception as exc:
            self.mode = _fallback(self.mode, f"{type(exc).__name__}: {exc}")
            self._forward = self._eager_forward
            return self._forward()

    def _graph_step(self) -> None:
        _, _, total = self._eager_forward()
        (grad,) = torch.autograd.grad(total.sum(), self.param)
        self._finish(total.detach(), grad)

    def _graphed(self, timer) -> None:
        if self._graph is None:
            self._capture()
        # The whole step is one replay: its time is all reported as forward.
        timer.start()
        self._graph.replay()
        timer.lap()
        timer.lap()
        timer.lap()
        timer.finish()

    def _capture(self) -> None:
        """Warm up on a side stream (state restored afterwards, so warm-up steps do not count), then capture."""
        saved = [t.detach().clone() for t in self.state]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):
            for _ in range(3):
                self._graph_step()
        torch.cuda.current_stream().wait_stream(side)
        with torch.no_grad():
            for tensor, value in zip(self.state, saved):
                tensor.copy_(value)
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self._graph_step()
        self._graph = graph


def _fallback(mode: str, reason: str) -> str:
    warnings.warn(f"solver step mode {mode!r} is unavailable ({reason.splitlines()[0][:200]}); running eager",
                  RuntimeWarning, stacklevel=3)
    return "eager"
