// Shared helpers, pulled in by an include directive naming this file (no #version here; the loader inlines it once).

// Clip-space position of a unit-quad corner (uv in [0, 1]^2) placed over rect = (x0, y0, x1, y1) in [-1, 1].
// rect (-1, -1, 1, 1) covers the whole viewport.
vec4 quad_position(vec2 uv, vec4 rect) {
    return vec4(mix(rect.xy, rect.zw, uv), 0.0, 1.0);
}

// Bilinear sample at a pixel position in OpenCV's convention (pixel centres at integer coordinates,
// GL's at +0.5), with the border replicated when the sampler clamps to edge: cv2.remap(INTER_LINEAR,
// BORDER_REPLICATE) of an 8-bit image agrees within 1/255 on llvmpipe (tests/test_gl.py).
vec4 sample_pixel(sampler2D image, vec2 position) {
    return texture(image, (position + 0.5) / vec2(textureSize(image, 0)));
}
