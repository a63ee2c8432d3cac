"""Shopper emails (docs/notifications.md): events are recorded where they happen, in the
same transaction; the sender job emails them from the merchant's templates, at most one
email a member per shop day."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from smtplib import SMTPRecipientsRefused

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import F, Q
from django.template import Context, Engine, TemplateSyntaxError
from django.utils import timezone

from loyalty.models import (
    Member,
    Notification,
    NotificationKind,
    NotificationTemplate,
    Program,
    Shop,
    Tier,
)
from loyalty.stats.counters import shop_day, shop_zone

from .rows import insert_if_absent

logger = logging.getLogger(__name__)

# The only values a template can show; anything else renders empty.
CONTEXT_NAMES = (
    "shop_name",
    "first_name",
    "balance",
    "points",
    "tier",
    "code",
    "expiring_points",
    "expiring_on",
    # The shop's day held points become available; empty when they already are.
    "available_on",
)

# Every email has these; each kind adds the values its events record (KIND_VALUES). A name a
# kind does not record renders empty in its emails.
EVERY_EMAIL_VALUES = ("shop_name", "first_name", "balance")
KIND_VALUES: dict[str, tuple[str, ...]] = {
    NotificationKind.POINTS_EARNED: ("points", "available_on"),
    NotificationKind.REWARD_READY: ("code",),
    NotificationKind.POINTS_EXPIRING: ("expiring_points", "expiring_on"),
    NotificationKind.TIER_REACHED: ("tier",),
    NotificationKind.BIRTHDAY: ("points",),
}
assert set(KIND_VALUES) == set(NotificationKind.values), "every kind says what it records"
# What a preview fills them with (the shop's name, tier and dates are the shop's own).
SAMPLE_VALUES = {
    "first_name": "Ada",
    "balance": 1250,
    "points": 120,
    "code": "PRN-7QK2-X9MD",
    "expiring_points": 300,
}
SAMPLE_EXPIRY_DAYS = 14

DEFAULT_TEMPLATES: dict[str, tuple[str, str]] = {
    NotificationKind.POINTS_EARNED: (
        "You earned {{ points }} points at {{ shop_name }}",
        "Hi {{ first_name|default:'there' }},\n\nYou earned {{ points }} points. "
        "{% if available_on %}They are yours to spend from {{ available_on }}, once the "
        "store's return period is over. {% endif %}"
        "Your balance is now {{ balance }} points.\n\n{{ shop_name }}",
    ),
    NotificationKind.REWARD_READY: (
        "Your reward from {{ shop_name }} is ready",
        "Hi {{ first_name|default:'there' }},\n\nYour reward is ready. "
        "Use the code {{ code }} at checkout.\n\n{{ shop_name }}",
    ),
    NotificationKind.POINTS_EXPIRING: (
        "Your {{ expiring_points }} points at {{ shop_name }} expire soon",
        "Hi {{ first_name|default:'there' }},\n\n{{ expiring_points }} points expire on "
        "{{ expiring_on }}. Earn or redeem before then to keep them.\n\n{{ shop_name }}",
    ),
    NotificationKind.TIER_REACHED: (
        "Welcome to {{ tier }} at {{ shop_name }}",
        "Hi {{ first_name|default:'there' }},\n\nYou have reached {{ tier }}. "
        "Your balance is {{ balance }} points.\n\n{{ shop_name }}",
    ),
    NotificationKind.BIRTHDAY: (
        "Happy birthday from {{ shop_name }}",
        "Hi {{ first_name|default:'there' }},\n\nHappy birthday! We added {{ points }} points "
        "to your balance, which is now {{ balance }} points.\n\n{{ shop_name }}",
    ),
}

SKIPPED_TEMPLATE_OFF = "The merchant switched this email off"
SKIPPED_NO_EMAIL = "The member has no email address"
SKIPPED_REDACTED = "The member's data was erased"
SKIPPED_DAILY_LIMIT = "The member was already emailed on this day"
SKIPPED_ADDRESS_REFUSED = "The mail server refused the address"
# A row whose send keeps raising is given up after this many tries, once it is this old.
SEND_ATTEMPTS = 5
GIVE_UP_AFTER = timedelta(days=1)
# Failures in a row after which a run stops: the mail server is down, and trying every
# pending row would only spend their tries.
FAILURES_TO_STOP = 3

# Plain text: no autoescaping, no template loading ({% include %} and {% extends %} find
# nothing, {% load %} no library), only the built-in filters.
_ENGINE = Engine(dirs=[], app_dirs=False, libraries={}, autoescape=False, debug=False)


@dataclass(frozen=True)
class NotificationText:
    kind: str
    subject: str
    body: str
    enabled: bool


class NotificationTemplateInvalid(Exception):
    """A template that does not compile; `errors` maps the field to its messages."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__(errors)
        self.errors = errors


