"""Fuzz every loader with hypothesis: at least 100,000 cases, in parallel, with a report.

    python bench/fuzz.py [--cases 100000] [--jobs N] [--only graph,npz,...] [--no-tracemalloc]
                         [--trace-chunks N] [--seed S]

The targets are those of ``tests/fuzz_cases.py`` (graph files, npz, IDX, PNG, PNM, image
folders, checkpoints, typed values). A case fails when the loader raises anything but its
own typed error, takes over 10 s of CPU time, or allocates (peak traced by ``tracemalloc``) more than
``--alloc-limit`` bytes while the limits are lowered to ``max_elements = 2**22`` and
``max_file_bytes = 2**25``. Failures do not stop the run: each is counted and the first
few of each kind are printed. The report gives cases, failures, the slowest case and the
case with the highest peak memory per target, and the peak RSS of the workers.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import time
import traceback
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

HANG_S = 10.0
BATCH = 10


def warm_up(name: str) -> None:
    """Imports and cached documents outside the measured cases (Qt's import takes seconds)."""
    import fuzz_cases
    from graph.model import templates

    if name == "typed_value":
        import app.inspector  # noqa: F401
        import app.stepping.inputs  # noqa: F401
    for template in ["small_trained", *templates.names()]:
        fuzz_cases._template_doc(template)
    fuzz_cases._checkpoint_state_json()


def run_chunk(job: tuple) -> dict:
    """Run ``n`` hypothesis cases of one target in this process; return the statistics."""
    name, n, seed, alloc_limit, trace = job
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hseed
    from hypothesis import strategies as st

    from fuzz_cases import TARGETS
    from graph.model import limits

    limits.override(max_elements=2 ** 22, max_file_bytes=2 ** 25)
    strategy, check = TARGETS[name]
    warm_up(name)
    stats = {"target": name, "cases": 0, "failures": [], "slowest": (0.0, ""), "peak": (0, "")}
    if trace:
        tracemalloc.start()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)

        # BATCH cases per hypothesis example: its per-example bookkeeping cost more than most cases
        @hseed(seed)
        @settings(max_examples=-(-n // BATCH), deadline=None, database=None, derandomize=False,
                  suppress_health_check=list(HealthCheck))
        @given(cases=st.lists(strategy, min_size=BATCH, max_size=BATCH))
        def batch(cases):
            for case in cases:
                one(case)

        def one(case):
            stats["cases"] += 1
            if trace:
                tracemalloc.reset_peak()
            t0, c0 = time.perf_counter(), time.process_time()
            problem = None
            try:
                check(case, folder)
            except Exception as exc:  # noqa: BLE001 - the fuzzer records every escape
                problem = f"{type(exc).__name__}: {' '.join(str(exc).split())[:160]}\n" + \
                          "".join(traceback.format_tb(exc.__traceback__)[-2:])
            # CPU seconds decide a hang: on a crowded machine wall time mostly counts waiting
            seconds, wall = time.process_time() - c0, time.perf_counter() - t0
            stats["slowest_wall"] = max(stats.get("slowest_wall", 0.0), wall)
            peak = tracemalloc.get_traced_memory()[1] if trace else 0
            desc = repr(case)[:120]
            if seconds > stats["slowest"][0]:
                stats["slowest"] = (seconds, desc)
            if peak > stats["peak"][0]:
                stats["peak"] = (peak, desc)
            if problem is None and seconds > HANG_S:
                problem = f"hang: {seconds:.1f} s"
            if problem is None and peak > alloc_limit:
                problem = f"allocation: peak {peak / 2 ** 20:.0f} MiB over {alloc_limit / 2 ** 20:.0f} MiB"
            if problem is not None:
                stats["failures"].append((problem, desc))

        batch()
    stats["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return stats


def main() -> int:
    from fuzz_cases import TARGETS

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000, help="total cases over all targets")
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--chunk", type=int, default=2000, help="cases per worker task")
    ap.add_argument("--only", default="", help="comma-separated targets (default: all)")
    ap.add_argument("--alloc-limit", type=int, default=256 * 2 ** 20)
    ap.add_argument("--no-tracemalloc", action="store_true")
    ap.add_argument("--trace-chunks", type=int, default=1 << 30,
                    help="trace allocations in only the first N chunks of each target (tracemalloc "
                         "slows every case; the rest still count failures, hangs and RSS)")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    names = [n for n in (args.only.split(",") if args.only else TARGETS) if n]
    per_target = -(-args.cases // len(names))
    jobs, seed = [], args.seed
    for name in names:
        left, k = per_target, 0
        while left > 0:
            n = min(args.chunk, left)
            jobs.append((name, n, seed, args.alloc_limit, not args.no_tracemalloc and k < args.trace_chunks))
            seed, left, k = seed + 1, left - n, k + 1
    t0 = time.perf_counter()
    totals: dict = {}
    if args.jobs > 1:
        pool = mp.get_context("spawn").Pool(args.jobs, maxtasksperchild=1)
        results = pool.imap_unordered(run_chunk, jobs)
    else:   # in this process: nothing to lose to a broken pipe on a crowded machine
        pool, results = None, map(run_chunk, jobs)
    try:
        for stats in results:
            t = totals.setdefault(stats["target"], {"cases": 0, "failures": [], "slowest": (0.0, ""),
                                                    "peak": (0, ""), "rss_mib": 0.0})
            t["cases"] += stats["cases"]
            t["failures"] += stats["failures"]
            t["slowest"] = max(t["slowest"], stats["slowest"])
            t["peak"] = max(t["peak"], stats["peak"])
            t["rss_mib"] = max(t["rss_mib"], stats["rss_mib"])
            t["slowest_wall"] = max(t.get("slowest_wall", 0.0), stats.get("slowest_wall", 0.0))
            first = f"; first: {stats['failures'][0][0].splitlines()[0]}" if stats["failures"] else ""
            print(f"  {stats['target']}: +{stats['cases']} cases, {len(stats['failures'])} failures{first}", flush=True)
    finally:
        if pool is not None:
            pool.close()
    seconds = time.perf_counter() - t0
    print(f"\n{'target':<14}{'cases':>9}{'failures':>10}{'slowest s':>11}{'peak MiB':>10}{'worker RSS MiB':>16}")
    for name in names:
        t = totals[name]
        print(f"{name:<14}{t['cases']:>9}{len(t['failures']):>10}{t['slowest'][0]:>11.2f}"
              f"{t['peak'][0] / 2 ** 20:>10.1f}{t['rss_mib']:>16.0f}")
    cases = sum(t["cases"] for t in totals.values())
    failures = [(n, f) for n, t in totals.items() for f in t["failures"]]
    worst = max(((t["peak"], n) for n, t in totals.items()), default=((0, ""), ""))
    slow = max(((t["slowest"], n) for n, t in totals.items()), default=((0.0, ""), ""))
    print(f"\n{cases:,} cases in {seconds:.0f} s on {args.jobs} processes; {len(failures)} failures")
    print(f"worst peak memory: {worst[0][0] / 2 ** 20:.1f} MiB ({worst[1]}: {worst[0][1]})")
    print(f"slowest case: {slow[0][0]:.2f} s CPU ({slow[1]}: {slow[0][1]}); slowest wall time "
          f"{max(t.get('slowest_wall', 0.0) for t in totals.values()):.2f} s")
    for name, (problem, desc) in failures[:20]:
        print(f"\nFAIL {name}: {problem}\n  case: {desc}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
