"""A differentiable HOG (histogram of oriented gradients) in torch, as iGAN's sketch term used."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn

GRAY_WEIGHTS = (0.299, 0.587, 0.114)
SOBEL = ((-1.0, 0.0, 1.0), (-2.0, 0.0, 2.0), (-1.0, 0.0, 1.0))


class HOG(nn.Module):
    """gray [B, 1, H, W] in 0..1 -> cell histograms [B, O, H/cell, W/cell], L2-normalised per cell.

    Orientations are unsigned (0..pi), so a drawn line and an image edge along it agree. Each
    gradient g = |g| (cos t, sin t) (Sobel, edges repeated) votes into bin o (centre t_o = o pi / O)
    with weight |g| cos^(2n)(t - t_o), n = ``sharpness`` (4: half-height at 23 degrees, about one
    bin spacing of 8 bins). That vote is a trigonometric polynomial of the doubled angle,

        cos^(2n)(d) = 4^-n [C(2n, n) + 2 sum_{j=1..n} C(2n, n-j) cos(2 j d)],

    so a cell's histogram is linear in the cell means of |g| e^(2ijt), j = 0..n: those n + 1
    harmonics are computed per pixel (no atan2, one complex power each) and the O bins are
    formed per cell with one small matrix product. The histogram is smooth and differentiable
    everywhere, and nothing per orientation runs per pixel.

    ``forward`` takes a gray raster (the sketch); ``of_image_cells`` takes generator output and
    computes only the cells asked for (the solver's sketch band), with the gray conversion, the
    edge padding and the Sobel filter folded into one gather and one matrix product.
    """

    def __init__(self, *, orientations: int = 8, cell: int = 4, eps: float = 0.05, sharpness: int = 4):
        super().__init__()
        self.orientations = orientations
        self.cell = cell
        self.eps = eps
        self.sharpness = sharpness
        sobel = torch.tensor(SOBEL) / 8.0
        self.register_buffer("kernel", torch.stack([sobel, sobel.t()])[:, None], persistent=False)  # [2, 1, 3, 3]
        self.register_buffer("bins", self._bin_weights(orientations, sharpness), persistent=False)  # [2n+1, O]
        # Patch -> gradient matrices for [-1, 1] images: gray = sum_c w_c (x_c + 1) / 2, then Sobel.
        self.register_buffer("rgb_patch_filter", self._patch_filter(GRAY_WEIGHTS), persistent=False)
        self.register_buffer("grey_patch_filter", self._patch_filter((1.0,)), persistent=False)

    @staticmethod
    def _bin_weights(orientations: int, n: int) -> torch.Tensor:
        """[2n+1, O]: bin o = (|g|, Re h1, Im h1, ..., Re hn, Im hn) cell means times these weights."""
        centres = torch.arange(orientations, dtype=torch.float64) * (math.pi / orientations)  # t_o
        rows = [torch.full_like(centres, math.comb(2 * n, n))]
        for j in range(1, n + 1):
            coefficient = 2 * math.comb(2 * n, n - j)
            rows += [coefficient * torch.cos(2 * j * centres), coefficient * torch.sin(2 * j * centres)]
        return (torch.stack(rows, 0) / 4**n).float()

    def _patch_filter(self, gray_weights: tuple[float, ...]) -> torch.Tensor:
        """[C * side^2, cell^2 * 2]: a cell's padded patch (side = cell + 2) -> its Sobel (gx, gy) per pixel."""
        side = self.cell + 2
        eye = torch.eye(side * side).view(-1, 1, side, side)  # one-hot patches
        grad = F.conv2d(eye, self.kernel)  # [side^2, 2, c, c]
        grad = grad.permute(0, 2, 3, 1).reshape(side * side, -1)  # [side^2, c * c * 2], (gx, gy) interleaved per pixel
        weights = 0.5 * torch.tensor(gray_weights)  # [C], d gray / d x
        return (weights[:, None, None] * grad).reshape(-1, grad.shape[1])

    def forward(self, gray: torch.Tensor) -> torch.Tensor:
        """gray [B, 1, H, W] in 0..1 -> [B, O, H/c, W/c]."""
        b, _, height, width = gray.shape
        c = self.cell
        grad = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="replicate"), self.kernel)  # [B, 2, H, W]
        # Pixels of each cell side by side: [B * h * w, c * c, 2].
        blocks = grad.view(b, 2, height // c, c, width // c, c).permute(0, 2, 4, 3, 5, 1).reshape(-1, c * c, 2)
        return self.histograms(blocks).view(b, height // c, width // c, -1).permute(0, 3, 1, 2)

    def of_image_cells(self, images: torch.Tensor, patches: torch.Tensor) -> torch.Tensor:
        """images [B, C, H, W] in [-1, 1], ``patches`` from ``patch_index`` -> [B, N, O] for the N cells."""
        b, channels = images.shape[:2]
        side = self.cell + 2
        gathered = images.reshape(b, -1).index_select(1, patches)  # [B, N * C * side^2]
        patch_filter = self.rgb_patch_filter if channels == 3 else self.grey_patch_filter
        grad = gathered.view(-1, channels * side * side) @ patch_filter  # [B * N, c^2 * 2]
        return self.histograms(grad.view(-1, self.cell * self.cell, 2)).view(b, -1, self.orientations)

    def patch_index(self, *, resolution: int, channels: int, cells: torch.Tensor) -> torch.Tensor:
        """Flat indices into an image [C, R, R] of each cell's (cell + 2)^2 patch, edges repeated. [N * C * side^2]

        ``cells`` [N] are flat cell ids (row * R/cell + column).
        """
        per_row = resolution // self.cell
        offsets = torch.arange(-1, self.cell + 1, device=cells.device)  # [side]
        rows = ((cells // per_row * self.cell)[:, None] + offsets).clamp(0, resolution - 1)  # [N, side]
        columns = ((cells % per_row * self.cell)[:, None] + offsets).clamp(0, resolution - 1)  # [N, side]
        plane = torch.arange(channels, device=cells.device) * resolution * resolution  # [C]
        index = plane[None, :, None, None] + rows[:, None, :, None] * resolution + columns[:, None, None, :]
        return index.reshape(-1)  # [N, C, side, side] flattened

    def histograms(self, grad: torch.Tensor) -> torch.Tensor:
        """Gradients of each cell's pixels [M, P, 2] (gx, gy) -> normalised histograms [M, O]."""
        maps = _CellHarmonics.apply(grad, self.sharpness)  # [M, 2n+1]
        cells = maps @ self.bins  # [M, O]
        return cells * torch.rsqrt((cells * cells).sum(1, keepdim=True) + self.eps**2)


class _CellHarmonics(torch.autograd.Function):
    """Gradients of each cell's pixels g [M, P, 2] -> the cell means of |g| and of |g| zeta^j, j = 1..n,
    as [M, 2n+1] (|g|, Re h1, Im h1, ...), with zeta = (g / |g|)^2 (u = gx + i gy, E = |u|^2 + 1e-8).

    Written out so that forward and backward are a dozen whole-tensor complex operations instead of
    autograd's many small real ones. With v = u / sqrt(E) and D_j the incoming gradient of the j-th
    complex mean (D_0 real), the gradient with respect to u = gx + i gy is

        conj(v) sum_{j>=1} 2j D_j conj(zeta)^(j-1)  -  v Re(sum_{j>=0} (2j - 1) conj(D_j) zeta^j),

    each sum by Horner's rule.
    """

    @staticmethod
    def forward(ctx, grad: torch.Tensor, n: int) -> torch.Tensor:
        energy = (grad * grad).sum(-1) + 1e-8  # [M, P] = E
        inverse = energy.rsqrt()
        magnitude = energy * inverse  # |g|
        unit = torch.view_as_complex(grad) * inverse  # v [M, P]
        zeta = unit * unit
        power = zeta * magnitude
        means = [power.mean(-1)]
        for _ in range(n - 1):
            power = power * zeta
            means.append(power.mean(-1))
        ctx.save_for_backward(unit, zeta)
        ctx.n = n
        harmonics = torch.view_as_real(torch.stack(means, 1)).flatten(1)  # [M, 2n]
        return torch.cat([magnitude.mean(-1, keepdim=True), harmonics], 1)

    @staticmethod
    def backward(ctx, grad_maps: torch.Tensor):
        unit, zeta = ctx.saved_tensors
        n, pixels = ctx.n, unit.shape[-1]
        grad_maps = grad_maps / pixels  # the means' 1/P
        d0 = grad_maps[:, :1]  # [M, 1] real
        d = torch.view_as_complex(grad_maps[:, 1:].reshape(-1, n, 2).contiguous())  # [M, n]: D_1..D_n
        # S1 = sum_{j=1..n} 2j D_j conj(zeta)^(j-1).
        conj_zeta = zeta.conj()
        s1 = (2 * n * d[:, n - 1 :]).expand_as(zeta)
        for j in range(n - 1, 0, -1):
            s1 = s1 * conj_zeta + 2 * j * d[:, j - 1 : j]
        # S2 = Re sum_{j=0..n} (2j - 1) conj(D_j) zeta^j.
        dc = d.conj()
        s2 = ((2 * n - 1) * dc[:, n - 1 :]).expand_as(zeta)
        for j in range(n - 1, 0, -1):
            s2 = s2 * zeta + (2 * j - 1) * dc[:, j - 1 : j]
        s2 = (s2 * zeta).real - d0
        gradient = unit.conj() * s1 - unit * s2  # [M, P] complex = dL/dgx + i dL/dgy
        return torch.view_as_real(gradient.resolve_conj()), None
