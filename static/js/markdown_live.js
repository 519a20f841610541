// A reply being written, shown as markdown while it arrives.
//
// Mirrors conversations/rendering.py so the text looks the same before and after the `done`
// frame brings the server's HTML: markdown-it (the JS sibling of the server's markdown-it-py)
// with the same options, images turned into links, then DOMPurify with the server's allowlist.
// The libraries are the classic scripts static/vendor/markdown-it.min.js and purify.min.js;
// without them the text is shown as plain text, as it was before.

// rendering.ALLOWED_TAGS, ALLOWED_ATTRIBUTES and URL_SCHEMES: change them together.
const ALLOWED_TAGS = [
  "a", "b", "blockquote", "br", "code", "del", "em", "h1", "h2", "h3", "h4", "h5", "h6",
  "hr", "i", "li", "ol", "p", "pre", "s", "span", "strong", "sub", "sup", "table", "tbody",
  "td", "th", "thead", "tr", "ul",
];
const ALLOWED_ATTRIBUTES = {
  a: ["href", "title", "class"],
  code: ["class"],
  ol: ["start"],
  th: ["align"],
  td: ["align"],
};
// Absolute http(s) and mailto links only: relative ones are dropped, as nh3 does.
const ALLOWED_URI = /^(?:https?|mailto):/i;
const LINK_REL = "nofollow noopener noreferrer";

const shown = new WeakMap(); // body -> the HTML last put in it, to skip frames that change nothing

let renderer; // {md, purify} once built, null when the libraries are missing

function buildMarkdown() {
  const md = window.markdownit("commonmark", { html: false, breaks: true });
  md.enable(["table", "strikethrough"]);
  const escape = md.utils.escapeHtml;
  // A remote image would tell its host who reads the reply: it becomes a link to click.
  md.renderer.rules.image = (tokens, idx) => {
    const token = tokens[idx];
    const alt = (token.children || []).map((child) => child.content).join("") || "image";
    const src = token.attrGet("src") || "";
    return `<a class="remote-image" href="${escape(src)}">image: ${escape(alt)} (click to load)</a>`;
  };
  return md;
}

function buildSanitiser() {
  // Its own instance, so these hooks touch no other use of DOMPurify on the page.
  const purify = window.DOMPurify(window);
  const attributes = new Set(Object.values(ALLOWED_ATTRIBUTES).flat());
  purify.setConfig({
    ALLOWED_TAGS,
    ALLOWED_ATTR: [...attributes],
    ALLOWED_URI_REGEXP: ALLOWED_URI,
    // Checked against ALLOWED_URI otherwise, which "3" or "left" would fail.
    ADD_URI_SAFE_ATTR: ["start", "align"],
    ALLOW_DATA_ATTR: false,
    ALLOW_ARIA_ATTR: false,
  });
  purify.addHook("uponSanitizeAttribute", (node, data) => {
    const allowed = ALLOWED_ATTRIBUTES[node.nodeName.toLowerCase()];
    if (!allowed || !allowed.includes(data.attrName)) data.keepAttr = false;
  });
  purify.addHook("afterSanitizeAttributes", (node) => {
    if (node.nodeName !== "A") return;
    node.setAttribute("rel", LINK_REL);
    node.setAttribute("target", "_blank");
  });
  return purify;
}

function build() {
  if (!window.markdownit || !window.DOMPurify || !window.DOMPurify.isSupported) return null;
  return { md: buildMarkdown(), purify: buildSanitiser() };
}

/** The text as sanitised HTML, or null when the libraries did not load. */
export function liveMarkdownHtml(text) {
  if (renderer === undefined) renderer = build();
  if (!renderer) return null;
  return renderer.purify.sanitize(renderer.md.render(text));
}

/** Shows `text` in a streaming message's body: markdown when possible, plain text otherwise. */
export function showLiveMarkdown(body, text) {
  const html = liveMarkdownHtml(text);
  if (html === null) {
    body.textContent = text;
    return;
  }
  if (shown.get(body) === html) return;
  // The body arrives with pre-wrap for plain text; rendered blocks carry their own breaks.
  body.classList.remove("is-streaming");
  body.innerHTML = html;
  shown.set(body, html);
}
