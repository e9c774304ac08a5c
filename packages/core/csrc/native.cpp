// mycelia._native: build information and the C++ eager hot path (fast_dispatch.cpp).
#include <nanobind/nanobind.h>

#include "fast_dispatch.h"
#include "mycelia_build_info.h"

namespace nb = nanobind;

NB_MODULE(MYCELIA_MODULE_NAME, m) {
    m.doc() = "Mycelia core native helpers";
    nb::dict info = mycelia::add_build_info(m);
    info["cplusplus"] = __cplusplus;
    m.def("build_info", [info] { return info; });
    m.def("configure_tensor_type", &mycelia::configure_tensor_type, nb::arg("tensor_type"),
          "Record the slot layout of mycelia.Tensor for the hot path.");
    m.def("unary_fast", &mycelia::unary_fast, nb::arg("cache"), nb::arg("x").none(),
          "Elementwise unary hot path; None means: take the Python path.");
    // .none(): `tensor == None` must reach Python's fallback, not fail argument conversion.
    m.def("binary_fast", &mycelia::binary_fast, nb::arg("cache"), nb::arg("x").none(), nb::arg("y").none(),
          "Elementwise binary hot path for equal shapes; None means: take the Python path.");
}
