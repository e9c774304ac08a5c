// Fused elementwise (+ trailing reduction) kernels: shared declarations.
//
// A Plan is a compiled register program (built once per FusedKernel); a Call is one execution
// of it over concrete arrays. The iteration space is walked in blocks of `block` elements; every
// register that is materialised owns a per-thread scratch "slot" of one block, so one pass over
// memory computes the whole chain. The block executor lives in kernels.h, compiled twice: a
// portable build (isa_generic.cpp) and an AVX2+FMA+F16C build (isa_avx2.cpp) that also calls
// glibc's libmvec vector math, picked at run time.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace fused {

// Storage dtypes (codes shared with _fused.py).
enum DType : int { F16, BF16, F32, F64, BOOL, I8, U8, I16, U16, I32, U32, I64, U64, NUM_DTYPES };

inline std::size_t dtype_size(int dt) {
    static const std::size_t sizes[NUM_DTYPES] = {2, 2, 4, 8, 1, 1, 1, 2, 2, 4, 4, 8, 8};
    return sizes[dt];
}

// Op codes. X-macro: name, arity. The Python wrapper reads the table through ops().
#define FUSED_OPS(X)                                                                                \
    X(const, 0) X(add, 2) X(sub, 2) X(mul, 2) X(div, 2) X(neg, 1) X(abs, 1) X(exp, 1) X(log, 1)     \
    X(sin, 1) X(cos, 1) X(tan, 1) X(tanh, 1) X(sigmoid, 1) X(relu, 1) X(sqrt, 1) X(rsqrt, 1)        \
    X(square, 1) X(reciprocal, 1) X(maximum, 2) X(minimum, 2) X(pow, 2) X(floor, 1) X(ceil, 1)       \
    X(trunc, 1) X(sign, 1) X(erf, 1) X(erfc, 1) X(log1p, 1) X(expm1, 1) X(log2, 1)                   \
    X(sinh, 1) X(cosh, 1) X(asin, 1) X(acos, 1) X(atan, 1) X(asinh, 1) X(acosh, 1)                   \
    X(atanh, 1) X(atan2, 2) X(softplus, 1) X(silu, 1) X(gelu, 1) X(elu, 1) X(leaky_relu, 1)          \
    X(relu6, 1) X(hardsigmoid, 1) X(hardswish, 1) X(softsign, 1) X(logsigmoid, 1) X(mish, 1)         \
    X(selu, 1) X(greater, 2) X(less, 2) X(greater_equal, 2) X(less_equal, 2) X(equal, 2)             \
    X(not_equal, 2) X(where, 3) X(logical_not, 1) X(logical_and, 2) X(logical_or, 2)                 \
    X(logical_xor, 2) X(isnan, 1) X(isinf, 1) X(isfinite, 1) X(cast, 1)

enum Op : int {
#define FUSED_ENUM(name, arity) OP_##name,
    FUSED_OPS(FUSED_ENUM)
#undef FUSED_ENUM
    NUM_OPS
};

// Vector math functions (libmvec names without the prefix/suffix).
#define FUSED_MATH(X)                                                                               \
    X(exp) X(log) X(sin) X(cos) X(tan) X(tanh) X(sinh) X(cosh) X(asin) X(acos) X(atan) X(asinh)      \
    X(acosh) X(atanh) X(erf) X(erfc) X(log1p) X(expm1) X(log2)

enum MathFn : int {
#define FUSED_ENUM(name) MF_##name,
    FUSED_MATH(FUSED_ENUM)
#undef FUSED_ENUM
    NUM_MATH
};

// libmvec entry points (nullptr where unavailable); filled by load_libmvec().
struct MvecTable {
    void *f32[NUM_MATH] = {};  // __m256 (*)(__m256)
    void *f64[NUM_MATH] = {};  // __m256d (*)(__m256d)
    void *powf = nullptr, *pow = nullptr, *atan2f = nullptr, *atan2 = nullptr;  // two arguments
};
extern MvecTable g_mvec;

enum Reduce : int { RED_NONE = -1, RED_SUM, RED_MEAN, RED_MAX, RED_MIN };

struct Instr {
    int op;
    int nargs;
    int src[3];   // operand registers
    int dst;      // result register
    double p[2];  // attributes (alpha, beta/threshold, const value, cast dtype, gelu mode)
};

struct Plan {
    int n_inputs = 0, n_regs = 0;
    bool f64 = false;
    std::vector<Instr> code;       // live instructions only, in order (consts excluded)
    std::vector<int> slot;         // per register: its scratch slot, -1 when never materialised
    std::vector<int> const_regs;   // registers holding a constant (their slots are filled once)
    std::vector<double> const_values;
    std::vector<int> used_inputs;  // input registers the program reads
    int n_slots = 0;
    std::vector<int> outputs;      // output registers
    int reduce = RED_NONE, reduce_k = 0;
};

// How one input is read in a call.
enum InputMode : int { IN_UNUSED, IN_DIRECT, IN_SCALAR, IN_GATHER };

struct InputView {
    const char *ptr = nullptr;
    int dtype = F32;
    int mode = IN_UNUSED;
    std::vector<std::int64_t> strides;  // bytes, per coalesced dim (0 where broadcast)
};

struct OutputView {
    char *ptr;
    int dtype;
    int reg;
};

