// mycelia._native: build information now; the C++ eager dispatch path lives here later.
#include <nanobind/nanobind.h>

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
}
