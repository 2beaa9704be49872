"""One training loop for every trainer (GAN, encoder), in one process or many under torchrun.

The loop owns what the trainers share: the step budget, the progress bar, ``log.csv``, sample
sheets, atomic checkpoints, Ctrl-C / ``kill`` saving a checkpoint, and the process group of a
distributed run. A trainer owns its nets, optimizers and RNG and knows how to take one step.

Distributed runs: ``torchrun --nproc-per-node N -m demo train gan ...`` starts N processes that
find each other through torchrun's environment (``RANK``, ``WORLD_SIZE``, ``MASTER_ADDR``...).
Each joins the process group (gloo on CPU, nccl on CUDA), wraps its nets in
DistributedDataParallel (gradients are averaged across processes, so every rank keeps identical
weights) and draws its own batches; the effective batch is ``batch * world_size``. Only rank 0
writes files (checkpoint, samples, log.csv); a checkpoint holds every rank's RNG state, so a
distributed run resumes exactly too. Without torchrun the same command is one process.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
import torch.distributed as dist

from demo.safe_files import replace_file
from demo.train.common import save_checkpoint, save_sheet

LOG_NAME = "log.csv"


@dataclass(frozen=True, kw_only=True)
class Workers:
    """Where this process stands in a (possibly one-process) training run."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def start_workers(device: torch.device) -> tuple[Workers, torch.device]:
    """Join torchrun's process group when launched by it (WORLD_SIZE > 1), else run alone.

    Returns this process's place and its device (on CUDA, the GPU numbered LOCAL_RANK).
    """
    from demo.errors import UserError

    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    if world_size <= 1:
        return Workers(), device
    rank, local_rank = int(os.environ["RANK"]), int(os.environ.get("LOCAL_RANK", "0"))
    if device.type == "cuda":
        if local_rank >= torch.cuda.device_count():
            raise UserError(f"rank {rank}: LOCAL_RANK {local_rank} but only {torch.cuda.device_count()} GPUs here "
                            "(use --nproc-per-node <= the number of GPUs)")
        torch.cuda.set_device(local_rank)
        device, backend = torch.device("cuda", local_rank), "nccl"
    elif device.type == "cpu":
        backend = "gloo"
    else:
        raise UserError(f"--device {device.type}: distributed training runs on cpu (gloo) or cuda (nccl)")
    if not dist.is_initialized():
        dist.init_process_group(backend)  # env:// rendezvous, as torchrun sets it up
    return Workers(rank=rank, world_size=world_size, local_rank=local_rank), device


def stop_workers() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def share_from_main(value: Any, workers: Workers) -> Any:
    """Rank 0's ``value`` on every rank (e.g. the checkpoint only rank 0's machine has)."""
    if not workers.distributed:
        return value
    box = [value if workers.is_main else None]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def wrap_for_training(net: torch.nn.Module, workers: Workers) -> torch.nn.Module:
    """``net`` as the steps should call it: DistributedDataParallel in a distributed run (which also
    copies rank 0's weights to every rank), else the net itself."""
    if not workers.distributed:
        return net
    from torch.nn.parallel import DistributedDataParallel

    device = next(net.parameters()).device
    ids = [device.index] if device.type == "cuda" else None
    return DistributedDataParallel(net, device_ids=ids, output_device=None if ids is None else ids[0])


class Trainable(Protocol):
    """What the loop needs of a trainer (GanTrainer and EncoderTrainer are ones)."""

    kind: str
    step: int
    seconds: float
    generator: torch.Generator
    log_columns: tuple[str, ...]

    def train_step(self) -> dict[str, float]: ...

    def state_dict(self) -> dict[str, Any]: ...

    def postfix(self, row: dict[str, float]) -> dict[str, str]: ...

    def sample_sheet(self) -> torch.Tensor | None: ...

    def trained_weights(self) -> list[torch.Tensor]: ...


