"""Optimizers against hand-written numpy references, learning-rate schedules, assign ops and clipping."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

import mycelia as ms
from mycelia import nn, ops

Arrays = dict[str, np.ndarray]
STEPS = 4
RNG = np.random.default_rng(7)
INITIAL: Arrays = {"fc.weight": RNG.normal(size=(3, 4)), "fc.bias": RNG.normal(size=(4,)),
                   "bn.gamma": RNG.normal(size=(4,))}
GRADS: list[Arrays] = [{name: RNG.normal(size=value.shape) for name, value in INITIAL.items()} for _ in range(STEPS)]


def make_params(initial: Arrays = INITIAL, dtype: Any = np.float32) -> list[ms.Parameter]:
    return [ms.Parameter(ms.Tensor(value.astype(dtype)), name=name) for name, value in initial.items()]


def run(optimizer: nn.Optimizer, params: list[ms.Parameter], steps: int = STEPS, scale: float = 1.0) -> Arrays:
    for step in range(steps):
        grads = tuple(ms.Tensor((GRADS[step][p.name] * scale).astype(p.dtype.numpy)) for p in params)
        optimizer(grads)
    return {p.name: p.asnumpy().astype(np.float64) for p in params}


def decays(weight_decay: float) -> dict[str, float]:
    """MindSpore's rule without groups: no decay for names with 'beta' or 'gamma'."""
    return {name: 0.0 if "gamma" in name or "beta" in name else weight_decay for name in INITIAL}


# -- numpy references -------------------------------------------------------------------------
def ref_sgd(lr: float, momentum: float = 0.0, dampening: float = 0.0, weight_decay: float = 0.0,
            nesterov: bool = False, steps: int = STEPS) -> Arrays:
    out = {}
    for name, p in INITIAL.items():
        accum = np.zeros_like(p)
        for t in range(steps):
            g = GRADS[t][name] + weight_decay * p  # SGD decays every parameter
            if momentum > 0:
                accum = g if t == 0 else momentum * accum + (1 - dampening) * g
                g = g + momentum * accum if nesterov else accum
            p = p - lr * g
        out[name] = p
    return out


def ref_momentum(lr: float, momentum: float, weight_decay: float = 0.0, use_nesterov: bool = False) -> Arrays:
    out = {}
    for name, p in INITIAL.items():
        moment = np.zeros_like(p)
        for t in range(STEPS):
            g = GRADS[t][name] + decays(weight_decay)[name] * p
            moment = momentum * moment + g
            p = p - lr * (g + momentum * moment if use_nesterov else moment)
        out[name] = p
    return out


def ref_adam(lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8, weight_decay: float = 0.0,
             use_nesterov: bool = False, use_amsgrad: bool = False) -> Arrays:
    out = {}
    for name, p in INITIAL.items():
        m, v, vhat = np.zeros_like(p), np.zeros_like(p), np.zeros_like(p)
        for t in range(1, STEPS + 1):
            g = GRADS[t - 1][name] + decays(weight_decay)[name] * p
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            vhat = np.maximum(vhat, v)
            lr_t = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
            numerator = beta1 * m + (1 - beta1) * g if use_nesterov else m
            p = p - lr_t * numerator / (np.sqrt(vhat if use_amsgrad else v) + eps)
        out[name] = p
    return out


def ref_adam_weight_decay(lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-6,
                          weight_decay: float = 0.0) -> Arrays:
    out = {}
    for name, p in INITIAL.items():
        m, v = np.zeros_like(p), np.zeros_like(p)
        for t in range(STEPS):
            g = GRADS[t][name]
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            p = p - lr * (m / (np.sqrt(v) + eps) + decays(weight_decay)[name] * p)
        out[name] = p
    return out


def ref_adamw(lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
              weight_decay: float = 1e-2) -> Arrays:
    out = {}
    for name, p in INITIAL.items():
        m, v = np.zeros_like(p), np.zeros_like(p)
        for t in range(1, STEPS + 1):
            g = GRADS[t - 1][name]
            p = p * (1 - lr * decays(weight_decay)[name])
            m = beta1 * m + (1 - beta1) * g
            v = beta2 * v + (1 - beta2) * g * g
            p = p - lr / (1 - beta1 ** t) * m / (np.sqrt(v) / math.sqrt(1 - beta2 ** t) + eps)
        out[name] = p
    return out


