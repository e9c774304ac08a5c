// mycelia_backend_cpu._fused_native: fused elementwise (+ trailing reduction) programs.
// The contract and validation of names/attributes live in mycelia_backend_cpu._fused; this module
// re-checks everything that could make it read or write out of bounds.
#include <nanobind/nanobind.h>
#include <nanobind/stl/string.h>
#include <nanobind/stl/vector.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <dlfcn.h>
#include <unistd.h>

#include "fused.h"
#include "mycelia_build_info.h"

namespace nb = nanobind;

namespace fused {

MvecTable g_mvec;

namespace {

// ---- ISA selection and libmvec --------------------------------------------------------------------
bool cpu_has_avx2() {
#if defined(__x86_64__) || defined(_M_X64)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("f16c");
#else
    return false;
#endif
}

const Isa *g_isa = &generic::isa;
bool g_have_mvec = false;

void load_libmvec() {
    // dlopen rather than -lmvec: the module still loads where glibc has no libmvec (musl, old
    // glibc), and the AVX2 ('d') variants are only ever called on CPUs that have AVX2.
    void *lib = dlopen("libmvec.so.1", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) return;
    static const char *const names[NUM_MATH] = {
#define FUSED_NAME(name) #name,
        FUSED_MATH(FUSED_NAME)
#undef FUSED_NAME
    };
    for (int i = 0; i < NUM_MATH; ++i) {
        g_mvec.f32[i] = dlsym(lib, (std::string("_ZGVdN8v_") + names[i] + "f").c_str());
        g_mvec.f64[i] = dlsym(lib, (std::string("_ZGVdN4v_") + names[i]).c_str());
    }
    g_mvec.powf = dlsym(lib, "_ZGVdN8vv_powf");
    g_mvec.pow = dlsym(lib, "_ZGVdN4vv_pow");
    g_mvec.atan2f = dlsym(lib, "_ZGVdN8vv_atan2f");
    g_mvec.atan2 = dlsym(lib, "_ZGVdN4vv_atan2");
    g_have_mvec = true;
}

void init_isa() {
#if defined(__x86_64__) || defined(_M_X64)
    if (cpu_has_avx2()) {
        g_isa = &avx2::isa;
        load_libmvec();
    }
#endif
}

std::string isa_name() {
#if defined(__x86_64__) || defined(_M_X64)
    if (g_isa == &avx2::isa) return g_have_mvec ? "avx2+libmvec" : "avx2";
#endif
    return "generic";
}

// ---- thread pool ------------------------------------------------------------------------------------
// Created once (per process: a forked child makes its own); the calling thread is worker 0.
class Pool {
public:
    explicit Pool(int threads) : size_(std::max(1, threads)) {}
    ~Pool() {
        {
            std::lock_guard<std::mutex> lock(m_);
            stop_ = true;
        }
        wake_.notify_all();
        for (std::thread &t : workers_) t.join();
    }

    int size() const { return size_; }
    void resize(int threads) { size_ = std::max(1, threads); }

    // Runs job(0..threads-1) in parallel; false when another call holds the pool.
    bool run(int threads, const std::function<void(int)> &job) {
        std::unique_lock<std::mutex> busy(busy_, std::try_to_lock);
        if (!busy.owns_lock()) return false;
        threads = std::max(1, std::min(threads, size_));
        while (int(workers_.size()) < threads - 1) {
            const int id = int(workers_.size()) + 1;
            workers_.emplace_back([this, id] { loop(id); });
        }
        {
            std::lock_guard<std::mutex> lock(m_);
            job_ = &job;
            active_ = threads;
            pending_ = threads - 1;
            ++generation_;
        }
        if (threads > 1) wake_.notify_all();
        job(0);
        std::unique_lock<std::mutex> lock(m_);
        done_.wait(lock, [this] { return pending_ == 0; });
        job_ = nullptr;
        return true;
    }

private:
    void loop(int id) {
        std::uint64_t seen = 0;
        for (;;) {
            const std::function<void(int)> *job;
            {
                std::unique_lock<std::mutex> lock(m_);
                wake_.wait(lock, [&] { return stop_ || (generation_ != seen && id < active_); });
                if (stop_) return;
                seen = generation_;
                job = job_;
            }
            (*job)(id);
            {
                std::lock_guard<std::mutex> lock(m_);
                --pending_;
            }
            done_.notify_one();
        }
    }

