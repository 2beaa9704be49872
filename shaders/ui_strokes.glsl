#version 330 core
// Strokes as instanced capsules into the overlay layer (premultiplied RGBA, numpy row order).
// Each instance is one segment a -> b with radii ra, rb in layer pixels; a == b is a round dot.
// Mirrors demo/tools/brushes.py (round caps at each point, a thick segment to the previous point).

#if defined VERTEX_SHADER

in vec2 in_uv;            // unit quad corner
in vec3 in_a;             // (x, y, radius) of the segment start, layer pixels, origin top-left
in vec3 in_b;             // ... of the end
in vec4 in_color;         // straight RGBA
uniform vec2 u_size;      // layer size in pixels
out vec2 v_pixel;
flat out vec3 v_a;
flat out vec3 v_b;
flat out vec4 v_color;

void main() {
    float pad = max(in_a.z, in_b.z) + 1.0;
    vec2 lo = min(in_a.xy, in_b.xy) - pad;
    vec2 hi = max(in_a.xy, in_b.xy) + pad;
    v_pixel = mix(lo, hi, in_uv);
    v_a = in_a;
    v_b = in_b;
    v_color = in_color;
    // Pixel row y goes to framebuffer row y, so the layer reads back (and samples) in numpy order.
    gl_Position = vec4(v_pixel / u_size * 2.0 - 1.0, 0.0, 1.0);
}

#elif defined FRAGMENT_SHADER

in vec2 v_pixel;
flat in vec3 v_a;
flat in vec3 v_b;
flat in vec4 v_color;
out vec4 f_color;

void main() {
    vec2 ab = v_b.xy - v_a.xy;
    float t = clamp(dot(v_pixel - v_a.xy, ab) / max(dot(ab, ab), 1e-6), 0.0, 1.0);
    float radius = mix(v_a.z, v_b.z, t);
    float cover = clamp(radius - distance(v_pixel, v_a.xy + t * ab) + 0.5, 0.0, 1.0);
    float alpha = v_color.a * cover;
    f_color = vec4(v_color.rgb * alpha, alpha);
}

#endif
