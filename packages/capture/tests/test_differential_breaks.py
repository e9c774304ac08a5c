"""The graph-break / side-effect corpus (issue 7): every case runs eagerly and under ``mycelia.jit``;
both must agree (results, exceptions, prints, module state) and ``jit_info`` must report the expected
breaks and compiles (``differential.check_info``)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))  # differential.py and corpus_breaks/

import differential as diff
from corpus_breaks import ALL_CASES, counts

import mycelia as ms


def test_corpus_size_and_categories() -> None:
    assert len(ALL_CASES) >= 300, counts()
    assert all(n >= 10 for n in counts().values()), counts()


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_identity_jit_agrees(case: diff.Case) -> None:
    """Each case is deterministic: the identity stand-in gives exactly the eager run."""
    diff.assert_case(case, diff.fake_jit, diff.fake_jit_info, check=False)


@pytest.mark.parametrize("case", ALL_CASES, ids=[c.name for c in ALL_CASES])
def test_corpus(case: diff.Case) -> None:
    if not hasattr(ms, "jit") or not hasattr(ms, "jit_info"):
        pytest.skip("mycelia.jit / mycelia.jit_info do not exist yet (PIJit not implemented)")
    diff.assert_case(case, ms.jit, ms.jit_info)
