// The block executor, compiled once per ISA: included (without an include guard) by
// isa_generic.cpp and isa_avx2.cpp, inside namespace fused::FUSED_NS. FUSED_AVX2 selects the
// AVX2 variants (libmvec calls, F16C conversions). Every function here has internal linkage
// so the two builds never merge (an AVX2 body must not leak into the portable path).
//
// Standard headers are included by the including file, before any target pragma.

namespace {

using std::int64_t;
using std::size_t;

// numpy's maximum/minimum: NaN wins. Branch-free selects, so that loops using them vectorise.
template <class T> inline T max_nan(T a, T b) { const T m = a > b ? a : b; return a != a ? a : m; }
template <class T> inline T min_nan(T a, T b) { const T m = a < b ? a : b; return a != a ? a : m; }

// cond ? x : y as a bit blend: GCC would sink an operand used by one arm only into a branch,
// which keeps the loop scalar; a blend uses both.
template <class T> inline T select(bool cond, T x, T y) {
    using U = typename std::conditional<sizeof(T) == 4, std::uint32_t, std::uint64_t>::type;
    U ux, uy;
    std::memcpy(&ux, &x, sizeof(T));
    std::memcpy(&uy, &y, sizeof(T));
    const U mask = U(0) - U(cond), r = (ux & mask) | (uy & ~mask);
    T out;
    std::memcpy(&out, &r, sizeof(T));
    return out;
}

// ---- scalar math fallbacks --------------------------------------------------------------------
template <class T> void scalar_math(int fn, T *d, const T *s, size_t n) {
    switch (fn) {
#define FUSED_CASE(name) \
    case MF_##name: for (size_t i = 0; i < n; ++i) d[i] = std::name(s[i]); break;
        FUSED_MATH(FUSED_CASE)
#undef FUSED_CASE
    }
}

#if defined(FUSED_AVX2)
typedef __m256 (*VecF)(__m256);
typedef __m256d (*VecD)(__m256d);
typedef __m256 (*VecF2)(__m256, __m256);
typedef __m256d (*VecD2)(__m256d, __m256d);

// libmvec over n elements; the tail goes through a padded copy (never reads past the end).
inline void vmath(int fn, float *d, const float *s, size_t n) {
    const VecF f = reinterpret_cast<VecF>(g_mvec.f32[fn]);
    if (f == nullptr) return scalar_math(fn, d, s, n);
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, f(_mm256_loadu_ps(s + i)));
    if (i < n) {
        alignas(32) float t[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        std::memcpy(t, s + i, (n - i) * sizeof(float));
        _mm256_store_ps(t, f(_mm256_load_ps(t)));
        std::memcpy(d + i, t, (n - i) * sizeof(float));
    }
}

inline void vmath(int fn, double *d, const double *s, size_t n) {
    const VecD f = reinterpret_cast<VecD>(g_mvec.f64[fn]);
    if (f == nullptr) return scalar_math(fn, d, s, n);
    size_t i = 0;
    for (; i + 4 <= n; i += 4) _mm256_storeu_pd(d + i, f(_mm256_loadu_pd(s + i)));
    if (i < n) {
        alignas(32) double t[4] = {0, 0, 0, 0};
        std::memcpy(t, s + i, (n - i) * sizeof(double));
        _mm256_store_pd(t, f(_mm256_load_pd(t)));
        std::memcpy(d + i, t, (n - i) * sizeof(double));
    }
}

template <class Scalar>
inline void vmath2(void *fp, Scalar (*fallback)(Scalar, Scalar), float *d, const float *a, const float *b, size_t n) {
    const VecF2 f = reinterpret_cast<VecF2>(fp);
    size_t i = 0;
    if (f != nullptr)
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, f(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i)));
    for (; i < n; ++i) d[i] = fallback(a[i], b[i]);
}

template <class Scalar>
inline void vmath2(void *fp, Scalar (*fallback)(Scalar, Scalar), double *d, const double *a, const double *b,
                   size_t n) {
    const VecD2 f = reinterpret_cast<VecD2>(fp);
    size_t i = 0;
    if (f != nullptr)
        for (; i + 4 <= n; i += 4) _mm256_storeu_pd(d + i, f(_mm256_loadu_pd(a + i), _mm256_loadu_pd(b + i)));
    for (; i < n; ++i) d[i] = fallback(a[i], b[i]);
}
#else
template <class T> inline void vmath(int fn, T *d, const T *s, size_t n) { scalar_math(fn, d, s, n); }

