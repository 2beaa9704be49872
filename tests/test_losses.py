"""Each loss term: the gradient reaches z, and satisfying the constraint lowers the term."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from demo.engine.hog import HOG
from demo.engine import losses
from demo.tools.constraints import Constraints
from demo.tools.edit_state import EditState
from demo.tools.session import Event

R = 32


def constraints_for(tool: str, *, points, color=(255, 0, 0), width=0.2) -> Constraints:
    state = EditState()
    (x0, y0), *rest = points
    state.apply(Event(t=0, type="down", tool=tool, x=x0, y=y0, color=color, width=width))
    for x, y in rest:
        state.apply(Event(t=0, type="move", x=x, y=y))
    state.apply(Event(t=0, type="up"))
    return state.constraints(R)


def tensors(c: Constraints) -> losses.ConstraintTensors:
    return losses.ConstraintTensors.build(c, hog=HOG(), device=torch.device("cpu"))


def images_from(z: torch.Tensor, G) -> torch.Tensor:
    return G(z)


@pytest.fixture()
def latent(small_model):
    torch.manual_seed(0)
    return (torch.rand(4, small_model.card.nz) * 2 - 1).requires_grad_(True)


def test_color_term_gradient_reaches_z_and_matching_colors_lowers_it(small_model, latent):
    ct = tensors(constraints_for("color", points=[(0.2, 0.3), (0.8, 0.3)]))
    term = losses.color_term(losses.to_unit(small_model.G(latent)), ct)
    term.sum().backward()
    assert latent.grad is not None and latent.grad.abs().sum() > 0
    # An image that is red where the stroke is scores (near) zero; a green one scores high.
    red = torch.zeros(1, 3, R, R)
    red[:, 0] = 1
    green = torch.zeros(1, 3, R, R)
    green[:, 1] = 1
    assert losses.color_term(red, ct).item() < 1e-6
    assert losses.color_term(green, ct).item() > 0.5


def test_sketch_term_gradient_reaches_z_and_an_edge_along_the_stroke_lowers_it(small_model, latent):
    c = constraints_for("sketch", points=[(0.1, 0.5), (0.9, 0.5)], width=0.05)
    ct = tensors(c)
    hog = HOG()
    term = losses.sketch_term(losses.to_unit(small_model.G(latent)), ct, hog)
    term.sum().backward()
    assert latent.grad is not None and latent.grad.abs().sum() > 0
    # A horizontal edge at the stroke matches; a vertical stripe pattern does not.
    horizontal = torch.zeros(1, 3, R, R)
    horizontal[:, :, R // 2 :] = 1
    vertical = torch.zeros(1, 3, R, R)
    vertical[:, :, :, ::4] = 1
    assert losses.sketch_term(horizontal, ct, hog).item() < losses.sketch_term(vertical, ct, hog).item() * 0.5


def test_warp_term_gradient_reaches_z_and_moved_content_lowers_it(small_model, latent):
    c = constraints_for("warp", points=[(0.3, 0.5), (0.6, 0.5)], width=0.3)
    ct = tensors(c)
    start = losses.to_unit(small_model.G(latent)).detach()
    term = losses.warp_term(losses.to_unit(small_model.G(latent)), losses.warp_target(start, ct), ct)
    term.sum().backward()
    assert latent.grad is not None and latent.grad.abs().sum() > 0
    # A start image with a bright blob at the source: the image with the blob moved to the target satisfies it.
    yy, xx = torch.meshgrid(torch.arange(R) + 0.5, torch.arange(R) + 0.5, indexing="ij")
    blob = lambda cx: torch.exp(-((xx - cx * R) ** 2 + (yy - 0.5 * R) ** 2) / 8.0).expand(1, 3, R, R)
    source_image = blob(0.3)
    wanted = losses.warp_target(source_image, ct)
    moved = losses.warp_term(blob(0.6), wanted, ct).item()
    unmoved = losses.warp_term(source_image, wanted, ct).item()
    assert moved < unmoved * 0.2


def test_prior_term_pulls_toward_z0():
    z0 = torch.zeros(2, 8)
    z = torch.ones(2, 8, requires_grad=True)
    term = losses.prior_term(z, z0)
    term.sum().backward()
    assert torch.all(z.grad > 0)
    assert losses.prior_term(z0, z0).abs().max() == 0


def test_realism_term_gradient_and_direction():
    logits = torch.tensor([-2.0, 0.0, 2.0], requires_grad=True)
    term = losses.realism_term(logits)
    term.sum().backward()
    assert torch.all(logits.grad < 0)  # Raising D's realness lowers the term.
    assert term[2] < term[1] < term[0]


def test_hog_is_differentiable_and_normalised():
    gray = torch.rand(2, 1, R, R, requires_grad=True)
    hist = HOG(orientations=8, cell=4)(gray)
    assert hist.shape == (2, 8, R // 4, R // 4)
    norms = hist.detach().pow(2).sum(1).sqrt()
    assert torch.all(norms <= 1.0 + 1e-5)
    hist.sum().backward()
    assert gray.grad.abs().sum() > 0
    assert np.isfinite(gray.grad.numpy()).all()


def test_hog_equals_its_definition_by_angles():
    """|g| cos^8(t - t_o) votes, cell means, L2 normalisation: computed directly with atan2."""
    import math

    import torch.nn.functional as F

    hog = HOG(orientations=8, cell=4)
    gray = torch.rand(2, 1, R, R, generator=torch.Generator().manual_seed(1))
    sobel = torch.tensor([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]]) / 8
    grad = F.conv2d(F.pad(gray, (1, 1, 1, 1), mode="replicate"), torch.stack([sobel, sobel.t()])[:, None])
    gx, gy = grad[:, :1], grad[:, 1:]
    angle = torch.atan2(gy, gx)
    centres = torch.arange(8).view(1, 8, 1, 1) * math.pi / 8
    votes = torch.sqrt(gx * gx + gy * gy + 1e-8) * torch.cos(angle - centres) ** 8
    cells = F.avg_pool2d(votes, 4)
    expected = cells / torch.sqrt((cells * cells).sum(1, keepdim=True) + 0.05**2)
    torch.testing.assert_close(hog(gray), expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("channels", [3, 1])
def test_hog_of_some_cells_of_an_image_equals_the_hog_of_its_gray_image(channels):
    """The solver's path (gather the cells, gray + Sobel in one product) against the raster path."""
    hog = HOG()
    images = torch.rand(2, channels, R, R, generator=torch.Generator().manual_seed(2)) * 2 - 1
    weights = torch.tensor([0.299, 0.587, 0.114]).view(1, 3, 1, 1) if channels == 3 else torch.ones(1, 1, 1, 1)
    gray = ((images + 1) * 0.5 * weights).sum(1, keepdim=True)
    cells = torch.tensor([0, 1, 7, 9, 36, 63])  # corners and edges included (edge pixels repeated)
    some = hog.of_image_cells(images, hog.patch_index(resolution=R, channels=channels, cells=cells))  # [2, N, O]
    whole = hog(gray).flatten(2).transpose(1, 2)[:, cells]  # [2, N, O]
    torch.testing.assert_close(some, whole, rtol=1e-4, atol=1e-6)


def test_hog_hand_written_backward_matches_finite_differences():
    """The harmonics' backward is written out (not autograd's): check it against numerical gradients."""
    from demo.engine.hog import _CellHarmonics

    grad = torch.randn(6, 16, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(3), requires_grad=True)
    assert torch.autograd.gradcheck(lambda g: _CellHarmonics.apply(g, 4), (grad,))
    # Through the whole HOG of an image too (gray raster path), in double precision.
    gray = torch.rand(1, 1, 8, 8, dtype=torch.float64, generator=torch.Generator().manual_seed(4), requires_grad=True)
    hog = HOG().double()
    assert torch.autograd.gradcheck(hog, (gray,))
