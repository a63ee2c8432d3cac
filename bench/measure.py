"""Where a benchmark's time goes: CPU per component from /proc, and py-spy profiles of
the app's processes, summarised by the app's own lines."""

from __future__ import annotations

import contextlib
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from harness import BENCH_DB, BIN, ROOT, Processes


@dataclass(frozen=True)
class CpuSample:
    """CPU seconds used so far: per process of interest (with its component), by this
    process's waited-for children, and by the whole machine."""

    processes: dict[int, tuple[str, float]]
    children: float
    machine: float


def cpu_sample(groups: Mapping[str, int]) -> CpuSample:
    """Read /proc: the processes of each named process group, and PostgreSQL's and Redis's
    (PostgreSQL backends only when they serve the bench database, so another project's
    tests on the same server count as "other")."""
    tick = os.sysconf("SC_CLK_TCK")
    names = {pgid: name for name, pgid in groups.items()}
    found: dict[int, tuple[str, float]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            text = stat.read_text()
            command = text[text.index("(") + 1 : text.rindex(")")]
            fields = text.rsplit(")", 1)[1].split()
            # Fields 5, 14 and 15 of proc(5): group, user and system time in ticks.
            group, ticks = int(fields[2]), int(fields[11]) + int(fields[12])
            name = names.get(group)
            if name is None and command.startswith("postgres"):
                name = _postgres_component(stat.parent / "cmdline")
            elif name is None and command.startswith("redis-server"):
                name = "Redis"
            if name is not None:
                found[int(stat.parent.name)] = (name, ticks / tick)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy.
    machine = sum(int(busy[i]) for i in (0, 1, 2, 5, 6, 7)) / tick
    return CpuSample(found, children.ru_utime + children.ru_stime, machine)


def _postgres_component(cmdline: Path) -> str | None:
    # A backend's title is "postgres: 15/main: USER DATABASE HOST STATE"; the postmaster's
    # and the background processes' titles name no database.
    title = cmdline.read_text().replace("\0", " ").split(": ")
    words = title[-1].split() if len(title) >= 3 else []
    if len(words) >= 3 and "(" in words[2] and words[1] != BENCH_DB:
        return None
    return "PostgreSQL"


class CpuMeter:
    """Cores each component keeps busy from now on (CPU seconds / wall seconds).

    Call `sample` every second or so: a process that ends (a database connection that
    Django recycles after CONN_MAX_AGE) keeps the CPU time it had when last sampled. One
    that starts in between counts whole. `children` names what this process waits for in
    between (wrk); "other" is the rest of the machine's busy time.
    """

    def __init__(self, groups: Mapping[str, int], *, children: str | None = None) -> None:
        self.groups = dict(groups)
        self.children = children
        self.first = self.last = cpu_sample(self.groups)
        self.seen = dict(self.first.processes)
        self.started = time.monotonic()

    def sample(self) -> None:
        self.last = cpu_sample(self.groups)
        self.seen.update(self.last.processes)

    def cores(self) -> dict[str, float]:
        self.sample()
        used: dict[str, float] = {}
        for pid, (name, total) in self.seen.items():
            previous = self.first.processes.get(pid, (name, 0.0))[1]
            used[name] = used.get(name, 0.0) + max(total - previous, 0.0)
        if self.children:
            used[self.children] = self.last.children - self.first.children
        machine = self.last.machine - self.first.machine
        used["other"] = max(machine - sum(used.values()), 0.0)
        seconds = time.monotonic() - self.started
        return {name: cpu / seconds for name, cpu in used.items()}


def ensure_py_spy() -> str:
    """The path of py-spy (a sampling profiler), pip-installed into this venv if missing."""
    found = shutil.which("py-spy", path=str(BIN)) or shutil.which("py-spy")
    if found:
        return found
    print("py-spy is missing: installing it with pip", flush=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "py-spy"], check=True)
    found = shutil.which("py-spy", path=str(BIN))
    if not found:
        raise RuntimeError("py-spy is still missing after pip install py-spy")
    return found


def profile_start(
    processes: Processes, name: str, *, pid: int, seconds: int, output: Path, gil: bool = False
) -> subprocess.Popen:
    """Sample `pid` and its children for `seconds` (py-spy stops by itself).

    With `gil`, only threads holding the GIL are sampled: where a process whose threads
    share one core spends that core. Otherwise idle samples are kept too, so waits on
    PostgreSQL and Redis show beside CPU."""
    argv = [
        ensure_py_spy(), "record", "--pid", str(pid), "--subprocesses",
        "--gil" if gil else "--idle", "--nonblocking", "--rate", "100", "--duration", str(seconds),
        "--format", "raw", "--output", str(output),
    ]  # fmt: skip
    return processes.start(name, argv, os.environ)