def ref_rmsprop(lr: float = 0.1, decay: float = 0.9, momentum: float = 0.0, epsilon: float = 1e-10,
                centered: bool = False, weight_decay: float = 0.0) -> Arrays:
    out = {}
    for name, p in INITIAL.items():
        ms_, mg, mom = np.ones_like(p), np.zeros_like(p), np.zeros_like(p)
        for t in range(STEPS):
            g = GRADS[t][name] + decays(weight_decay)[name] * p
            ms_ = decay * ms_ + (1 - decay) * g * g
            mg = decay * mg + (1 - decay) * g
            denom = np.sqrt(ms_ - mg * mg + epsilon) if centered else np.sqrt(ms_ + epsilon)
            mom = momentum * mom + lr * g / denom
            p = p - mom
        out[name] = p
    return out


def ref_adagrad(lr: float = 1e-3, accum: float = 0.1, update_slots: bool = True, weight_decay: float = 0.0) -> Arrays:
    out = {}
    for name, p in INITIAL.items():
        acc = np.full_like(p, accum)
        for t in range(STEPS):
            g = GRADS[t][name] + decays(weight_decay)[name] * p
            if update_slots:
                acc = acc + g * g
            p = p - lr * g / np.sqrt(acc)
        out[name] = p
    return out


CASES: list[tuple[str, Callable[..., nn.Optimizer], dict[str, Any], Callable[[], Arrays]]] = [
    ("sgd", nn.SGD, {"learning_rate": 0.1}, lambda: ref_sgd(0.1)),
    ("sgd-momentum", nn.SGD, {"learning_rate": 0.05, "momentum": 0.9}, lambda: ref_sgd(0.05, 0.9)),
    ("sgd-dampening-decay", nn.SGD, {"learning_rate": 0.05, "momentum": 0.8, "dampening": 0.3, "weight_decay": 0.1},
     lambda: ref_sgd(0.05, 0.8, 0.3, 0.1)),
    ("sgd-nesterov", nn.SGD, {"learning_rate": 0.05, "momentum": 0.9, "nesterov": True},
     lambda: ref_sgd(0.05, 0.9, nesterov=True)),
    ("momentum", nn.Momentum, {"learning_rate": 0.1, "momentum": 0.9}, lambda: ref_momentum(0.1, 0.9)),
    ("momentum-nesterov-decay", nn.Momentum,
     {"learning_rate": 0.1, "momentum": 0.9, "weight_decay": 0.05, "use_nesterov": True},
     lambda: ref_momentum(0.1, 0.9, 0.05, True)),
    ("adam", nn.Adam, {"learning_rate": 0.01}, lambda: ref_adam(0.01)),
    ("adam-nesterov-decay", nn.Adam, {"learning_rate": 0.01, "use_nesterov": True, "weight_decay": 0.1},
     lambda: ref_adam(0.01, weight_decay=0.1, use_nesterov=True)),
    ("adam-amsgrad", nn.Adam, {"learning_rate": 0.01, "beta2": 0.5, "use_amsgrad": True},
     lambda: ref_adam(0.01, beta2=0.5, use_amsgrad=True)),
    ("adam-weight-decay", nn.AdamWeightDecay, {"learning_rate": 0.01, "weight_decay": 0.1},
     lambda: ref_adam_weight_decay(0.01, weight_decay=0.1)),
    ("adamw", nn.AdamW, {"learning_rate": 0.01, "weight_decay": 0.1}, lambda: ref_adamw(0.01, weight_decay=0.1)),
    ("rmsprop", nn.RMSProp, {"learning_rate": 0.01}, lambda: ref_rmsprop(0.01)),
    ("rmsprop-centered-momentum-decay", nn.RMSProp,
     {"learning_rate": 0.01, "momentum": 0.5, "centered": True, "weight_decay": 0.1, "epsilon": 1e-6},
     lambda: ref_rmsprop(0.01, momentum=0.5, epsilon=1e-6, centered=True, weight_decay=0.1)),
    ("adagrad", nn.Adagrad, {"learning_rate": 0.1}, lambda: ref_adagrad(0.1)),
    ("adagrad-no-slots-decay", nn.Adagrad, {"learning_rate": 0.1, "update_slots": False, "weight_decay": 0.1},
     lambda: ref_adagrad(0.1, update_slots=False, weight_decay=0.1)),
]


@pytest.mark.parametrize(("label", "cls", "kwargs", "reference"), CASES, ids=[case[0] for case in CASES])
def test_update_matches_numpy_reference(label: str, cls: Any, kwargs: dict[str, Any], reference: Any) -> None:
    params = make_params()
    got = run(cls(params, **kwargs), params)
    expected = reference()
    for name in INITIAL:
        np.testing.assert_allclose(got[name], expected[name], rtol=2e-5, atol=2e-6, err_msg=f"{label}: {name}")


