from django.db import models

from .shop import Shop


class Onboarding(models.Model):
    """What a shop's first-run checklist remembers: the steps Shopify can't tell us.

    Whether the widget is on in the theme and whether a reward exists are read live
    (loyalty.services.onboarding); only the merchant's own "I reviewed the program" is kept.
    """

    shop = models.OneToOneField(Shop, on_delete=models.CASCADE, related_name="onboarding")
    program_reviewed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Onboarding of {self.shop_id}"
