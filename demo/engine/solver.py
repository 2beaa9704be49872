"""The constrained latent solver: Adam on a batch of K candidate latents (iGAN's core).

loss_k = color_k + w_sketch * HOG-sketch_k + w_warp * warp_k + lambda_S * ||z_k - z0_k||^2
         (+ lambda_D * log(1 - D(G(z_k))), off by default)

The latent is parameterised to respect the prior: z = tanh(w) for uniform[-1, 1], z = w for normal.
``step(n)`` runs n Adam steps and returns; ``evaluate()`` ranks the candidates at their current
latents, reusing the render the last step made of them (``compiled.py``: eager steps render ahead).
The step optimises a fused form of the same total (``solver_objective.py``); a candidate whose
loss turns NaN or inf starts again near its z0 (``nan_resets`` counts them), and the seconds spent
in forward, backward and Adam accumulate for ``take_timings()``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import numpy as np
import torch

from demo.engine.checkpoint import LoadedModel
from demo.engine.compiled import Ahead, Rendered, StepRunner
from demo.engine.hog import HOG
from demo.engine.inference_generator import inference_generator
from demo.engine.latent import sample_prior, to_latent, to_param
from demo.engine.losses import ConstraintTensors, to_unit, typical_band, warp_target
from demo.engine.solver_adam import BatchAdam
from demo.engine.solver_config import Ranking, SolverConfig
from demo.engine.solver_objective import Objective, Weights, reported_losses
from demo.engine.solver_pick import NaturalPick, discriminator_logits
from demo.engine.solver_snap import ENCODER_START_EVERY, encoder_starts
from demo.engine.solver_timing import StageTimer
from demo.tools.constraints import Constraints

class ConstraintSolver:
    def __init__(
        self,
        model: LoadedModel,
        *,
        candidates: int,
        device: torch.device | str = "cpu",
        config: SolverConfig = SolverConfig(),
        seed: int = 0,
        start_z: np.ndarray | None = None,
    ):
        if candidates < 1:
            raise ValueError(f"candidates must be >= 1, got {candidates}")
        if config.realism_weight > 0 and model.D is None:
            raise ValueError("realism_weight > 0 needs a discriminator, and this model file has none")
        self.model = model
        self.G = inference_generator(model.G)  # the same function, BatchNorm folded (cheaper per step)
        self.device = torch.device(device)
        self.config = config
        self.candidates = candidates
        self.uniform = model.card.prior == "uniform"
        self._pick = NaturalPick(tolerance=config.realism_pick if model.D is not None else 0.0)
        self.typical_band = typical_band(model.card.prior, model.card.nz)
        self.hog = HOG(orientations=config.hog_orientations, cell=config.hog_cell).to(self.device)
        self.resolution = model.card.resolution
        self.steps_done = 0
        self._tensors: ConstraintTensors | None = None
        self._constraints = Constraints.empty(self.resolution)
        self._warp_key = b""
        self._warp_wanted: torch.Tensor | None = None
        self._ahead: Ahead | None = None  # the last step's render of its latents, with its graph: the next step's forward
        self._objective: Objective | None = None
        self._runner: StepRunner | None = None
        self._runner_key: tuple = ()
        self._timer = StageTimer(self.device)
        # NaN/inf restarts: an int on the CPU; on CUDA a device counter, read (synchronised) only when asked.
        self._nan_resets: int | torch.Tensor = 0 if self.device.type != "cuda" else torch.zeros((), dtype=torch.long,
                                                                                              device=self.device)
        self.reset(seed=seed, start_z=start_z)

    # Latent parameterisation.
    def _to_param(self, z: torch.Tensor) -> torch.Tensor:
        return to_param(z, self.model.card.prior)

    def _to_latent(self, w: torch.Tensor) -> torch.Tensor:
        return to_latent(w, self.model.card.prior)

    def reset(self, *, seed: int, start_z: np.ndarray | None = None) -> None:
        """Start over: a random batch from the prior, or all candidates around ``start_z`` (a photo's latent)."""
        generator = torch.Generator().manual_seed(int(seed))
        if start_z is None:
            z = sample_prior(self.model.card.prior, self.candidates, self.model.card.nz, generator)  # [K, nz]
            self.anchor = "free"
        else:
            z = self._around(torch.as_tensor(np.asarray(start_z, np.float32)).reshape(1, -1), generator)
            self.anchor = "photo"
        self._generator = generator
        self._restart(z.to(self.device))
        self.steps_done = 0
        # Drags made before take their source content from the new start.
        self._warp_key = b""
        self.set_constraints(self._constraints, force=True)

    def _around(self, centre: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
        """K latents: slot 0 exactly ``centre`` [1, nz], the rest jittered around it."""
        noise = torch.randn(self.candidates, centre.shape[1], generator=generator) * self.config.start_jitter
        noise[0] = 0
        z = centre.cpu() + noise
        return z.clamp(-1, 1) if self.uniform else z

    def _restart(self, z: torch.Tensor) -> None:
        self.w = self._to_param(z).detach().clone().requires_grad_(True)  # [K, nz]
        # z0 is the latent the candidates start at, to the last bit (tanh(atanh(z)) is not z in float): else
        # lambda_S sees rounding noise as distance, ranks the unpainted start by it, and Adam, which scales each
        # step to one learning rate whatever the gradient, walks the latents off on it.
        with torch.no_grad():
            self.z0 = self._to_latent(self.w).detach().clone()  # [K, nz]
        self.optimizer = BatchAdam(self.w, lr=self.config.lr, betas=self.config.betas)
        # Where a candidate that goes NaN/inf starts again: near its own z0.
        jitter = torch.randn(z.shape, generator=self._generator) * self.config.start_jitter
        fresh = self.z0 + jitter.to(self.device)
        self._fresh_w = self._to_param(fresh.clamp(-1, 1) if self.uniform else fresh)  # [K, nz]
        self._ahead = None
        self._objective = None
        self._pick.forget()
        self._encoder_start_due, self._encoder_started_at = False, -ENCODER_START_EVERY  # set_constraints decides

    def fix(self, slot: int) -> None:
        """Re-centre z0 at candidate ``slot`` and turn lambda_S on, as iGAN's "fix" did."""
        if not 0 <= slot < self.candidates:
            raise ValueError(f"slot {slot} is outside 0..{self.candidates - 1}")
        with torch.no_grad():
            centre = self._to_latent(self.w[slot : slot + 1]).detach()
        self.anchor = "fix"
        self._restart(self._around(centre, self._generator).to(self.device))

    def set_constraints(self, constraints: Constraints, *, force: bool = False) -> None:
        if constraints.resolution != self.resolution:
            raise ValueError(f"constraints are {constraints.resolution}px but the model is {self.resolution}px")
        if not force and self._tensors is not None and constraints.version == self._tensors.version:
            return
        self._constraints = constraints
        self._objective = None
        self._tensors = ConstraintTensors.build(constraints, hog=self.hog, device=self.device)
        # A changed drag takes its source content from the images as they are now.
        key = hashlib.blake2b(constraints.warp.tobytes() + constraints.warp_mask.tobytes(), digest_size=16).digest()
        if constraints.has_warp and key != self._warp_key:
            with torch.no_grad():
                start = to_unit(self.G(self._to_latent(self.w)))  # [K, 3, R, R]
                self._warp_wanted = warp_target(start, self._tensors).detach()
        self._warp_key = key
        # From a random start only: around a photo or a fixed candidate the start is what the visitor chose.
        # Done at the next step that is far enough from the last (ENCODER_START_EVERY): while a stroke is being
        # drawn the strokes change every chunk, and a restart each time would cost a render per step.
        self._encoder_start_due = (self.config.encoder_starts > 0 and self.model.E is not None
                                   and self._tensors.has_color and self.anchor == "free")

    @torch.no_grad()
    def _start_from_encoder(self) -> None:
        """The worst candidates start again from the encoder's reading of the painted best (solver_snap.py)."""
        z, images = self._render_current()
        rows, fresh = encoder_starts(self.model.E, images, self._current_objective()(z, images), self._tensors,
                                     count=self.config.encoder_starts, jitter=self.config.start_jitter,
                                     uniform=self.uniform, generator=self._generator)
        self.optimizer.restart_rows(rows, self._to_param(fresh))
        self._ahead = None

    @torch.no_grad()
    def _render_current(self, *, fresh: bool = False) -> Rendered:
        """(z [K, nz], images [K, C, R, R]) of the current latents: the last step's render ahead while nothing has
        changed the latents since (their version counter), unless ``fresh``; else rendered now."""
        ahead = self._ahead
        if ahead is not None and ahead[2] == self.w._version and not fresh:
            return ahead[0].detach(), ahead[1].detach()
        z = self._to_latent(self.w)
        return z, self.G(z)

    @property
    def prior_weight(self) -> float:
        return {"free": self.config.free_prior_weight, "fix": self.config.prior_weight,
                "photo": self.config.photo_prior_weight}[self.anchor]

    def _losses(self, z: torch.Tensor, images: torch.Tensor) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
        """Total loss [K] and the unweighted terms that are active."""
        return reported_losses(z, images, ct=self._tensors, warp_wanted=self._warp_wanted, weights=self._weights(),
                               hog=self.hog, z0=self.z0, typical_band=self.typical_band, discriminator=self.model.D)

    def _weights(self) -> Weights:
        cfg = self.config
        return Weights(color=cfg.color_weight, sketch=cfg.sketch_weight, warp=cfg.warp_weight,
                       prior=self.prior_weight, realism=cfg.realism_weight, typical=cfg.typical_weight)

    @property
    def nan_resets(self) -> int:
        """How many times a candidate's loss went NaN or inf and it started again near its z0."""
        return int(self._nan_resets)

    def take_timings(self) -> dict[str, float]:
        """Seconds in forward, backward and Adam and the step count, summed since the last call (then reset)."""
        return self._timer.take()

    def _current_objective(self) -> Objective:
        """The fused loss for the step, rebuilt only after a change of constraints, start or anchoring."""
        if self._objective is None:
            self._objective = Objective.build(self._tensors, warp_wanted=self._warp_wanted, weights=self._weights(),
                                              hog=self.hog, channels=self.model.card.generator.get("channels", 3),
                                              z0=self.z0, typical_band=self.typical_band,
                                              discriminator=self.model.D)
        return self._objective

    def step(self, n: int = 1, *, should_stop: Callable[[], bool] | None = None) -> int:
        """Run up to ``n`` Adam steps on all candidates; ``should_stop()`` is asked between steps.

        Returns the number of steps done (all ``n`` when no term is active: there is nothing to move toward).
        """
        objective = self._current_objective()
        if not objective.active:
            self.steps_done += n
            return n
        runner = self._current_runner(objective)
        done = 0
        while done < n and not (done and should_stop is not None and should_stop()):
            if self._encoder_start_due and self.steps_done + done - self._encoder_started_at >= ENCODER_START_EVERY:
                self._start_from_encoder()
                self._encoder_started_at, self._encoder_start_due = self.steps_done + done, False
            # Keep the render of the updated latents, so ranking after a chunk costs no extra render.
            self._ahead = runner(self._timer, self._ahead)
            done += 1
        self.steps_done += done
        return done

    def _current_runner(self, objective: Objective) -> StepRunner:
        """The step runner (eager, compiled or graphed) for this objective and optimizer state."""
        if self._runner is None or self._runner_key != (id(objective), id(self.optimizer)):
            adam = self.optimizer

            def render() -> Rendered:
                z = self._to_latent(adam.param)  # [K, nz]
                return z, self.G(z)  # [K, C, R, R]

            def finish(total: torch.Tensor, grad: torch.Tensor | None) -> None:
                adam.step(grad)
                adam.zero_grad()
                self._restart_broken(total)

            state = [adam.param, adam.exp_avg, adam.exp_avg_sq, adam.row_steps]
            if isinstance(self._nan_resets, torch.Tensor):
                state.append(self._nan_resets)
            mode = self._runner.mode if self._runner is not None and self.config.step_mode != "eager" else None
            self._runner = StepRunner(mode or self.config.step_mode, device=self.device, render=render,
                                      loss=objective, param=adam.param, finish=finish, state=state)
            self._runner_key = (id(objective), id(self.optimizer))
        return self._runner

    @property
    def step_mode(self) -> str:
        """The step mode that actually runs (a requested one that failed falls back to eager)."""
        return self._runner.mode if self._runner is not None else self.config.step_mode

    def _restart_broken(self, total: torch.Tensor) -> None:
        """Candidates whose loss [K] is NaN or inf start again near z0, with a fresh Adam state."""
        broken = ~torch.isfinite(total)  # [K]
        if self.device.type == "cuda":
            # No host sync: always apply (a no-op for finite rows) and count on the device.
            self.optimizer.restart_rows(broken, self._fresh_w)
            self._nan_resets += broken.sum()
        elif broken.any():
            self.optimizer.restart_rows(broken, self._fresh_w)
            self._nan_resets += int(broken.sum())

    @torch.no_grad()
    def evaluate(self, *, fresh: bool = False, settled: bool = True) -> Ranking:
        """Rank the candidates by loss (and with ``realism_pick`` by D near the best: solver_pick.py, whose D
        scores are taken again when ``fresh`` or ``settled``, else every few steps).

        By default this reuses the last step's render of the current latents (made ahead by eager
        steps); with ``fresh``, or when there is none, it renders them now.
        The terms are computed one by one here (``losses.py``), so each can be reported.
        """
        z, images = self._render_current(fresh=fresh)
        total, terms = self._losses(z, images)
        unit = to_unit(images)  # [K, 3, R, R]
        color_rmse = np.zeros(self.candidates, np.float32)
        if "color" in terms:  # the unweighted colour term is the mean squared error over the strokes
            color_rmse = (torch.sqrt(terms["color"]) * 255).cpu().numpy()
        sketch_error = terms["sketch"].cpu().numpy() if "sketch" in terms else np.zeros(self.candidates, np.float32)
        loss = total.cpu().numpy()
        return Ranking(
            order=self._pick.order(loss, steps=self.steps_done, refresh=fresh or settled,
                                   naturalness=lambda: discriminator_logits(self.model.D, images),
                                   by_loss_only=self.anchor == "photo"),
            loss=loss,
            terms={k: v.cpu().numpy() for k, v in terms.items()},
            images=(unit.clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy(),
            z=z.cpu().numpy(),
            z0=self.z0.cpu().numpy(),
            color_rmse=color_rmse,
            sketch_error=sketch_error,
        )
