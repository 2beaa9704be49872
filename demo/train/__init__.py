"""Training: the resumable GAN trainer, the encoder trainer, metrics and model export."""
