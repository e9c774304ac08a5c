// Eager hot path for elementwise ops (DESIGN §2.2), in C++ because it runs once per tiny op.
//
// Tensor is a Python class with __slots__; configure() reads the slot offsets from its member
// descriptors once, so the hot path reads and writes the slots directly. The per-op cache is a
// dict {dtype: (kernel, result_dtype, needs_conform, backend, array_type)} filled by Python; a miss,
// a tracked (autograd) tensor, a subclass, mismatched dtypes/backends or a result that
// needs conforming all return None, and the caller falls back to Python. Broadcasting is left to the
// kernel; a kernel ValueError (shapes that do not broadcast) also returns None.
#pragma once

#include <nanobind/nanobind.h>

namespace mycelia {

void configure_tensor_type(nanobind::handle tensor_type);
nanobind::object unary_fast(nanobind::handle cache, nanobind::handle x);
nanobind::object binary_fast(nanobind::handle cache, nanobind::handle x, nanobind::handle y);

}  // namespace mycelia
