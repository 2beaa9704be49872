#version 330 core
// A textured rectangle of the UI: the current image, thumbnails, text, the stroke overlay.
// u_rect is in clip space with y0 at the TOP edge, so texture row 0 (numpy row 0) lands at the top.
#include "common.glsl"

#if defined VERTEX_SHADER

in vec2 in_uv;
uniform vec4 u_rect;     // (x0, y_top, x1, y_bottom) in clip space
uniform vec4 u_uv_rect;  // (u0, v0, u1, v1): the part of the texture shown
out vec2 v_uv;

void main() {
    v_uv = mix(u_uv_rect.xy, u_uv_rect.zw, in_uv);
    gl_Position = quad_position(in_uv, u_rect);
}

#elif defined FRAGMENT_SHADER

uniform sampler2D u_image;
uniform vec4 u_tint;  // multiplies the texel; alpha is the opacity
in vec2 v_uv;
out vec4 f_color;

void main() {
    f_color = texture(u_image, v_uv) * u_tint;
}

#endif
