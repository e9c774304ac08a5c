"""Builds the compiled part; everything else about the package lives in pyproject.toml.

setuptools cannot declare C++ extensions in pyproject.toml, so this file exists only for them.
"""

from __future__ import annotations

from pybind11.setup_helpers import Pybind11Extension
from setuptools import setup

setup(
    ext_modules=[
        Pybind11Extension(
            "mycelia_example_backend._kernels",
            ["src/kernels.cpp"],
            # Fixed rather than auto-detected, so every compiler builds the same language level.
            cxx_std=17,
            # Appended after Python's own CFLAGS, so this wins over whatever level they carry.
            extra_compile_args=["-O2"],
        ),
    ],
)
