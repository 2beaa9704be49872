"""Train, evaluate and export the x4 display upsampler (models/upsample4x), on this project's own data.

Data: 256^2 renders of the procedural landscapes and the DiceBear avatars (``python -m demo data ...
--size 256``). Each is area-downsampled to 64^2. With ``--projection-probability p``, a share p of the
inputs are G's own projection of that scene (landscape64 or avatars64), the image the canvas shows for
it; the rest (all, by default) are the downsample degraded the way G's images are: blended towards its
round trip through the matching GAN (G(E(x)), which carries G's softness, colour drift and checkerboard
grid), blurred, given a faint period-2 grid and noise, and rounded to uint8. The network learns to map
that to the true 256^2 scene; its fidelity step keeps the result's 64^2 downsample equal to the input.

    python -m demo.train.upsampler train --data data/land256 data/avatars256 --out runs/upsample4x
    python -m demo.train.upsampler export --out runs/upsample4x --heldout data/land256_heldout
    python -m demo.train.upsampler bench

Training is resumable: re-run ``train`` to continue from runs/.../checkpoint.pt. ``--init FILE`` starts a new
run from an upsampler file instead (e.g. the shipped models/upsample4x.safetensors, with a fresh Adam), which is
how a machine without runs/ fine-tunes the shipped weights. With a critic (``--adversarial-weight``),
``--samples-of avatars64`` makes a share of each batch G's own samples, which have no true scene and get only
the critic's loss (how models/detail4x_avatars was made; docs/upsampler.md section 6). The inputs and their
degradations are built in ``demo.train.upsampler.data``; ``evaluate``, ``export`` and ``bench`` in
``demo.train.upsampler.report``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm import tqdm

from demo.engine.upsample import UpsampleNet, UpsamplerConfig, read_upsampler
from demo.errors import UserError
from demo.train.common import load_checkpoint, save_checkpoint
from demo.train.upsampler.critic import CriticConfig, PatchCritic, critic_loss, generator_loss
from demo.train.upsampler.data import Degradation, degrade, prepare, sample_batch, sample_crops


@dataclass(frozen=True, kw_only=True)
class TrainConfig:
    steps: int = 20000
    batch: int = 16
    crop: int = 24  # low-resolution crop side; the target crop is 4x that
    lr: float = 1e-3
    gradient_weight: float = 0.5  # weight of the L1 on image gradients, which rewards sharp edges
    detail_weight: float = 0.0  # weight of the L1 on local gradient magnitude (8x8 means): asks for as much detail
    checkpoint_every: int = 200
    # The detail generator: a patch critic pays for plausible detail (0: reconstruction only, as upsample4x).
    adversarial_weight: float = 0.0
    adversarial_after: int = 500  # reconstruction-only steps first, so the critic meets a sensible network
    critic_lr: float = 2e-4
    critic_width: int = 32
    # A share of each batch that is G's own samples (``--samples-of``), which have no true scene: they get only the
    # critic's loss, so the network learns what to draw from G's images as they are, not only from round trips.
    sample_share: float = 0.0

    def __post_init__(self) -> None:
        if not 0 <= self.sample_share < 1:
            raise ValueError(f"sample_share must be in [0, 1): some rows keep a true scene, got {self.sample_share}")


def image_gradients(images: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward differences along x and y of [B, C, H, W]."""
    return images[..., :, 1:] - images[..., :, :-1], images[..., 1:, :] - images[..., :-1, :]


def local_detail(images: torch.Tensor, *, window: int = 8) -> torch.Tensor:
    """Mean gradient magnitude |dx| + |dy| over window x window blocks of [B, C, H, W] -> [B, C, H/w, W/w]."""
    dx, dy = image_gradients(images)
    magnitude = F.pad(dx.abs(), (0, 1)) + F.pad(dy.abs(), (0, 0, 0, 1))  # [B, C, H, W]
    return F.avg_pool2d(magnitude, window)


