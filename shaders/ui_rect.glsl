#version 330 core
// A solid UI rectangle with rounded corners and an optional border, anti-aliased in pixel space.
// A square with radius = half its side is a disc or, with a transparent fill, a ring (the brush cursor).
#include "common.glsl"

#if defined VERTEX_SHADER

in vec2 in_uv;
uniform vec4 u_rect;  // (x0, y_top, x1, y_bottom) in clip space
out vec2 v_uv;

void main() {
    v_uv = in_uv;
    gl_Position = quad_position(in_uv, u_rect);
}

#elif defined FRAGMENT_SHADER

uniform vec2 u_size;       // rectangle size in pixels
uniform float u_radius;    // corner radius in pixels
uniform float u_border;    // border width in pixels (0: none)
uniform vec4 u_fill;       // straight (not premultiplied) RGBA
uniform vec4 u_border_color;
in vec2 v_uv;
out vec4 f_color;

// Signed distance to a rounded box of half-size b and corner radius r (negative inside).
float rounded_box(vec2 p, vec2 b, float r) {
    vec2 q = abs(p) - b + r;
    return length(max(q, 0.0)) + min(max(q.x, q.y), 0.0) - r;
}

void main() {
    vec2 p = (v_uv - 0.5) * u_size;
    float d = rounded_box(p, 0.5 * u_size, min(u_radius, 0.5 * min(u_size.x, u_size.y)));
    float inside = clamp(0.5 - d, 0.0, 1.0);
    float in_fill = clamp(0.5 - (d + u_border), 0.0, 1.0);
    vec4 color = mix(u_border_color, u_fill, u_border > 0.0 ? in_fill : 1.0);
    f_color = vec4(color.rgb, color.a * inside);
}

#endif
