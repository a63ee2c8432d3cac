"""bench/intake.py's own arithmetic: the windows a held run is cut into, the degradation
verdict, and the memory sampling (the benchmark itself runs by hand: docs/PERFORMANCE.md)."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

# The benchmarks run as scripts (`python bench/intake.py`) and import each other by name.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))

import intake  # noqa: E402
import measure  # noqa: E402
from intake_report import CASES, Result, Window, report  # noqa: E402


def window(start: float, rps: float, p99_ms: float, *, web_cores: float = 0.5) -> Window:
    return Window(
        start=start, seconds=60.0, completed=int(rps * 60), p50_ms=p99_ms / 2, p99_ms=p99_ms,
        max_ms=p99_ms * 2, sent=int(rps * 60) + 8, acknowledged=int(rps * 60), refused=0,
        refused_status=0, socket_errors=0, exhausted=False,
        cores={"web": web_cores, "other": 0.1}, load=1.0,
    )  # fmt: skip


def held(*windows: Window) -> Result:
    case = next(c for c in CASES if c.name == "app_worker")
    return Result(case=case, windows=list(windows), stored=None, cores={}, memory={})


def test_a_held_run_is_cut_into_whole_windows_and_a_last_shorter_one():
    assert intake.window_lengths(600, 60) == [60] * 10
    assert intake.window_lengths(130, 60) == [60, 60, 10]
    assert intake.window_lengths(30, 60) == [30]


@pytest.mark.parametrize(
    ("last_rps", "last_p99", "kept_up"),
    [
        (1000, 12.0, True),  # the same
        (905, 14.9, True),  # within 10% and 5 ms
        (1200, 9.0, True),  # better is never degradation
        (890, 12.0, False),  # throughput fell 11%
        (1000, 15.5, False),  # p99 rose 5.5 ms
    ],
)
def test_degradation_compares_the_last_window_with_the_first(last_rps, last_p99, kept_up):
    result = held(window(0, 1000, 10.0), window(60, 500, 40.0), window(120, last_rps, last_p99))

    verdict, text = result.degradation()

    assert verdict is kept_up
    assert text.startswith(f"1,000 → {last_rps:,} req/s")


def test_a_case_is_judged_by_its_worst_window_and_its_total_throughput():
    result = held(window(0, 1000, 10.0), window(60, 800, 30.0))

    assert result.p99_ms == 30.0
    assert result.requests_per_second == pytest.approx(900, abs=1)
    # Web CPU per request: 0.5 cores over 1,000 and 800 requests a second.
    assert [w.web_cpu_ms for w in result.windows] == [pytest.approx(0.5), pytest.approx(0.625)]


def test_memory_is_sampled_for_a_process_group_leader_and_its_children():
    # A leader that forks one child holding about 30 MB.
    script = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    block = b'x' * (30 * 1024 * 1024)\n"
        "    time.sleep(30)\n"
        "else:\n"
        "    time.sleep(30)\n"
    )
    leader = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    try:
        meter = measure.MemoryMeter({"web": leader.pid})
        deadline = time.monotonic() + 10
        while meter.peaks()["web"].largest_child_kb < 30 * 1024 and time.monotonic() < deadline:
            meter.sample()
            time.sleep(0.1)
        peaks = meter.peaks()["web"]
    finally:
        os.killpg(leader.pid, signal.SIGKILL)
        leader.wait()

    assert peaks.children == 1
    assert 30 * 1024 <= peaks.largest_child_kb < 80 * 1024
    assert 0 < peaks.leader_kb < peaks.largest_child_kb
    assert peaks.sum_kb >= 30 * 1024 + peaks.leader_kb // 2


def test_the_report_judges_each_app_case_and_says_what_else_used_the_machine():
    memory = {"web": measure.GroupMemory(26 * 1024, 80 * 1024, 187 * 1024, 2)}
    worker_memory = {**memory, "worker": measure.GroupMemory(26 * 1024, 90 * 1024, 0, 1)}
    results = []
    for case in CASES:
        windows = (
            [window(0, 1000, 10.0), window(60, 990, 70.0)]
            if case.held
            else [window(0, 2000 if case.name != "floor" else 1500, 8.0)]
        )
        results.append(
            Result(
                case=case, windows=windows, stored=None if case.table is None else 10**6,
                cores={"web": 0.8, "other": 0.4}, processed=100, failed=0,
                waiting_after=5, memory=worker_memory if case.worker else memory,
            )
        )  # fmt: skip
    args = SimpleNamespace(
        web_workers=2, wrk_threads=2, connections=8, window=60, warmup=200, baseline=60,
        hold=120, backlog=1000,
    )  # fmt: skip

    text = report(results, args, machine="a test", load_after=1.0, body_bytes=3700)

    assert (
        "| App intake held, worker running: p99 < 50 ms at 8 connections, every window | "
        "70.0 ms (other programs took 0.10 cores in that window) | FAIL |" in text
    )
    assert (
        "| App intake, no worker, empty inbox: throughput ≥ 60% of the minimal durable "
        "intake | 133% (2,000 of 1,500 req/s; worst window 133%; other programs took 0.40 "
        "cores, during the floor's run 0.40) | PASS |" in text
    )
    assert "peak RSS of each worker process < 200 MB | 90 MB | PASS |" in text
    # Nothing can be stored that was not sent: a million stored of 119,416 sent is wrong.
    assert text.count("every delivery acknowledged 2xx and stored") == len(CASES)
    assert "1000000 stored of 119400 acknowledged | FAIL |" in text
