// mycelia_backend_cpu._native: C++ kernels for what numpy does slowly (fused regions come later).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <thread>

#include "mycelia_build_info.h"

namespace nb = nanobind;

using ContiguousF32 = nb::ndarray<float, nb::c_contig, nb::device::cpu>;

// out[i] = a[i] + b[i]; the element loop the fused-kernel generator will build on.
static void add_f32(ContiguousF32 a, ContiguousF32 b, ContiguousF32 out) {
    if (a.size() != b.size() || a.size() != out.size())
        throw nb::value_error("add_f32: a, b and out must have the same number of elements");
    const float *pa = a.data(), *pb = b.data();
    float *po = out.data();
    const std::size_t n = a.size();
    for (std::size_t i = 0; i < n; ++i) po[i] = pa[i] + pb[i];
}

NB_MODULE(MYCELIA_MODULE_NAME, m) {
    m.doc() = "Mycelia CPU backend native kernels";
    nb::dict info = mycelia::add_build_info(m);
    info["hardware_threads"] = std::thread::hardware_concurrency();
    m.def("build_info", [info] { return info; });
    // noconvert: a converted copy of `out` would silently swallow the result.
    m.def("add_f32", &add_f32, nb::arg("a").noconvert(), nb::arg("b").noconvert(), nb::arg("out").noconvert(),
          "out = a + b for contiguous float32 arrays of equal size (no allocation).");
}
