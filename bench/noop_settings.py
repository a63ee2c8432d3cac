"""The app's settings with one change: every request goes to a view that only answers 200.

Served by the same gunicorn command as the app, it is the floor Django itself sets.
"""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.noop_urls"
