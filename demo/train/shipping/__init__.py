"""Turning a trained run into a shipped model: export (card, sample sheet, metrics), model files, where the
weights came from (provenance), colour calibration, and the avatars card.

May import: demo.engine, demo.data, demo.train.common, demo.train.heldout, demo.train.gan.
"""