    int size_;
    std::vector<std::thread> workers_;
    std::mutex busy_, m_;
    std::condition_variable wake_, done_;
    const std::function<void(int)> *job_ = nullptr;
    std::uint64_t generation_ = 0;
    int active_ = 0, pending_ = 0;
    bool stop_ = false;
};

int default_threads() {
    int n = int(std::thread::hardware_concurrency());
    if (n <= 0) n = 1;
    if (const char *env = std::getenv("MYCELIA_NUM_THREADS")) {
        const int cap = std::atoi(env);
        if (cap >= 1) n = std::min(n, cap);
    }
    return n;
}

std::mutex g_pool_mutex;
Pool *g_pool = nullptr;
pid_t g_pool_pid = 0;
int g_threads = 0;  // 0: not chosen yet

// What one call of Program::run works in (one per thread, reused).
struct Workspace {
    std::vector<std::int64_t> shape, cshape;
    std::vector<int> from;
    std::vector<std::vector<std::int64_t>> strides, cstr;
    Call call;
};

Pool &pool() {
    std::lock_guard<std::mutex> lock(g_pool_mutex);
    if (g_threads == 0) g_threads = default_threads();
    if (g_pool == nullptr || g_pool_pid != getpid()) {
        g_pool = new Pool(g_threads);  // a pool inherited through fork() has no threads: leak it
        g_pool_pid = getpid();
    }
    g_pool->resize(g_threads);
    return *g_pool;
}

// Per-thread scratch, kept between calls (no page faults per call).
void *thread_scratch(std::size_t bytes) {
    thread_local std::unique_ptr<char[]> storage;
    thread_local std::size_t capacity = 0;
    if (capacity < bytes) {
        storage.reset();
        storage.reset(new char[bytes + 64]);
        capacity = bytes;
    }
    const std::uintptr_t p = reinterpret_cast<std::uintptr_t>(storage.get());
    return reinterpret_cast<void *>((p + 63) & ~std::uintptr_t(63));
}

[[noreturn]] void fail(const std::string &message) { throw nb::value_error(message.c_str()); }

// numpy's array object (PyArrayObject_fields, ABI-stable across numpy 1.x and 2.x): reading it
// directly costs nanoseconds where __array_interface__ costs microseconds per array.
struct NumpyArray {
    PyObject_HEAD
    char *data;
    int nd;
    Py_ssize_t *dimensions;
    Py_ssize_t *strides;
    PyObject *base;
    PyObject *descr;
    int flags;
};
constexpr int kCContiguous = 0x1, kAligned = 0x100, kWriteable = 0x400;  // NPY_ARRAY_* flags

const NumpyArray *numpy_array(nb::handle h, const char *what, std::size_t index) {
    static PyTypeObject *ndarray = nullptr;
    if (ndarray == nullptr) {
        nb::object type = nb::module_::import_("numpy").attr("ndarray");
        ndarray = reinterpret_cast<PyTypeObject *>(type.release().ptr());  // kept for the process
    }
    if (!PyObject_TypeCheck(h.ptr(), ndarray))
        throw nb::type_error((std::string(what) + " " + std::to_string(index) + " must be a numpy array").c_str());
    return reinterpret_cast<const NumpyArray *>(h.ptr());
}

constexpr std::int64_t kParallelThreshold = 32768;  // elements; below this one thread runs it
constexpr int kMaxDims = 64;

std::string shape_str(const std::vector<std::int64_t> &shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        s += std::to_string(shape[i]);
        if (shape.size() == 1 || i + 1 < shape.size()) s += ",";
        if (i + 1 < shape.size()) s += " ";
    }
    return s + ")";
}

}  // namespace

