"""Forms of the characters app: the admin's character form and the gallery search."""

from __future__ import annotations

import json
from typing import Any

from django import forms
from django.core.files.uploadedfile import UploadedFile

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


class CharacterAdminForm(forms.ModelForm):
    class Meta:
        model = Character
        fields = LOCAL_FIELDS
        field_classes = dict.fromkeys(_JSON_HELP, _PrettyJSONField)
        help_texts = _JSON_HELP
        widgets = {
            name: forms.Textarea(attrs={"rows": 4, "class": "vLargeTextField json-field"})
            for name in _JSON_HELP
        }

    def clean_avatar(self) -> Any:
        avatar = self.cleaned_data.get("avatar")
        # Only a new upload is checked; the stored file passed these checks when it came in.
        if isinstance(avatar, UploadedFile):
            validate_avatar(avatar)
        return avatar


class GallerySearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=50, strip=True)
