"""Entry point: ``python benchmarks/run.py [--quick] [--compile] [--markdown] ...`` (``hatch run bench``).

Runs workloads W1-W8 for every importable framework, interleaved in one process, prints the tables,
writes ``benchmarks/results/<timestamp>.json`` and, with ``--markdown``, the results section of README.md.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import report
from benchmarks.frameworks import COMPILE_VARIANTS, FRAMEWORKS, VARIANTS, load
from benchmarks.harness import Settings, run_workload, steps
from benchmarks.workloads import WORKLOADS

HERE = Path(__file__).resolve().parent


def _list(value: str, allowed: tuple[str, ...], what: str) -> list[str]:
    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad:
        raise argparse.ArgumentTypeError(f"unknown {what} {', '.join(bad)}; choose from {', '.join(allowed)}")
    return items


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="CI smoke: few short samples (< 30 s)")
    p.add_argument("--compile", action="store_true", help="add torch.compile columns (slow: compiles take seconds)")
    p.add_argument("--markdown", action="store_true", help="rewrite the results section of benchmarks/README.md")
    p.add_argument("--frameworks", default=",".join(FRAMEWORKS),
                   type=lambda v: _list(v, FRAMEWORKS, "framework"), help="comma list (default: all)")
    p.add_argument("--workloads", default=",".join(WORKLOADS),
                   type=lambda v: _list(v.upper(), tuple(WORKLOADS), "workload"), help="comma list, e.g. W1,W5")
    p.add_argument("--reps", type=int, help="samples per variant (default 30, quick 5)")
    p.add_argument("--fresh-reps", type=int, help="samples per variant of cold-start workloads (default 5, quick 1)")
    p.add_argument("--sample-ms", type=float, help="target time of one sample (default 25, quick 2)")
    p.add_argument("--warmup-ms", type=float, help="warm-up time per variant (default 150, quick 10)")
    p.add_argument("--output", type=Path, help="JSON path (default benchmarks/results/<timestamp>.json)")
    return p.parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    base = Settings(reps=5, sample_s=0.002, warmup_s=0.01, fresh_reps=1) if args.quick else Settings()
    return Settings(
        reps=args.reps or base.reps,
        sample_s=args.sample_ms / 1e3 if args.sample_ms else base.sample_s,
        warmup_s=args.warmup_ms / 1e3 if args.warmup_ms is not None else base.warmup_s,
        fresh_reps=args.fresh_reps or base.fresh_reps,
        quick=args.quick,
        compile=args.compile,
    )


class _NoProgress:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


def _progress(total: int) -> Any:
    try:
        from tqdm import tqdm
    except ImportError:
        return _NoProgress()
    return tqdm(total=total, desc="bench", unit="rep", file=sys.stderr, leave=False, dynamic_ncols=True)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    s = settings_from(args)
    started, load_start = time.perf_counter(), report.loadavg()
    wanted = list(dict.fromkeys(["numpy", *args.frameworks]))  # numpy is always loaded: it is the reference
    env = load(tuple(wanted))
    variants = [
        v for v, fw in VARIANTS.items()
        if fw in args.frameworks and env.available(fw) and (v not in COMPILE_VARIANTS or s.compile)
    ]
    for name, err in env.errors.items():
        print(f"note: {name} not importable ({err})", file=sys.stderr)

    workloads = [WORKLOADS[k] for k in args.workloads]
    progress = _progress(sum(steps(w, s) for w in workloads))
    results = {}
    for w in workloads:
        before = report.cpu_sample()
        measured = run_workload(w, variants, env, s, progress)
        results[w.key] = {
            "title": w.title, "unit": w.unit, "what": w.what, "count_label": w.count_label,
            "others_cpu_pct": report.others_cpu_pct(before, report.cpu_sample()), "results": measured,
        }
    progress.close()

    stamp = datetime.now(timezone.utc)
    doc: dict[str, Any] = {
        "schema": 1,
        "timestamp": stamp.isoformat(timespec="seconds"),
        "command": " ".join(["python benchmarks/run.py", *map(shlex.quote, sys.argv[1:] if argv is None else argv)]),
        "duration_s": round(time.perf_counter() - started, 1),
        "settings": {
            "reps": s.reps, "fresh_reps": s.fresh_reps, "sample_ms": s.sample_s * 1e3, "warmup_ms": s.warmup_s * 1e3,
            "quick": s.quick, "compile": s.compile, "frameworks": args.frameworks, "workloads": args.workloads,
        },
        "machine": {**report.machine_info(env), "load_start": load_start, "load_end": report.loadavg()},
        "frameworks": report.frameworks_info(env),
        "variants": variants,
        "workloads": results,
    }
    out = args.output or HERE / "results" / f"{stamp.strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")

    print("\n".join(report.machine_lines(doc)))
    print()
    print(report.render_text(*report.summary_rows(doc)))
    print()
    print(report.render_text(*report.detail_rows(doc)))
    print(f"\nJSON: {out}  ({doc['duration_s']} s)")
    if args.markdown:
        report.rewrite_readme(HERE / "README.md", report.markdown_section(doc, out.name))
        print(f"README: {HERE / 'README.md'} results section rewritten")
    return 0


if __name__ == "__main__":
    sys.exit(main())