// ---- the compiled program ----------------------------------------------------------------------------
class Program {
public:
    Program(const std::vector<int> &ops, const std::vector<std::vector<int>> &operands,
            const std::vector<std::vector<double>> &params, int n_inputs, const std::vector<int> &outputs,
            bool f64, int reduce, int reduce_k) {
        const std::size_t n = ops.size();
        if (operands.size() != n || params.size() != n)
            throw nb::value_error("ops, operands and params differ in length");
        if (n_inputs < 0) throw nb::value_error("n_inputs must be >= 0");
        if (outputs.empty()) throw nb::value_error("a fused kernel needs at least one output");
        if (reduce < RED_NONE || reduce > RED_MIN || reduce_k < 0 || reduce_k > kMaxDims)
            throw nb::value_error("bad reduction");
        Plan &p = plan_;
        p.n_inputs = n_inputs;
        p.n_regs = n_inputs + int(n);
        p.f64 = f64;
        p.reduce = reduce;
        p.reduce_k = reduce_k;
        static const int arity[NUM_OPS] = {
#define FUSED_ARITY(name, a) a,
            FUSED_OPS(FUSED_ARITY)
#undef FUSED_ARITY
        };
        std::vector<Instr> all(n);
        for (std::size_t i = 0; i < n; ++i) {
            Instr &in = all[i];
            in.op = ops[i];
            if (in.op < 0 || in.op >= NUM_OPS) throw nb::value_error("unknown op code");
            in.nargs = int(operands[i].size());
            if (in.nargs != arity[in.op]) throw nb::value_error("operand count does not match the op");
            in.dst = n_inputs + int(i);
            for (int j = 0; j < 3; ++j) {
                in.src[j] = j < in.nargs ? operands[i][j] : (in.nargs > 0 ? operands[i][0] : 0);
                if (j < in.nargs && (in.src[j] < 0 || in.src[j] >= in.dst))
                    throw nb::value_error("operand register out of range");
            }
            in.p[0] = params[i].size() > 0 ? params[i][0] : 0.0;
            in.p[1] = params[i].size() > 1 ? params[i][1] : 0.0;
        }
        for (int r : outputs)
            if (r < 0 || r >= p.n_regs) throw nb::value_error("output register out of range");
        p.outputs = outputs;

        // Liveness: only what the outputs need runs. last_use = n for outputs (kept to block end).
        std::vector<char> needed(std::size_t(p.n_regs), 0);
        std::vector<std::int64_t> last_use(std::size_t(p.n_regs), -1);
        for (int r : outputs) { needed[std::size_t(r)] = 1; last_use[std::size_t(r)] = std::int64_t(n); }
        for (std::size_t i = n; i-- > 0;) {
            const Instr &in = all[i];
            if (!needed[std::size_t(in.dst)]) continue;
            for (int j = 0; j < in.nargs; ++j) {
                needed[std::size_t(in.src[j])] = 1;
                last_use[std::size_t(in.src[j])] = std::max(last_use[std::size_t(in.src[j])], std::int64_t(i));
            }
        }
        p.slot.assign(std::size_t(p.n_regs), -1);
        int slots = 0;
        for (int r = 0; r < n_inputs; ++r)
            if (needed[std::size_t(r)]) {
                p.used_inputs.push_back(r);
                p.slot[std::size_t(r)] = slots++;
            }
        std::vector<int> free_slots;
        for (std::size_t i = 0; i < n; ++i) {
            const Instr &in = all[i];
            if (!needed[std::size_t(in.dst)]) continue;
            if (in.op == OP_const) {
                p.slot[std::size_t(in.dst)] = slots++;
                p.const_regs.push_back(in.dst);
                p.const_values.push_back(in.p[0]);
                continue;
            }
            int s;
            if (!free_slots.empty()) {
                s = free_slots.back();
                free_slots.pop_back();
            } else {
                s = slots++;
            }
            p.slot[std::size_t(in.dst)] = s;
            p.code.push_back(in);
            for (int j = 0; j < in.nargs; ++j) {  // operands dying here give their slot back
                const int r = in.src[j];
                bool seen = false;
                for (int k = 0; k < j; ++k) seen |= in.src[k] == r;
                const bool computed = r >= n_inputs && all[std::size_t(r - n_inputs)].op != OP_const;
                if (!seen && computed && last_use[std::size_t(r)] == std::int64_t(i))
                    free_slots.push_back(p.slot[std::size_t(r)]);
            }
        }
        p.n_slots = slots;
    }

    int n_slots() const { return plan_.n_slots; }

