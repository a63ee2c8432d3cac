"""What the daily jobs keep: birthday changes, expiry reminders due, the last day run."""

from django.db import models

from .member import Member
from .shop import Shop


class BirthdayChange(models.Model):
    """One birthday a member gave, kept so a change can be refused within a year of the
    last one (loyalty.services.birthdays)."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="birthday_changes")
    month = models.PositiveSmallIntegerField()
    day = models.PositiveSmallIntegerField()
    changed_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["member", "-changed_at"], name="birthday_change_newest")]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.month}-{self.day}"


class ExpiryReminder(models.Model):
    """A member due a reminder that their points expire on `expires_on`: one row per member
    and last activity (which sets the expiry date). Recording one records the member's
    points-expiring Notification in the same transaction; that row says whether and when
    it was emailed."""

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="+", db_index=False)
    member = models.ForeignKey(Member, on_delete=models.CASCADE, related_name="expiry_reminders")
    # The member's balance when the reminder fell due (they may earn or spend after).
    points = models.IntegerField()
    # The member's last activity the expiry date was counted from.
    activity_at = models.DateTimeField()
    expires_on = models.DateField()
    # The shop's day the daily job found the reminder due.
    due_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["member", "activity_at"], name="expiry_reminder_once_per_expiry"
            )
        ]

    def __str__(self) -> str:
        return f"{self.member_id}: {self.points} on {self.expires_on}"


class DailyRun(models.Model):
    """The last of the shop's days whose daily jobs all ran (loyalty.daily), so a run after
    missed days catches them up in order."""

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="daily_run")
    last_day = models.DateField()
    finished_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.shop_id}: {self.last_day}"