template <class T, class Scalar>
inline void vmath2(void *, Scalar (*fallback)(Scalar, Scalar), T *d, const T *a, const T *b, size_t n) {
    for (size_t i = 0; i < n; ++i) d[i] = fallback(a[i], b[i]);
}
#endif

inline float powf_(float a, float b) { return std::pow(a, b); }
inline double pow_(double a, double b) { return std::pow(a, b); }
inline float atan2f_(float a, float b) { return std::atan2(a, b); }
inline double atan2_(double a, double b) { return std::atan2(a, b); }

inline void vpow(float *d, const float *a, const float *b, size_t n) { vmath2(g_mvec.powf, powf_, d, a, b, n); }
inline void vpow(double *d, const double *a, const double *b, size_t n) { vmath2(g_mvec.pow, pow_, d, a, b, n); }
inline void vatan2(float *d, const float *a, const float *b, size_t n) { vmath2(g_mvec.atan2f, atan2f_, d, a, b, n); }
inline void vatan2(double *d, const double *a, const double *b, size_t n) { vmath2(g_mvec.atan2, atan2_, d, a, b, n); }

// sqrt and rounding: one instruction each, but std:: versions do not vectorise (errno, and
// -ftrapping-math keeps floor/ceil/trunc scalar), so the AVX2 build spells them out.
enum Unary : int { U_SQRT, U_FLOOR, U_CEIL, U_TRUNC };

template <int K, class T> inline T scalar_unary(T x) {
    return K == U_SQRT ? std::sqrt(x) : K == U_FLOOR ? std::floor(x) : K == U_CEIL ? std::ceil(x) : std::trunc(x);
}

#if defined(FUSED_AVX2)
template <int K> inline __m256 simd_unary(__m256 v) {
    if (K == U_SQRT) return _mm256_sqrt_ps(v);
    return _mm256_round_ps(v, (K == U_FLOOR ? _MM_FROUND_TO_NEG_INF : K == U_CEIL ? _MM_FROUND_TO_POS_INF
                                                                                 : _MM_FROUND_TO_ZERO) |
                                  _MM_FROUND_NO_EXC);
}
template <int K> inline __m256d simd_unary(__m256d v) {
    if (K == U_SQRT) return _mm256_sqrt_pd(v);
    return _mm256_round_pd(v, (K == U_FLOOR ? _MM_FROUND_TO_NEG_INF : K == U_CEIL ? _MM_FROUND_TO_POS_INF
                                                                                 : _MM_FROUND_TO_ZERO) |
                                  _MM_FROUND_NO_EXC);
}
template <int K> void unary_loop(float *d, const float *a, size_t n) {
    size_t i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(d + i, simd_unary<K>(_mm256_loadu_ps(a + i)));
    for (; i < n; ++i) d[i] = scalar_unary<K>(a[i]);
}
template <int K> void unary_loop(double *d, const double *a, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4) _mm256_storeu_pd(d + i, simd_unary<K>(_mm256_loadu_pd(a + i)));
    for (; i < n; ++i) d[i] = scalar_unary<K>(a[i]);
}
#else
template <int K, class T> void unary_loop(T *d, const T *a, size_t n) {
    for (size_t i = 0; i < n; ++i) d[i] = scalar_unary<K>(a[i]);
}
#endif

// ---- float16 / bfloat16 runs --------------------------------------------------------------------
inline void half_run_to_float(float *__restrict d, const std::uint16_t *__restrict s, int64_t n) {
    int64_t i = 0;
#if defined(FUSED_AVX2)
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(d + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i *>(s + i))));
#endif
    for (; i < n; ++i) d[i] = half_to_float(s[i]);
}

