"""Per-frame edit transfer, by job (this module re-exports them under their old names):

- ``estimation``: G(z0), G(z_t) -> ``EditTransfer`` (flow, color model, mask) at model resolution;
- ``gl_renderer``: ``GLTransfer``, the shader path (shaders/warp_blend.glsl), GL objects reused per frame;
- ``opencv_renderer``: ``OpenCVTransfer``, the reference path (cv2.remap + cv2 arithmetic);
- ``photo_region``: the photo region the model saw (``centre_square``) and the size guard (``fit_photo``).
"""

from demo.transfer.estimation import EditTransfer, TransferConfig, TransferEstimator
from demo.transfer.gl_renderer import SAMPLERS, GLTransfer
from demo.transfer.opencv_renderer import OpenCVTransfer
from demo.transfer.photo_region import DEFAULT_FADE, Rect, centre_square, check_photo, fit_photo

__all__ = ["DEFAULT_FADE", "SAMPLERS", "EditTransfer", "GLTransfer", "OpenCVTransfer", "Rect", "TransferConfig",
           "TransferEstimator", "centre_square", "check_photo", "fit_photo"]
