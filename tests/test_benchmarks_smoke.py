"""The benchmark suite runs end to end and writes the JSON and Markdown it promises (timings are not checked)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
STATS = {"median", "q1", "q3", "min", "max", "samples", "calls_per_sample", "first_call_ms",
         "ratio_vs_numpy", "ratio_vs_torch"}


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], str]:
    out = tmp_path_factory.mktemp("bench") / "bench.json"
    cmd = [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--frameworks", "numpy,mycelia",
           "--workloads", "W1,W5", "--reps", "2", "--sample-ms", "0.2", "--warmup-ms", "1", "--output", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-4000:]
    return json.loads(out.read_text(encoding="utf-8")), proc.stdout


def test_json_has_the_expected_keys(quick_run: tuple[dict[str, Any], str]) -> None:
    doc, _ = quick_run
    assert {"schema", "timestamp", "command", "settings", "machine", "frameworks", "variants", "workloads"} <= set(doc)
    assert {"model", "logical_cores"} <= set(doc["machine"]["cpu"])
    assert "OPENBLAS_CORETYPE" in doc["machine"]["env"]
    assert doc["frameworks"]["numpy"]["available"]
    assert set(doc["settings"]["frameworks"]) == {"numpy", "mycelia"}
    assert "numpy" in doc["variants"]
    assert set(doc["variants"]) <= {"numpy", "numpy (no temporaries)", "mycelia", "mycelia graph", "mycelia.jit",
                                    "mycelia.jit (two functions)"}
    assert list(doc["workloads"]) == ["W1", "W5"]


def test_every_result_is_a_measurement_or_a_reason(quick_run: tuple[dict[str, Any], str]) -> None:
    doc, _ = quick_run
    for key, w in doc["workloads"].items():
        assert {"title", "unit", "what", "count_label", "others_cpu_pct", "results"} <= set(w), key
        assert w["results"]["numpy"]["status"] == "ok"
        if doc["frameworks"]["mycelia"]["available"]:
            assert "mycelia" in w["results"], key
        for variant, r in w["results"].items():
            if r["status"] == "ok":
                assert STATS <= set(r), (key, variant)
                assert r["samples"] == 2
            else:
                assert r["status"] == "n/a" and r["reason"], (key, variant)


def test_tables_and_readme_section(quick_run: tuple[dict[str, Any], str], tmp_path: Path) -> None:
    doc, stdout = quick_run
    assert "W1 tiny op" in stdout and "W5 x + 1" in stdout
    sys.path.insert(0, str(ROOT))
    from benchmarks import report

    readme = tmp_path / "README.md"
    readme.write_text(f"# Bench\nbefore\n{report.START}\nold table\n{report.END}\nafter\n", encoding="utf-8")
    report.rewrite_readme(readme, report.markdown_section(doc, "bench.json"))
    text = readme.read_text(encoding="utf-8")
    assert "old table" not in text and text.startswith("# Bench\nbefore\n") and text.endswith("\nafter\n")
    assert "| W1 tiny op | µs/op |" in text and "OPENBLAS_CORETYPE=" in text