inline void float_run_to_half(std::uint16_t *__restrict d, const float *__restrict s, int64_t n) {
    int64_t i = 0;
#if defined(FUSED_AVX2)
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128(reinterpret_cast<__m128i *>(d + i),
                         _mm256_cvtps_ph(_mm256_loadu_ps(s + i), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
#endif
    for (; i < n; ++i) d[i] = float_to_half(s[i]);
}

inline std::uint32_t bf16_round_bits(float x) {  // float rounded to bfloat16, as float bits
    const std::uint32_t u = f32_bits(x);
    const std::uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) & 0xffff0000u;
    const std::uint32_t quiet = (u | 0x400000u) & 0xffff0000u;
    return (x != x) ? quiet : rounded;
}

// ---- loads: one run of an input, converted to the compute type ----------------------------------
template <class S, class T> inline T convert_in(S v) { return T(v); }
template <> inline float convert_in<bool, float>(bool v) { return v ? 1.0f : 0.0f; }
template <> inline double convert_in<bool, double>(bool v) { return v ? 1.0 : 0.0; }

template <class S, class T> void load_typed(T *__restrict d, const char *src, int64_t stride, int64_t n) {
    if (stride == int64_t(sizeof(S))) {
        const S *__restrict s = reinterpret_cast<const S *>(src);
        for (int64_t i = 0; i < n; ++i) d[i] = convert_in<S, T>(s[i]);
    } else if (stride == 0) {
        const T v = convert_in<S, T>(*reinterpret_cast<const S *>(src));
        for (int64_t i = 0; i < n; ++i) d[i] = v;
    } else {
        for (int64_t i = 0; i < n; ++i) d[i] = convert_in<S, T>(*reinterpret_cast<const S *>(src + i * stride));
    }
}

template <class T> void load_half(T *__restrict d, const char *src, int64_t stride, int64_t n, bool bf16) {
    if (!bf16 && stride == 2 && std::is_same<T, float>::value) {
        half_run_to_float(reinterpret_cast<float *>(d), reinterpret_cast<const std::uint16_t *>(src), n);
        return;
    }
    for (int64_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, src + i * stride, 2);
        d[i] = T(bf16 ? bf16_to_float(h) : half_to_float(h));
    }
}

template <class T> void load_run(T *d, const char *src, int dtype, int64_t stride, int64_t n) {
    switch (dtype) {
    case F16: return load_half(d, src, stride, n, false);
    case BF16:
        if (stride == 2) {  // shift into the high half: vectorises
            const std::uint16_t *__restrict s = reinterpret_cast<const std::uint16_t *>(src);
            for (int64_t i = 0; i < n; ++i) d[i] = T(bits_f32(std::uint32_t(s[i]) << 16));
            return;
        }
        return load_half(d, src, stride, n, true);
    case F32: return load_typed<float, T>(d, src, stride, n);
    case F64: return load_typed<double, T>(d, src, stride, n);
    case BOOL: return load_typed<bool, T>(d, src, stride, n);
    case I8: return load_typed<std::int8_t, T>(d, src, stride, n);
    case U8: return load_typed<std::uint8_t, T>(d, src, stride, n);
    case I16: return load_typed<std::int16_t, T>(d, src, stride, n);
    case U16: return load_typed<std::uint16_t, T>(d, src, stride, n);
    case I32: return load_typed<std::int32_t, T>(d, src, stride, n);
    case U32: return load_typed<std::uint32_t, T>(d, src, stride, n);
    case I64: return load_typed<std::int64_t, T>(d, src, stride, n);
    case U64: return load_typed<std::uint64_t, T>(d, src, stride, n);
    }
}

// ---- stores: one contiguous run of an output ------------------------------------------------------
template <class T> void store_run(char *dst, int dtype, const T *__restrict s, int64_t n) {
    switch (dtype) {
    case F16: {
        std::uint16_t *__restrict d = reinterpret_cast<std::uint16_t *>(dst);
        if (std::is_same<T, float>::value) {
            float_run_to_half(d, reinterpret_cast<const float *>(s), n);
        } else {
            for (int64_t i = 0; i < n; ++i) d[i] = double_to_half(double(s[i]));
        }
        return;
    }
    case BF16: {
        std::uint16_t *__restrict d = reinterpret_cast<std::uint16_t *>(dst);
        for (int64_t i = 0; i < n; ++i) d[i] = std::uint16_t(bf16_round_bits(float(s[i])) >> 16);
        return;
    }
    case F32: {
        float *__restrict d = reinterpret_cast<float *>(dst);
        for (int64_t i = 0; i < n; ++i) d[i] = float(s[i]);
        return;
    }
    case F64: {
        double *__restrict d = reinterpret_cast<double *>(dst);
        for (int64_t i = 0; i < n; ++i) d[i] = double(s[i]);
        return;
    }
    case BOOL: {
        std::uint8_t *__restrict d = reinterpret_cast<std::uint8_t *>(dst);
        for (int64_t i = 0; i < n; ++i) d[i] = s[i] != T(0) ? 1 : 0;
        return;
    }
    }
}

