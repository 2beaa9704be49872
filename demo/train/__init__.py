"""Training, split by what is trained: ``gan/`` (the GAN recipe and its encoder), ``upsampler/`` (the x4
display upsampler) and ``shipping/`` (a run exported as a model file with its card).

Shared here: ``loop`` (one resumable loop, one process or many under torchrun), ``common`` (data,
checkpoints, sample sheets) and ``heldout`` (the unseen scenes every figure is measured on).
"""