@pytest.mark.parametrize("cls", [nn.SGD, nn.Adam, nn.RMSProp, nn.Adagrad, nn.Momentum])
def test_loss_scale_divides_the_gradients(cls: Any) -> None:
    kwargs: dict[str, Any] = {"learning_rate": 0.01, "weight_decay": 0.1}
    if cls is nn.Momentum:
        kwargs["momentum"] = 0.9
    plain, scaled = make_params(), make_params()
    expected = run(cls(plain, **kwargs), plain)
    got = run(cls(scaled, loss_scale=128.0, **kwargs), scaled, scale=128.0)
    for name in INITIAL:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-5, atol=1e-6)


def test_update_keeps_dtype_and_records_nothing() -> None:
    params = make_params(dtype=np.float16)
    optimizer = nn.Adam(params, learning_rate=0.01)
    run(optimizer, params, steps=2)
    assert all(p.dtype is ms.float16 and p._autograd is None for p in params)
    assert all(m.dtype is ms.float16 for m in optimizer.moment1)
    # float32 gradients for float16 parameters are cast
    optimizer(tuple(ms.Tensor(np.ones(p.shape, np.float32)) for p in params))
    assert all(p.dtype is ms.float16 for p in params)


def test_state_is_registered_parameters_with_mindspore_names() -> None:
    params = make_params()
    adam = nn.Adam(params)
    names = [name for name, _ in adam.parameters_and_names()]
    assert names[:4] == ["global_step", "learning_rate", "beta1_power", "beta2_power"]
    assert "moment1.fc.weight" in names and "moment2.bn.gamma" in names
    assert adam.trainable_params() == []
    assert list(adam.parameters) == params
    run(adam, params, steps=3)
    assert adam.global_step.asnumpy().tolist() == [3]
    np.testing.assert_allclose(adam.beta1_power.asnumpy(), [0.9 ** 3], rtol=1e-6)


def test_group_learning_rates_and_weight_decay() -> None:
    params = make_params()
    weight, bias, gamma = params
    groups = [{"params": [weight, gamma], "weight_decay": 0.1}, {"params": [bias], "lr": 0.01},
              {"order_params": params}]
    optimizer = nn.SGD(groups, learning_rate=0.1)
    assert [p.name for p in optimizer.parameters] == ["fc.weight", "fc.bias", "bn.gamma"]
    lrs = optimizer.get_lr()
    assert isinstance(lrs, tuple) and [round(float(x), 6) for x in lrs] == [0.1, 0.01]
    got = run(optimizer, params, steps=1)
    for name, lr, decay in (("fc.weight", 0.1, 0.1), ("bn.gamma", 0.1, 0.1), ("fc.bias", 0.01, 0.0)):
        expected = INITIAL[name] - lr * (GRADS[0][name] + decay * INITIAL[name])
        np.testing.assert_allclose(got[name], expected, rtol=1e-5)
    assert optimizer.get_lr_parameter(bias).name == "learning_rate_group_1"


def test_dynamic_learning_rates() -> None:
    rates = [0.1, 0.05, 0.01]
    for lr in (rates, ms.Tensor(np.array(rates, np.float32)), lambda step: rates[min(step, 2)],
               nn.PolynomialDecayLR(0.1, 0.01, 2, 1.0)):
        params = make_params()
        optimizer = nn.SGD(params, learning_rate=lr)
        seen = []
        for step in range(4):
            seen.append(float(optimizer.get_lr()))
            assert float(optimizer.get_lr()) == seen[-1]  # get_lr does not advance the step
            optimizer(tuple(ms.Tensor(np.zeros(p.shape, np.float32)) for p in params))
            assert int(optimizer.global_step.asnumpy()[0]) == step + 1
        expected = [0.1, 0.055, 0.01, 0.01] if isinstance(lr, nn.LearningRateSchedule) else [0.1, 0.05, 0.01, 0.01]
        np.testing.assert_allclose(seen, expected, rtol=1e-6)
    params = make_params()
    got = run(nn.SGD(params, learning_rate=rates), params, steps=3)
    expected = INITIAL["fc.bias"] - sum(r * GRADS[t]["fc.bias"] for t, r in enumerate(rates))
    np.testing.assert_allclose(got["fc.bias"], expected, rtol=1e-5)