void store_value(char *dst, int dtype, double v) {  // v is already rounded to the compute type
    switch (dtype) {
    case F16: { const std::uint16_t h = double_to_half(v); std::memcpy(dst, &h, 2); return; }
    case BF16: {
        const std::uint16_t h = std::uint16_t(bf16_round_bits(float(v)) >> 16);
        std::memcpy(dst, &h, 2);
        return;
    }
    case F32: { const float f = float(v); std::memcpy(dst, &f, 4); return; }
    case F64: std::memcpy(dst, &v, 8); return;
    case BOOL: *reinterpret_cast<std::uint8_t *>(dst) = v != 0.0 ? 1 : 0; return;
    }
}

// ---- one instruction over n elements ---------------------------------------------------------------
// d never aliases a/b/c (the register allocator guarantees it); t1, t2 are private temporaries.
template <class T>
void exec(const Instr &in, T *__restrict d, const T *__restrict a, const T *__restrict b, const T *__restrict c,
          size_t n, T *__restrict t1, T *__restrict t2) {
    const T one = T(1), zero = T(0);
    const T p0 = T(in.p[0]), p1 = T(in.p[1]);
#define L1(expr) for (size_t i = 0; i < n; ++i) { const T x = a[i]; d[i] = (expr); } break;
#define L2(expr) for (size_t i = 0; i < n; ++i) { const T x = a[i], y = b[i]; d[i] = (expr); } break;
#define MATH(name) vmath(MF_##name, d, a, n); break;
    switch (in.op) {
    case OP_add: L2(x + y)
    case OP_sub: L2(x - y)
    case OP_mul: L2(x * y)
    case OP_div: L2(x / y)
    case OP_neg: L1(-x)
    case OP_abs: L1(std::abs(x))
    case OP_relu: L1(max_nan(x, zero))
    case OP_sqrt: unary_loop<U_SQRT>(d, a, n); break;
    case OP_rsqrt:
        unary_loop<U_SQRT>(d, a, n);
        for (size_t i = 0; i < n; ++i) d[i] = one / d[i];
        break;
    case OP_square: L1(x * x)
    case OP_reciprocal: L1(one / x)
    case OP_maximum: L2(max_nan(x, y))
    case OP_minimum: L2(min_nan(x, y))
    case OP_floor: unary_loop<U_FLOOR>(d, a, n); break;
    case OP_ceil: unary_loop<U_CEIL>(d, a, n); break;
    case OP_trunc: unary_loop<U_TRUNC>(d, a, n); break;
    // Both sides of a select are computed first (GCC keeps conditional arithmetic scalar).
    case OP_sign:
        for (size_t i = 0; i < n; ++i) {
            const T x = a[i], positive = x > zero ? one : x;
            d[i] = x < zero ? -one : positive;
        }
        break;
    case OP_leaky_relu:
        for (size_t i = 0; i < n; ++i) {
            const T x = a[i], scaled = p0 * x;
            d[i] = select(x >= zero, x, scaled);
        }
        break;
    case OP_relu6: L1(min_nan(max_nan(x, zero), T(6)))
    case OP_hardsigmoid: L1(min_nan(max_nan(x / T(6) + T(0.5), zero), one))
    case OP_hardswish: L1(x * min_nan(max_nan(x + T(3), zero), T(6)) / T(6))
    case OP_softsign: L1(x / (one + std::abs(x)))
    case OP_greater: L2(x > y ? one : zero)
    case OP_less: L2(x < y ? one : zero)
    case OP_greater_equal: L2(x >= y ? one : zero)
    case OP_less_equal: L2(x <= y ? one : zero)
    case OP_equal: L2(x == y ? one : zero)
    case OP_not_equal: L2(x != y ? one : zero)
    case OP_logical_not: L1(x == zero ? one : zero)
    case OP_logical_and: L2(((x != zero) & (y != zero)) ? one : zero)
    case OP_logical_or: L2(((x != zero) | (y != zero)) ? one : zero)
    case OP_logical_xor: L2(((x != zero) != (y != zero)) ? one : zero)
    case OP_isnan: L1(x != x ? one : zero)
    case OP_isinf: L1(std::abs(x) == T(INFINITY) ? one : zero)
    case OP_isfinite: L1(std::abs(x) <= std::numeric_limits<T>::max() ? one : zero)
    case OP_where:
        for (size_t i = 0; i < n; ++i) {
            const T when = b[i], otherwise = c[i];
            d[i] = select(a[i] != zero, when, otherwise);
        }
        break;
    case OP_exp: MATH(exp)
    case OP_log: MATH(log)
    case OP_sin: MATH(sin)
    case OP_cos: MATH(cos)
    case OP_tan: MATH(tan)
    case OP_tanh: MATH(tanh)
    case OP_sinh: MATH(sinh)
    case OP_cosh: MATH(cosh)
    case OP_asin: MATH(asin)
    case OP_acos: MATH(acos)
    case OP_atan: MATH(atan)
    case OP_asinh: MATH(asinh)
    case OP_acosh: MATH(acosh)
    case OP_atanh: MATH(atanh)
    case OP_erf: MATH(erf)
    case OP_erfc: MATH(erfc)
    case OP_log1p: MATH(log1p)
    case OP_expm1: MATH(expm1)
    case OP_log2: MATH(log2)
    case OP_pow: vpow(d, a, b, n); break;
    case OP_atan2: vatan2(d, a, b, n); break;
    case OP_sigmoid:  // 1 / (1 + exp(-x))
    case OP_silu:     // x * sigmoid(x)
        for (size_t i = 0; i < n; ++i) t1[i] = -a[i];
        vmath(MF_exp, t1, t1, n);
        if (in.op == OP_sigmoid) {
            for (size_t i = 0; i < n; ++i) d[i] = one / (one + t1[i]);
        } else {
            for (size_t i = 0; i < n; ++i) d[i] = a[i] * (one / (one + t1[i]));
        }
        break;
    case OP_softplus:    // where(beta x > threshold, x, logaddexp(0, beta x) / beta)
    case OP_logsigmoid:  // -logaddexp(0, -x)
    case OP_mish: {      // x tanh(logaddexp(0, x))
        const T scale = in.op == OP_softplus ? p0 : (in.op == OP_logsigmoid ? -one : one);
        for (size_t i = 0; i < n; ++i) {
            t2[i] = scale * a[i];
            t1[i] = -std::abs(t2[i]);
        }
        vmath(MF_exp, t1, t1, n);
        vmath(MF_log1p, t1, t1, n);
        for (size_t i = 0; i < n; ++i) t1[i] = max_nan(t2[i], zero) + t1[i];  // logaddexp(0, s)
        if (in.op == OP_softplus) {
            for (size_t i = 0; i < n; ++i) {
                const T soft = t1[i] / p0, x = a[i];
                d[i] = select(t2[i] > p1, x, soft);
            }
        } else if (in.op == OP_logsigmoid) {
            for (size_t i = 0; i < n; ++i) d[i] = -t1[i];
        } else {
            vmath(MF_tanh, t1, t1, n);
            for (size_t i = 0; i < n; ++i) d[i] = a[i] * t1[i];
        }
        break;
    }
    case OP_gelu:
        if (in.p[0] == 0.0) {  // 0.5 x (1 + erf(x / sqrt(2)))
            const T root2 = T(1.4142135623730951);
            for (size_t i = 0; i < n; ++i) t1[i] = a[i] / root2;
            vmath(MF_erf, t1, t1, n);
        } else {  // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
            const T k = T(0.7978845608028654), cubic = T(0.044715);
            for (size_t i = 0; i < n; ++i) {
                const T x = a[i];
                t1[i] = k * (x + cubic * (x * x * x));
            }
            vmath(MF_tanh, t1, t1, n);
        }
        for (size_t i = 0; i < n; ++i) d[i] = (T(0.5) * a[i]) * (one + t1[i]);
        break;
    case OP_elu:   // where(x > 0, x, alpha expm1(min(x, 0)))
    case OP_selu:  // scale elu(x, alpha)
        for (size_t i = 0; i < n; ++i) t1[i] = min_nan(a[i], zero);
        vmath(MF_expm1, t1, t1, n);
        if (in.op == OP_elu) {
            for (size_t i = 0; i < n; ++i) {
                const T x = a[i], negative = p0 * t1[i];
                d[i] = select(x > zero, x, negative);
            }
        } else {
            const T alpha = T(1.6732632423543772848170429916717), scale = T(1.0507009873554804934193349852946);
            for (size_t i = 0; i < n; ++i) {
                const T x = a[i], negative = alpha * t1[i];
                d[i] = scale * select(x > zero, x, negative);
            }
        }
        break;
    case OP_cast:
        switch (int(in.p[0])) {
        case F16:
            if (std::is_same<T, float>::value) {
                std::uint16_t *h = reinterpret_cast<std::uint16_t *>(t1);
                float_run_to_half(h, reinterpret_cast<const float *>(a), int64_t(n));
                half_run_to_float(reinterpret_cast<float *>(d), h, int64_t(n));
            } else {
                for (size_t i = 0; i < n; ++i) d[i] = T(half_to_float(double_to_half(double(a[i]))));
            }
            break;
        case BF16: L1(T(bits_f32(bf16_round_bits(float(x)))))
        case F32: L1(T(float(x)))
        case BOOL: L1(x != zero ? one : zero)
        default: L1(x)
        }
        break;
    }
#undef L1
#undef L2
#undef MATH
}

