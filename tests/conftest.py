import os

import pytest
from django.conf import settings
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

# Property tests (tests/test_ledger_properties.py): a modest number of examples so the
# suite stays quick; derandomized in CI so a run there is repeatable (HYPOTHESIS_PROFILE=ci,
# set by .ci/run, or CI set by a CI service); `thorough` to hunt for more.
hypothesis_settings.register_profile(
    "dev", max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
hypothesis_settings.register_profile(
    "ci", parent=hypothesis_settings.get_profile("dev"), derandomize=True, database=None
)
hypothesis_settings.register_profile(
    "thorough", parent=hypothesis_settings.get_profile("dev"), max_examples=500
)
hypothesis_settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)


def uses_postgres() -> bool:
    return settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"


def uses_redis() -> bool:
    return settings.DRAMATIQ_BROKER_URL.startswith("redis")


needs_postgres = pytest.mark.skipif(
    not uses_postgres(), reason="needs DATABASE_URL pointing at PostgreSQL (.ci/run sets it)"
)
needs_postgres_and_redis = pytest.mark.skipif(
    not (uses_postgres() and uses_redis()),
    reason="needs DATABASE_URL and DRAMATIQ_BROKER_URL pointing at PostgreSQL and Redis",
)


@pytest.fixture(scope="session", autouse=True)
def _static_names_without_collectstatic():
    """Pages link their scripts with {% static %}. Production's manifest storage needs
    collectstatic to have run; tests use the plain names, served from static/ by finders."""
    from django.test import override_settings

    plain = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}
    with override_settings(STORAGES={**settings.STORAGES, "staticfiles": plain}):
        yield


@pytest.fixture(autouse=True)
def _no_in_process_runner(monkeypatch):
    """Unit tests drive jobs themselves: keep the embedded runner from starting threads."""
    # Every module that starts it: a runner started by one test would go on consuming
    # (and scheduling) job messages in the tests after it.
    for module in ("webhooks.tasks", "loyalty.tasks"):
        monkeypatch.setattr(f"{module}.start_in_process_runner", lambda: None)


@pytest.fixture(autouse=True)
def _empty_job_queues():
    """Each test starts with no job messages left over from another."""
    from config.jobs import broker

    broker.flush_all()
    yield


def pytest_configure(config):
    """Tests keep Django's cache in memory, whatever the environment names: clearing it then
    never flushes a Redis database the broker shares. tests/test_rate_limits.py covers the
    Redis cache of a deploy."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "perennial-tests",
            "KEY_PREFIX": "perennial",
        }
    }


@pytest.fixture(autouse=True)
def _empty_cache():
    """Each test starts with no rate limit counted, nor anything remembered, by another."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def admin_settings(settings):
    """The app's key and secret as the tests' session tokens are signed; no Shopify calls
    (an installed shop needs none)."""
    from tests.shopify_signing import API_KEY, API_SECRET

    settings.SHOPIFY_API_KEY = API_KEY
    settings.SHOPIFY_API_SECRET = API_SECRET
    settings.SHOPIFY_ADMIN_ORIGIN = "http://127.0.0.1:9/{shop}"
    return settings