def loss_of(display: torch.Tensor, target: torch.Tensor, *, gradient_weight: float, detail_weight: float = 0.0) -> torch.Tensor:
    """L1 on pixels, plus L1 on their gradients (which pays for edges where the target has them), plus
    L1 on the local amount of detail (which pays for texture as fine as the target's, wherever it falls)."""
    loss = (display - target).abs().mean()
    for ours, theirs in zip(image_gradients(display), image_gradients(target)):
        loss = loss + gradient_weight * (ours - theirs).abs().mean()
    if detail_weight:
        loss = loss + detail_weight * (local_detail(display) - local_detail(target)).abs().mean()
    return loss


def training_config(args) -> TrainConfig:
    return TrainConfig(steps=args.steps, batch=args.batch, lr=args.lr, gradient_weight=args.gradient_weight,
                       detail_weight=args.detail_weight, adversarial_weight=args.adversarial_weight,
                       adversarial_after=args.adversarial_after, critic_width=args.critic_width,
                       sample_share=args.sample_share if args.samples_of else 0.0)


def train(args) -> int:
    try:
        config = training_config(args)
    except ValueError as exc:
        raise UserError(f"train: {exc}") from None
    if config.sample_share and not config.adversarial_weight:
        raise UserError("train: --samples-of needs --adversarial-weight > 0 (G's samples have no target; only the "
                        "critic judges them)")
    net_config = UpsamplerConfig(width=args.width, depth=args.depth, back_projection_steps=args.back_projection_steps,
                                 fidelity_limit=args.fidelity_limit, input_smoothing=args.input_smoothing)
    spec = Degradation(projection_probability=args.projection_probability, gan_probability=args.gan_probability,
                       gan_blend=tuple(args.gan_blend))
    run_dir = Path(args.out)
    net = UpsampleNet(net_config)
    optimizer = torch.optim.Adam(net.parameters(), lr=config.lr)
    critic = Critic(config) if config.adversarial_weight > 0 else None
    generator = torch.Generator().manual_seed(args.seed)
    state = load_checkpoint(run_dir)
    step = 0
    if state is not None:
        if UpsamplerConfig(**state["net_config"]) != net_config:
            raise UserError(f"{run_dir}: the run was started with {state['net_config']}; use another --out")
        net.load_state_dict(state["net"])
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["rng"])
        step = state["step"]
        if critic is not None and "critic" in state:
            critic.load_state_dict(state["critic"])
    init = None
    if state is None and args.init is not None:
        init = init_from_file(net, args.init)
        print(f"new run {run_dir} starts from {init['file']} (its step {init['steps']}; fresh Adam)")
    # Prepare the data after the checks above, which take no time (projecting it takes minutes).
    data = prepare([Path(p) for p in args.data], run_dir / "cache", limit=args.limit,
                   projections=spec.projection_probability > 0, progress=not args.no_progress)
    unpaired = round(config.sample_share * config.batch)
    samples = None
    if unpaired:  # G's own images, drawn as bench display draws them, from another seed.
        from demo.bench.display import samples as draw_samples

        samples = torch.from_numpy(draw_samples(args.samples_of, args.sample_count, seed=args.sample_seed))
        samples = samples.permute(0, 3, 1, 2)  # uint8 [N, 3, 64, 64]
    started, recent = time.perf_counter(), []
    with (run_dir / "log.jsonl").open("a") as log, tqdm(total=config.steps, initial=step, desc="upsampler", unit="step",
                                                          disable=args.no_progress) as bar:
        while step < config.steps:
            for group in optimizer.param_groups:  # Step the rate down for the last 30%.
                group["lr"] = config.lr * (0.3 if step >= 0.7 * config.steps else 1.0)
            low, trip, proj, high = sample_batch(data, batch=config.batch, crop=config.crop, generator=generator)
            inputs = degrade(low, trip, proj, spec=spec, generator=generator)
            if samples is not None:  # The first rows become G's samples, which only the critic judges.
                inputs = torch.cat([sample_crops(samples, batch=unpaired, crop=config.crop, generator=generator),
                                    inputs[unpaired:]])
            judge = critic if critic is not None and step >= config.adversarial_after else None
            loss = batch_loss(net, inputs, high, unpaired=unpaired, critic=judge, config=config)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            step += 1
            recent.append(loss.item())
            bar.update(1)
            if step % config.checkpoint_every == 0 or step == config.steps:
                save_checkpoint(run_dir, {"net": net.state_dict(), "optimizer": optimizer.state_dict(), "step": step,
                                          "rng": generator.get_state(), "net_config": asdict(net_config),
                                          **({"critic": critic.state_dict()} if critic is not None else {})})
                row = {"step": step, "loss": float(np.mean(recent)), "seconds": round(time.perf_counter() - started, 1),
                       "images": int(data["low"].shape[0]), "data": [str(p) for p in args.data],
                       "net_config": asdict(net_config), "train_config": asdict(config),
                       "degradation": asdict(spec), **({"init": init} if init is not None else {}),
                       **({"samples": {"of": args.samples_of, "count": args.sample_count, "seed": args.sample_seed}}
                          if samples is not None else {})}
                log.write(json.dumps(row) + "\n")
                log.flush()
                bar.set_postfix(loss=f"{row['loss']:.4f}")
                recent = []
    return 0