    // The call from Python: numpy arrays (their dtype codes computed by the caller). Returns
    // false, without running, when an input is misaligned (the caller passes aligned copies).
    bool run_arrays(nb::list inputs, const std::vector<int> &in_dtypes, nb::list outputs,
                    const std::vector<int> &out_dtypes) {
        // Per-thread argument vectors, reused (their capacity stays): a small call allocates nothing here.
        thread_local std::vector<std::uintptr_t> in_ptrs, out_ptrs;
        thread_local std::vector<std::vector<std::int64_t>> in_shapes, in_strides, out_shapes;
        const std::size_t ni = inputs.size(), no = outputs.size();
        in_ptrs.clear();
        out_ptrs.clear();
        if (in_shapes.size() < ni) in_shapes.resize(ni), in_strides.resize(ni);
        if (out_shapes.size() < no) out_shapes.resize(no);
        for (std::size_t i = 0; i < ni; ++i) {
            const NumpyArray *a = numpy_array(inputs[i], "input", i);
            if (!(a->flags & kAligned)) return false;
            in_ptrs.push_back(reinterpret_cast<std::uintptr_t>(a->data));
            in_shapes[i].assign(a->dimensions, a->dimensions + a->nd);
            in_strides[i].assign(a->strides, a->strides + a->nd);
        }
        for (std::size_t o = 0; o < no; ++o) {
            const NumpyArray *a = numpy_array(outputs[o], "output", o);
            if ((a->flags & (kCContiguous | kAligned | kWriteable)) != (kCContiguous | kAligned | kWriteable))
                fail("output " + std::to_string(o) + " must be a writeable, aligned, C-contiguous array");
            out_ptrs.push_back(reinterpret_cast<std::uintptr_t>(a->data));
            out_shapes[o].assign(a->dimensions, a->dimensions + a->nd);
        }
        run(in_ptrs, in_dtypes, in_shapes, in_strides, out_ptrs, out_dtypes, out_shapes, ni, no);
        return true;
    }

