"""A reply is formatted as markdown while it streams, with the server's sanitising rules."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from conversations import services
from conversations.models import Message
from conversations.rendering import markdown_to_html
from tests.e2e.conftest import ARTIFACTS, login
from tests.factories import character_create_synced

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

REPLY_TIMEOUT_MS = 30_000
# Slow enough that a reply is still being written well after its bold phrase closes.
SLOW_TOKENS_PER_SECOND = 6
# The simulator echoes this, so the reply has an action in single asterisks, and it picks a
# word of it as the reply's bold keyword.
ROLEPLAY_MESSAGE = "Tell me about *green* tea."

STREAMING_BODY = '.msg-assistant[data-state="streaming"] .msg-body'

# What a streaming bubble shows at one instant; read in one go so `done` cannot land between.
READ_STREAMING_BUBBLE = """() => {
  const reply = [...document.querySelectorAll(".msg-assistant:not(.msg-opening)")].pop();
  const body = reply.querySelector(".msg-body");
  return {
    state: reply.dataset.state,
    strong: body.querySelectorAll("strong").length,
    em: body.querySelectorAll("em").length,
    text: body.textContent,
  };
}"""

# Records, from the first paint on, any element or attribute that would run script or load
# something in a reply's body, and whether a streaming body was ever formatted.
WATCH_REPLY_BODIES = """() => {
  window.__liveMarkdown = { dangerous: [], formattedWhileStreaming: false };
  const DANGEROUS = "img, script, svg, iframe, object, embed, style, [onerror], [onload],"
    + " [onclick], [style], a[href^='javascript:' i], a[href^='data:' i]";
  const scan = () => {
    for (const body of document.querySelectorAll(".msg-assistant .msg-body")) {
      for (const element of body.querySelectorAll(DANGEROUS)) {
        window.__liveMarkdown.dangerous.push(element.outerHTML);
      }
      const streaming = body.closest(".msg").dataset.state === "streaming";
      if (streaming && body.querySelector("strong")) {
        window.__liveMarkdown.formattedWhileStreaming = true;
      }
    }
  };
  document.addEventListener("DOMContentLoaded", () => {
    new MutationObserver(scan).observe(document.body, {
      childList: true, subtree: true, attributes: true, characterData: true,
    });
  });
}"""

# Serialises HTML with sorted attributes, so the browser's and the server's renderings compare
# by meaning rather than by attribute order or entity spelling.
CANONICAL_HTML = """(html) => {
  const template = document.createElement("template");
  template.innerHTML = html;
  const walk = (node) => {
    if (node.nodeType === Node.TEXT_NODE) return JSON.stringify(node.data);
    if (node.nodeType !== Node.ELEMENT_NODE) return "";
    const attributes = [...node.attributes].map((a) => `${a.name}=${JSON.stringify(a.value)}`);
    const children = [...node.childNodes].map(walk).join("");
    return `<${node.localName} ${attributes.sort().join(" ")}>${children}</${node.localName}>`;
  };
  return [...template.content.childNodes].map(walk).join("");
}"""

LIVE_RENDER = """async (texts) => {
  const live = await import("/static/js/markdown_live.js");
  return texts.map((text) => live.liveMarkdownHtml(text));
}"""

# Every sample renders through the same rules on both sides: formatting, half-written markup,
# links of every scheme, images, raw HTML and attempts to break out of an attribute.
PARITY_SAMPLES = [
    "**bold**, *an action*, _also_ and ~~gone~~",
    "*Lin pours the tea* and **half-written bold",
    "- one\n- two\n\n3. three\n4. four",
    "first line\nsecond line\n\nnew paragraph",
    "> a quote\n\n---\n\n# Title\n\n### Smaller",
    "```js\nconst x = 1 < 2;\n```\n\nand `inline <b>code</b>`",
    "| tea | price |\n|:--|--:|\n| green | 3 |",
    '[site](https://example.com "A title") [mail](mailto:a@example.com) <https://example.com/x>',
    "[js](javascript:alert(1)) [rel](/relative) [ftp](ftp://example.com/f)",
    "[data](data:text/html,x) [vb](vbscript:x) [no scheme](example.com)",
    '![a cat](https://example.com/cat.png) ![](http://example.com/x.png "t")',
    "<img src=x onerror=alert(1)> <script>alert(2)</script> <b onclick=x>hi</b> <span>raw</span>",
    '[x](https://example.com/" onmouseover="alert(1)) &amp; &lt; &copy; &#x3C;b&#x3E;',
    "中文 **加粗** 和 *动作*，还有「引号」",
]


def _start_chat(page, base_url: str, user, character) -> None:
    session = services.session_start(user=user, character=character)
    login(page, base_url, user.username)
    page.goto(f"{base_url}/chat/{session.pk}/")
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")


def _send(page, text: str) -> None:
    page.fill("#composer-input", text)
    page.press("#composer-input", "Enter")


def _last_reply(page):
    return page.locator(".msg-assistant:not(.msg-opening)").last


def _expect_formatted_mid_stream(page) -> None:
    """Once the bold keyword has closed, the bubble shows formatting and no asterisks at all."""
    expect(page.locator(f"{STREAMING_BODY} strong")).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    bubble = page.evaluate(READ_STREAMING_BUBBLE)
    assert bubble["state"] == "streaming"
    assert bubble["strong"] == 1 and bubble["em"] >= 1
    assert "*" not in bubble["text"]
    assert "green" in bubble["text"]


def _canonical(page, html: str) -> str:
    return page.evaluate(CANONICAL_HTML, html)


def test_it_formats_bold_and_actions_while_the_reply_is_still_streaming(
    live_asgi, page, sim, alice
):
    lin = character_create_synced(name="Lin", opening_line="Welcome, traveller.")
    _start_chat(page, live_asgi, alice, lin)

    sim.configure(tokens_per_second=SLOW_TOKENS_PER_SECOND)
    _send(page, ROLEPLAY_MESSAGE)
    _expect_formatted_mid_stream(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live_markdown_streaming.png"), full_page=True)

    sim.configure(tokens_per_second=2000)
    reply = _last_reply(page)
    expect(reply).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)
    saved = Message.objects.get(role="assistant", kind="chat")
    shown = reply.locator(".msg-body").inner_html()
    assert _canonical(page, shown) == _canonical(page, markdown_to_html(saved.content))
    expect(reply.locator(".msg-body strong")).to_have_count(1)


def test_it_formats_the_text_so_far_after_a_reload_mid_stream(live_asgi, page, sim, alice):
    lin = character_create_synced(name="Lin", opening_line="Welcome, traveller.")
    _start_chat(page, live_asgi, alice, lin)

    sim.configure(tokens_per_second=SLOW_TOKENS_PER_SECOND)
    _send(page, ROLEPLAY_MESSAGE)
    expect(page.locator(f"{STREAMING_BODY} strong")).to_have_count(1, timeout=REPLY_TIMEOUT_MS)
    page.reload()
    expect(page.locator("[data-role=connection]")).to_have_attribute("data-status", "open")
    _expect_formatted_mid_stream(page)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "live_markdown_after_reload.png"), full_page=True)

    sim.configure(tokens_per_second=2000)
    reply = _last_reply(page)
    expect(reply).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)
    expect(reply.locator(".msg-body strong")).to_have_count(1)


@pytest.mark.parametrize(
    "payload",
    [
        "<img src=x onerror=alert(1)> look",
        "<script>alert(2)</script> look",
        "[look](javascript:alert(3)) here",
    ],
    ids=["img-onerror", "script", "javascript-link"],
)
def test_markup_echoed_in_a_reply_never_becomes_an_element_while_streaming(
    live_asgi, page, sim, alice, payload
):
    lin = character_create_synced(name="Lin", opening_line="Welcome.")
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.add_init_script(script=f"({WATCH_REPLY_BODIES})()")
    _start_chat(page, live_asgi, alice, lin)

    sim.configure(tokens_per_second=40)
    _send(page, payload)
    reply = _last_reply(page)
    expect(reply).to_have_attribute("data-state", "complete", timeout=REPLY_TIMEOUT_MS)
    expect(reply.locator(".msg-body")).to_contain_text(payload)  # shown as the text it is

    watched = page.evaluate("window.__liveMarkdown")
    assert watched["formattedWhileStreaming"]
    assert watched["dangerous"] == []
    assert dialogs == []


def test_the_live_renderer_gives_the_same_html_as_the_server(live_asgi, page, alice):
    lin = character_create_synced(name="Lin", opening_line="Welcome.")
    _start_chat(page, live_asgi, alice, lin)

    live = page.evaluate(LIVE_RENDER, PARITY_SAMPLES)
    for sample, html in zip(PARITY_SAMPLES, live, strict=True):
        assert html is not None, "the vendored libraries did not load"
        server = str(markdown_to_html(sample))
        assert _canonical(page, html) == _canonical(page, server), sample


def test_the_chat_page_loads_its_markdown_libraries_from_the_site_itself(live_asgi, page, alice):
    lin = character_create_synced(name="Lin", opening_line="Welcome.")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    _start_chat(page, live_asgi, alice, lin)

    scripts = [url for url in requests if re.search(r"\.m?js(\?|$)", url)]
    assert any(url.endswith("/static/vendor/markdown-it.min.js") for url in scripts)
    assert any(url.endswith("/static/vendor/purify.min.js") for url in scripts)
    assert all(url.startswith(live_asgi) for url in scripts)
