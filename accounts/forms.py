from __future__ import annotations

from django import forms

from accounts.models import Profile


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "basic_info"]
        widgets = {"basic_info": forms.Textarea(attrs={"rows": 4})}
