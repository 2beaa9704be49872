#version 330 core
// The canvas in one pass: the generated image (or a morph frame), with the premultiplied stroke
// overlay blended over it. One pass instead of two keeps the fill cost low on a software rasteriser.
#include "common.glsl"

#if defined VERTEX_SHADER

in vec2 in_uv;
uniform vec4 u_rect;      // (x0, y_top, x1, y_bottom) in clip space
uniform vec4 u_uv_rect;   // (u0, v0, u1, v1): the part of u_image shown (a frame of the morph strip)
out vec2 v_uv;
out vec2 v_image_uv;

void main() {
    v_uv = in_uv;
    v_image_uv = mix(u_uv_rect.xy, u_uv_rect.zw, in_uv);
    gl_Position = quad_position(in_uv, u_rect);
}

#elif defined FRAGMENT_SHADER

uniform sampler2D u_image;    // RGB, model resolution, linear filtering
uniform sampler2D u_overlay;  // premultiplied RGBA at canvas resolution, numpy row order
uniform float u_overlay_opacity;
in vec2 v_uv;
in vec2 v_image_uv;
out vec4 f_color;

void main() {
    vec3 image = texture(u_image, v_image_uv).rgb;
    vec4 strokes = texture(u_overlay, v_uv) * u_overlay_opacity;
    f_color = vec4(strokes.rgb + image * (1.0 - strokes.a), 1.0);
}

#endif
