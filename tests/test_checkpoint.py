"""Checkpoints: our safetensors format, the DCGAN importer for foreign key layouts, and safe loading."""

from __future__ import annotations

import json
import os
import pickle

import pytest
import torch
from torch import nn

from demo.engine.checkpoint import card_for, import_generator_state_dict, load_model, save_model
from demo.engine.networks import CriticConfig, Discriminator, Encoder, Generator, GeneratorConfig
from demo.errors import UserError


class ExamplesNetG(nn.Module):
    """pytorch/examples dcgan's Generator, verbatim in structure (keys main.0.weight ...)."""

    def __init__(self, nz=16, ngf=8, nc=3):
        super().__init__()
        self.main = nn.Sequential(
            nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False), nn.BatchNorm2d(ngf * 8), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 4), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf * 2), nn.ReLU(True),
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False), nn.BatchNorm2d(ngf), nn.ReLU(True),
            nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh(),
        )

    def forward(self, z):
        return self.main(z)


class CustomNamedG(nn.Module):
    """Another common layout: named layers (convTr1 / batchNorm1 ...), with biases, 32px, grey output."""

    def __init__(self, nz=12, nc=1):
        super().__init__()
        self.convTr1 = nn.ConvTranspose2d(nz, 64, 4, 1, 0)
        self.batchNorm1 = nn.BatchNorm2d(64)
        self.convTr2 = nn.ConvTranspose2d(64, 32, 4, 2, 1)
        self.batchNorm2 = nn.BatchNorm2d(32)
        self.convTr3 = nn.ConvTranspose2d(32, 16, 4, 2, 1)
        self.batchNorm3 = nn.BatchNorm2d(16)
        self.convTr4 = nn.ConvTranspose2d(16, nc, 4, 2, 1)

    def forward(self, z):
        x = torch.relu(self.batchNorm1(self.convTr1(z)))
        x = torch.relu(self.batchNorm2(self.convTr2(x)))
        x = torch.relu(self.batchNorm3(self.convTr3(x)))
        return torch.tanh(self.convTr4(x))


def randomise_norms(net: nn.Module) -> nn.Module:
    """Non-trivial running statistics, so a wrong mapping of BN buffers would show."""
    torch.manual_seed(3)
    for m in net.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.running_mean.uniform_(-0.2, 0.2)
            m.running_var.uniform_(0.5, 1.5)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.1, 0.1)
    return net.eval()


@pytest.mark.parametrize(
    "make, wrap, expect",
    [
        (lambda: ExamplesNetG(), lambda sd: sd, dict(resolution=64, nz=16, widths=(64, 32, 16, 8), channels=3)),
        (lambda: CustomNamedG(), lambda sd: sd, dict(resolution=32, nz=12, widths=(64, 32, 16), channels=1)),
        (lambda: ExamplesNetG(nz=10, ngf=4), lambda sd: {"epoch": 7, "netG": sd, "optimizer": {"lr": 0.1}},
         dict(resolution=64, nz=10, widths=(32, 16, 8, 4), channels=3)),
        (lambda: CustomNamedG(nz=8, nc=3), lambda sd: {"state_dict": sd}, dict(resolution=32, nz=8, widths=(64, 32, 16), channels=3)),
    ],
    ids=["pytorch-examples", "custom-names-grey", "nested-netG", "nested-state_dict"],
)
def test_importer_reproduces_the_original_network(tmp_path, make, wrap, expect):
    torch.manual_seed(0)
    reference = randomise_norms(make())
    path = tmp_path / "netG_epoch_3.pth"
    torch.save(wrap(reference.state_dict()), path)

    loaded = load_model(path)
    config = loaded.G.config
    for key, value in expect.items():
        assert getattr(config, key) == value, key
    z = torch.randn(5, config.nz, 1, 1)
    with torch.no_grad():
        torch.testing.assert_close(loaded.G(z), reference(z), rtol=0, atol=1e-6)
    assert loaded.card.prior == "normal" and "Imported" in loaded.card.notes


def test_importer_rejects_a_discriminator_state_dict():
    torch.manual_seed(0)
    D = Discriminator(CriticConfig.from_base(resolution=32, base=8, spectral_norm=False))
    with pytest.raises(UserError, match="not a DCGAN generator"):
        import_generator_state_dict(D.state_dict(), source="d.pth")


