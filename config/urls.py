from django.urls import include, path

import webhooks.admin_api
import webhooks.views
from loyalty.admin import api, exports, imports, install, members, privacy, views
from loyalty.admin import program as admin_program
from loyalty.admin import rewards as admin_rewards
from loyalty.admin import stats as admin_stats

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
    path("api/admin/program", admin_program.program, name="admin-program"),
    path("api/admin/members", members.members, name="admin-members"),
    path("api/admin/members/<int:customer_id>", members.member, name="admin-member"),
    path(
        "api/admin/members/<int:customer_id>/adjustments",
        members.member_adjustments,
        name="admin-member-adjustments",
    ),
    path("api/admin/deliveries", webhooks.admin_api.deliveries, name="admin-deliveries"),
    path(
        "api/admin/deliveries/<int:delivery_id>/replay",
        webhooks.admin_api.delivery_replay_request,
        name="admin-delivery-replay",
    ),
    path("api/admin/rewards", admin_rewards.rewards, name="admin-rewards"),
    path("api/admin/rewards/<int:reward_id>", admin_rewards.reward, name="admin-reward"),
    path("api/admin/exports/members.csv", exports.members_csv, name="admin-export-members"),
    path("api/admin/exports/ledger.csv", exports.ledger_csv, name="admin-export-ledger"),
    path("api/admin/imports/members", imports.member_imports, name="admin-member-imports"),
    path("api/admin/imports/<int:import_id>", imports.member_import, name="admin-member-import"),
    path("api/admin/stats", admin_stats.stats, name="admin-stats"),
    path("webhooks", webhooks.views.intake, name="webhooks"),
    path("proxy/", include("loyalty.proxy.urls")),
]