def test_dynamic_lr_lists_match_mindspore_examples() -> None:
    assert nn.piecewise_constant_lr([2, 5, 10], [0.1, 0.05, 0.01]) == [0.1] * 2 + [0.05] * 3 + [0.01] * 5
    np.testing.assert_allclose(nn.exponential_decay_lr(0.1, 0.9, 6, 2, 1), [0.1, 0.1, 0.09, 0.09, 0.081, 0.081])
    np.testing.assert_allclose(nn.exponential_decay_lr(0.1, 0.9, 6, 1, 2, is_stair=True),
                               [0.1, 0.1, 0.09, 0.09, 0.081, 0.081])
    np.testing.assert_allclose(nn.natural_exp_decay_lr(0.1, 0.9, 6, 2, 2, True),
                               [0.1] * 4 + [0.016529888822158657] * 2)
    np.testing.assert_allclose(nn.inverse_decay_lr(0.1, 0.5, 6, 1, 1, True),
                               [0.1, 0.06666666666666667, 0.05, 0.04, 0.03333333333333333, 0.028571428571428574])
    np.testing.assert_allclose(nn.cosine_decay_lr(0.01, 0.1, 6, 2, 2), [0.1, 0.1, 0.055, 0.055, 0.01, 0.01])
    np.testing.assert_allclose(nn.polynomial_decay_lr(0.1, 0.01, 6, 2, 2, 0.5),
                               [0.1, 0.1, 0.07363961030678928, 0.07363961030678928, 0.01, 0.01])
    assert len(nn.polynomial_decay_lr(0.1, 0.01, 8, 1, 2, 1.0, update_decay_epoch=True)) == 8
    np.testing.assert_allclose(nn.warmup_lr(0.1, 6, 2, 2), [0.0, 0.0, 0.05, 0.05, 0.1, 0.1])
    with pytest.raises(ValueError, match="total_step"):
        nn.cosine_decay_lr(0.01, 0.1, 0, 2, 2)
    with pytest.raises(ValueError, match="max_lr must be greater"):
        nn.cosine_decay_lr(0.1, 0.01, 6, 2, 2)
    with pytest.raises(ValueError, match="increasing"):
        nn.piecewise_constant_lr([5, 2], [0.1, 0.2])


def test_schedule_cells_match_mindspore_examples() -> None:
    step = ms.Tensor(2, ms.int32)
    cases = [(nn.ExponentialDecayLR(0.1, 0.9, 4), 0.09486833), (nn.NaturalExpDecayLR(0.1, 0.9, 4, True), 0.1),
             (nn.InverseDecayLR(0.1, 0.9, 4, True), 0.1), (nn.CosineDecayLR(0.01, 0.1, 4), 0.055),
             (nn.PolynomialDecayLR(0.1, 0.01, 4, 0.5), 0.07363961), (nn.WarmUpLR(0.1, 2), 0.1)]
    for schedule, expected in cases:
        value = schedule(step)
        assert value.dtype is ms.float32 and value.shape == ()
        np.testing.assert_allclose(float(value), expected, rtol=1e-6, err_msg=type(schedule).__name__)
    np.testing.assert_allclose(nn.PolynomialDecayLR(0.1, 0.01, 4, 1.0, update_decay_steps=True)(
        ms.Tensor(6, ms.int32)).asnumpy(), 0.01 + 0.09 * (1 - 6 / 8), rtol=1e-6)
    with pytest.raises(TypeError, match="learning_rate must be a float"):
        nn.ExponentialDecayLR(1, 0.9, 4)


def test_optimizer_argument_errors() -> None:
    params = make_params()
    with pytest.raises(ValueError, match="nesterov needs momentum"):
        nn.SGD(params, nesterov=True)
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        nn.SGD(params, learning_rate=-1.0)
    with pytest.raises(ValueError, match="params is empty"):
        nn.Adam([])
    with pytest.raises(TypeError, match="not the Cell"):
        nn.Adam(nn.Cell())
    with pytest.raises(ValueError, match="more than one group"):
        nn.SGD([{"params": params}, {"params": params[:1]}])
    with pytest.raises(ValueError, match="unknown keys"):
        nn.SGD([{"params": params, "momentum": 0.9}])
    with pytest.raises(ValueError, match="beta1"):
        nn.Adam(params, beta1=1.0)
    optimizer = nn.SGD(params)
    with pytest.raises(ValueError, match="got 1 gradients for 3 parameters"):
        optimizer((ms.Tensor(np.zeros((3, 4), np.float32)),))
    with pytest.raises(ValueError, match="'fc.bias' has shape"):
        optimizer(tuple(ms.Tensor(np.zeros((2, 2), np.float32)) if p.name == "fc.bias" else ms.Tensor(
            np.zeros(p.shape, np.float32)) for p in params))


