from django.db import models

from .shop import Shop


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class MemberImport(models.Model):
    """A CSV of members with starting balances, as uploaded, and how far its job has got.

    The file is kept whole so the job can run (and run again) from it; `rejected` holds the
    first REJECTED_KEPT rejected rows, `rejected_count` all of them.
    """

    REJECTED_KEPT = 1000

    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="member_imports")
    status = models.CharField(
        max_length=16, choices=ImportStatus.choices, default=ImportStatus.QUEUED
    )
    csv_text = models.TextField()
    total = models.IntegerField(default=0, help_text="Data rows in the file")
    processed = models.IntegerField(default=0)
    imported = models.IntegerField(default=0)
    rejected = models.JSONField(default=list, blank=True)
    rejected_count = models.IntegerField(default=0)
    error = models.TextField(blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"member import {self.pk} ({self.status})"
