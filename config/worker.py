"""Entry point for `dramatiq config.worker`: set Django up, then load every actor."""

import contextlib
import os
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from django.conf import settings  # noqa: E402

import config.jobs  # noqa: E402,F401
import loyalty.tasks  # noqa: E402,F401
import webhooks.tasks  # noqa: E402,F401


def _yield_cpu_to_web(niceness: int) -> None:
    """On a machine the worker shares with the web process, acknowledging Shopify's
    webhooks within its 5 seconds matters more than crediting them a moment sooner."""
    if niceness <= 0:
        return
    os.nice(niceness)
    # Linux schedules each session (autogroup) as a whole, whatever its processes' nice
    # values: lower the worker's whole session too, where the kernel has autogroups.
    with contextlib.suppress(OSError):
        Path("/proc/self/autogroup").write_text(str(niceness))


_yield_cpu_to_web(settings.WORKER_NICE)
