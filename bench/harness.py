"""What both benchmarks share: their own database and Redis DB, the processes they start
(always stopped again), the machine they ran on, and their section of docs/PERFORMANCE.md.

Everything talks to 127.0.0.1 only. A benchmark owns the database BENCH_DB and the Redis DB
BENCH_REDIS_DB: it drops/flushes them at the start and drops the database at the end.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
# Scripts run as `python bench/x.py`: make the project importable (config, tests.factories).
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BIN = Path(sys.executable).parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
# Overridable so that two benchmarks can be developed side by side (their figures are
# only worth publishing from runs that had the machine to themselves).
BENCH_DB = os.environ.get("PERENNIAL_BENCH_DB", "perennial_bench")
DATABASE_URL = f"postgres://postgres@127.0.0.1:5432/{BENCH_DB}"
BENCH_REDIS_DB = int(os.environ.get("PERENNIAL_BENCH_REDIS_DB", "5"))
REDIS_URL = f"redis://127.0.0.1:6379/{BENCH_REDIS_DB}"
# Deliveries in the benchmarks are signed with this, and the app is started with it.
APP_SECRET = "perennial-bench-secret-0123456789abcdef"
SHOP = "bench.myshopify.com"
PERFORMANCE_MD = ROOT / "docs" / "PERFORMANCE.md"

INTRO = """\
# Performance

Two benchmarks, one command each. Each prints its figures and replaces its own section
below; the text outside the sections is kept. Both need PostgreSQL and Redis on
127.0.0.1 (as in `.ci/run`) and talk to nothing else. Each creates and drops its own
database (`perennial_bench`) and uses Redis DB 5 (flushed at the start), so do not run
them at the same time.

- `.venv/bin/python bench/intake.py [--duration 30] [--connections 8] [--web-workers 2]`:
  signed `orders/create` deliveries sent by `wrk` (installed with apt-get when missing) to
  the app served as in the Procfile, beside a no-op Django view and a minimal durable
  intake (plain WSGI: HMAC, one committed INSERT, one Redis LPUSH), all under the same
  gunicorn. Throughput and acknowledgement latency, with a dramatiq worker running and
  with none. About 2.5 minutes at the default duration.
- `.venv/bin/python bench/crediting.py [--orders 20000]`: stores N signed order deliveries
  in the inbox, starts one worker process (`dramatiq config.worker --processes 1
  --threads 8`), sends them all to it and times crediting until every one is processed;
  then checks the ledger (`manage.py check_ledger`) and the total points. About 3 minutes.