def notification_record(*, member: Member, kind: str, key: str, **values: object) -> None:
    """Record that `member` may be emailed about an event (call it inside the event's
    transaction). `key` names the event: recording it twice adds nothing. `values` are some
    of CONTEXT_NAMES; the shop's name, the member's first name and balance are added."""
    context = {name: values[name] for name in CONTEXT_NAMES if name in values}
    insert_if_absent(
        Notification(
            shop_id=member.shop_id,
            member=member,
            kind=kind,
            key=key,
            context={k: str(v) for k, v in context.items()},
        ),
        unique=("member_id", "key"),
    )


def notification_texts(*, shop: Shop) -> list[NotificationText]:
    """Every kind's template for the shop: the merchant's, or the English default."""
    stored = {t.kind: t for t in NotificationTemplate.objects.filter(shop=shop)}
    texts = []
    for kind in NotificationKind.values:
        row = stored.get(kind)
        if row is None:
            subject, body = DEFAULT_TEMPLATES[kind]
            texts.append(NotificationText(kind=kind, subject=subject, body=body, enabled=True))
        else:
            texts.append(
                NotificationText(kind=kind, subject=row.subject, body=row.body, enabled=row.enabled)
            )
    return texts


def notification_template_set(
    *, shop: Shop, kind: str, subject: str, body: str, enabled: bool
) -> NotificationText:
    """Store the merchant's template for `kind`. Raises NotificationTemplateInvalid when the
    subject or body does not compile or cannot be filled in, or the subject spans lines."""
    notification_preview(shop=shop, kind=kind, subject=subject, body=body)
    NotificationTemplate.objects.update_or_create(
        shop=shop, kind=kind, defaults={"subject": subject, "body": body, "enabled": enabled}
    )
    return NotificationText(kind=kind, subject=subject, body=body, enabled=enabled)


def notification_preview(
    *, shop: Shop, kind: str, subject: str, body: str, now: datetime | None = None
) -> tuple[str, str]:
    """The subject and body of `kind`'s email filled in with sample values, as the sender
    would write them; saves nothing. Raises NotificationTemplateInvalid as
    notification_template_set does (it checks every template this way before storing)."""
    context = notification_sample(shop=shop, kind=kind, now=now)
    errors: dict[str, list[str]] = {}
    filled: dict[str, str] = {}
    for field, text in (("subject", subject), ("body", body)):
        try:
            filled[field] = _render(text, context)
        except TemplateSyntaxError as exc:
            errors.setdefault(field, []).append(f"This template does not compile: {exc}")
        except Exception as exc:  # noqa: BLE001 - a tag that fails only when filled in
            # ({% url %} of no page, {% include %} of nothing) would fail every email of
            # this kind at sending: refused here instead, with the cause.
            errors.setdefault(field, []).append(f"This template cannot be filled in: {exc}")
    if "\n" in subject or "\r" in subject:
        errors.setdefault("subject", []).append("A subject must be a single line.")
    if errors:
        raise NotificationTemplateInvalid(errors)
    return filled["subject"].strip(), filled["body"]


def notification_sample(*, shop: Shop, kind: str, now: datetime | None = None) -> dict[str, object]:
    """The values a preview of `kind`'s email shows: those every email has and those the
    kind's events record (KIND_VALUES), with the shop's own name, lowest tier and hold
    (`available_on` is empty without one, as in its shoppers' emails)."""
    today = shop_day(now or timezone.now(), shop.timezone)
    lowest = Tier.objects.filter(shop=shop).order_by("threshold").values_list("name", flat=True)
    hold_days = Program.objects.filter(shop=shop).values_list("hold_days", flat=True).first()
    values: dict[str, object] = {
        **SAMPLE_VALUES,
        "shop_name": shop.name or shop.domain,
        "tier": lowest.first() or "Gold",
        "expiring_on": (today + timedelta(days=SAMPLE_EXPIRY_DAYS)).isoformat(),
        "available_on": (today + timedelta(days=hold_days)).isoformat() if hold_days else "",
    }
    return {name: values[name] for name in (*EVERY_EMAIL_VALUES, *KIND_VALUES[kind])}


