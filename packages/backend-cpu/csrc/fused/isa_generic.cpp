// The portable block executor (baseline x86-64 / any architecture): std:: math, no libmvec.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <type_traits>

#include "fused.h"

namespace fused {
namespace generic {
#include "kernels.h"
}  // namespace generic
}  // namespace fused
