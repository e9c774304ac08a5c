// The AVX2 + FMA + F16C block executor, chosen at run time (__builtin_cpu_supports). Everything
// from the standard library is included before the target pragma so that no inline library code
// is compiled for AVX2 (the linker could otherwise pick that copy for the portable path too).
#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "fused.h"

#pragma GCC push_options
#pragma GCC target("avx2,fma,f16c")
#define FUSED_AVX2 1

namespace fused {
namespace avx2 {
#include "kernels.h"
}  // namespace avx2
}  // namespace fused

#undef FUSED_AVX2
#pragma GCC pop_options
#endif
