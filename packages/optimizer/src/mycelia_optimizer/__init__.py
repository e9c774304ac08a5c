"""Graph passes, fusion, AMP and memory planning over the Mycelia IR (DESIGN §5).

``default_pipeline()`` (the ``mycelia.optimizer`` entry point ``default``) returns the standard
:class:`PassManager`; each pass is also usable on its own: ``Pass().run(graph, PassContext())``.
"""

from __future__ import annotations

from collections.abc import Iterable

from mycelia import dtype as dt
from mycelia.backends import Capabilities
from mycelia_optimizer._pass_manager import (
    AMP_LEVELS,
    LOW_PRECISION_DTYPES,
    Pass,
    PassContext,
    PassManager,
    PassVerificationError,
    Repeat,
    jit_log_enabled,
)
from mycelia_optimizer._rewrite import GraphRewriter, make_node, rewrite_graph
from mycelia_optimizer.algebraic import AlgebraicSimplification
from mycelia_optimizer.amp import FULL_PRECISION_OPS, LOW_PRECISION_OPS, AutoMixedPrecision
from mycelia_optimizer.common_subexpressions import CommonSubexpressionElimination
from mycelia_optimizer.constant_folding import MAX_FOLDED_ELEMENTS, ConstantFolding
from mycelia_optimizer.dead_code import DeadCodeElimination
from mycelia_optimizer.fusion import ElementwiseFusion

__version__ = "0.1.0"
__all__ = [
    "AMP_LEVELS",
    "FULL_PRECISION_OPS",
    "LOW_PRECISION_DTYPES",
    "LOW_PRECISION_OPS",
    "MAX_FOLDED_ELEMENTS",
    "AlgebraicSimplification",
    "AutoMixedPrecision",
    "CommonSubexpressionElimination",
    "ConstantFolding",
    "DeadCodeElimination",
    "ElementwiseFusion",
    "GraphRewriter",
    "Pass",
    "PassContext",
    "PassManager",
    "PassVerificationError",
    "Repeat",
    "__version__",
    "cleanup_passes",
    "default_pipeline",
    "jit_log_enabled",
    "make_node",
    "rewrite_graph",
]

CLEANUP_ROUNDS = 8


def cleanup_passes() -> Repeat:
    """Algebraic simplification, CSE and DCE, repeated until nothing changes (bounded)."""
    return Repeat([AlgebraicSimplification(), CommonSubexpressionElimination(), DeadCodeElimination()],
                  max_rounds=CLEANUP_ROUNDS)


def default_pipeline(capabilities: Capabilities | None = None, amp_level: str = "O0",
                     extra_passes: Iterable[Pass] = (), *, low_dtype: dt.DType = dt.float16,
                     verify: bool = False) -> PassManager:
    """The standard pipeline: constant folding, then simplification/CSE/DCE to a fixed point; with
    AMP (``amp_level`` != "O0") the casts are inserted next and cleaned up by another fixed point.
    Elementwise fusion runs when the target can fuse (``capabilities.fusible_ops``); ``extra_passes``
    run last, in order. (Buffer reuse is the backend's: ``mycelia.ir.plan_buffers`` at compile time.)"""
    context = PassContext(capabilities=capabilities, amp_level=amp_level, low_dtype=low_dtype)
    passes: list[Pass] = [ConstantFolding(), cleanup_passes()]
    if amp_level != "O0":
        passes += [AutoMixedPrecision(), ConstantFolding(), cleanup_passes()]
    if capabilities is not None and capabilities.fusible_ops:
        passes.append(ElementwiseFusion())
    passes += list(extra_passes)
    return PassManager(passes, context=context, verify=verify)
