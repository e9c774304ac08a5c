"""Elementwise math declarations (references are numpy; the oracle of the conformance suite)."""

from __future__ import annotations

import numpy as np

from mycelia.ops._define import ALL, NUMERIC, SIGNED, binary_op, unary_op

__all__ = ["abs", "add", "cos", "exp", "mul", "neg", "sin", "sub", "tanh"]

add = binary_op("add", np.add, doc="``input + other`` with broadcasting.")
sub = binary_op("sub", np.subtract, doc="``input - other`` with broadcasting.")
mul = binary_op("mul", np.multiply, dtypes=ALL, doc="``input * other`` with broadcasting.")
neg = unary_op("neg", np.negative, dtypes=SIGNED, doc="``-input``.")
abs = unary_op("abs", np.abs, dtypes=NUMERIC, doc="Absolute value.")
exp = unary_op("exp", np.exp, dtypes=NUMERIC, result="float")
sin = unary_op("sin", np.sin, dtypes=NUMERIC, result="float")
cos = unary_op("cos", np.cos, dtypes=NUMERIC, result="float")
tanh = unary_op("tanh", np.tanh, dtypes=NUMERIC, result="float")
