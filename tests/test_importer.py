"""The DCGAN importer pairs layers by structure, not by the order of the keys, and an imported generator's own
samples project back (``project --method opt``, default budget) to RMSE <= 12 on the 0..255 scale."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from demo.engine.checkpoint import import_generator_state_dict, load_model
from demo.engine.networks import Generator
from test_checkpoint import ExamplesNetG  # pytorch/examples dcgan/main.py's Generator layout


def dcgan_init(net: nn.Module, generator: torch.Generator) -> nn.Module:
    """pytorch/examples' weights_init (conv weights N(0, 0.02), BN weight N(1, 0.02), bias 0), plus non-trivial
    running statistics so that a BN mapped onto the wrong layer would show."""
    for m in net.modules():
        if isinstance(m, nn.ConvTranspose2d):
            m.weight.data.normal_(0.0, 0.02, generator=generator)
        elif isinstance(m, nn.BatchNorm2d):
            m.weight.data.normal_(1.0, 0.02, generator=generator)
            m.bias.data.zero_()
            m.running_mean.uniform_(-0.01, 0.01, generator=generator)
            m.running_var.uniform_(0.5, 1.5, generator=generator)
    return net.eval()


def imported(state: dict[str, torch.Tensor]) -> Generator:
    config, ours = import_generator_state_dict(state, source="test")
    G = Generator(config)
    G.load_state_dict(ours, strict=True)
    return G.eval()


ORDERS = {
    "original": lambda sd: dict(sd),
    "sorted": lambda sd: {k: sd[k] for k in sorted(sd)},  # main.0, main.1, main.10, main.12, main.3 ...
    "reversed": lambda sd: {k: sd[k] for k in reversed(list(sd))},
    "module-prefix": lambda sd: {f"module.{k}": v for k, v in sd.items()},
    "sorted-module-prefix": lambda sd: {f"module.{k}": sd[k] for k in sorted(sd)},
}


@pytest.mark.parametrize("order", list(ORDERS))
def test_the_same_weights_in_any_key_order_import_to_the_same_generator(order):
    reference = dcgan_init(ExamplesNetG(nz=16, ngf=4), torch.Generator().manual_seed(0))
    state = reference.state_dict()
    z = torch.randn(3, 16, 1, 1, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        expected = reference(z)  # [3, 3, 64, 64]
        G = imported(ORDERS[order](state))
        assert G.config.widths == (32, 16, 8, 4) and G.config.nz == 16 and G.config.resolution == 64
        torch.testing.assert_close(G(z), expected, rtol=0, atol=1e-6)


def test_named_layers_sorted_alphabetically_pair_each_batch_norm_with_its_conv():
    # batchNorm1..3 sort before convTr1..4: the layers are paired by structure (channels), not by key order.
    names = [("convTr1", nn.ConvTranspose2d(8, 32, 4, 1, 0)), ("batchNorm1", nn.BatchNorm2d(32)),
             ("convTr2", nn.ConvTranspose2d(32, 16, 4, 2, 1)), ("batchNorm2", nn.BatchNorm2d(16)),
             ("convTr3", nn.ConvTranspose2d(16, 3, 4, 2, 1))]
    net = dcgan_init(nn.ModuleDict(dict(names)), torch.Generator().manual_seed(2))
    state = net.state_dict()
    G_sorted = imported({k: state[k] for k in sorted(state)})
    G_original = imported(dict(state))
    z = torch.randn(2, 8, 1, 1, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        x = torch.relu(net["batchNorm1"](net["convTr1"](z)))
        x = torch.relu(net["batchNorm2"](net["convTr2"](x)))
        expected = torch.tanh(net["convTr3"](x))  # [2, 3, 16, 16]
        torch.testing.assert_close(G_sorted(z), expected, rtol=0, atol=1e-6)
        torch.testing.assert_close(G_original(z), expected, rtol=0, atol=1e-6)


def test_an_imported_generators_own_sample_projects_back_within_the_default_budget(tmp_path):
    # A random-weight DCGAN (even with calibrated batch norm) draws near-flat images that any start reaches (RMSE
    # 0.3), so the weights here are trained ones: the shipped landscape64 G, which has this very layout
    # (ngf 32, nz 100), put into pytorch/examples' Generator and saved as its plain state_dict. The importer
    # assumes a normal prior, so the sample is G(z*) with z* ~ N(0, I). Adam alone over the default 200 steps
    # stopped at RMSE 21.2 on this sample (measured); L-BFGS finishing the best start reaches ~8.
    from demo.engine.projection import project, to_uint8

    torch.set_num_threads(1)
    examples = ExamplesNetG(nz=100, ngf=32)
    examples.load_state_dict(load_model("landscape64").G.state_dict(), strict=True)
    path = tmp_path / "netG_epoch_24.pth"
    torch.save(examples.eval().state_dict(), path)
    model = load_model(path)
    assert model.card.prior == "normal" and model.D is None and model.E is None
    z_star = torch.randn(1, 100, generator=torch.Generator().manual_seed(100))
    with torch.no_grad():
        target = to_uint8(model.G(z_star))[0]  # [64, 64, 3]
    result = project(model, target, method="opt")
    assert result.steps == 200
    assert result.pixel_rmse <= 12.0, result.pixel_rmse
