"""demo/gl on a real headless EGL context (Mesa llvmpipe here): loader, textures, targets, the warp shader.

Every test checks ``ctx.error == "GL_NO_ERROR"`` before and after, and reads pixels back.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import cv2
import moderngl
import numpy as np
import pytest

from demo.errors import UserError
from demo.gl import RenderTarget, Texture, load_program, preprocess, quad_vao
from demo.gl.shaders import ShaderError
from demo.transfer.pipeline import EditTransfer, GLTransfer
from demo.transfer.synthetic import smooth_flow


def write_shaders(folder, files: dict[str, str]):
    for name, text in files.items():
        (folder / name).write_text(text)
    return folder


CONSTANT_SHADER = """#version 330 core
#include "lib.glsl"
#include "lib.glsl"
#if defined VERTEX_SHADER
in vec2 in_uv;
void main() { gl_Position = quad_position(in_uv, vec4(-1.0, -1.0, 1.0, 1.0)); }
#elif defined FRAGMENT_SHADER
out vec4 f_color;
void main() { f_color = vec4(level(), 0.0, 1.0 - level(), 1.0); }
#endif
"""
LIB = """// Included twice on purpose: the second include must be skipped.
vec4 quad_position(vec2 uv, vec4 rect) { return vec4(mix(rect.xy, rect.zw, uv), 0.0, 1.0); }
float level() { return LEVEL; }
"""


def draw_and_read(ctx, program, size=(3, 2)) -> np.ndarray:
    target = RenderTarget(ctx)
    target.ensure(size)
    target.use()
    quad_vao(ctx, program).render(moderngl.TRIANGLE_STRIP)
    pixels = target.read(components=4)
    target.release()
    return pixels


def test_headless_context_is_core_330_with_large_textures(ctx):
    assert ctx.version_code >= 330
    assert int(ctx.info["GL_MAX_TEXTURE_SIZE"]) >= 4096


def test_loader_inlines_includes_once_and_applies_defines(ctx, tmp_path):
    folder = write_shaders(tmp_path, {"constant.glsl": CONSTANT_SHADER, "lib.glsl": LIB})
    quarter = load_program(ctx, "constant.glsl", defines={"LEVEL": 0.25}, directory=folder)
    three_quarters = load_program(ctx, "constant.glsl", defines={"LEVEL": 0.75}, directory=folder)
    assert load_program(ctx, "constant.glsl", defines={"LEVEL": 0.25}, directory=folder) is quarter  # cached
    assert three_quarters is not quarter
    for program, level in ((quarter, 0.25), (three_quarters, 0.75)):
        pixels = draw_and_read(ctx, program)
        assert pixels.shape == (2, 3, 4)
        expected = np.array([round(level * 255), 0, round((1 - level) * 255), 255])
        assert np.abs(pixels.astype(int) - expected).max() <= 1


def test_preprocess_puts_defines_after_version_and_marks_lines(tmp_path):
    folder = write_shaders(tmp_path, {"constant.glsl": CONSTANT_SHADER, "lib.glsl": LIB})
    source, files = preprocess("constant.glsl", stage="FRAGMENT_SHADER", defines={"LEVEL": 1, "FLAG": True}, directory=folder)
    lines = source.split("\n")
    assert lines[0] == "#version 330 core"
    assert lines[1:4] == ["#define LEVEL 1", "#define FLAG 1", "#define FRAGMENT_SHADER 1"]
    assert files == ["constant.glsl", "lib.glsl"]
    assert source.count("float level()") == 1
    assert "#line 1 1" in lines and "#line 3 0" in lines  # into lib.glsl, and back to line 3 of the top file


def test_compile_error_names_the_included_file_and_line(ctx, tmp_path):
    broken_lib = "float level() {\n    return 0.5\n}\n"  # missing semicolon on line 2
    shader = CONSTANT_SHADER.replace("vec4 quad_position", "").replace('#include "lib.glsl"\n#include "lib.glsl"',
                                                                       '#include "broken.glsl"')
    shader = shader.replace("gl_Position = quad_position(in_uv, vec4(-1.0, -1.0, 1.0, 1.0));",
                            "gl_Position = vec4(in_uv, 0.0, 1.0);")
    folder = write_shaders(tmp_path, {"bad.glsl": shader, "broken.glsl": broken_lib})
    with pytest.raises(ShaderError, match=r"bad\.glsl: does not compile") as caught:
        load_program(ctx, "bad.glsl", directory=folder)
    assert "broken.glsl:3" in str(caught.value) or "broken.glsl:2" in str(caught.value)
    assert isinstance(caught.value, UserError)


def test_missing_include_and_missing_stage_are_user_errors(ctx, tmp_path):
    folder = write_shaders(tmp_path, {
        "orphan.glsl": '#version 330 core\n#include "nowhere.glsl"\n#if defined VERTEX_SHADER\n#endif\n',
        "vertex_only.glsl": "#version 330 core\n#if defined VERTEX_SHADER\nvoid main() {}\n#endif\n",
    })
    with pytest.raises(ShaderError, match=r"nowhere\.glsl: cannot read shader \(included from orphan\.glsl:2\)"):
        load_program(ctx, "orphan.glsl", directory=folder)
    with pytest.raises(ShaderError, match="FRAGMENT_SHADER"):
        load_program(ctx, "vertex_only.glsl", directory=folder)
    with pytest.raises(ShaderError, match="absent.glsl"):
        load_program(ctx, "absent.glsl", directory=folder)


def test_texture_writes_compatible_data_in_place(ctx):
    rng = np.random.default_rng(0)
    first = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)  # odd width: needs alignment 1
    texture = Texture.from_array(ctx, first)
    gl_object, glo = texture.gl, texture.gl.glo
    second = rng.integers(0, 256, (5, 7, 3), dtype=np.uint8)
    assert texture.is_compatible(second)
    assert texture.update(second) is False
    assert texture.gl is gl_object and texture.gl.glo == glo and texture.reallocations == 1
    read = np.frombuffer(texture.gl.read(alignment=1), np.uint8).reshape(5, 7, 3)
    assert np.array_equal(read, second)
    # Size, components or dtype changes reallocate.
    for other in (np.zeros((6, 7, 3), np.uint8), np.zeros((5, 7, 4), np.uint8), np.zeros((5, 7, 3), np.float32)):
        assert not texture.is_compatible(other)
        assert texture.update(other) is True
    assert texture.reallocations == 4
    floats = np.linspace(-3, 3, 5 * 7 * 3, dtype=np.float32).reshape(5, 7, 3)
    texture.update(floats)
    assert np.array_equal(np.frombuffer(texture.gl.read(), np.float32).reshape(5, 7, 3), floats)
    texture.release()


def test_render_target_reuses_objects_and_reads_rows_in_numpy_order(ctx, tmp_path):
    folder = write_shaders(tmp_path, {"rows.glsl": """#version 330 core
