from django.urls import include, path

import webhooks.views
from loyalty.admin import api, install, privacy, views

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("auth/session-token", views.session_token_bounce, name="session-token-bounce"),
    path("auth/install", install.install, name="auth-install"),
    path("auth/callback", install.callback, name="auth-callback"),
    path("api/shop", api.shop_summary, name="api-shop"),
    path("api/admin/privacy-requests", privacy.privacy_requests, name="privacy-requests"),
    path(
        "api/admin/privacy-requests/<int:request_id>/export",
        privacy.privacy_request_export,
        name="privacy-request-export",
    ),
    path("webhooks", webhooks.views.intake, name="webhooks"),
    path("proxy/", include("loyalty.proxy.urls")),
]
