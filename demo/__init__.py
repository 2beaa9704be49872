"""iGAN Live: real-time image editing on a learned GAN manifold.

Layers (each importable and testable alone):
- ``demo.engine``: torch only; models, checkpoints, the constrained latent solver, the worker.
- ``demo.tools``: sessions, brushes and edit state; numpy/OpenCV only, no torch, no GL.
- ``demo.app``: pygame + ModernGL window; never touches tensors.
"""

__version__ = "0.1.0"
