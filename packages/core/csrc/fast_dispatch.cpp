#include "fast_dispatch.h"

#include <Python.h>
#include <structmember.h>

namespace nb = nanobind;

namespace mycelia {
namespace {

PyTypeObject *tensor_type = nullptr;
Py_ssize_t offset_data = 0, offset_dtype = 0, offset_backend = 0, offset_autograd = 0;

Py_ssize_t slot_offset(PyObject *type, const char *name) {
    PyObject *descriptor = PyObject_GetAttrString(type, name);
    if (!descriptor) throw nb::python_error();
    if (Py_TYPE(descriptor) != &PyMemberDescr_Type) {
        Py_DECREF(descriptor);
        throw nb::type_error("configure_tensor_type: expected a __slots__ member descriptor");
    }
    Py_ssize_t offset = reinterpret_cast<PyMemberDescrObject *>(descriptor)->d_member->offset;
    Py_DECREF(descriptor);
    return offset;
}

inline PyObject *&slot(PyObject *object, Py_ssize_t offset) {
    return *reinterpret_cast<PyObject **>(reinterpret_cast<char *>(object) + offset);
}

// The cache entry under `key` (default: x's dtype) when x is a plain, untracked tensor on the
// entry's backend.
PyObject *entry_for(PyObject *cache, PyObject *x, PyObject *key = nullptr) {
    if (tensor_type == nullptr || Py_TYPE(x) != tensor_type) return nullptr;
    if (slot(x, offset_autograd) != Py_None) return nullptr;
    PyObject *entry = PyDict_GetItem(cache, key ? key : slot(x, offset_dtype));  // borrowed
    if (entry == nullptr || !PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) < 5) return nullptr;
    if (PyTuple_GET_ITEM(entry, 2) != Py_False) return nullptr;  // needs conform: Python path
    if (PyTuple_GET_ITEM(entry, 3) != slot(x, offset_backend)) return nullptr;
    return entry;
}

// The kernel's result as a tensor of the entry's dtype. A result that is not the backend's array
// type (numpy returns scalars for 0-d inputs) goes through backend.conform first.
nb::object make_tensor(PyObject *entry, PyObject *data, PyObject *backend) {
    PyObject *dtype = PyTuple_GET_ITEM(entry, 1);
    if (reinterpret_cast<PyObject *>(Py_TYPE(data)) != PyTuple_GET_ITEM(entry, 4)) {
        PyObject *conformed = PyObject_CallMethod(backend, "conform", "OO", data, dtype);
        Py_DECREF(data);
        if (!conformed) throw nb::python_error();
        data = conformed;
    }
    PyObject *tensor = tensor_type->tp_alloc(tensor_type, 0);
    if (!tensor) {
        Py_DECREF(data);
        throw nb::python_error();
    }
    slot(tensor, offset_data) = data;  // steals the kernel's result
    Py_INCREF(dtype);
    slot(tensor, offset_dtype) = dtype;
    Py_INCREF(backend);
    slot(tensor, offset_backend) = backend;
    Py_INCREF(Py_None);
    slot(tensor, offset_autograd) = Py_None;
    return nb::steal(tensor);
}

}  // namespace

void configure_tensor_type(nb::handle type) {
    if (!PyType_Check(type.ptr())) throw nb::type_error("configure_tensor_type expects a class");
    offset_data = slot_offset(type.ptr(), "_data");
    offset_dtype = slot_offset(type.ptr(), "_dtype");
    offset_backend = slot_offset(type.ptr(), "_backend");
    offset_autograd = slot_offset(type.ptr(), "_autograd");
    Py_INCREF(type.ptr());
    tensor_type = reinterpret_cast<PyTypeObject *>(type.ptr());
}

nb::object unary_fast(nb::handle cache, nb::handle x) {
    PyObject *entry = entry_for(cache.ptr(), x.ptr());
    if (entry == nullptr) return nb::none();
    PyObject *args[1] = {slot(x.ptr(), offset_data)};
    PyObject *out = PyObject_Vectorcall(PyTuple_GET_ITEM(entry, 0), args, 1, nullptr);
    if (!out) throw nb::python_error();
    return make_tensor(entry, out, slot(x.ptr(), offset_backend));
}