    // ``given_inputs``/``given_outputs``: how many entries of the shape vectors are this call's (the
    // vectors may be longer: run_arrays reuses them between calls).
    void run(const std::vector<std::uintptr_t> &in_ptrs, const std::vector<int> &in_dtypes,
             const std::vector<std::vector<std::int64_t>> &in_shapes,
             const std::vector<std::vector<std::int64_t>> &in_strides, const std::vector<std::uintptr_t> &out_ptrs,
             const std::vector<int> &out_dtypes, const std::vector<std::vector<std::int64_t>> &out_shapes,
             std::size_t given_inputs, std::size_t given_outputs) {
        const Plan &p = plan_;
        const std::size_t ni = std::size_t(p.n_inputs);
        if (in_ptrs.size() != ni || in_dtypes.size() != ni || given_inputs != ni || in_shapes.size() < ni ||
            in_strides.size() < ni)
            fail("expected " + std::to_string(ni) + " inputs, got " + std::to_string(in_ptrs.size()));
        if (out_ptrs.size() != p.outputs.size() || out_dtypes.size() != p.outputs.size() ||
            given_outputs != p.outputs.size() || out_shapes.size() < p.outputs.size())
            fail("expected " + std::to_string(p.outputs.size()) + " outputs, got " + std::to_string(out_ptrs.size()));

        // Broadcast shape.
        std::size_t nd = 0;
        for (std::size_t i = 0; i < ni; ++i) {
            if (in_shapes[i].size() != in_strides[i].size()) throw nb::value_error("shape/strides mismatch");
            if (in_dtypes[i] < 0 || in_dtypes[i] >= NUM_DTYPES) throw nb::type_error("bad input dtype code");
            nd = std::max(nd, in_shapes[i].size());
        }
        if (nd > std::size_t(kMaxDims)) throw nb::value_error("too many dimensions");
        // Per-thread work vectors, reused between calls (their capacity stays: no allocation per call).
        // Bound to local references: a lambda run by a pool thread must see this thread's objects.
        thread_local Workspace workspace;
        std::vector<std::int64_t> &shape = workspace.shape, &cshape = workspace.cshape;
        std::vector<int> &from = workspace.from;
        std::vector<std::vector<std::int64_t>> &strides = workspace.strides, &cstr = workspace.cstr;
        Call &c = workspace.call;
        shape.assign(nd, 1);
        from.assign(nd, -1);  // which input set each dim (for the message)
        for (std::size_t i = 0; i < ni; ++i) {
            const auto &s = in_shapes[i];
            for (std::size_t j = 0; j < s.size(); ++j) {
                const std::size_t d = nd - s.size() + j;
                if (s[j] < 0) throw nb::value_error("negative dimension");
                if (s[j] == 1) continue;
                if (shape[d] == 1) {
                    shape[d] = s[j];
                    from[d] = int(i);
                } else if (shape[d] != s[j]) {
                    fail("input " + std::to_string(i) + " with shape " + shape_str(s) +
                         " does not broadcast with input " + std::to_string(from[d]) + " with shape " +
                         shape_str(in_shapes[std::size_t(from[d])]));
                }
            }
        }
        std::int64_t total = 1;
        for (std::int64_t d : shape) total *= d;

        c.plan = &p;
        c.n = total;
        c.out.clear();
        const std::size_t n_out = p.outputs.size();
        c.has_reduce = p.reduce != RED_NONE;
        std::int64_t rows = total, row_len = 1;
        if (c.has_reduce) {
            if (std::size_t(p.reduce_k) > nd)
                fail("reduce over the last " + std::to_string(p.reduce_k) + " dims, but the iteration shape " +
                     shape_str(shape) + " has only " + std::to_string(nd));
            rows = 1;
            for (std::size_t d = 0; d < nd - std::size_t(p.reduce_k); ++d) rows *= shape[d];
            for (std::size_t d = nd - std::size_t(p.reduce_k); d < nd; ++d) row_len *= shape[d];
            if (row_len == 0 && rows > 0 && (p.reduce == RED_MAX || p.reduce == RED_MIN))
                throw nb::value_error("max/min reduction over a zero-size axis has no identity");
        }
        for (std::size_t o = 0; o < n_out; ++o) {
            const int dt = out_dtypes[o];
            if (dt != F16 && dt != BF16 && dt != F32 && dt != F64 && dt != BOOL)
                throw nb::type_error(("output " + std::to_string(o) + ": unsupported dtype").c_str());
            const bool reduced = c.has_reduce && o + 1 == n_out;
            std::int64_t size = 1;
            for (std::int64_t d : out_shapes[o]) size *= d;
            if (reduced ? size != rows : out_shapes[o] != shape) {
                std::vector<std::int64_t> lead(shape.begin(), shape.end() - (reduced ? p.reduce_k : 0));
                fail("output " + std::to_string(o) + " has shape " + shape_str(out_shapes[o]) + ", expected " +
                     shape_str(lead) +
                     (reduced ? " (or any shape of that size: the reduction's output)"
                              : " (the broadcast shape of the inputs)"));
            }
            OutputView v{reinterpret_cast<char *>(out_ptrs[o]), dt, p.outputs[o]};
            if (reduced) c.red = v; else c.out.push_back(v);
        }
        c.row_len = row_len;
        c.n_rows = rows;

        // Inputs: broadcast strides; private copies of inputs that overlap an output unsafely.
        if (strides.size() < ni) strides.resize(ni);
        for (std::size_t i = 0; i < ni; ++i) strides[i].assign(nd, 0);
        std::vector<std::unique_ptr<char[]>> copies;
        c.in.resize(ni);
        for (std::size_t i = 0; i < ni; ++i) {
            c.in[i].mode = IN_UNUSED;
            const auto &s = in_shapes[i];
            const std::size_t off = nd - s.size();
            std::int64_t lo = 0, hi = 0;
            bool empty = false;
            for (std::size_t j = 0; j < s.size(); ++j) {
                if (s[j] == 0) empty = true;
                if (s[j] != 1) strides[i][off + j] = in_strides[i][j];
                const std::int64_t extent = (s[j] - 1) * in_strides[i][j];
                (extent < 0 ? lo : hi) += extent;
            }
            const std::int64_t isz = std::int64_t(dtype_size(in_dtypes[i]));
            c.in[i].ptr = reinterpret_cast<const char *>(in_ptrs[i]);
            c.in[i].dtype = in_dtypes[i];
            if (empty || total == 0) continue;
            const std::uintptr_t a0 = in_ptrs[i] + std::uintptr_t(lo), a1 = in_ptrs[i] + std::uintptr_t(hi + isz);
            for (std::size_t o = 0; o < n_out; ++o) {
                const bool reduced = c.has_reduce && o + 1 == n_out;
                const std::int64_t osz = std::int64_t(dtype_size(out_dtypes[o]));
                const std::uintptr_t b0 = out_ptrs[o], b1 = b0 + std::uintptr_t((reduced ? rows : total) * osz);
                if (a1 <= b0 || b1 <= a0) continue;
                // Reading block k before writing block k is safe when the input IS that output.
                bool same = !reduced && in_ptrs[i] == out_ptrs[o] && osz == isz;
                std::int64_t expect = isz;
                for (std::size_t d = nd; same && d-- > 0;) {
                    if (shape[d] != 1 && strides[i][d] != expect) same = false;
                    expect *= shape[d];
                }
                if (same) continue;
                const std::size_t bytes = std::size_t(hi - lo + isz);
                copies.emplace_back(new char[bytes]);
                std::memcpy(copies.back().get(), reinterpret_cast<const char *>(a0), bytes);
                c.in[i].ptr = copies.back().get() - lo;
                break;
            }
        }

        // Coalesce: drop size-1 dims, merge neighbours that are contiguous for every input.
        cshape.clear();
        if (cstr.size() < ni) cstr.resize(ni);
        for (std::size_t i = 0; i < ni; ++i) cstr[i].clear();
        for (std::size_t d = 0; d < nd; ++d) {
            if (shape[d] == 1) continue;
            bool merge = !cshape.empty();
            for (std::size_t i = 0; merge && i < ni; ++i)
                merge = cstr[i].back() == strides[i][d] * shape[d];
            if (merge) {
                cshape.back() *= shape[d];
                for (std::size_t i = 0; i < ni; ++i) cstr[i].back() = strides[i][d];
            } else {
                cshape.push_back(shape[d]);
                for (std::size_t i = 0; i < ni; ++i) cstr[i].push_back(strides[i][d]);
            }
        }
        if (cshape.empty()) {
            cshape.push_back(1);
            for (std::size_t i = 0; i < ni; ++i) cstr[i].push_back(0);
        }
        c.shape = cshape;
        const int compute_dt = p.f64 ? F64 : F32;
        const std::int64_t tsize = p.f64 ? 8 : 4;
        for (int r : p.used_inputs) {
            InputView &v = c.in[std::size_t(r)];
            v.strides = cstr[std::size_t(r)];
            bool scalar = true;
            for (std::int64_t st : v.strides) scalar &= st == 0;
            const bool direct = v.dtype == compute_dt && cshape.size() == 1 && v.strides[0] == tsize;
            v.mode = scalar ? IN_SCALAR : (direct ? IN_DIRECT : IN_GATHER);
        }

        // Blocks of 8 KiB per register; work items of several blocks for the pool.
        c.block = p.f64 ? 1024 : 2048;
        const Isa &isa = *g_isa;
        // Small calls run here, on this thread, with the GIL held: no pool (its fork check is a
        // getpid syscall) and no GIL hand-off, which would cost more than the work itself.
        Pool *workers = total >= kParallelThreshold ? &pool() : nullptr;
        const int threads = workers != nullptr ? workers->size() : 1;
        const std::int64_t nblocks = (total + c.block - 1) / c.block;
        const std::int64_t per_item = std::max<std::int64_t>(1, std::min<std::int64_t>(32, nblocks / (threads * 8)));
        c.chunk = c.block * per_item;
        const std::int64_t chunks = (total + c.chunk - 1) / c.chunk;
        if (c.has_reduce) c.partials.assign(std::size_t(chunks), Partial());
        const std::size_t scratch_bytes =
            std::size_t(p.n_slots + kTempSlots) * std::size_t(c.block) * std::size_t(tsize) +
            std::size_t(p.n_regs + 1) * sizeof(void *);

        std::atomic<std::int64_t> next{0};
        std::atomic<bool> failed{false};
        std::exception_ptr error;
        std::mutex error_mutex;
        auto job = [&](int) {
            try {
                bool prepared = false;
                void *scratch = nullptr;
                for (std::int64_t k; !failed.load(std::memory_order_relaxed) && (k = next.fetch_add(1)) < chunks;) {
                    if (!prepared) {
                        scratch = thread_scratch(scratch_bytes);
                        isa.prepare(c, scratch);
                        prepared = true;
                    }
                    isa.run(c, scratch, k);
                }
            } catch (...) {
                std::lock_guard<std::mutex> lock(error_mutex);
                if (!error) error = std::current_exception();
                failed = true;
            }
        };
        if (workers == nullptr) {
            if (chunks > 0) job(0);
        } else {
            nb::gil_scoped_release release;
            if (chunks > 0 && (threads == 1 || !workers->run(threads, std::function<void(int)>(job)))) job(0);
        }
        if (error) std::rethrow_exception(error);

        if (!c.has_reduce) return;
        const std::int64_t osz = std::int64_t(dtype_size(c.red.dtype));
        auto finish = [&](std::int64_t row, double acc) {
            double v = p.reduce == RED_MEAN ? acc / double(row_len) : acc;
            v = p.f64 ? v : double(float(v));
            isa.store_value(c.red.ptr + row * osz, c.red.dtype, v);
        };
        if (total == 0) {  // empty rows: sum 0, mean nan (max/min rejected above)
            for (std::int64_t r = 0; r < rows; ++r) finish(r, p.reduce == RED_MEAN ? NAN : 0.0);
            return;
        }
        std::int64_t row = -1;
        double acc = 0;
        for (const Partial &part : c.partials)
            for (int k = 0; k < 2; ++k) {
                if (part.row[k] < 0) continue;
                if (part.row[k] == row) {
                    acc = p.reduce == RED_MAX ? (acc >= part.acc[k] || acc != acc ? acc : part.acc[k])
                        : p.reduce == RED_MIN ? (acc <= part.acc[k] || acc != acc ? acc : part.acc[k])
                                              : acc + part.acc[k];
                } else {
                    if (row >= 0) finish(row, acc);
                    row = part.row[k];
                    acc = part.acc[k];
                }
            }
        if (row >= 0) finish(row, acc);
    }

private:
    Plan plan_;
};

}  // namespace fused

