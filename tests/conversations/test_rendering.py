"""Replies are markdown from an untrusted model; user messages are plain text."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from conversations.rendering import markdown_to_html, plain_text_to_html

XSS_PAYLOADS = [
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(1)">',
    "[click](javascript:alert(1))",
    "[click](JaVaScRiPt:alert(1))",
    '<a href="javascript:alert(1)">click</a>',
    "<iframe src=https://evil.example></iframe>",
    '<svg onload="alert(1)"></svg>',
    "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    '<div style="background:url(javascript:alert(1))">x</div>',
    "![x](javascript:alert(1))",
]


class _Elements(HTMLParser):
    """The tags and attributes a browser would build from some HTML."""

    def __init__(self, html: str):
        super().__init__()
        self.found: list[tuple[str, dict[str, str]]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, {name: value or "" for name, value in attrs}))


def dangers(html: str) -> list[str]:
    found = []
    for tag, attrs in _Elements(html).found:
        if tag in ("script", "img", "iframe", "svg", "object", "embed", "style"):
            found.append(f"<{tag}>")
        for name, value in attrs.items():
            if name.startswith("on") or name == "style" or name == "src":
                found.append(f"{tag}[{name}]")
            if name == "href" and not value.startswith(("https:", "http:", "mailto:")):
                found.append(f"{tag}[href={value}]")
    return found


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_a_reply_never_renders_scripts_handlers_or_javascript_links(payload):
    assert dangers(markdown_to_html(f"Hello {payload} there")) == []


@pytest.mark.parametrize("payload", XSS_PAYLOADS)
def test_a_users_message_is_shown_as_text(payload):
    html = plain_text_to_html(payload)
    assert [tag for tag, _ in _Elements(html).found] == ["p"]


def test_markdown_is_rendered():
    html = markdown_to_html("**bold** and *soft*\n\n- one\n- two\n\n```\ncode < 1\n```")
    assert "<strong>bold</strong>" in html and "<em>soft</em>" in html
    assert "<li>one</li>" in html
    assert "<code>code &lt; 1\n</code>" in html


def test_links_open_in_a_new_tab_without_passing_the_page_on():
    html = markdown_to_html("[docs](https://example.com/docs)")
    assert 'href="https://example.com/docs"' in html
    assert 'target="_blank"' in html
    assert 'rel="nofollow noopener noreferrer"' in html


def test_remote_images_are_not_loaded_until_clicked():
    html = markdown_to_html("Look: ![a cat](https://images.example/cat.png)")
    assert "<img" not in html
    assert 'href="https://images.example/cat.png"' in html
    assert "image: a cat (click to load)" in html


def test_a_users_line_breaks_are_kept():
    assert plain_text_to_html("one\ntwo") == "<p>one<br>two</p>"
