"""Forms of the characters app: the admin's character form and the gallery search."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from characters.knowledge_bases import KnowledgeBasesUnavailable, knowledge_base_choices
from characters.models import Character
from characters.services import LOCAL_FIELDS
from characters.validators import validate_avatar

_JSON_HELP = {
    "role_types": 'A JSON list of strings, e.g. ["companion"].',
    "long_term_memories": (
        'e.g. [{"enabled": true, "memoryType": "kv", '
        '"kvMemoryConfigs": [{"enabled": true, "memoryText": "favourite food"}]}]'
    ),
    "platform_plugins": (
        'e.g. [{"name": "text_to_image_plugin", "enabled": true, "imageStyle": "anime"}]'
    ),
    "knowledge_bases": "A JSON list of knowledge base ids.",
    "function_list": (
        'e.g. [{"name": "get_weather", "description": "Weather of a city", "parameters": '
        '{"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]'
    ),
}


class _PrettyJSONField(forms.JSONField):
    """Shows stored JSON indented and unescaped, so Chinese text stays readable."""

    def prepare_value(self, value: Any) -> str:
        if isinstance(value, str):
            return value
        return json.dumps(value, ensure_ascii=False, indent=2)


class _AvatarField(forms.FileField):
    """An upload judged by its content alone (`validate_avatar`): Django's image field would
    first judge it by the name it came with, which says nothing about what it is."""

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        return {
            **super().widget_attrs(widget),
            "accept": "image/png,image/jpeg,image/gif,image/webp",
        }


class CharacterAdminForm(forms.ModelForm):
    class Meta:
        model = Character
        fields = LOCAL_FIELDS
        field_classes = {**dict.fromkeys(_JSON_HELP, _PrettyJSONField), "avatar": _AvatarField}
        help_texts = _JSON_HELP
        widgets = {
            name: forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField json-field"})
            for name in _JSON_HELP
        }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["lingma_kb_ids"] = _knowledge_base_field(self.initial.get("lingma_kb_ids"))

    def clean_avatar(self) -> Any:
        avatar = self.cleaned_data.get("avatar")
        # Only a new upload is checked; the stored file passed these checks when it came in.
        if isinstance(avatar, UploadedFile):
            # Named after what it is, not what it was called: the suffix sets its Content-Type.
            avatar.name = f"avatar{validate_avatar(avatar)}"
        return avatar


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
    label = "Knowledge bases"
    try:
        choices = knowledge_base_choices()
    except KnowledgeBasesUnavailable as exc:
        return _KnowledgeBaseIdsField(
            label=label,
            required=False,
            help_text=f"The list could not be read ({exc.message}); type ids separated by commas.",
        )
    listed = {kb_id for kb_id, _ in choices}
    missing = [
        (kb_id, f"{kb_id} (no longer listed)") for kb_id in stored or [] if kb_id not in listed
    ]
    return forms.MultipleChoiceField(
        label=label,
        required=False,
        choices=[*choices, *missing],
        widget=forms.CheckboxSelectMultiple,
        validators=[_listed_in(listed)],
        help_text="None ticked: all of the organisation's question-and-answer knowledge bases.",
    )


def _listed_in(listed: set[str]) -> Any:
    def validate(value: list[str]) -> None:
        gone = [kb_id for kb_id in value if kb_id not in listed]
        if gone:
            raise ValidationError(f"Lingma does not list these knowledge bases: {', '.join(gone)}.")

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
                "aria-label": "Generated description",
            }
        )
    )

    confirm = forms.BooleanField(
        required=False, label="Replace the basic information although it changed meanwhile"
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
        help_text="Notes, a story or a profile of the character.",
    )
    file = forms.FileField(
        required=False,
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(SUFFIXES)}),
        help_text="Or a .txt, .md, .docx or .pdf file (at most 5 MB).",
    )

    def clean_file(self) -> UploadedFile | None:
        upload = self.cleaned_data.get("file")
        if upload is None:
            return None
        if not upload.name.lower().endswith(self.SUFFIXES):
            raise ValidationError("Upload a .txt, .md, .docx or .pdf file.")
        if upload.size > self.MAX_FILE_BYTES:
            raise ValidationError("The file is larger than 5 MB.")
        return upload

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("text", "").strip() and data.get("file"):
            raise ValidationError("Give either text or a file, not both.")
        return data


class GallerySearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=50, strip=True)