#if defined VERTEX_SHADER
in vec2 in_uv;
void main() { gl_Position = vec4(in_uv * 2.0 - 1.0, 0.0, 1.0); }
#elif defined FRAGMENT_SHADER
out vec4 f_color;
void main() { f_color = vec4(floor(gl_FragCoord.y) / 255.0, floor(gl_FragCoord.x) / 255.0, 0.0, 1.0); }
#endif
"""})
    program = load_program(ctx, "rows.glsl", directory=folder)
    target = RenderTarget(ctx)
    assert target.ensure((4, 3)) is True
    fbo = target.fbo
    assert target.ensure((4, 3)) is False and target.fbo is fbo
    target.use()
    quad_vao(ctx, program).render(moderngl.TRIANGLE_STRIP)
    out = np.zeros((3, 4, 3), np.uint8)
    assert target.read(out=out) is out
    # Row r of the array is GL row r (gl_FragCoord.y = r + 0.5): no flip off-screen.
    assert np.array_equal(out[:, :, 0], np.repeat(np.arange(3)[:, None], 4, axis=1))
    assert np.array_equal(out[:, :, 1], np.repeat(np.arange(4)[None, :], 3, axis=0))
    assert target.ensure((5, 3)) is True and target.read().shape == (3, 5, 3)
    target.release()


def identity_with_flow(flow: np.ndarray) -> EditTransfer:
    h, w = flow.shape[:2]
    plain = EditTransfer.identity(h, w)
    return EditTransfer(flow=flow, color=plain.color, mask=np.ones((h, w), np.float32))


@pytest.mark.parametrize("photo_size, model_size", [((32, 32), (8, 8)), ((61, 97), (16, 16)), ((256, 200), (64, 64))])
def test_warp_shader_matches_cv2_remap(ctx, photo_size, model_size):
    rng = np.random.default_rng(sum(photo_size))
    (height, width), (h, w) = photo_size, model_size
    photo = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)  # white noise: the hardest case
    flow = smooth_flow(rng, h, w, amplitude=0.15 * w, sigma=w / 6)  # model pixels, large moves off the border
    # Reference: upsample the flow to photo pixels (centres at +0.5) and remap with a replicated border.
    up = cv2.resize(flow, (width, height), interpolation=cv2.INTER_LINEAR) * np.float32([width / w, height / h])
    grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    expected = cv2.remap(photo, grid_x + up[..., 0], grid_y + up[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    renderer = GLTransfer(ctx)
    renderer.set_photo(photo)
    out = renderer.render(identity_with_flow(flow))
    assert out.shape == photo.shape
    assert np.abs(out.astype(int) - expected.astype(int)).max() <= 2
    assert not np.array_equal(out, photo)  # it did move


WINDOW_SCRIPT = textwrap.dedent("""
    import numpy as np, pygame
    from demo.errors import UserError
    from demo.gl import wrap_current_context
    from demo.transfer.pipeline import EditTransfer, GLTransfer
    try:
        wrap_current_context()
        raise SystemExit("wrapping without a current context did not raise")
    except UserError as exc:
        assert "no usable OpenGL" in str(exc), exc
    pygame.display.init()
    for key, value in ((pygame.GL_CONTEXT_MAJOR_VERSION, 3), (pygame.GL_CONTEXT_MINOR_VERSION, 3),
                       (pygame.GL_CONTEXT_PROFILE_MASK, pygame.GL_CONTEXT_PROFILE_CORE)):
        pygame.display.gl_set_attribute(key, value)
    pygame.display.set_mode((64, 48), pygame.OPENGL | pygame.DOUBLEBUF)
    ctx = wrap_current_context()
    assert ctx.error == "GL_NO_ERROR"
    photo = np.random.default_rng(0).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    renderer = GLTransfer(ctx)
    renderer.set_photo(photo)
    assert np.array_equal(renderer.render(EditTransfer.identity(8, 8)), photo)
    assert ctx.error == "GL_NO_ERROR"
    pygame.display.quit()
    print("window ok")
""")


def test_wraps_a_pygame_window_context_and_renders_offscreen_in_it():
    """In a fresh process: no headless context may be alive when a window's context is wrapped."""
    env = {**os.environ, "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy", "PYGAME_HIDE_SUPPORT_PROMPT": "1"}
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [root, env.get("PYTHONPATH")]))
    done = subprocess.run([sys.executable, "-c", WINDOW_SCRIPT], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "window ok" in done.stdout