# -- assign ops and clip_by_global_norm ---------------------------------------------------------
def test_assign_replaces_the_array_and_keeps_other_tensors() -> None:
    param = ms.Parameter(ms.Tensor(np.zeros((2, 2), np.float32)), name="w")
    alias = ms.Tensor._make(param._data, param.dtype, param._backend)  # shares the old array
    value = ms.Tensor(np.ones((2, 2), np.float32))
    assert ops.assign(param, value) is param
    np.testing.assert_array_equal(param.asnumpy(), np.ones((2, 2)))
    np.testing.assert_array_equal(alias.asnumpy(), np.zeros((2, 2)))
    ops.assign(param, 3.0)
    np.testing.assert_array_equal(param.asnumpy(), np.full((2, 2), 3.0))
    ops.assign_add(param, ms.Tensor(np.full((2, 2), 2.0, np.float32)))
    ops.assign_sub(param, 1.0)
    np.testing.assert_array_equal(param.asnumpy(), np.full((2, 2), 4.0))
    ops.assign_add(param, ms.Tensor(np.array([1.0, 2.0], np.float32)))  # broadcasts to the variable
    np.testing.assert_array_equal(param.asnumpy(), [[5.0, 6.0], [5.0, 6.0]])
    assert param.dtype is ms.float32 and param.shape == (2, 2)


def test_assign_errors_name_the_variable() -> None:
    param = ms.Parameter(ms.Tensor(np.zeros((2, 2), np.float32)), name="w")
    with pytest.raises(ValueError, match=r"shape \[3\] does not match 'w' of shape \[2, 2\]"):
        ops.assign(param, ms.Tensor(np.zeros(3, np.float32)))
    with pytest.raises(TypeError, match="dtype Float64 does not match 'w'"):
        ops.assign(param, ms.Tensor(np.zeros((2, 2), np.float64)))
    with pytest.raises(TypeError, match="does not match 'w'"):
        ops.assign_add(param, ms.Tensor(np.zeros((2, 2), np.int32)))
    with pytest.raises(ValueError, match="does not broadcast"):
        ops.assign_add(param, ms.Tensor(np.zeros((3, 2, 2), np.float32)))
    counter = ms.Parameter(ms.Tensor(np.zeros((1,), np.int32)), name="step")
    with pytest.raises(TypeError, match="float"):
        ops.assign_add(counter, 0.5)
    with pytest.raises(TypeError, match="Parameter or Tensor"):
        ops.assign(np.zeros(2), 1.0)
    np.testing.assert_array_equal(param.asnumpy(), np.zeros((2, 2)))


def test_clip_by_global_norm() -> None:
    a, b = RNG.normal(size=(3, 4)), RNG.normal(size=(5,))
    norm = math.sqrt((a ** 2).sum() + (b ** 2).sum())
    x = (ms.Tensor(a.astype(np.float32)), ms.Tensor(b.astype(np.float32)))
    clipped = ops.clip_by_global_norm(x, 1.0)
    assert isinstance(clipped, tuple) and len(clipped) == 2
    np.testing.assert_allclose(clipped[0].asnumpy(), a / norm, rtol=1e-5)
    np.testing.assert_allclose(clipped[1].asnumpy(), b / norm, rtol=1e-5)
    unchanged = ops.clip_by_global_norm(x, clip_norm=norm * 2)
    np.testing.assert_allclose(unchanged[0].asnumpy(), a, rtol=1e-6)
    given = ops.clip_by_global_norm(x, 1.0, use_norm=ms.Tensor(np.float32(4.0)))
    np.testing.assert_allclose(given[1].asnumpy(), b / 4.0, rtol=1e-6)
    half = ops.clip_by_global_norm([ms.Tensor(a.astype(np.float16))], 1.0)
    assert half[0].dtype is ms.float16
    np.testing.assert_allclose(half[0].asnumpy().astype(np.float64), a / np.sqrt((a ** 2).sum()), atol=2e-3)
    assert ops.clip_by_global_norm((), 1.0) == ()
    with pytest.raises(ValueError, match="clip_norm must be > 0"):
        ops.clip_by_global_norm(x, 0.0)
    with pytest.raises(TypeError, match="float Tensor"):
        ops.clip_by_global_norm((ms.Tensor(np.zeros(2, np.int32)),))
