from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from jobs.models import Job


class JobFilterForm(forms.Form):
    """The job centre's filters; `owner` is offered to staff only."""

    kind = forms.ChoiceField(
        label=_("Kind"), required=False, choices=[("", _("All kinds")), *Job.Kind.choices]
    )
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("Any status")), *Job.Status.choices]
    )
    owner = forms.ModelChoiceField(
        label=_("User"),
        required=False,
        queryset=get_user_model().objects.order_by("username"),
        empty_label=_("Everyone"),
    )

    def __init__(self, *args, staff: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not staff:
            del self.fields["owner"]

    def apply(self, jobs):
        if not self.is_valid():
            return jobs
        data = self.cleaned_data
        if data.get("kind"):
            jobs = jobs.filter(kind=data["kind"])
        if data.get("status"):
            jobs = jobs.filter(status=data["status"])
        if data.get("owner"):
            jobs = jobs.filter(owner=data["owner"])
        return jobs
