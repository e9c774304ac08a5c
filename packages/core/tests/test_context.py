from __future__ import annotations

import pytest

import mycelia as ms


def test_defaults_and_mode_round_trip() -> None:
    assert ms.get_context("mode") == ms.PYNATIVE_MODE
    ms.set_context(mode=ms.GRAPH_MODE)
    assert ms.get_context("mode") == ms.GRAPH_MODE


@pytest.mark.parametrize(("kwargs", "error", "pattern"), [
    ({"mode": 5}, ValueError, "mode must be"),
    ({"mode": True}, ValueError, "mode must be"),
    ({"device_id": -1}, ValueError, "device_id"),
    ({"device_target": 3}, TypeError, "device_target must be a string"),
    ({"bogus": 1}, ValueError, "unknown key.*bogus"),
])
def test_bad_keys_and_values_are_clear_errors(kwargs: dict[str, object], error: type[Exception],
                                              pattern: str) -> None:
    with pytest.raises(error, match=pattern):
        ms.set_context(**kwargs)


def test_failed_set_context_changes_nothing() -> None:
    with pytest.raises(ValueError):
        ms.set_context(mode=ms.GRAPH_MODE, device_id=-3)
    assert ms.get_context("mode") == ms.PYNATIVE_MODE