def test_safetensors_round_trip_with_card(tmp_path):
    torch.manual_seed(0)
    G = randomise_norms(Generator(GeneratorConfig.from_base(resolution=32, nz=8, base=8)))
    D = Discriminator(CriticConfig.from_base(resolution=32, base=8))
    E = Encoder(CriticConfig.from_base(resolution=32, base=8, spectral_norm=False), nz=8, prior="uniform")
    card = card_for(name="tiny", G=G, D=D, E=E, prior="uniform", dataset="test", licence="CC0",
                    training={"steps": 3}, metrics={"fid": None})
    path = save_model(tmp_path / "tiny", card, G=G, D=D, E=E)
    assert path.suffix == ".safetensors" and path.with_suffix(".json").exists()
    card_json = json.loads(path.with_suffix(".json").read_text())
    for field in ("name", "resolution", "nz", "prior", "dataset", "licence", "training", "metrics"):
        assert field in card_json
    loaded = load_model(path)
    z = torch.rand(3, 8) * 2 - 1
    x = torch.rand(2, 3, 32, 32) * 2 - 1
    with torch.no_grad():
        torch.testing.assert_close(loaded.G(z), G(z))
        torch.testing.assert_close(loaded.E(x), E.eval()(x))
        # D comes back weight for weight (spectral-norm vectors included) and scores images the same.
        assert loaded.D is not None
        ours, theirs = D.state_dict(), loaded.D.state_dict()
        assert ours.keys() == theirs.keys()
        for key in ours:
            torch.testing.assert_close(theirs[key], ours[key], rtol=0, atol=0, msg=key)
        torch.testing.assert_close(loaded.D.eval()(x), D.eval()(x))
    # The card embedded in the file stands in when the .json is missing.
    path.with_suffix(".json").unlink()
    assert load_model(path).card.name == "tiny"


