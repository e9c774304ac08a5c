// Elementwise kernels of the example Mycelia backend, reached from Python through pybind11.
//
// Operands arrive as numpy arrays through the buffer protocol. The Python side hands over
// C-contiguous arrays of one dtype whose shapes are either equal or where one operand has a single
// element (a scalar or an all-ones shape); general broadcasting is materialised in Python first,
// which keeps these loops flat and obviously correct.

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace py = pybind11;

namespace {

// How many kernels ran, so tests can prove the compiled code did the work (not a numpy fallback).
// Atomic because kernels release the GIL and may run on several threads at once.
std::atomic<std::uint64_t> kernel_calls{0};

// forcecast + c_style: whatever buffer comes in is viewed (or, if it must be, copied) as a dense
// row-major array of Scalar, so the loops below can index it linearly.
template <typename Scalar>
using DenseArray = py::array_t<Scalar, py::array::c_style | py::array::forcecast>;

std::string shape_text(const py::array& array) {
    std::string text = "(";
    for (py::ssize_t axis = 0; axis < array.ndim(); ++axis) {
        text += std::to_string(array.shape(axis));
        text += array.ndim() == 1 || axis + 1 < array.ndim() ? "," : "";
    }
    return text + ")";
}

// A single-element operand broadcasts against the other without changing its shape only when it
// has no more axes than the other (numpy prepends axes otherwise).
bool broadcasts_into(const py::array& single, const py::array& other) {
    return single.size() == 1 && single.ndim() <= other.ndim();
}

template <typename Scalar, typename Operation>
DenseArray<Scalar> binary(const char* op_name, const DenseArray<Scalar>& left,
                          const DenseArray<Scalar>& right) {
    const bool same_shape = left.ndim() == right.ndim() &&
                            std::equal(left.shape(), left.shape() + left.ndim(), right.shape());
    const py::array* shaped_like = nullptr;
    if (same_shape || broadcasts_into(right, left)) {
        shaped_like = &left;
    } else if (broadcasts_into(left, right)) {
        shaped_like = &right;
    } else {
        throw py::value_error(std::string(op_name) + ": shapes " + shape_text(left) + " and " +
                              shape_text(right) +
                              " must be equal or one must have a single element; broadcast them first");
    }
    std::vector<py::ssize_t> shape(shaped_like->shape(), shaped_like->shape() + shaped_like->ndim());
    DenseArray<Scalar> result(shape);

    const Scalar* left_data = left.data();
    const Scalar* right_data = right.data();
    Scalar* result_data = result.mutable_data();
    const py::ssize_t size = result.size();
    // A stride of 0 repeats the single element; 1 walks the operand alongside the result.
    const py::ssize_t left_step = left.size() == size ? 1 : 0;
    const py::ssize_t right_step = right.size() == size ? 1 : 0;
    {
        // The loop touches no Python object, so other threads may run meanwhile.
        py::gil_scoped_release release;
        const Operation operation;
        for (py::ssize_t index = 0; index < size; ++index) {
            result_data[index] = operation(left_data[index * left_step], right_data[index * right_step]);
        }
    }
    kernel_calls.fetch_add(1, std::memory_order_relaxed);
    return result;
}

template <typename Scalar>
void define_kernels(py::module_& module) {
    // Overloads per dtype: pybind11 first tries every overload without conversion, so an exact
    // float32 or float64 array always lands in its own overload.
    module.def(
        "add",
        [](const DenseArray<Scalar>& left, const DenseArray<Scalar>& right) {
            return binary<Scalar, std::plus<Scalar>>("add", left, right);
        },
        py::arg("left"), py::arg("right"), "Elementwise left + right into a new array.");
    module.def(
        "mul",
        [](const DenseArray<Scalar>& left, const DenseArray<Scalar>& right) {
            return binary<Scalar, std::multiplies<Scalar>>("mul", left, right);
        },
        py::arg("left"), py::arg("right"), "Elementwise left * right into a new array.");
}

}  // namespace

PYBIND11_MODULE(_kernels, module) {
    module.doc() = "Compiled elementwise kernels of the example Mycelia backend (pybind11).";
    define_kernels<float>(module);
    define_kernels<double>(module);
    module.def(
        "calls", [] { return kernel_calls.load(std::memory_order_relaxed); },
        "How many kernel calls completed since import or the last reset_calls().");
    module.def(
        "reset_calls", [] { kernel_calls.store(0, std::memory_order_relaxed); },
        "Set the kernel call counter back to zero.");
}