Both take `--profile SECONDS` (py-spy, pip-installed when missing) to print where the
app's time goes, and `--no-write` to leave this file alone. Processes, logs and py-spy
output are under `bench/logs/` (not committed). The machine is shared with whatever else
runs on it: the "other" CPU figure and the load average say how much that was.
"""


def section_markers(name: str) -> tuple[str, str]:
    return f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"


def publish(
    name: str, text: str, *, write: bool, document: Path = PERFORMANCE_MD, intro: str = INTRO
) -> None:
    """Print a benchmark's report and, unless told not to, put it in its document
    (PERFORMANCE.md; the fault drills pass RELIABILITY.md)."""
    print()
    print(text)
    if write:
        write_section(name, text, document=document, intro=intro)
        print(f"\nwritten to {document.relative_to(ROOT)}")


def write_section(
    name: str, text: str, *, document: Path = PERFORMANCE_MD, intro: str = INTRO
) -> None:
    """Replace this benchmark's section of its document (append it if absent; start the
    document with `intro` if there is none)."""
    start, end = section_markers(name)
    block = f"{start}\n{text.rstrip()}\n{end}"
    current = document.read_text() if document.exists() else intro
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(current):
        updated = pattern.sub(lambda _: block, current)
    else:
        updated = current.rstrip() + "\n\n" + block + "\n"
    document.parent.mkdir(parents=True, exist_ok=True)
    document.write_text(updated)


def verdict(passed: bool) -> str:
    return "PASS" if passed else "FAIL"


# Machine


def machine_summary() -> str:
    """One line: date, cores, memory, CPU model, and the versions that shape the figures."""
    memory_gib = 0.0
    with contextlib.suppress(OSError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory_gib = int(line.split()[1]) / 1024 / 1024
    cpu = platform.processor() or "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import django
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        postgres = conn.execute("SHOW server_version").fetchone()[0]
    redis_version = _redis().info("server").get("redis_version", "?")
    load = os.getloadavg()[0]
    return (
        f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, app at {_commit()}; "
        f"{os.cpu_count()} cores ({cpu}), "
        f"{memory_gib:.1f} GiB memory; Python {platform.python_version()}, "
        f"Django {django.get_version()}, PostgreSQL {postgres}, Redis {redis_version}; "
        f"load average {load:.2f} at the start"
    )


def _commit() -> str:
    """The commit the app was measured at, and whether its code had local changes."""
    git = ["git", "-C", str(ROOT)]
    head = subprocess.run([*git, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    if head.returncode != 0:
        return "an unknown commit"
    changed = subprocess.run(
        [*git, "status", "--porcelain", "--", "config", "loyalty", "webhooks"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    return f"commit {head.stdout.strip()}" + (" with local changes" if changed else "")


# Database and Redis


def _redis():
    import redis

    return redis.Redis.from_url(REDIS_URL)


def redis_flush() -> None:
    _redis().flushdb()


def database_url(name: str = BENCH_DB) -> str:
    """The DATABASE_URL of a benchmark's database on 127.0.0.1."""
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def database_create(name: str = BENCH_DB) -> None:
    """Drop and create a bench database, then migrate it as the Procfile's release does."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {name}")
    # No collectstatic: it writes STATIC_ROOT outside bench/, and no webhook serves static.
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
        cwd=ROOT,
        env=app_env(DATABASE_URL=database_url(name)),
        check=True,
        timeout=300,
    )


def database_drop(name: str = BENCH_DB) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def database_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
    return found is not None


def bench_db(name: str = BENCH_DB):
    """A plain psycopg connection to a bench database (autocommit)."""
    import psycopg

    return psycopg.connect(
        database_url(name).replace("postgres://", "postgresql://"), autocommit=True
    )


def truncate_app_tables() -> None:
    """Empty the inbox and every loyalty table, so the next case starts from nothing."""
    with bench_db() as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND "
                "(tablename LIKE 'loyalty\\_%' OR tablename LIKE 'webhooks\\_%' "
                "OR tablename LIKE 'bench\\_%')"
            )
        ]
        conn.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")


UNREACHED_LIMIT = "1000000000/60"


def app_env(**extra: str) -> dict[str, str]:
    """The environment of a deploy (README, "Environment"), pointed at the bench services."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DATABASE_URL=DATABASE_URL,
        DRAMATIQ_BROKER_URL=REDIS_URL,
        DEBUG="False",
        SECRET_KEY="perennial-bench-secret-key",
        SHOPIFY_API_SECRET=APP_SECRET,
        SHOPIFY_API_SECRET_PREVIOUS="",
        APP_URL="http://127.0.0.1:8000",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PATH=f"{BIN}{os.pathsep}{env.get('PATH', '')}",
        # One client on one address, as fast as it can: the rate limits still count every
        # request (their cost is in the figures) but never refuse one (docs/abuse.md).
        RATE_LIMIT_PROXY=UNREACHED_LIMIT,
        RATE_LIMIT_PROXY_IP=UNREACHED_LIMIT,
        RATE_LIMIT_ADMIN_API=UNREACHED_LIMIT,
    )
    env.update(extra)
    return env


def django_setup(**extra: str) -> None:
    """Set Django up in this process against the bench services (for factories and jobs);
    `extra` overrides the environment as in `app_env`."""
    os.environ.update(app_env(**extra))
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings"
    import django

    django.setup()


