"""Adam on a batch of latents [K, nz] with one step count per row, so one candidate can restart alone.

The update is torch.optim.Adam's (same bias correction and epsilon), written out so that a row's
moments and step count can be cleared without touching the others, and so that every operation
is in place on fixed tensors (no host sync, capturable in a CUDA graph).
"""

from __future__ import annotations

import torch


class BatchAdam:
    def __init__(self, param: torch.Tensor, *, lr: float, betas: tuple[float, float], eps: float = 1e-8):
        self.param = param  # [K, n], requires grad
        self.lr = lr
        self.beta1, self.beta2 = betas
        self.eps = eps
        self.exp_avg = torch.zeros_like(param)  # [K, n]
        self.exp_avg_sq = torch.zeros_like(param)  # [K, n]
        self.row_steps = torch.zeros(param.shape[0], 1, device=param.device)  # [K, 1]

    def zero_grad(self) -> None:
        self.param.grad = None

    @torch.no_grad()
    def step(self, grad: torch.Tensor | None = None) -> None:
        """One update with ``grad`` [K, n] (default: the parameter's .grad)."""
        grad = self.param.grad if grad is None else grad  # [K, n]
        self.row_steps += 1
        self.exp_avg.lerp_(grad, 1 - self.beta1)
        self.exp_avg_sq.mul_(self.beta2).addcmul_(grad, grad, value=1 - self.beta2)
        # Bias corrections per row: [K, 1].
        correction1 = 1 - torch.pow(self.beta1, self.row_steps)
        correction2 = 1 - torch.pow(self.beta2, self.row_steps)
        denom = (self.exp_avg_sq / correction2).sqrt_().add_(self.eps)
        self.param.addcdiv_(self.exp_avg, denom * correction1, value=-self.lr)

    @torch.no_grad()
    def restart_rows(self, rows: torch.Tensor, fresh: torch.Tensor) -> None:
        """Rows where ``rows`` [K] (bool) is set start over at ``fresh`` [K, n] with a cleared state."""
        restart = rows[:, None]  # [K, 1]
        self.param.copy_(torch.where(restart, fresh, self.param))
        # masked_fill, not a multiply: the state of a row that went NaN is NaN, and NaN * 0 is NaN.
        self.exp_avg.masked_fill_(restart, 0)
        self.exp_avg_sq.masked_fill_(restart, 0)
        self.row_steps.masked_fill_(restart, 0)