def batch_loss(net: UpsampleNet, inputs: torch.Tensor, high: torch.Tensor, *, unpaired: int, critic: Critic | None,
               config: TrainConfig) -> torch.Tensor:
    """The display network's loss on inputs [B, 3, c, c] against targets high [B, 3, 4c, 4c]: reconstruction on
    the rows from ``unpaired`` on (the first rows are G's own samples, whose targets are only stand-ins), and
    with ``critic`` (which takes its own step on this batch) the critic's loss on every row."""
    display = net(inputs)  # [B, 3, 4c, 4c]
    loss = loss_of(display[unpaired:], high[unpaired:], gradient_weight=config.gradient_weight,
                   detail_weight=config.detail_weight)
    if critic is not None:
        loss = loss + config.adversarial_weight * critic.step(high, display)
    return loss


class Critic:
    """The patch critic and its optimiser, trained one step for each step of the display network."""

    def __init__(self, config: TrainConfig):
        self.net = PatchCritic(CriticConfig(width=config.critic_width))
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.critic_lr, betas=(0.5, 0.999))

    def step(self, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        """Train the critic on this batch; the display network's adversarial loss for it (to backpropagate)."""
        self.optimizer.zero_grad(set_to_none=True)
        critic_loss(self.net, real, fake).backward()
        self.optimizer.step()
        return generator_loss(self.net, fake)

    def state_dict(self) -> dict:
        return {"net": self.net.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.net.load_state_dict(state["net"])
        self.optimizer.load_state_dict(state["optimizer"])


def init_from_file(net: UpsampleNet, path: str) -> dict:
    """Load an upsampler file's weights into ``net`` (same shape, else UserError); {file, steps} for the log."""
    loaded = read_upsampler(path)
    if network_shape(loaded.net.config) != network_shape(net.config):
        raise UserError(f"{path}: its network is {asdict(loaded.net.config)}, not the {asdict(net.config)} asked for "
                        "(pass its --width and --depth)")
    net.load_state_dict(loaded.net.state_dict())
    return {"file": str(path), "steps": int(loaded.card.get("training", {}).get("steps", 0))}


def network_shape(config: UpsamplerConfig) -> tuple[int, int, int, int]:
    """What the weights fix (the rest of a config are inference settings)."""
    return config.scale, config.channels, config.width, config.depth


def trained_net(run_dir: Path) -> tuple[UpsampleNet, dict]:
    """The network of a run's latest checkpoint, in eval mode, and the checkpoint's step and config."""
    state = load_checkpoint(run_dir)
    if state is None:
        raise UserError(f"{run_dir}: no checkpoint; train first")
    net = UpsampleNet(UpsamplerConfig(**state["net_config"]))
    net.load_state_dict(state["net"])
    return net.eval().requires_grad_(False), {"step": state["step"], "net_config": state["net_config"]}