def django_close() -> None:
    """Close this process's database connections, if Django was set up at all."""
    from django.conf import settings

    if settings.configured:
        from django.db import connections

        connections.close_all()


def cleanup(processes: Processes) -> None:
    """Stop every process a benchmark started, flush its Redis DB and drop its database;
    each step runs even when an earlier one fails."""
    processes.stop_all()
    for step in (redis_flush, django_close, database_drop):
        try:
            step()
        except Exception as error:  # noqa: BLE001 - report it and go on cleaning up
            print(f"cleanup: {step.__name__} failed: {error}", file=sys.stderr)


# Processes


@dataclass
class Processes:
    """Every process group a benchmark starts; `stop_all` ends them, whatever happened."""

    log_dir: Path
    started: list[subprocess.Popen] = field(default_factory=list)
    logs: list[IO[bytes]] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> subprocess.Popen:
        log = (self.log_dir / f"{name}.log").open("wb")
        self.logs.append(log)
        # Its own session: stopping the group also stops the children it forks (gunicorn
        # and dramatiq workers), and a Ctrl-C in our terminal does not reach it first.
        process = subprocess.Popen(
            argv, cwd=ROOT, env=dict(env), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        self.started.append(process)
        return process

    def log_text(self, name: str) -> str:
        path = self.log_dir / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, process: subprocess.Popen, *, grace: float = 20.0) -> None:
        """SIGTERM the leader, SIGKILL its group if anything is left after `grace` s."""
        if process.poll() is None:
            # The leader only: gunicorn's and dramatiq's main processes pass it on to their
            # children, and a second SIGTERM would make a dramatiq worker quit at once.
            with contextlib.suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=grace)
        # The leader may be gone while children it forked into its group are still alive.
        if _group_members(process.pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=5)
        if process in self.started:
            self.started.remove(process)

    def stop_all(self) -> None:
        for process in list(self.started):
            self.stop(process, grace=10.0)
        for log in self.logs:
            log.close()


def _group_members(pgid: int) -> list[int]:
    """Live processes of a process group (read from /proc, so nothing else is signalled)."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            # Field 5 is the group; split after the command name, which may hold spaces.
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                members.append(int(stat.parent.name))
    return members


@contextlib.contextmanager
def terminated_cleanly() -> Iterator[None]:
    """Turn SIGTERM and SIGHUP into SystemExit, so `finally` blocks stop what we started."""

    def leave(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    previous = {s: signal.signal(s, leave) for s in (signal.SIGTERM, signal.SIGHUP)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, *, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server on port {port} exited with {process.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def wait_for_log(processes: Processes, name: str, text: str, *, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if text in processes.log_text(name):
            return
        time.sleep(0.2)
    raise RuntimeError(f"{name} did not log {text!r} within {timeout:.0f} s")


def gunicorn_argv(app: str, *, port: int, workers: int) -> list[str]:
    """The Procfile's `web:` line, bound to loopback."""
    return [
        str(BIN / "gunicorn"), app,
        "--bind", f"127.0.0.1:{port}",
        "--workers", str(workers),
        "--access-logfile", "-",
        "--graceful-timeout", "20",
    ]  # fmt: skip


def dramatiq_argv(*, processes: int = 1, threads: int = 8) -> list[str]:
    """The Procfile's `worker:` line."""
    return [
        str(BIN / "dramatiq"), "config.worker",
        "--processes", str(processes),
        "--threads", str(threads),
    ]  # fmt: skip


WORKER_READY = "is ready for action"


def ensure_wrk() -> str:
    """The path of wrk, installed from Debian's packages when it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    print("wrk is missing: installing it with apt-get", flush=True)
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, check=False, timeout=600).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True, timeout=600)
        subprocess.run(install, check=True, timeout=600)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is still missing after apt-get install wrk")
    return found


def scheduler_argv() -> list[str]:
    """The Procfile's `scheduler:` line (it enqueues the sweeper and the periodic jobs)."""
    return [sys.executable, "manage.py", "crontab", "--no-heartbeat"]
