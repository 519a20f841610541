"""Sentences saved in English now and shown later in the reader's language.

A text stored in a row (a reply's error, a push's last error) is written in English, marked with
`gettext_noop` where it is made, and translated where it is shown. A saved sentence carrying
values ("try again in 7 s.") is recognised by its template, and its values, themselves saved
sentences or not, are shown translated too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django.utils.translation import gettext

_PLACEHOLDER = re.compile(r"%\((\w+)\)s")


class SavedSentences:
    """The templates (English, with `%(name)s` values) a kind of saved text is made from."""

    def __init__(self, templates: Iterable[str]) -> None:
        self._patterns = [(template, _pattern(template)) for template in templates]

    def shown(self, text: str) -> str:
        """`text` in the active language; what no template knows is shown as it was saved."""
        if not text:
            return text  # gettext("") would be the catalogue's header
        translated = gettext(text)
        if translated != text:
            return translated
        for template, pattern in self._patterns:
            match = pattern.fullmatch(text)
            if match is not None:
                values = {name: self.shown(value) for name, value in match.groupdict().items()}
                return gettext(template) % values
        return text


def _pattern(template: str) -> re.Pattern[str]:
    parts = _PLACEHOLDER.split(template)
    # split() alternates literal text and placeholder names.
    regex = "".join(
        f"(?P<{part}>.+?)" if odd else re.escape(part.replace("%%", "%"))
        for odd, part in ((index % 2 == 1, part) for index, part in enumerate(parts))
    )
    return re.compile(regex, re.DOTALL)