def weights_digest(tensors: list[torch.Tensor]) -> str:
    """A hash of the exact bytes of ``tensors`` (equal on two ranks only if their weights are bit-identical)."""
    digest = hashlib.sha256()
    for tensor in tensors:
        digest.update(tensor.detach().cpu().contiguous().view(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()[:16]


def checkpoint_state(trainer: Trainable, workers: Workers) -> dict[str, Any] | None:
    """The trainer's state plus every rank's RNG state and weights digest (a collective: every rank must
    call it); None off rank 0. Ranks whose weights drifted apart are an error, not a silent average."""
    mine = (trainer.generator.get_state(), weights_digest(trainer.trained_weights()))
    gathered = [mine]
    if workers.distributed:
        gathered = [None] * workers.world_size
        dist.all_gather_object(gathered, mine)
    if not workers.is_main:
        return None
    digests = [digest for _, digest in gathered]
    if len(set(digests)) > 1:
        raise RuntimeError(f"step {trainer.step}: the ranks' weights differ ({digests}); gradients were not averaged")
    return {**trainer.state_dict(), "rng_ranks": [state for state, _ in gathered], "rank_digests": digests,
            "world_size": workers.world_size}


def rank_rng_state(state: dict[str, Any], rank: int) -> torch.Tensor | None:
    """This rank's saved generator state, or None when the checkpoint was written by a smaller run."""
    states = state.get("rng_ranks") or [state["rng"]["generator"]]
    return states[rank] if rank < len(states) else None


def rank_seed(seed: int, rank: int) -> int:
    """Each process of a distributed run draws its own batches (rank 0 keeps the single-process stream)."""
    return seed + 1_000_003 * rank


def restore_rank_generator(generator: torch.Generator, state: dict[str, Any], *, rank: int, seed: int) -> None:
    """This rank's generator as the checkpoint left it; a rank the saved run did not have starts a stream of
    its own, seeded by the step so that a resumed run never repeats an earlier one."""
    mine = rank_rng_state(state, rank)
    if mine is not None:
        generator.set_state(mine)
    else:
        generator.manual_seed(rank_seed(seed, rank) + int(state["step"]))


def train_loop(
    trainer: Trainable,
    run_dir: Path,
    *,
    steps: int,
    workers: Workers = Workers(),
    sample_every: int = 500,
    checkpoint_every: int = 250,
    progress: bool = True,
    minutes: float | None = None,
) -> Trainable:
    """Train until ``trainer.step == steps`` (or, with ``minutes``, until that much time has passed: the
    run then stops at the next multiple of 10 steps, on every rank alike); rank 0 writes checkpoints,
    sample sheets and log.csv into run_dir."""
    from tqdm import tqdm

    deadline = None if minutes is None else time.monotonic() + 60 * minutes
    main = workers.is_main
    log_file = _open_log(run_dir, trainer.log_columns, resumed_step=trainer.step) if main else None
    bar = tqdm(total=steps, initial=trainer.step, unit="step", desc=trainer.kind, disable=not (progress and main),
               dynamic_ncols=True)
    try:
        while trainer.step < steps:
            row = trainer.train_step()
            bar.update(1)
            last = trainer.step == steps or (trainer.step % 10 == 0 and _time_is_up(deadline, workers))
            if main and (trainer.step % 10 == 0 or last):
                bar.set_postfix(**trainer.postfix(row))
                values = ",".join([str(trainer.step), *(f"{row[k]:.5g}" for k in trainer.log_columns)])
                log_file.write(f"{values},{trainer.seconds:.1f},{workers.world_size}\n")
                log_file.flush()
            if main and sample_every > 0 and (trainer.step % sample_every == 0 or last):
                sheet = trainer.sample_sheet()
                if sheet is not None:
                    save_sheet(run_dir / "samples" / f"step_{trainer.step:07d}.png", sheet)
                    save_sheet(run_dir / "latest.png", sheet)
            if trainer.step % checkpoint_every == 0 or last:
                state = checkpoint_state(trainer, workers)
                if main:
                    save_checkpoint(run_dir, state)
            if last:
                break
    except KeyboardInterrupt:
        bar.close()
        if main:  # the other ranks may be gone already: save rank 0's RNG only
            save_checkpoint(run_dir, {**trainer.state_dict(), "world_size": workers.world_size})
            print(f"interrupted: saved step {trainer.step} to {run_dir}; run the same command to resume")
        raise
    finally:
        if log_file is not None:
            log_file.close()
    bar.close()
    return trainer


def _time_is_up(deadline: float | None, workers: Workers) -> bool:
    """Rank 0's clock decides, so that every rank stops after the same step."""
    if deadline is None:
        return False
    up = torch.tensor([float(time.monotonic() >= deadline)])
    if workers.distributed:
        if dist.get_backend() == "nccl":  # nccl moves only GPU tensors
            up = up.cuda()
        dist.broadcast(up, src=0)
    return bool(up.item())


def _open_log(run_dir: Path, columns: tuple[str, ...], *, resumed_step: int):
    """log.csv for appending. Rows past ``resumed_step`` go: a run that died without saving (power cut, kill -9)
    logged steps its checkpoint does not hold, and the resumed run logs them again. A log from before the
    world_size column gains it (those runs had one process)."""
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / LOG_NAME
    header = ",".join(("step", *columns, "seconds", "world_size"))
    text = path.read_text(errors="replace") if path.exists() else ""
    first, *rows = text.splitlines() or [header]
    if first != header and f"{first},world_size" == header:
        first, rows = header, [f"{row},1" for row in rows]
    kept = "\n".join([first, *(row for row in rows if _logged_step(row) <= resumed_step)]) + "\n"
    if kept != text:
        replace_file(path, kept)  # all at once: a kill here keeps the old log, not half of it
    return path.open("a")


def _logged_step(row: str) -> float:
    """The step a log row is for; infinity for a row that is not one (a torn last write), so that it goes too."""
    try:
        return float(row.split(",", 1)[0])
    except ValueError:
        return float("inf")