// ---- reductions over one run ------------------------------------------------------------------------
template <class T> double segment_sum(const T *__restrict p, int64_t m) {
    constexpr int W = 32 / sizeof(T) * 2;  // two AVX2 vectors of independent partial sums
    T acc[W] = {};
    int64_t i = 0;
    for (; i + W <= m; i += W)
        for (int j = 0; j < W; ++j) acc[j] += p[i + j];
    for (int j = 0; i < m; ++i, ++j) acc[j] += p[i];
    for (int w = W / 2; w >= 1; w /= 2)  // pairwise
        for (int j = 0; j < w; ++j) acc[j] += acc[j + w];
    return double(acc[0]);
}

template <class T> double segment_extreme(const T *__restrict p, int64_t m, bool is_max) {
    constexpr int W = 32 / sizeof(T);
    T acc[W];
    const T start = is_max ? -T(INFINITY) : T(INFINITY);
    for (int j = 0; j < W; ++j) acc[j] = start;
    int64_t i = 0;
    if (is_max) {
        for (; i + W <= m; i += W)
            for (int j = 0; j < W; ++j) acc[j] = max_nan(acc[j], p[i + j]);
        for (; i < m; ++i) acc[0] = max_nan(acc[0], p[i]);
        for (int j = 1; j < W; ++j) acc[0] = max_nan(acc[0], acc[j]);
    } else {
        for (; i + W <= m; i += W)
            for (int j = 0; j < W; ++j) acc[j] = min_nan(acc[j], p[i + j]);
        for (; i < m; ++i) acc[0] = min_nan(acc[0], p[i]);
        for (int j = 1; j < W; ++j) acc[0] = min_nan(acc[0], acc[j]);
    }
    return double(acc[0]);
}

