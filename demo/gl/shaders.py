"""The one loader for ``shaders/NAME.glsl``.

A file holds every stage of one program, split by preprocessor blocks, moderngl-window style::

    #version 330 core
    #include "common.glsl"
    #if defined VERTEX_SHADER
    ...
    #elif defined FRAGMENT_SHADER
    ...
    #endif

The loader compiles the file once per stage with ``#define VERTEX_SHADER`` (or ``FRAGMENT_SHADER``,
``GEOMETRY_SHADER`` when the file mentions it) plus the caller's ``defines``, inlines each
``#include "other.glsl"`` once (later includes of the same file are skipped, as with ``#pragma once``),
and keeps ``#line`` markers so that compiler errors name the right file and line.
Programs are cached per context and per (name, defines): asking again returns the same object.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Mapping

import moderngl

from demo.errors import UserError
from demo.gl.context import context_cache

SHADERS_DIR = Path(__file__).resolve().parents[2] / "shaders"
STAGES = (("vertex_shader", "VERTEX_SHADER"), ("fragment_shader", "FRAGMENT_SHADER"), ("geometry_shader", "GEOMETRY_SHADER"))
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"\s*$')
# Mesa "3:12(5): error" and NVIDIA "3(12) : error": source-string number, then line.
ERROR_LOCATION = re.compile(r"\b(\d+):(\d+)\((\d+)\)|\b(\d+)\((\d+)\)")

DefineValue = int | float | str | bool


class ShaderError(UserError):
    """A shader file is missing, has a bad include, or does not compile (the message names file:line)."""


def preprocess(
    name: str,
    *,
    stage: str | None = None,
    defines: Mapping[str, DefineValue] | None = None,
    directory: Path = SHADERS_DIR,
) -> tuple[str, list[str]]:
    """Source of ``directory/name`` with includes inlined and defines inserted after ``#version``.

    ``stage`` is a define such as ``"VERTEX_SHADER"`` (None: no stage define).
    Returns (source, files): ``files[k]`` is the file that ``#line N k`` markers refer to.
    """
    files: list[str] = []
    body = _expand(directory, name, files, including_from=None)
    lines = body.split("\n")
    # The first line of the top file must be #version; defines go right after it.
    if not lines[0].lstrip().startswith("#version"):
        raise ShaderError(f"{directory / name}: the first line must be a #version directive")
    header = [lines[0]]
    all_defines = dict(defines or {})
    if stage is not None:
        all_defines[stage] = 1
    for key, value in all_defines.items():
        header.append(f"#define {key} {_define_text(value)}")
    header.append("#line 2 0")
    return "\n".join(header + lines[1:]), files


def load_program(
    ctx: moderngl.Context,
    name: str,
    *,
    defines: Mapping[str, DefineValue] | None = None,
    directory: Path = SHADERS_DIR,
) -> moderngl.Program:
    """Compile (once per context) and return the program in ``directory/name``."""
    key = (name, tuple(sorted((k, _define_text(v)) for k, v in (defines or {}).items())), str(directory))
    cache = context_cache(ctx, "programs")
    if key in cache:
        return cache[key]
    text = _read(directory / name)
    sources: dict[str, str] = {}
    files: list[str] = []
    for argument, stage in STAGES:
        if f"defined {stage}" in text or f"defined({stage})" in text:
            sources[argument], files = preprocess(name, stage=stage, defines=defines, directory=directory)
    missing = [stage for argument, stage in STAGES[:2] if argument not in sources]
    if missing:
        raise ShaderError(f"{directory / name}: has no '#if defined {missing[0]}' block")
    try:
        program = ctx.program(**sources)
    except moderngl.Error as exc:
        raise ShaderError(f"{directory / name}: does not compile:\n{_name_locations(str(exc), files)}") from None
    cache[key] = program
    return program


def _expand(directory: Path, name: str, files: list[str], *, including_from: str | None) -> str:
    """Text of one file with its includes inlined; ``files`` collects the files seen (include-once)."""
    path = directory / name
    if name in files:
        return ""
    index = len(files)
    files.append(name)
    text = _read(path, including_from=including_from)
    out = []
    for number, line in enumerate(text.split("\n"), start=1):
        match = INCLUDE.match(line)
        if match is None:
            out.append(line)
            continue
        included = _expand(directory, match.group(1), files, including_from=f"{name}:{number}")
        out += [f"#line 1 {files.index(match.group(1))}", included, f"#line {number + 1} {index}"]
    return "\n".join(out)


def _read(path: Path, *, including_from: str | None = None) -> str:
    try:
        return path.read_text()
    except OSError as exc:
        where = f" (included from {including_from})" if including_from else ""
        raise ShaderError(f"{path}: cannot read shader{where}: {exc.strerror or exc}") from None


def _define_text(value: DefineValue) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


def _name_locations(log: str, files: list[str]) -> str:
    """Rewrite ``k:line(col)`` locations in a compiler log as ``file.glsl:line``."""

    def rename(match: re.Match) -> str:
        index, line = (match.group(1), match.group(2)) if match.group(1) is not None else (match.group(4), match.group(5))
        k = int(index)
        return f"{files[k]}:{line}" if k < len(files) else match.group(0)

    return ERROR_LOCATION.sub(rename, log)