NB_MODULE(MYCELIA_MODULE_NAME, m) {
    using namespace fused;
    m.doc() = "Mycelia CPU backend: fused elementwise (+ trailing reduction) kernels";
    init_isa();
    nb::dict info = mycelia::add_build_info(m);
    info["hardware_threads"] = std::thread::hardware_concurrency();
    m.def("build_info", [info] {
        nb::dict d = info;
        d["isa"] = isa_name();
        return d;
    });
    m.def("ops", [] {
        nb::dict d;
#define FUSED_ENTRY(name, arity) d[#name] = nb::make_tuple(int(OP_##name), arity);
        FUSED_OPS(FUSED_ENTRY)
#undef FUSED_ENTRY
        return d;
    }, "{op name: (code, arity)}");
    m.def("isa", [] { return isa_name(); }, "The executor in use: 'avx2+libmvec', 'avx2' or 'generic'.");
    m.def("set_isa", [](const std::string &name) {
        if (name == "generic") {
            g_isa = &generic::isa;
            return;
        }
        if (name == "native") {
            g_isa = &generic::isa;
            init_isa();
            return;
        }
        throw nb::value_error("isa must be 'generic' or 'native'");
    }, nb::arg("name"), "Force the portable executor ('generic') or restore the best one ('native'). For tests.");
    m.def("num_threads", [] {
        std::lock_guard<std::mutex> lock(g_pool_mutex);
        return g_threads == 0 ? default_threads() : g_threads;
    });
    m.def("set_num_threads", [](int n) {
        if (n < 1) throw nb::value_error("num_threads must be >= 1");
        std::lock_guard<std::mutex> lock(g_pool_mutex);
        g_threads = n;
    }, nb::arg("n"), "Threads used for large calls (default: hardware threads, capped by MYCELIA_NUM_THREADS).");
    nb::class_<Program>(m, "Program")
        .def(nb::init<const std::vector<int> &, const std::vector<std::vector<int>> &,
                      const std::vector<std::vector<double>> &, int, const std::vector<int> &, bool, int, int>(),
             nb::arg("ops"), nb::arg("operands"), nb::arg("params"), nb::arg("n_inputs"), nb::arg("outputs"),
             nb::arg("f64"), nb::arg("reduce"), nb::arg("reduce_k"))
        .def_prop_ro("n_slots", &Program::n_slots)
        .def("run_arrays", &Program::run_arrays, nb::arg("inputs"), nb::arg("in_dtypes"), nb::arg("outputs"),
             nb::arg("out_dtypes"),
             "Execute over numpy arrays (releases the GIL); False, with nothing run, if an input is misaligned.");
}