inline double combine(int kind, double a, double b) {
    if (kind == RED_MAX) return max_nan(a, b);
    if (kind == RED_MIN) return min_nan(a, b);
    return a + b;
}

// ---- the executor ---------------------------------------------------------------------------------
template <class T> struct Scratch {
    T *slots;          // n_slots + kTempSlots buffers of `block` elements
    const T **regs;    // per register: where its current block lives
    T *slot(const Call &c, int s) const { return slots + s * c.block; }
};

template <class T> Scratch<T> scratch_of(const Call &c, void *raw) {
    Scratch<T> s;
    s.slots = static_cast<T *>(raw);
    s.regs = reinterpret_cast<const T **>(s.slots + (c.plan->n_slots + kTempSlots) * c.block);
    return s;
}

template <class T> void prepare_t(const Call &c, void *raw) {
    const Plan &p = *c.plan;
    Scratch<T> s = scratch_of<T>(c, raw);
    for (size_t i = 0; i < p.const_regs.size(); ++i) {
        T *d = s.slot(c, p.slot[p.const_regs[i]]);
        const T v = T(p.const_values[i]);
        for (int64_t j = 0; j < c.block; ++j) d[j] = v;
        s.regs[p.const_regs[i]] = d;
    }
    for (int r : p.used_inputs)
        if (c.in[r].mode == IN_SCALAR) {
            T *d = s.slot(c, p.slot[r]);
            load_run(d, c.in[r].ptr, c.in[r].dtype, 0, c.block);
            s.regs[r] = d;
        }
}

