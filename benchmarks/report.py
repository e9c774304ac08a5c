"""Machine description, the results tables (terminal and Markdown) and the README rewrite."""

from __future__ import annotations

import contextlib
import io
import os
import platform
import re
import subprocess
from pathlib import Path
from typing import Any

from benchmarks.frameworks import FRAMEWORKS, Env

ROOT = Path(__file__).resolve().parent.parent
START, END = "<!-- bench-results:start -->", "<!-- bench-results:end -->"
TIMES, DASH = "\u00d7", "\u2013"  # typographic x and - in the tables
THREAD_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "XLA_FLAGS")


def _cpu() -> dict[str, Any]:
    model, cores, flags = platform.processor() or "unknown", set(), set()
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        text = ""
    for block in text.split("\n\n"):
        fields = dict(line.split(":", 1) for line in block.splitlines() if ":" in line)
        fields = {k.strip(): v.strip() for k, v in fields.items()}
        if "model name" in fields:
            model = fields["model name"]
        if "core id" in fields:
            cores.add((fields.get("physical id", "0"), fields["core id"]))
        flags |= set(fields.get("flags", "").split())
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "model": model, "logical_cores": os.cpu_count(), "usable_cores": affinity,
        "physical_cores": len(cores) or None, "avx2": "avx2" in flags, "avx512f": "avx512f" in flags,
    }


def _blas() -> str | None:
    import numpy as np

    try:
        with contextlib.redirect_stdout(io.StringIO()):
            config: Any = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}".strip()
    except Exception:
        return None


def _git() -> str | None:
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True)
    except OSError:
        return None
    if head.returncode:
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def loadavg() -> float | None:
    """1-minute load average: other processes on the machine skew every column."""
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def cpu_sample() -> tuple[float, float, float] | None:
    """(machine busy seconds, machine total seconds, this process's CPU seconds) from /proc/stat."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    except (OSError, ValueError):
        return None
    tick = float(os.sysconf("SC_CLK_TCK"))
    own = os.times()
    return (sum(values) - values[3] - values[4]) / tick, sum(values) / tick, own.user + own.system


def others_cpu_pct(start: tuple[float, float, float] | None, end: tuple[float, float, float] | None) -> float | None:
    """Share of the machine's CPU time that other processes used between two samples (noise indicator)."""
    if start is None or end is None or end[1] <= start[1]:
        return None
    others = (end[0] - start[0]) - (end[2] - start[2])
    return round(max(0.0, 100.0 * others / (end[1] - start[1])), 1)


