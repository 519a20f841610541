from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Profile


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "basic_info"]
        labels = {"display_name": _("Display name"), "basic_info": _("About you")}
        widgets = {"basic_info": forms.Textarea(attrs={"rows": 4})}
