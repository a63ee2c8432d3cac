from django.urls import include, path

import webhooks.admin_api
import webhooks.admin_pages
import webhooks.views
from loyalty.admin import (
    api,
    exports,
    imports,
    install,
    members,
    pages,
    pages_dashboard,
    pages_program,
    pages_settings,
    privacy,
    views,
)
from loyalty.admin import integrations as admin_integrations
from loyalty.admin import notifications as admin_notifications
from loyalty.admin import onboarding as admin_onboarding
from loyalty.admin import program as admin_program
from loyalty.admin import referrals as admin_referrals
from loyalty.admin import reviews as admin_reviews
from loyalty.admin import rewards as admin_rewards
from loyalty.admin import stats as admin_stats
from loyalty.admin import widget as admin_widget
from loyalty.admin.openapi import openapi_json

urlpatterns = [
    path("", pages_dashboard.dashboard, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("members", pages.members, name="members-page"),
    path("members/import", pages.members_import, name="members-import-page"),
    path("members/referrals", admin_referrals.referrals_page, name="referrals-page"),
    path("members/reviews", admin_reviews.reviews_page, name="reviews-page"),
    path("members/<int:customer_id>", pages.member, name="member-page"),
    path("rewards", pages.rewards, name="rewards-page"),
    path("rewards/<int:reward_id>", pages.reward, name="reward-page"),
    path("program", pages_program.program_page, name="program-page"),
    path("emails", admin_notifications.notifications_page, name="notifications-page"),
    path("settings", pages_settings.settings_page, name="settings-page"),
    path("settings/sync", webhooks.admin_pages.sync_page, name="settings-sync-page"),
    path("auth/session-token", views.session_token_bounce, name="session-token-bounce"),
    path("auth/install", install.install, name="auth-install"),
    path("auth/callback", install.callback, name="auth-callback"),
    path("api/shop", api.shop_summary, name="api-shop"),
    path("api/admin/openapi.json", openapi_json, name="admin-openapi"),
    path("api/admin/privacy-requests", privacy.privacy_requests, name="privacy-requests"),
    path(
        "api/admin/privacy-requests/<int:request_id>/export",
        privacy.privacy_request_export,
        name="privacy-request-export",
    ),
    path("api/admin/program", admin_program.program, name="admin-program"),
    path("api/admin/program/preview", admin_program.preview, name="admin-program-preview"),
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
    path("api/admin/referrals", admin_referrals.referrals, name="admin-referrals"),
    path("api/admin/reviews", admin_reviews.reviews, name="admin-reviews"),
    path("api/admin/rewards", admin_rewards.rewards, name="admin-rewards"),
    path("api/admin/rewards/<int:reward_id>", admin_rewards.reward, name="admin-reward"),
    path("api/admin/exports/members.csv", exports.members_csv, name="admin-export-members"),
    path("api/admin/exports/ledger.csv", exports.ledger_csv, name="admin-export-ledger"),
    path("api/admin/imports/members", imports.member_imports, name="admin-member-imports"),
    path("api/admin/imports/<int:import_id>", imports.member_import, name="admin-member-import"),
    path("api/admin/integrations", admin_integrations.integrations, name="admin-integrations"),
    path(
        "api/admin/integrations/rotate-secret",
        admin_integrations.rotate_secret,
        name="admin-integrations-rotate-secret",
    ),
    path(
        "api/admin/integrations/judgeme-key",
        admin_integrations.judgeme_key,
        name="admin-integrations-judgeme-key",
    ),
    path("api/admin/widget", admin_widget.widget, name="admin-widget"),
    path(
        "api/admin/notifications",
        admin_notifications.notifications,
        name="admin-notifications",
    ),
    path(
        "api/admin/notifications/<str:kind>",
        admin_notifications.notification,
        name="admin-notification",
    ),
    path(
        "api/admin/notifications/<str:kind>/preview",
        admin_notifications.notification_preview_view,
        name="admin-notification-preview",
    ),
    path("api/admin/onboarding", admin_onboarding.onboarding, name="admin-onboarding"),
    path(
        "api/admin/onboarding/program-reviewed",
        admin_onboarding.program_reviewed,
        name="admin-onboarding-program-reviewed",
    ),
    path("api/admin/stats", admin_stats.stats, name="admin-stats"),
    path("webhooks", webhooks.views.intake, name="webhooks"),
    path("proxy/", include("loyalty.proxy.urls")),
    path("integrations/reviews/", include("loyalty.reviews.urls")),
]
