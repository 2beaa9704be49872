#version 330 core
// Carry an edit onto the full-resolution photo: backward warp, locally affine color change, soft-mask blend.
// The mask is at least the colour strokes' region, a local linear model of the photo's own colour (u_region,
// the guided filter's coefficients at the region's working size, over the whole photo) applied to each photo
// pixel: beyond the model's region it is not faded, and the colour fields there are those at its edge.
// Inputs at model resolution are sampled bilinearly (clamped), i.e. upsampled smoothly over the photo region
// the model saw (u_model_rect), exactly like the OpenCV reference path (demo/transfer/pipeline.py). Beyond
// that region the edit at its edge fades out over u_fade model pixels, so a centre crop leaves no seam.
#include "common.glsl"

#if defined VERTEX_SHADER

in vec2 in_uv;
out vec2 v_uv;

void main() {
    v_uv = in_uv;
    gl_Position = quad_position(in_uv, vec4(-1.0, -1.0, 1.0, 1.0));
}

#elif defined FRAGMENT_SHADER

uniform sampler2D u_photo;    // source photo, RGB, any size (linear filter, clamp to edge)
uniform sampler2D u_motion;   // model resolution: xy = backward flow in model pixels, z = blend mask in [0, 1]
uniform sampler2D u_color_r;  // model resolution: affine row of red:   (a_r, a_g, a_b, offset)
uniform sampler2D u_color_g;  // ... of green
uniform sampler2D u_color_b;  // ... of blue
uniform vec4 u_model_rect;    // the photo region the model saw: (x0, y0, width, height) in photo pixels
uniform float u_fade;         // model pixels over which the edit fades out beyond that region (0: hard edge)
uniform sampler2D u_region;   // over the whole photo: (a_r, a_g, a_b, b), region = a . rgb + b
uniform float u_region_gain;  // 0: no region (or nothing changed yet), 1: the region at full strength

in vec2 v_uv;  // (x + 0.5) / width of this output pixel: output covers the photo whatever its size
out vec4 f_color;

void main() {
    vec2 photo_size = vec2(textureSize(u_photo, 0));
    vec2 model_size = vec2(textureSize(u_motion, 0));
    // This output pixel in photo pixel coordinates (OpenCV convention), and where it falls on the model.
    vec2 pixel = v_uv * photo_size - 0.5;
    vec2 model_uv = (pixel + 0.5 - u_model_rect.xy) / u_model_rect.zw;
    vec2 outside = max(max(-model_uv, model_uv - 1.0), 0.0) * model_size;
    float fade = 1.0 - smoothstep(0.0, max(u_fade, 1e-6), max(outside.x, outside.y));

    // Fetch where it comes from: flow is in model pixels, scaled to photo pixels per axis.
    vec4 motion = texture(u_motion, model_uv);
    vec2 source = pixel + motion.xy * (u_model_rect.zw / model_size);
    vec4 warped = vec4(sample_pixel(u_photo, source).rgb, 1.0);

    // Apply the local affine color change fitted between the generated images.
    vec3 colored = vec3(dot(texture(u_color_r, model_uv), warped),
                        dot(texture(u_color_g, model_uv), warped),
                        dot(texture(u_color_b, model_uv), warped));

    // Keep the original photo where the generated images did not change.
    vec3 original = sample_pixel(u_photo, pixel).rgb;
    float region = clamp(dot(texture(u_region, v_uv), vec4(original, 1.0)), 0.0, 1.0) * u_region_gain;
    float mask = max(clamp(motion.z, 0.0, 1.0) * fade, region);
    f_color = vec4(mix(original, clamp(colored, 0.0, 1.0), mask), 1.0);
}

#endif
