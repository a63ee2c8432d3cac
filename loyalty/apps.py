from django.apps import AppConfig


class LoyaltyConfig(AppConfig):
    name = "loyalty"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        import config.jobs  # noqa: F401  (the broker must exist before any actor is declared)
        import loyalty.checks  # noqa: F401  (registers the system checks)
