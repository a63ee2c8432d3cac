"""PostgreSQL's own ceiling on this machine, measured by pgbench in a benchmark's database
(its pgbench_* tables beside the app's, dropped again afterwards), so that a benchmark's
figures can be read against what the database alone does with the same client count."""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from dataclasses import dataclass

import harness
import measure

PGBENCH_TABLES = "pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers"


@dataclass(frozen=True)
class PgbenchRun:
    script: str
    clients: int
    seconds: int
    tps: float
    latency_ms: float
    # Cores in use during the run: PostgreSQL, pgbench itself, the rest of the machine.
    cores: dict[str, float]


def pgbench_path() -> str:
    found = shutil.which("pgbench")
    if not found:
        raise RuntimeError("pgbench is missing: it comes with the PostgreSQL client package")
    return found


def pgbench_ceiling(*, clients: int, seconds: int, scale: int) -> list[PgbenchRun]:
    """`pgbench -i -s scale`, then a tpcb-like and a select-only run of `seconds` each with
    `clients` connections, in the bench database; the pgbench tables are dropped after."""
    pgbench = pgbench_path()
    target = ["-h", "127.0.0.1", "-p", "5432", "-U", "postgres", harness.BENCH_DB]
    subprocess.run(
        [pgbench, "-i", "-q", "-s", str(scale), *target],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    runs = []
    try:
        for script, flags in (("tpcb-like", []), ("select-only", ["-S"])):
            meter = measure.CpuMeter({}, children="pgbench")
            # -j 2: one pgbench thread per core; -n: the tables were vacuumed by -i.
            argv = [pgbench, *flags, "-n", "-c", str(clients), "-j", "2", "-T", str(seconds),
                    *target]  # fmt: skip
            with subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  text=True) as done:  # fmt: skip
                # pgbench's backends live only as long as the run: sample them meanwhile.
                while done.poll() is None:
                    meter.sample()
                    time.sleep(0.5)
                output, errors = done.communicate()
            if done.returncode != 0:
                raise RuntimeError(f"pgbench {script} exited with {done.returncode}: {errors}")
            runs.append(
                PgbenchRun(
                    script=script,
                    clients=clients,
                    seconds=seconds,
                    tps=_figure(output, r"^tps = ([\d.]+)"),
                    latency_ms=_figure(output, r"^latency average = ([\d.]+) ms"),
                    cores=meter.cores(),
                )
            )
    finally:
        with harness.bench_db() as conn:
            conn.execute(f"DROP TABLE IF EXISTS {PGBENCH_TABLES}")
    return runs


def _figure(output: str, pattern: str) -> float:
    found = re.search(pattern, output, re.MULTILINE)
    if found is None:
        raise RuntimeError(f"pgbench printed no {pattern!r}:\n{output}")
    return float(found.group(1))
