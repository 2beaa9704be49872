"""Where a run's weights came from, carried from model file to run to model file, so that a card written at
export tells a model's whole history, not only its last leg.

A run continued from a shipped file (a new machine has only ``models/``) starts with that file's card: its
``training.continued_from`` chain, its dataset line and how many steps its encoder had been trained beside
G. The export appends this run's leg to each (demo/train/shipping/export.py).
"""

from __future__ import annotations

import dataclasses
from typing import Any

RANDOM_INIT = "random init (DCGAN)"


@dataclasses.dataclass(frozen=True)
class Provenance:
    origin: str = RANDOM_INIT  # what this run started from
    lineage: str = ""  # the continued_from chain of the model file it started from ("" if none)
    earlier_dataset: str = ""  # that file's dataset line
    encoder_steps_before: int = 0  # steps that file's E had been trained beside G, when this run goes on training it

    @classmethod
    def from_card(cls, *, shown: str, step: int, card_training: dict[str, Any], card_dataset: str, raw_g: bool,
                  encoder: str, changes: str = "") -> Provenance:
        """A run that continues from a model file (``shown``, at ``step``). ``encoder``: "" (this run trains
        none), "its E" (it goes on training the file's) or "a new E". ``changes``: the recipe settings this leg
        changed (gan_config.recipe_changes), "" if none."""
        earlier_encoder = card_training.get("encoder", {})
        beside_g = encoder == "its E" and str(earlier_encoder.get("trained", "")).startswith("beside G")
        parts = [f"{'raw' if raw_g else 'EMA'} G as the raw G", encoder, "fresh Adam",
                 f"recipe changed: {changes}" if changes else ""]
        origin = f"{shown} at step {step} ({'; '.join(part for part in parts if part)})"
        return cls(origin=origin, lineage=str(card_training.get("continued_from", "")), earlier_dataset=card_dataset,
                   encoder_steps_before=int(earlier_encoder.get("steps", 0)) if beside_g else 0)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Provenance:
        """Read back from a checkpoint (one saved before a field existed gets its default)."""
        return cls(**{field.name: state[field.name] for field in dataclasses.fields(cls) if field.name in state})

    def state_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def continued_from(self, *, step: int) -> str:
        """The card's ``training.continued_from`` for an export at ``step``: the earlier chain, then this leg."""
        if not self.lineage:
            return self.origin
        return f"{self.lineage} -> {self.origin}, trained to step {step}"

    def encoder_since(self, adam_start: int) -> int:
        """The step from which the run's E has been trained beside G, over every leg."""
        return adam_start - self.encoder_steps_before
