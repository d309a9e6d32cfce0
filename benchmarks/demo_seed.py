"""How long the demo seed of the first ``make run`` takes, in one process and on a pool.

Runs ``python -m tracker demo seed`` (what ``make run`` runs) into a scratch data directory
and SQLite database once per worker count, and prints the wall-clock time and the CPU
seconds of the command and its worker processes. ``--quick`` seeds 3 patients over 5
sessions instead of the full 12 over 10 (168 photos).

    python benchmarks/demo_seed.py [--quick] [--workers 1 2]
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def seed_once(workers: int, *, quick: bool) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the seed command and its children)."""
    with tempfile.TemporaryDirectory(prefix="demo-seed-bench-") as scratch:
        env = {
            **os.environ,
            "TRACKER_DATA_DIR": scratch,
            "DATABASE_URL": f"sqlite:///{scratch}/tracker.db",
        }
        size = ["--patients", "3", "--sessions", "5"] if quick else []
        command = [sys.executable, "-m", "tracker", "demo", "seed", "--workers", str(workers)]
        subprocess.run(
            [sys.executable, "-m", "tracker", "db", "upgrade"],
            cwd=REPO,
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run([*command, *size], cwd=REPO, env=env, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 patients over 5 sessions")
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args()
    print(f"demo seed ({'quick' if args.quick else 'full'}), load {os.getloadavg()[0]:.1f}")
    print(f"{'workers':>8} {'wall s':>8} {'CPU s':>8}")
    for workers in args.workers:
        wall, cpu = seed_once(workers, quick=args.quick)
        print(f"{workers:>8} {wall:>8.1f} {cpu:>8.1f}", flush=True)
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
