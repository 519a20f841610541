"""Forms of the characters app: the admin's character form and the gallery search."""

from __future__ import annotations

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from characters.knowledge_bases import KnowledgeBasesUnavailable, knowledge_base_choices
from characters.models import Character
from characters.services import LOCAL_FIELDS
from characters.validators import validate_avatar
from characters.widgets import (
    FunctionsWidget,
    MemoriesWidget,
    PluginsWidget,
    StructuredJSONField,
    TagsWidget,
)

STRUCTURED_WIDGETS: dict[str, type[forms.Widget]] = {
    "role_types": TagsWidget,
    "function_list": FunctionsWidget,
    "long_term_memories": MemoriesWidget,
    "platform_plugins": PluginsWidget,
    "knowledge_bases": TagsWidget,
}

_ROW_NUMBER = re.compile(r"\d+")


class _AvatarField(forms.FileField):
    """An upload judged by its content alone (`validate_avatar`): Django's image field would
    first judge it by the name it came with, which says nothing about what it is."""

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {
            **super().widget_attrs(widget),
            "accept": "image/png,image/jpeg,image/gif,image/webp",
        }


class CharacterAdminForm(forms.ModelForm):
    """The character editor: its JSON fields are edited through structured widgets
    (`characters.widgets`) that submit the same JSON Xingchen takes."""

    class Meta:
        model = Character
        fields = LOCAL_FIELDS
        field_classes = {
            **dict.fromkeys(STRUCTURED_WIDGETS, StructuredJSONField),
            "avatar": _AvatarField,
        }
        widgets = {name: widget() for name, widget in STRUCTURED_WIDGETS.items()}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lingma_kb_ids"] = _knowledge_base_field(self.initial.get("lingma_kb_ids"))
        if "role_types" in self.fields:  # a read-only page has no inputs
            self.fields["role_types"].widget.suggestions = _role_types_in_use()
        if "function_list" in self.fields:
            # Widgets are copied shallowly per form: this form's row errors must be its own.
            self.fields["function_list"].widget.row_errors = {}

    def _post_clean(self) -> None:
        super()._post_clean()
        # Each function's error names its row first ("Function 2 (…): …", in any language):
        # the row is marked too, so a long list need not be searched.
        if "function_list" not in self.fields:
            return
        functions = self.fields["function_list"].widget
        for message in self.errors.get("function_list", []):
            number = _ROW_NUMBER.search(message)
            if number:
                functions.row_errors.setdefault(int(number.group()), []).append(message)

    def clean_avatar(self) -> Any:
        avatar = self.cleaned_data.get("avatar")
        # Only a new upload is checked; the stored file passed these checks when it came in.
        if isinstance(avatar, UploadedFile):
            # Named after what it is, not what it was called: the suffix sets its Content-Type.
            avatar.name = f"avatar{validate_avatar(avatar)}"
        return avatar


def _role_types_in_use() -> list[str]:
    """Role types other characters have, offered as ticks; any other can be typed."""
    lists = Character.objects.exclude(role_types=[]).values_list("role_types", flat=True)
    return sorted({kind for kinds in lists for kind in kinds if isinstance(kind, str)})


class _KnowledgeBaseIdsField(forms.CharField):
    """Ids typed by hand when the organisation's list cannot be read."""

    def prepare_value(self, value: Any) -> str:
        return ", ".join(value) if isinstance(value, list) else (value or "")

    def to_python(self, value: Any) -> list[str]:
        text = super().to_python(value)
        return [kb_id.strip() for kb_id in text.replace("\n", ",").split(",") if kb_id.strip()]


def _knowledge_base_field(stored: list[str] | None) -> forms.Field:
    """Checkboxes of the organisation's knowledge bases; ids no longer listed are shown, and
    refused on save as Lingma would refuse them."""
    label = _("Knowledge bases")
    try:
        choices = knowledge_base_choices()
    except KnowledgeBasesUnavailable as exc:
        return _KnowledgeBaseIdsField(
            label=label,
            required=False,
            help_text=_("The list could not be read (%(problem)s); type ids separated by commas.")
            % {"problem": exc.message},
        )
    listed = {kb_id for kb_id, _label in choices}
    missing = [
        (kb_id, _("%(id)s (no longer listed)") % {"id": kb_id})
        for kb_id in stored or []
        if kb_id not in listed
    ]
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        choices=[*choices, *missing],
        widget=forms.CheckboxSelectMultiple,
        validators=[_listed_in(listed)],
        help_text=_("None ticked: all of the organisation's question-and-answer knowledge bases."),
    )


def _listed_in(listed: set[str]) -> Any:
    def validate(value: list[str]) -> None:
        gone = [kb_id for kb_id in value if kb_id not in listed]
        if gone:
            raise ValidationError(
                _("Lingma does not list these knowledge bases: %(ids)s.") % {"ids": ", ".join(gone)}
            )

    return validate


class DescriptionForm(forms.Form):
    """A generated description about to become the basic information.

    The field is the change form's; the model's rules run in the service, whose errors
    `add_service_errors` shows here (rules of other fields as errors of the whole form).
    """

    basic_information = Character._meta.get_field("basic_information").formfield(
        widget=forms.Textarea(
            attrs={
                "rows": 16,
                "class": "vLargeTextField generated-text",
                "aria-label": gettext_lazy("Generated description"),
            }
        )
    )

    confirm = forms.BooleanField(
        required=False,
        label=gettext_lazy("Replace the basic information although it changed meanwhile"),
    )

    def add_service_errors(self, error: ValidationError) -> None:
        for name, messages in error.message_dict.items():
            self.add_error(name if name in self.fields else None, messages)


class DescribeSourceForm(forms.Form):
    """What Xingchen describes: pasted text, a file, or (neither) the character's persona."""

    SUFFIXES = (".txt", ".md", ".docx", ".pdf")
    MAX_FILE_BYTES = 5 * 1024 * 1024

    text = forms.CharField(
        required=False,
        max_length=20_000,
        widget=forms.Textarea(attrs={"rows": 8, "class": "vLargeTextField"}),
        label=gettext_lazy("Text"),
        help_text=gettext_lazy("Notes, a story or a profile of the character."),
    )
    file = forms.FileField(
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(SUFFIXES)}),
        label=gettext_lazy("File"),
        help_text=gettext_lazy("Or a .txt, .md, .docx or .pdf file (at most 5 MB)."),
    )

    def clean_file(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None
        if not upload.name.lower().endswith(self.SUFFIXES):
            raise ValidationError(_("Upload a .txt, .md, .docx or .pdf file."))
        if upload.size > self.MAX_FILE_BYTES:
            raise ValidationError(_("The file is larger than 5 MB."))
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("text", "").strip() and data.get("file"):
            raise ValidationError(_("Give either text or a file, not both."))
        return data


class GallerySearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=50, strip=True)
