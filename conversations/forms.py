from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _


class ScenarioForm(forms.Form):
    scenario = forms.CharField(
        label=_("Scenario"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": _("Where and when the conversation takes place")}
        ),
    )


class HistoryPageForm(forms.Form):
    """`?before=<message id>`: the page of history older than that message."""

    before = forms.IntegerField(required=False, min_value=1)


class ChatSearchForm(forms.Form):
    """`?q=`: the chats whose title, character's name or shown messages contain it."""

    q = forms.CharField(required=False, max_length=100, strip=True)


class ChatTitleForm(forms.Form):
    title = forms.CharField(
        label=_("Name of this chat"),
        required=False,
        max_length=80,
        strip=True,
        help_text=_("Leave it empty to show the character's name and the date."),
    )
