"""Entry point for `dramatiq config.worker`: set Django up, then load every actor."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

import config.jobs  # noqa: E402,F401
import loyalty.tasks  # noqa: E402,F401
import webhooks.tasks  # noqa: E402,F401
