from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from memories.services import MAX_VALUE_LENGTH, MAX_VALUES


class FactCorrectForm(forms.Form):
    """The user's own values of a fact, one per line."""

    values = forms.CharField(
        label=_("What is true"),
        max_length=MAX_VALUES * (MAX_VALUE_LENGTH + 1),
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("One per line."),
        error_messages={"required": _("Write what is true, or delete the fact instead.")},
    )

    def clean_values(self) -> list[str]:
        lines = [line.strip() for line in self.cleaned_data["values"].splitlines()]
        values = [line for line in lines if line]
        if not values:
            raise ValidationError(_("Write what is true, or delete the fact instead."))
        if len(values) > MAX_VALUES:
            raise ValidationError(_("At most %(n)d lines.") % {"n": MAX_VALUES})
        if any(len(v) > MAX_VALUE_LENGTH for v in values):
            message = _("Each line may hold %(n)d characters.")
            raise ValidationError(message % {"n": MAX_VALUE_LENGTH})
        return values


class PanelVersionForm(forms.Form):
    """`?v=<version>`: the panel the browser shows; an unchanged panel is not sent again."""

    v = forms.CharField(required=False, max_length=100)