def notifications_send(*, now: datetime | None = None, limit: int = 500) -> int:
    """Email pending notifications, oldest first (those that failed before after the rest);
    answers how many were emailed.

    Each member gets at most one email per shop day: the first event of the day is sent,
    later ones are marked skipped. An email is sent before its row is marked, so a crash
    between the two sends it again (at least once, never lost). A send that raises is
    recorded on its row and the run goes on, so one address the mail server refuses holds
    back no other email; several failures in a row end the run (the server is down)."""
    now = now or timezone.now()
    pending = Notification.objects.filter(sent_at__isnull=True, skipped="").order_by(
        "attempts", "pk"
    )
    sent = 0
    failures_in_a_row = 0
    for pk in list(pending.values_list("pk", flat=True)[:limit]):
        try:
            sent += _send(pk=pk, now=now)
        except Exception as error:  # noqa: BLE001 - any failure is kept on its row
            _send_failed(pk=pk, error=error, now=now)
            failures_in_a_row += 1
            if failures_in_a_row >= FAILURES_TO_STOP:
                logger.warning("stopped sending after %d failures in a row", failures_in_a_row)
                break
        else:
            failures_in_a_row = 0
    return sent


def _send_failed(*, pk: int, error: Exception, now: datetime) -> None:
    message = f"{type(error).__name__}: {error}"[:500]
    logger.warning("notification %s not sent: %s", pk, message)
    Notification.objects.filter(pk=pk).update(attempts=F("attempts") + 1, last_error=message)
    # A refused address is refused again; any other error is given up only when it has
    # lasted, so an outage of the mail server loses nothing.
    if isinstance(error, SMTPRecipientsRefused):
        given_up = Q(pk=pk)
        why = SKIPPED_ADDRESS_REFUSED
    else:
        given_up = Q(pk=pk, attempts__gte=SEND_ATTEMPTS, created_at__lt=now - GIVE_UP_AFTER)
        why = f"Not sent after {SEND_ATTEMPTS} tries"
    Notification.objects.filter(given_up, sent_at__isnull=True, skipped="").update(
        skipped=f"{why}: {message}"[:200]
    )


def _send(*, pk: int, now: datetime) -> int:
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(of=("self",))
            .select_related("shop")
            .filter(pk=pk, sent_at__isnull=True, skipped="")
            .first()
        )
        if notification is None:
            return 0
        # The member's lock: two runs at once (one outlasting its five minutes) must not
        # both find the member not yet emailed today.
        member = Member.objects.select_for_update().get(pk=notification.member_id)
        shop = notification.shop
        text = _text(shop=shop, kind=notification.kind)
        why = _why_not(member=member, shop=shop, text=text, now=now)
        if why:
            Notification.objects.filter(pk=pk).update(skipped=why)
            return 0
        context = {
            **notification.context,
            "shop_name": shop.name or shop.domain,
            "first_name": member.first_name,
            "balance": member.balance,
        }
        subject = _render(text.subject, context).strip()
        body = _render(text.body, context)
        send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [member.email])
        Notification.objects.filter(pk=pk).update(sent_at=now)
        return 1


def _why_not(*, member: Member, shop: Shop, text: NotificationText, now: datetime) -> str:
    if member.redacted_at is not None:
        return SKIPPED_REDACTED
    if not member.email:
        return SKIPPED_NO_EMAIL
    if not text.enabled:
        return SKIPPED_TEMPLATE_OFF
    day = shop_day(now, shop.timezone)
    day_start = datetime.combine(day, datetime.min.time(), tzinfo=shop_zone(shop.timezone))
    emailed_today = Notification.objects.filter(
        member=member, sent_at__gte=day_start, sent_at__lt=day_start + timedelta(days=1)
    ).exists()
    return SKIPPED_DAILY_LIMIT if emailed_today else ""


def _text(*, shop: Shop, kind: str) -> NotificationText:
    return next(t for t in notification_texts(shop=shop) if t.kind == kind)


def _render(source: str, context: dict[str, object]) -> str:
    rendered = _ENGINE.from_string(source).render(Context(context, autoescape=False))
    # Template.render answers a SafeString, which a page would show unescaped: this is
    # plain text that anyone who shows it in HTML must escape (the Emails page does).
    return str.__str__(rendered)