class RunsCode:
    """A pickle payload that would create a file if unpickled with full pickle."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


# torch warns that a raw pickle of today's protocol may hold what its safe loader refuses; refusing it is the point.
@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pickle_that_needs_code_is_refused_and_nothing_runs(tmp_path):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    torch.save({"netG": RunsCode(marker)}, path)
    with pytest.raises(UserError, match="refused") as info:
        load_model(path)
    assert str(path) in str(info.value)
    assert not marker.exists()
    # A raw (non-zip) pickle is refused the same way.
    raw = tmp_path / "evil_raw.pt"
    raw.write_bytes(pickle.dumps(RunsCode(marker)))
    with pytest.raises(UserError):
        load_model(raw)
    assert not marker.exists()


def test_bad_model_files_give_one_clear_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        load_model("no_such_model_name")
    with pytest.raises(UserError, match="not found"):
        load_model(tmp_path / "missing.safetensors")
    corrupt = tmp_path / "corrupt.safetensors"
    corrupt.write_bytes(b"\x00garbage" * 20)
    with pytest.raises(UserError, match="corrupt.safetensors"):
        load_model(corrupt)
    # Right format, wrong shapes for the card.
    G = Generator(GeneratorConfig.from_base(resolution=32, nz=8, base=8))
    card = card_for(name="liar", G=G, prior="uniform")
    path = save_model(tmp_path / "liar", card, G=G)
    data = json.loads(path.with_suffix(".json").read_text())
    data["nz"] = 9
    path.with_suffix(".json").write_text(json.dumps(data))
    with pytest.raises(UserError, match="do not match the model card"):
        load_model(path)
    truncated = tmp_path / "truncated.pth"
    truncated.write_bytes(b"PK\x03\x04broken zip")
    with pytest.raises(UserError, match="truncated.pth"):
        load_model(truncated)


def test_stand_in_leaves_the_global_rng_alone_and_is_the_same_for_a_seed():
    from demo.engine.checkpoint import random_stand_in

    torch.manual_seed(11)
    expected = torch.rand(4)
    torch.manual_seed(11)
    first = random_stand_in(resolution=32, nz=8, base=8, seed=5)
    assert torch.equal(torch.rand(4), expected)  # neither seeded nor drawn from
    second = random_stand_in(resolution=32, nz=8, base=8, seed=5)
    other = random_stand_in(resolution=32, nz=8, base=8, seed=6)
    z = torch.rand(3, 8, generator=torch.Generator().manual_seed(0)) * 2 - 1
    with torch.no_grad():
        assert torch.equal(first.G(z), second.G(z))
        assert not torch.equal(first.G(z), other.G(z))
        assert first.G(z).std() > 0.05  # calibrated batch norm: not a flat image


def test_start_seeds_are_validated_saved_and_handed_out_in_turn(tmp_path):
    from demo.engine.checkpoint import start_seed_for

    G = Generator(GeneratorConfig.from_base(resolution=32, nz=8, base=8))
    card = card_for(name="seeded", G=G, prior="uniform", start_seeds=(7, 3, 9))
    path = save_model(tmp_path / "seeded", card, G=G)
    loaded = load_model(path).card
    assert loaded.start_seeds == (7, 3, 9)
    assert [start_seed_for(loaded, s) for s in range(5)] == [7, 3, 9, 7, 3]
    plain = card_for(name="plain", G=G, prior="uniform")
    assert "start_seeds" not in json.loads(plain.to_json()) and start_seed_for(plain, 42) == 42
    data = json.loads(path.with_suffix(".json").read_text())
    for bad, reason in (([], "non-empty"), ([1, -2], "non-negative"), ([1.5], "integers"), ([4, 4], "twice"), ("12", "list")):
        path.with_suffix(".json").write_text(json.dumps({**data, "start_seeds": bad}))
        with pytest.raises(UserError, match=f"seeded.json: model card 'start_seeds' .*{reason}"):
            load_model(path)


def test_curated_start_seeds_rank_brighter_starts_first_and_are_written_into_the_card(tmp_path, small_model):
    from demo.engine.checkpoint.start_seeds import image_scores, rank_start_seeds, write_start_seeds

    black, white = -torch.ones(1, 3, 8, 8), torch.ones(1, 3, 8, 8)
    red = torch.stack([torch.ones(8, 8), -torch.ones(8, 8), -torch.ones(8, 8)])[None]
    brightness, colourfulness = image_scores(torch.cat([black, white, red]))
    assert brightness[0] < brightness[2] < brightness[1] and colourfulness[2] > colourfulness[1] == colourfulness[0]
    ranked = rank_start_seeds(small_model, seeds=12, candidates=3)
    assert sorted(s.seed for s in ranked) == list(range(12))
    assert [s.score for s in ranked] == sorted((s.score for s in ranked), reverse=True)
    card_path = save_model(tmp_path / "small", small_model.card, G=small_model.G).with_suffix(".json")
    before = json.loads(card_path.read_text())
    write_start_seeds(card_path, [s.seed for s in ranked[:4]])
    after = json.loads(card_path.read_text())
    assert after.pop("start_seeds") == [s.seed for s in ranked[:4]] and after == before
    assert load_model(card_path.with_suffix(".safetensors")).card.start_seeds == tuple(s.seed for s in ranked[:4])
    # The file carries the new card too, so it loads the same on its own, weights unchanged.
    alone = tmp_path / "alone" / "small.safetensors"
    alone.parent.mkdir()
    alone.write_bytes(card_path.with_suffix(".safetensors").read_bytes())
    travelled = load_model(alone)
    assert travelled.card.start_seeds == tuple(s.seed for s in ranked[:4])
    for name, value in small_model.G.state_dict().items():
        assert torch.equal(travelled.G.state_dict()[name], value)


def test_rewriting_a_card_keeps_the_files_modes(tmp_path, small_model):
    from demo.engine.checkpoint.start_seeds import write_start_seeds

    card_path = save_model(tmp_path / "shared", small_model.card, G=small_model.G).with_suffix(".json")
    card_path.chmod(0o644)
    card_path.with_suffix(".safetensors").chmod(0o640)
    write_start_seeds(card_path, [3, 1])
    # Both files were replaced (the card, and the weights carrying the embedded card), modes kept.
    assert load_model(card_path.with_suffix(".safetensors")).card.start_seeds == (3, 1)
    assert card_path.stat().st_mode & 0o777 == 0o644
    assert card_path.with_suffix(".safetensors").stat().st_mode & 0o777 == 0o640
