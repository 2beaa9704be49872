#version 330 core
// Carry an edit onto the full-resolution photo: backward warp, locally affine color change, soft-mask blend.
// Inputs at model resolution are sampled bilinearly (clamped), i.e. upsampled smoothly to the output size,
// exactly like cv2.resize(INTER_LINEAR) in the OpenCV reference path (demo/transfer/pipeline.py).
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

in vec2 v_uv;  // (x + 0.5) / width of this output pixel: output covers the photo whatever its size
out vec4 f_color;

void main() {
    vec2 photo_size = vec2(textureSize(u_photo, 0));
    vec2 model_size = vec2(textureSize(u_motion, 0));
    // This output pixel in photo pixel coordinates (OpenCV convention).
    vec2 pixel = v_uv * photo_size - 0.5;

    // Fetch where it comes from: flow is in model pixels, scaled to photo pixels per axis.
    vec4 motion = texture(u_motion, v_uv);
    vec4 warped = vec4(sample_pixel(u_photo, pixel + motion.xy * (photo_size / model_size)).rgb, 1.0);

    // Apply the local affine color change fitted between the generated images.
    vec3 colored = vec3(dot(texture(u_color_r, v_uv), warped),
                        dot(texture(u_color_g, v_uv), warped),
                        dot(texture(u_color_b, v_uv), warped));

    // Keep the original photo where the generated images did not change.
    vec3 original = sample_pixel(u_photo, pixel).rgb;
    f_color = vec4(mix(original, clamp(colored, 0.0, 1.0), clamp(motion.z, 0.0, 1.0)), 1.0);
}

#endif