// Runs a kernel; a ValueError (shapes that do not broadcast, a scalar that does not fit) means
// "take the Python path", which raises the full error. Returns a new reference or nullptr.
PyObject *call_kernel(PyObject *entry, PyObject *first, PyObject *second) {
    PyObject *args[2] = {first, second};
    PyObject *out = PyObject_Vectorcall(PyTuple_GET_ITEM(entry, 0), args, 2, nullptr);
    if (!out) {
        if (PyErr_ExceptionMatches(PyExc_ValueError)) {
            PyErr_Clear();
            return nullptr;
        }
        throw nb::python_error();
    }
    return out;
}

// tensor (op) Python float/int, either order: the entry is keyed (dtype, scalar type, scalar_first)
// and exists only where the scalar keeps the tensor's dtype. bool scalars take the Python path.
nb::object scalar_fast(PyObject *cache, PyObject *tensor, PyObject *scalar, bool scalar_first) {
    PyTypeObject *scalar_type = Py_TYPE(scalar);
    if (tensor_type == nullptr || Py_TYPE(tensor) != tensor_type ||
        (scalar_type != &PyFloat_Type && scalar_type != &PyLong_Type))
        return nb::none();
    PyObject *dtype = slot(tensor, offset_dtype);
    nb::object key = nb::steal(PyTuple_Pack(3, dtype, reinterpret_cast<PyObject *>(scalar_type),
                                            scalar_first ? Py_True : Py_False));
    if (!key.is_valid()) throw nb::python_error();
    PyObject *entry = entry_for(cache, tensor, key.ptr());
    if (entry == nullptr) return nb::none();
    PyObject *backend = slot(tensor, offset_backend);
    // Converted constants are cached per entry (x * 0.5 in a loop converts 0.5 once). Float zeros
    // are not cached (0.0 and -0.0 are equal keys) and NaN never matches a key.
    PyObject *constants = PyTuple_GET_SIZE(entry) > 5 ? PyTuple_GET_ITEM(entry, 5) : nullptr;
    bool cacheable = constants != nullptr && PyDict_Check(constants);
    if (cacheable && scalar_type == &PyFloat_Type) {
        double value = PyFloat_AS_DOUBLE(scalar);
        cacheable = value == value && value != 0.0;
    }
    nb::object operand;
    if (cacheable) {
        PyObject *cached = PyDict_GetItem(constants, scalar);  // borrowed
        if (cached) operand = nb::borrow(cached);
    }
    if (!operand.is_valid()) {
        operand = nb::steal(PyObject_CallMethod(backend, "from_scalar", "OO", scalar, dtype));
        if (!operand.is_valid()) {
            if (PyErr_ExceptionMatches(PyExc_OverflowError)) {  // e.g. uint8 + 300: Python path errors
                PyErr_Clear();
                return nb::none();
            }
            throw nb::python_error();
        }
        if (cacheable) {
            if (PyDict_Size(constants) >= 64) PyDict_Clear(constants);  // _CONSTANTS_LIMIT in _dispatch.py
            if (PyDict_SetItem(constants, scalar, operand.ptr()) < 0) throw nb::python_error();
        }
    }
    PyObject *data = slot(tensor, offset_data);
    PyObject *out = scalar_first ? call_kernel(entry, operand.ptr(), data) : call_kernel(entry, data, operand.ptr());
    if (out == nullptr) return nb::none();
    return make_tensor(entry, out, backend);
}

nb::object binary_fast(nb::handle cache, nb::handle x, nb::handle y) {
    if (Py_TYPE(y.ptr()) != tensor_type) return scalar_fast(cache.ptr(), x.ptr(), y.ptr(), false);
    if (Py_TYPE(x.ptr()) != tensor_type) return scalar_fast(cache.ptr(), y.ptr(), x.ptr(), true);
    PyObject *entry = entry_for(cache.ptr(), x.ptr());
    if (entry == nullptr) return nb::none();
    if (slot(y.ptr(), offset_autograd) != Py_None || slot(y.ptr(), offset_dtype) != slot(x.ptr(), offset_dtype) ||
        slot(y.ptr(), offset_backend) != slot(x.ptr(), offset_backend))
        return nb::none();
    // Broadcasting is the kernel's (numpy semantics, as infer's).
    PyObject *out = call_kernel(entry, slot(x.ptr(), offset_data), slot(y.ptr(), offset_data));
    if (out == nullptr) return nb::none();
    return make_tensor(entry, out, slot(x.ptr(), offset_backend));
}

}  // namespace mycelia
