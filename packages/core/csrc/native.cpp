// mycelia._native: build information and the C++ eager hot path (fast_dispatch.cpp).
#include <nanobind/nanobind.h>

#include "fast_dispatch.h"

namespace nb = nanobind;

#ifndef MYCELIA_SOURCE_HASH
#error "MYCELIA_SOURCE_HASH is set by tools/native_build.py"
#endif

NB_MODULE(MYCELIA_MODULE_NAME, m) {
    m.doc() = "Mycelia core native helpers";
    m.def("source_hash", [] { return MYCELIA_SOURCE_HASH; },
          "Hash of the C++ sources this binary was built from.");
    m.def("build_info", [] {
        nb::dict info;
        info["source_hash"] = MYCELIA_SOURCE_HASH;
        info["compiler"] = __VERSION__;
        info["nanobind_version"] = nb::str("{}.{}.{}").format(NB_VERSION_MAJOR, NB_VERSION_MINOR, NB_VERSION_PATCH);
        info["cplusplus"] = __cplusplus;
        return info;
    });
    m.def("configure_tensor_type", &mycelia::configure_tensor_type, nb::arg("tensor_type"),
          "Record the slot layout of mycelia.Tensor for the hot path.");
    m.def("unary_fast", &mycelia::unary_fast, nb::arg("cache"), nb::arg("x"),
          "Elementwise unary hot path; None means: take the Python path.");
    m.def("binary_fast", &mycelia::binary_fast, nb::arg("cache"), nb::arg("x"), nb::arg("y"),
          "Elementwise binary hot path for equal shapes; None means: take the Python path.");
}