def profile_summary(path: Path, *, within: str, top: int = 20) -> str:
    """Where the samples inside `within` (a function of the app) went, by the innermost
    line of the app's own code on the stack, each split into time spent waiting on a
    socket (PostgreSQL, Redis) and the rest (running Python, or waiting for the GIL)."""
    project = re.compile(r"\((?:.*/)?((?:webhooks|loyalty|config)/[^:]+):(\d+)\)$")
    waits = ("Connection.wait ", "SocketBuffer._read_from_socket ", "wait_conn ")
    inside = 0
    by_line: dict[tuple[str, int, str], list[int]] = {}
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        starts = [i for i, frame in enumerate(frames) if frame.startswith(within + " ")]
        if not starts:
            continue
        frames = frames[starts[0] :]
        inside += int(count)
        own = [(m, f) for f in frames if (m := project.search(f))]
        match, frame = own[-1]
        key = (match.group(1), int(match.group(2)), frame.split(" (")[0])
        waiting = any(f.startswith(waits) for f in frames)
        shares = by_line.setdefault(key, [0, 0])
        shares[1 if waiting else 0] += int(count)
    if not inside:
        return f"no samples inside {within}"
    lines = [
        f"{inside} samples inside {within}, by the innermost line of app code "
        "(share of all; of it running / waiting on a socket):"
    ]
    ranked = sorted(by_line.items(), key=lambda item: -sum(item[1]))[:top]
    for (file, number, function), (running, waiting) in ranked:
        source = ""
        with contextlib.suppress(OSError, IndexError):
            source = (ROOT / file).read_text().splitlines()[number - 1].strip()[:60]
        lines.append(
            f"  {100 * (running + waiting) / inside:5.1f}%  ({100 * running / inside:4.1f} / "
            f"{100 * waiting / inside:4.1f})  {function} {file}:{number}  {source}"
        )
    return "\n".join(lines)


@dataclass
class GroupMemory:
    """Peak resident memory of one process group, in kB: its leader (gunicorn's master,
    dramatiq's main process), its largest other process (a worker), and the largest sum
    of the whole group's resident memory at one sample."""

    leader_kb: int = 0
    largest_child_kb: int = 0
    sum_kb: int = 0
    children: int = 0


class MemoryMeter:
    """Peak resident memory (RSS) of the processes of named process groups.

    Call `sample` every second: it reads each process's VmRSS from /proc, and keeps its
    VmHWM too (the kernel's own peak of that process, which catches a peak between two
    samples). A sum counts pages a forked worker still shares with its master in both, so
    it is an upper bound of what the group uses.
    """

    def __init__(self, groups: Mapping[str, int]) -> None:
        self.groups = dict(groups)
        self.peak: dict[int, int] = {}
        self.member_of: dict[int, str] = {}
        self.sum_peak: dict[str, int] = dict.fromkeys(self.groups, 0)

    def sample(self) -> None:
        names = {pgid: name for name, pgid in self.groups.items()}
        sums = dict.fromkeys(self.groups, 0)
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                name = names.get(int(fields[2]))
                if name is None or fields[0] == "Z":
                    continue
                rss, hwm = _resident_kb(stat.parent / "status")
                pid = int(stat.parent.name)
                self.member_of[pid] = name
                self.peak[pid] = max(self.peak.get(pid, 0), rss, hwm)
                sums[name] += rss
        for name, total in sums.items():
            self.sum_peak[name] = max(self.sum_peak[name], total)

    def peaks(self) -> dict[str, GroupMemory]:
        found = {name: GroupMemory(sum_kb=self.sum_peak[name]) for name in self.groups}
        for pid, name in self.member_of.items():
            group = found[name]
            if pid == self.groups[name]:
                group.leader_kb = self.peak[pid]
            else:
                group.largest_child_kb = max(group.largest_child_kb, self.peak[pid])
                group.children += 1
        return found


def _resident_kb(status: Path) -> tuple[int, int]:
    values = {"VmRSS": 0, "VmHWM": 0}
    for line in status.read_text().splitlines():
        # "VmRSS:\t  123456 kB"
        key, _, rest = line.partition(":")
        if key in values:
            values[key] = int(rest.split()[0])
    return values["VmRSS"], values["VmHWM"]


class RssMeter:
    """Peak resident memory (VmRSS, from /proc) of every process of the named process
    groups, each sampled when `sample` is called (every second or so): the group's leader
    (dramatiq's or gunicorn's main process) and each child it forks, apart."""

    def __init__(self, groups: Mapping[str, int]) -> None:
        self.groups = dict(groups)
        # pid -> (group name, leader or not, peak bytes)
        self.peaks: dict[int, tuple[str, bool, int]] = {}

    def sample(self) -> None:
        names = {pgid: name for name, pgid in self.groups.items()}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, ValueError, IndexError):
                group = int(stat.read_text().rsplit(")", 1)[1].split()[2])
                if group not in names:
                    continue
                pid = int(stat.parent.name)
                status = (stat.parent / "status").read_text()
                rss = int(status.split("VmRSS:", 1)[1].split()[0]) * 1024
                peak = max(rss, self.peaks.get(pid, ("", False, 0))[2])
                self.peaks[pid] = (names[group], pid == group, peak)

    def peak_by_process(self, group: str) -> list[tuple[int, bool, int]]:
        """(pid, is the leader, peak bytes) of each process of `group`, leader first."""
        found = [(pid, leader, peak) for pid, (name, leader, peak) in self.peaks.items()
                 if name == group]  # fmt: skip
        return sorted(found, key=lambda item: (not item[1], item[0]))
