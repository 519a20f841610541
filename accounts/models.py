from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Profile(models.Model):
    """What a user tells the characters about themselves (sent to Xingchen as userProfile)."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="profile"
    )
    display_name = models.CharField(
        max_length=40,
        blank=True,
        help_text=_("How characters address you; your username if empty."),
    )
    basic_info = models.TextField(
        blank=True, max_length=1000, help_text=_("A few lines about you that characters may use.")
    )

    class Meta:
        verbose_name = _("profile")
        verbose_name_plural = _("profiles")

    def __str__(self) -> str:
        return self.display_name or str(self.user)
