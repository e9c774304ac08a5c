"""``ms.value_and_grad`` / ``ms.grad`` inside the jitted function, up to a whole training step that
returns the loss and the new weights."""

from __future__ import annotations

from differential import a23, arr, registrar

import mycelia as ms

CASES: list = []
case = registrar(CASES, "grads")
nn, ops = ms.nn, ms.ops
X0, X1 = a23(0), a23(1)
W0, W1 = arr(3, 2, seed=100), arr(3, 2, seed=101)
B0 = arr(2, seed=102)
T0, T1 = arr(2, 2, seed=103), arr(2, 2, seed=104)
V0, V1 = arr(3, seed=105), arr(3, seed=106)
S: dict = {}


def linear_loss(w, b, x, t):
    y = x @ w + b
    return ((y - t) ** 2).mean()


def square_sum(x):
    return (x * x).sum()


@case((X0,), (X1,))
def grad_of_square_sum(x):
    return ms.grad(square_sum)(x)


@case((X0,), (X1,))
def value_and_grad_of_square_sum(x):
    loss, g = ms.value_and_grad(square_sum)(x)
    return loss, g


@case((W0, B0, X0, T0), (W1, B0, X1, T1))
def grad_positions_tuple(w, b, x, t):
    gw, gb = ms.grad(linear_loss, grad_position=(0, 1))(w, b, x, t)
    return gw, gb


@case((W0, B0, X0, T0), (W1, B0, X1, T1))
def training_step_returns_loss_and_new_weights(w, b, x, t):
    lr = 0.1
    loss, (gw, gb) = ms.value_and_grad(linear_loss, grad_position=(0, 1))(w, b, x, t)
    return loss, w - lr * gw, b - lr * gb


@case((W0, B0, X0, T0), (W1, B0, X1, T1))
def three_training_steps_unrolled(w, b, x, t):
    grad_fn = ms.value_and_grad(linear_loss, grad_position=(0, 1))
    losses = []
    for _ in range(3):
        loss, (gw, gb) = grad_fn(w, b, x, t)
        w, b = w - 0.05 * gw, b - 0.05 * gb
        losses.append(loss)
    return losses, w, b


@case((X0, V0), (X1, V1))
def grad_of_inline_lambda(x, v):
    return ms.grad(lambda a, b: (ops.tanh(a * b)).sum(), grad_position=1)(x, v)


@case((X0, V0), (X1, V1))
def grad_of_closure_over_local(x, v):
    scale = 3.0

    def loss(b):
        return (ops.sigmoid(x * b) * scale).mean()

    return ms.value_and_grad(loss)(v)


@case((X0,), (X1,))
def grad_has_aux(x):
    def loss(a):
        y = a * 2
        return (y * y).sum(), y.mean()

    (value, aux), g = ms.value_and_grad(loss, has_aux=True)(x)
    return value, aux, g


@case((X0,), (X1,))
def second_order_scalar_function(x):
    def f(a):
        return (a ** 3).sum()

    return ms.grad(ms.grad(f))(x)


@case((X0, T0), (X1, T1), made=True)
def grad_wrt_cell_weights():
    net = nn.Dense(3, 2, weight_init=ms.Tensor(arr(2, 3, seed=110)), bias_init=ms.Tensor(arr(2, seed=111)))

    def loss_fn(x, t):
        return ((net(x) - t) ** 2).mean()

    grad_fn = ms.value_and_grad(loss_fn, None, net.trainable_params())

    def step(x, t):
        loss, grads = grad_fn(x, t)
        new = [p - 0.1 * g for p, g in zip(net.trainable_params(), grads)]
        return loss, new

    return step


@case((X0, T0), (X1, T1), made=True, compiles=None, state=lambda: [p for p in S["net"].trainable_params()])
def training_step_assigns_parameters():
    net = nn.Dense(3, 2, weight_init=ms.Tensor(arr(2, 3, seed=120)), bias_init=ms.Tensor(arr(2, seed=121)))
    S["net"] = net
    params = net.trainable_params()

    def loss_fn(x, t):
        return ((net(x) - t) ** 2).mean()

    grad_fn = ms.value_and_grad(loss_fn, None, params)

    def step(x, t):
        loss, grads = grad_fn(x, t)
        for p, g in zip(params, grads):
            ops.assign(p, p - 0.1 * g)
        return loss

    return step


@case((X0, T0), (X1, T1), made=True)
def grad_through_cell_and_inputs():
    net = nn.Dense(3, 2, weight_init=ms.Tensor(arr(2, 3, seed=130)), bias_init=ms.Tensor(arr(2, seed=131)))

    def loss_fn(x, t):
        return nn.MSELoss()(net(x), t)

    def f(x, t):
        return ms.value_and_grad(loss_fn, 0, net.trainable_params())(x, t)

    return f


@case((X0,), (X1,))
def grad_of_helper_used_twice(x):
    g1 = ms.grad(square_sum)(x)
    g2 = ms.grad(square_sum)(x * 2)
    return g1 + g2


@case((X0, V0), (X1, V1), compiles=None)
def grad_position_out_of_range_error(x, v):
    return ms.grad(lambda a, b: (a * b).sum(), grad_position=5)(x, v)


@case((X0,), (X1,))
def grad_of_non_scalar_output_sums(x):
    return ms.grad(lambda a: a * 3)(x)
