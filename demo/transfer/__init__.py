"""Edit transfer: carry the change G(z0) -> G(z_t) onto the full-resolution photo (numpy/OpenCV/moderngl only).

A 64x64 generator cannot show a visitor their own photo in high quality, so (as the iGAN paper
describes) the *edit* moves, not the pixels:

- ``flow``: dense backward flow G(z_t) -> G(z0) at model resolution (DIS, tuned for 64x64);
- ``color_model``: a smooth locally affine color change that turns the warped G(z0) into G(z_t);
- ``mask``: a soft mask of where the generated image changed at all;
- ``pipeline``: per-frame estimation, and two renderers that carry it onto the photo at full
  resolution: ``GLTransfer`` (shaders/warp_blend.glsl) and ``OpenCVTransfer`` (the reference).

Nothing here sees a tensor: the engine hands over uint8/float arrays.
"""