template <class T> void gather(const Call &c, const Scratch<T> &s, int64_t start, int64_t n) {
    const Plan &p = *c.plan;
    const int nd = int(c.shape.size());
    int64_t idx[64];
    int64_t rest = start;
    for (int j = nd - 1; j >= 0; --j) {
        idx[j] = rest % c.shape[j];
        rest /= c.shape[j];
    }
    const int64_t inner = c.shape[nd - 1];
    for (int64_t pos = 0; pos < n;) {
        const int64_t run = std::min(inner - idx[nd - 1], n - pos);
        for (int r : p.used_inputs) {
            const InputView &v = c.in[r];
            if (v.mode != IN_GATHER) continue;
            int64_t off = 0;
            for (int j = 0; j < nd; ++j) off += idx[j] * v.strides[j];
            load_run(s.slot(c, p.slot[r]) + pos, v.ptr + off, v.dtype, v.strides[nd - 1], run);
        }
        pos += run;
        idx[nd - 1] += run;
        for (int j = nd - 1; j > 0 && idx[j] == c.shape[j]; --j) {
            idx[j] = 0;
            ++idx[j - 1];
        }
    }
}

template <class T> void run_t(const Call &c, void *raw, int64_t chunk_index) {
    const Plan &p = *c.plan;
    Scratch<T> s = scratch_of<T>(c, raw);
    const int64_t begin = chunk_index * c.chunk, end = std::min(c.n, begin + c.chunk);
    T *t1 = s.slot(c, p.n_slots), *t2 = s.slot(c, p.n_slots + 1);
    bool any_gather = false;
    for (int r : p.used_inputs) {
        if (c.in[r].mode == IN_GATHER) any_gather = true;
        if (c.in[r].mode != IN_DIRECT) s.regs[r] = s.slot(c, p.slot[r]);
    }
    // Reduction state: the row being accumulated.
    const int kind = c.plan->reduce;
    int64_t cur_row = -1;
    double cur = 0;
    Partial *part = c.has_reduce ? &c.partials[size_t(chunk_index)] : nullptr;
    auto flush = [&]() {
        if (cur_row < 0) return;
        const int64_t row_begin = cur_row * c.row_len, row_end = row_begin + c.row_len;
        if (row_begin >= begin && row_end <= end) {
            double v = kind == RED_MEAN ? cur / double(c.row_len) : cur;
            store_value(c.red.ptr + cur_row * int64_t(dtype_size(c.red.dtype)), c.red.dtype, double(T(v)));
        } else {
            const int k = row_begin < begin ? 0 : 1;
            part->row[k] = cur_row;
            part->acc[k] = cur;
        }
    };

    for (int64_t start = begin; start < end; start += c.block) {
        const int64_t n = std::min(c.block, end - start);
        for (int r : p.used_inputs)
            if (c.in[r].mode == IN_DIRECT) s.regs[r] = reinterpret_cast<const T *>(c.in[r].ptr) + start;
        if (any_gather) gather(c, s, start, n);
        for (const Instr &in : p.code) {
            T *d = s.slot(c, p.slot[in.dst]);
            exec<T>(in, d, s.regs[in.src[0]], s.regs[in.src[1]], s.regs[in.src[2]], size_t(n), t1, t2);
            s.regs[in.dst] = d;
        }
        for (const OutputView &o : c.out)
            store_run(o.ptr + start * int64_t(dtype_size(o.dtype)), o.dtype, s.regs[o.reg], n);
        if (c.has_reduce) {
            const T *v = s.regs[c.red.reg];
            for (int64_t pos = 0; pos < n;) {
                const int64_t g = start + pos, row = g / c.row_len;
                const int64_t m = std::min(n - pos, (row + 1) * c.row_len - g);
                const double part_value = kind == RED_MAX || kind == RED_MIN
                                              ? segment_extreme(v + pos, m, kind == RED_MAX)
                                              : segment_sum(v + pos, m);
                if (row == cur_row) {
                    cur = combine(kind, cur, part_value);
                } else {
                    flush();
                    cur_row = row;
                    cur = part_value;
                }
                pos += m;
            }
        }
    }
    if (c.has_reduce) flush();
}

void prepare(const Call &c, void *raw) { c.plan->f64 ? prepare_t<double>(c, raw) : prepare_t<float>(c, raw); }
void run(const Call &c, void *raw, int64_t chunk) {
    c.plan->f64 ? run_t<double>(c, raw, chunk) : run_t<float>(c, raw, chunk);
}

}  // namespace

const Isa isa = {prepare, run, store_value};
