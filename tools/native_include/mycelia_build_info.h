// Shared by every Mycelia nanobind extension: the build hash and compiler the binary came from.
// tools/native_build.py puts this folder on the include path and defines MYCELIA_SOURCE_HASH.
#pragma once

#include <nanobind/nanobind.h>

#ifndef MYCELIA_SOURCE_HASH
#error "MYCELIA_SOURCE_HASH is set by tools/native_build.py"
#endif

namespace mycelia {

// Adds source_hash() and returns the build_info dict for the module to extend.
inline nanobind::dict add_build_info(nanobind::module_ &module) {
    module.def("source_hash", [] { return MYCELIA_SOURCE_HASH; },
               "Hash of the C++ sources this binary was built from.");
    nanobind::dict info;
    info["source_hash"] = MYCELIA_SOURCE_HASH;
    info["compiler"] = __VERSION__;
    info["nanobind_version"] = nanobind::str("{}.{}.{}").format(NB_VERSION_MAJOR, NB_VERSION_MINOR, NB_VERSION_PATCH);
    return info;
}

}  // namespace mycelia
