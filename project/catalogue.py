"""The product's translation catalogue, extracted and merged in pure Python (no GNU gettext).

`python -m project.catalogue` reads every `{% translate %}` / `{% blocktranslate %}` in the
templates and every gettext call in the apps' Python, and merges them into
locale/zh_Hans/LC_MESSAGES/django.po: new strings arrive with an empty translation, strings no
longer in the code are dropped, existing translations are kept. Templates go through Django's
own `templatize`, the step `makemessages` runs before xgettext, so the ids are exactly the ones
Django looks up at run time. `make messages` compiles the result into the .mo Django reads.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from pathlib import Path

import django
from babel.messages.catalog import Catalog
from babel.messages.extract import extract as extract_from
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
LOCALE = "zh_Hans"
CATALOGUE = ROOT / "locale" / LOCALE / "LC_MESSAGES" / "django.po"
PYTHON_DIRS = ("accounts", "characters", "conversations", "jobs", "memories", "ratings", "project")
SKIPPED_DIRS = {"migrations", "__pycache__", "static"}
# Django's gettext family, with the argument positions babel should read as (context, id, plural).
KEYWORDS: dict[str, tuple[object, ...] | None] = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}
OPTIONS = {"encoding": "utf-8"}


def _sources(suffix: str, roots: list[Path]) -> Iterator[Path]:
    for root in roots:
        for path in sorted(root.rglob(f"*{suffix}")):
            if not SKIPPED_DIRS.intersection(path.relative_to(ROOT).parts):
                yield path


def _template_dirs() -> list[Path]:
    return [ROOT / "templates", *sorted(ROOT.glob("*/templates"))]


def _add(catalogue: Catalog, path: Path, code: bytes) -> None:
    location = str(path.relative_to(ROOT))
    found = extract_from("python", io.BytesIO(code), keywords=KEYWORDS, options=OPTIONS)
    for lineno, message, _comments, context in found:
        catalogue.add(message, locations=[(location, lineno)], context=context)


def extract() -> Catalog:
    """Every translatable string in the templates and the apps' Python, with where it occurs."""
    from django.utils.translation.template import templatize

    catalogue = Catalog(locale=LOCALE, project="Persona Studio", charset="utf-8")
    for suffix in (".html", ".txt"):
        for path in _sources(suffix, _template_dirs()):
            code = templatize(path.read_text(encoding="utf-8"), origin=str(path))
            # Python's tokenizer rejects the template's indentation; the calls are one per line.
            code = "\n".join(line.lstrip() for line in code.splitlines())
            _add(catalogue, path, code.encode())
    for path in _sources(".py", [ROOT / name for name in PYTHON_DIRS]):
        _add(catalogue, path, path.read_bytes())
    return catalogue


def load(path: Path = CATALOGUE) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=LOCALE)


def update(path: Path = CATALOGUE) -> tuple[int, int]:
    """Merge the code's strings into the catalogue; returns (strings, untranslated)."""
    template = extract()
    if path.exists():
        catalogue = load(path)
        catalogue.update(template, no_fuzzy_matching=True)
        catalogue.obsolete.clear()
    else:
        catalogue = Catalog(locale=LOCALE, project="Persona Studio", charset="utf-8")
        catalogue.update(template, no_fuzzy_matching=True)
    catalogue.fuzzy = False  # a fuzzy header would stop the compiler
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        write_po(handle, catalogue, width=100, sort_output=False, include_previous=False)
    messages = [message for message in catalogue if message.id]
    return len(messages), sum(1 for message in messages if not _translated(message))


def _translated(message: object) -> bool:
    string = message.string
    if isinstance(string, tuple):
        return all(string) and not message.fuzzy
    return bool(string) and not message.fuzzy


def untranslated(catalogue: Catalog, template: Catalog) -> list[str]:
    """The code's strings that `catalogue` lacks or leaves empty or fuzzy."""
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalogue.get(message.id, context=message.context)
        if found is None or not _translated(found):
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


if __name__ == "__main__":
    # templatize reads the template engine's settings.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    django.setup()
    total, empty = update()
    print(f"{CATALOGUE.relative_to(ROOT)}: {total} strings, {empty} untranslated")