def machine_info(env: Env) -> dict[str, Any]:
    info: dict[str, Any] = {"cpu": _cpu(), "os": platform.platform(), "python": platform.python_version()}
    info["numpy_blas"] = _blas()
    info["git"] = _git()
    torch = env.modules.get("torch")
    if torch is not None:
        info["torch_threads"] = torch.get_num_threads()
    try:
        info["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        info["memory_gib"] = None
    info["env"] = {var: os.environ.get(var) for var in THREAD_VARS}
    return info


def frameworks_info(env: Env) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in FRAMEWORKS:
        if name in env.versions:
            out[name] = {"available": True, "version": env.versions[name]}
        elif name in env.errors:
            out[name] = {"available": False, "error": env.errors[name]}
    return out


# --- tables ----------------------------------------------------------------------------------------------------
def fmt(v: float | None) -> str:
    if v is None:
        return "—"
    if v >= 1000:
        return f"{v:,.0f}"
    if v >= 100:
        return f"{v:.0f}"
    if v >= 10:
        return f"{v:.1f}"
    if v >= 1:
        return f"{v:.2f}"
    return f"{v:.3f}"


def _ratio(v: float | None) -> str:
    return "—" if v is None else f"{v:.2f}{TIMES}"


def summary_rows(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    variants: list[str] = doc["variants"]
    header = ["Workload", "unit", *variants, "others' CPU"]
    rows = []
    for key, w in doc["workloads"].items():
        busy = w.get("others_cpu_pct")
        cells = []
        for v in variants:
            r = w["results"].get(v)
            cells.append("—" if r is None else fmt(r["median"]) if r["status"] == "ok" else "n/a")
        rows.append([f"{key} {w['title']}", w["unit"], *cells, "?" if busy is None else f"{busy:.0f}%"])
    return header, rows


def _notes(w: dict[str, Any], r: dict[str, Any]) -> str:
    if r["status"] != "ok":
        return f"n/a ({r['reason']})"
    parts = []
    label = w.get("count_label")
    if label and r.get(label) is not None:
        parts.append(f"{label}: {r[label]}")
    if r.get("note"):
        parts.append(r["note"])
    return "; ".join(parts)


def detail_rows(doc: dict[str, Any]) -> tuple[list[str], list[list[str]]]:
    header = ["Workload", "Framework", "median", "IQR", f"min{DASH}max", "vs numpy", "vs torch", "notes"]
    rows = []
    for key, w in doc["workloads"].items():
        for v, r in w["results"].items():
            if r["status"] == "ok":
                stats = [f"{fmt(r['median'])} {w['unit']}", f"{fmt(r['q1'])}{DASH}{fmt(r['q3'])}",
                         f"{fmt(r['min'])}{DASH}{fmt(r['max'])}", _ratio(r.get("ratio_vs_numpy")),
                         _ratio(r.get("ratio_vs_torch"))]
            else:
                stats = ["n/a", "", "", "", ""]
            rows.append([key, v, *stats, _notes(w, r)])
    return header, rows


def render_text(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(str(c)) for c in col) for col in zip(header, *rows)]

    def line(cells: list[str]) -> str:
        return "  ".join(str(c).ljust(n) for c, n in zip(cells, widths)).rstrip()

    return "\n".join([line(header), line(["-" * n for n in widths]), *(line(r) for r in rows)])


def render_markdown(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out)


def machine_lines(doc: dict[str, Any]) -> list[str]:
    m, cpu, fws = doc["machine"], doc["machine"]["cpu"], doc["frameworks"]
    versions = []
    for name in FRAMEWORKS:
        f = fws.get(name)
        if f is None:
            versions.append(f"{name} not requested")
        elif f["available"]:
            extra = f" (BLAS {m['numpy_blas']})" if name == "numpy" and m.get("numpy_blas") else ""
            extra += f" ({m['torch_threads']} threads)" if name == "torch" and "torch_threads" in m else ""
            versions.append(f"{name} {f['version']}{extra}")
        else:
            versions.append(f"{name} not importable")
    env = ", ".join(f"{k}={v if v is not None else 'unset'}" for k, v in m["env"].items())
    isa = ", ".join(flag for flag in ("avx2", "avx512f") if cpu[flag]) or "no AVX2"
    s = doc["settings"]
    return [
        f"- CPU: {cpu['model']}, {cpu['logical_cores']} logical cores ({cpu['physical_cores']} physical, "
        f"{cpu['usable_cores']} usable), {isa}; {m['memory_gib']} GiB; {m['os']}",
        f"- Python {m['python']}; " + "; ".join(versions) + f"; commit {m['git']}",
        f"- Environment: {env}; 1-min load average {m.get('load_start')} at start, {m.get('load_end')} at end",
        f"- Settings: {s['reps']} samples per variant (fresh workloads: {s['fresh_reps']}), ~{s['sample_ms']:g} ms "
        f"per sample, {s['warmup_ms']:g} ms warm-up; torch.compile columns {'on' if s['compile'] else 'off'}"
        f"{'; quick mode' if s['quick'] else ''}",
    ]


def markdown_section(doc: dict[str, Any], json_name: str) -> str:
    parts = [
        START,
        f"Run of {doc['timestamp']} (`{doc['command']}`; JSON `benchmarks/results/{json_name}`, not committed).",
        "",
        *machine_lines(doc),
        "",
        "Medians (lower is better). \"others' CPU\": share of the machine's CPU time used by other processes "
        "while the workload ran; a high value means noisy numbers.",
        "",
        render_markdown(*summary_rows(doc)),
        "",
        f"Detail: IQR = 25th{DASH}75th percentile of the samples; vs numpy / vs torch = this median divided by "
        f"theirs (below 1{TIMES} is faster).",
        "",
        render_markdown(*detail_rows(doc)),
        END,
    ]
    return "\n".join(parts)


def rewrite_readme(readme: Path, section: str) -> None:
    text = readme.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    if not pattern.search(text):
        raise SystemExit(f"{readme}: markers {START} ... {END} not found")
    readme.write_text(pattern.sub(lambda _: section, text), encoding="utf-8")
