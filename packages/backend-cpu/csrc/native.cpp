// mycelia_backend_cpu._native: C++ kernels for what numpy does slowly (fused regions come later).
#include <nanobind/nanobind.h>
#include <nanobind/ndarray.h>

#include <cstdint>
#include <thread>

namespace nb = nanobind;

#ifndef MYCELIA_SOURCE_HASH
#error "MYCELIA_SOURCE_HASH is set by tools/native_build.py"
#endif

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
    m.def("source_hash", [] { return MYCELIA_SOURCE_HASH; },
          "Hash of the C++ sources this binary was built from.");
    m.def("build_info", [] {
        nb::dict info;
        info["source_hash"] = MYCELIA_SOURCE_HASH;
        info["compiler"] = __VERSION__;
        info["hardware_threads"] = std::thread::hardware_concurrency();
        return info;
    });
    m.def("add_f32", &add_f32, nb::arg("a"), nb::arg("b"), nb::arg("out"),
          "out = a + b for contiguous float32 arrays of equal size (no allocation).");
}
