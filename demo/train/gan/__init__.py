"""GAN training: the recipe (trainer), its config and parts, opening a run, the encoder trainer and the
cheap sample-quality metrics.

May import: demo.engine, demo.data, demo.train.loop, demo.train.common, demo.train.heldout, and from
demo.train.shipping the model files and provenance it resumes from.
"""