// The reduction pieces a chunk could not finish (rows shared with neighbouring chunks).
struct Partial {
    std::int64_t row[2] = {-1, -1};
    double acc[2] = {0, 0};
};

struct Call {
    const Plan *plan = nullptr;
    std::int64_t n = 0;                 // iteration elements
    std::vector<std::int64_t> shape;    // coalesced iteration shape (no size-1 dims)
    std::vector<InputView> in;
    std::vector<OutputView> out;        // elementwise outputs
    bool has_reduce = false;
    OutputView red{nullptr, F32, -1};   // the reduced output
    std::int64_t row_len = 1, n_rows = 0;
    std::int64_t block = 2048;          // elements per block
    std::int64_t chunk = 2048;          // elements per work item (a multiple of block)
    mutable std::vector<Partial> partials;  // per chunk (each written by the thread running it)
};

// Scratch buffers per thread beyond the register slots: temporaries of composite ops.
constexpr int kTempSlots = 2;

// One ISA's executor. `scratch` is the thread's: plan->n_slots + kTempSlots buffers of `block`
// elements, then one pointer per register.
struct Isa {
    void (*prepare)(const Call &, void *scratch);                             // fill consts/scalars
    void (*run)(const Call &, void *scratch, std::int64_t chunk_index);       // one work item
    void (*store_value)(char *dst, int dtype, double value);                  // one reduced value
};

namespace generic { extern const Isa isa; }
#if defined(__x86_64__) || defined(_M_X64)
namespace avx2 { extern const Isa isa; }
#endif

// ---- scalar float16 / bfloat16 conversions (round to nearest even) ---------------------------
inline std::uint32_t f32_bits(float f) { std::uint32_t u; std::memcpy(&u, &f, 4); return u; }
inline float bits_f32(std::uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; }

inline float half_to_float(std::uint16_t h) {
    const std::uint32_t sign = std::uint32_t(h & 0x8000u) << 16;
    const std::uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu;
    if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (mant << 13));         // inf / nan
    if (exp != 0) return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));  // normal
    // zero / subnormal: mant * 2^-24, exact in float
    const float v = float(mant) * 5.9604644775390625e-8f;
    return sign ? -v : v;
}

// double -> half with one rounding (numpy's npy_double_to_half semantics).
inline std::uint16_t double_to_half(double d) {
    std::uint64_t u;
    std::memcpy(&u, &d, 8);
    const std::uint16_t sign = std::uint16_t((u >> 48) & 0x8000u);
    const std::uint64_t absu = u & 0x7fffffffffffffffull;
    if (absu >= 0x7ff0000000000000ull) {  // inf / nan
        if (absu == 0x7ff0000000000000ull) return sign | 0x7c00u;
        return std::uint16_t(sign | 0x7e00u | ((absu >> 42) & 0x3ffu));
    }
    const double a = std::fabs(d);
    if (a >= 65520.0) return sign | 0x7c00u;  // rounds to inf
    if (a < 6.103515625e-05) {                // subnormal range: quantum 2^-24
        const double q = std::nearbyint(a * 16777216.0);  // ties-to-even in the default mode
        return std::uint16_t(sign | std::uint16_t(q));
    }
    int e;
    std::frexp(a, &e);                 // a = m * 2^e, m in [0.5, 1)
    const double quantum = std::ldexp(1.0, e - 11);
    const double r = std::nearbyint(a / quantum) * quantum;  // exact scaling by a power of two
    int e2;
    const double m2 = std::frexp(r, &e2);
    if (e2 - 1 > 15) return sign | 0x7c00u;
    const std::uint16_t mant = std::uint16_t(std::ldexp(m2, 11) - 1024.0);  // drop the leading 1
    return std::uint16_t(sign | std::uint16_t((e2 - 1 + 15) << 10) | mant);
}

inline std::uint16_t float_to_half(float f) {
    const std::uint32_t u = f32_bits(f);
    const std::uint16_t sign = std::uint16_t((u >> 16) & 0x8000u);
    const std::uint32_t absu = u & 0x7fffffffu;
    if (absu >= 0x7f800000u)  // inf / nan (quiet)
        return std::uint16_t(sign | 0x7c00u | (absu > 0x7f800000u ? (0x200u | ((absu >> 13) & 0x3ffu)) : 0u));
    if (absu >= 0x477ff000u) return sign | 0x7c00u;  // >= 65520: overflow
    if (absu < 0x38800000u) {                          // below the smallest normal half
        if (absu < 0x33000000u) return sign;           // < 2^-25: rounds to zero
        const std::uint32_t e = absu >> 23, m = (absu & 0x7fffffu) | 0x800000u;
        const std::uint32_t shift = 126 - e;           // 14..24
        std::uint32_t q = m >> shift;
        const std::uint32_t rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (q & 1u))) ++q;
        return std::uint16_t(sign | q);
    }
    std::uint32_t r = absu + 0xfffu + ((absu >> 13) & 1u);  // round mantissa to 10 bits
    return std::uint16_t(sign | (((r >> 13) - (112u << 10)) & 0xffffu));
}

inline float bf16_to_float(std::uint16_t b) { return bits_f32(std::uint32_t(b) << 16); }

inline std::uint16_t float_to_bf16(float f) {
    const std::uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return std::uint16_t((u >> 16) | 0x40u);  // quiet nan
    return std::uint16_t((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

}  // namespace fused
