// The rating queue, driven by the keyboard: j/k move, g/b verdict, 1–8 reasons, c/i text fields,
// Enter saves (htmx swaps the card) and moves to the next unrated reply, ? shows the keys.

const CARD = "[data-reply-card]";
let selectedId = null;
let advanceFrom = null; // the card whose save should move the selection on

const cards = () => Array.from(document.querySelectorAll(CARD));
const selected = () => (selectedId && document.getElementById(selectedId)) || null;

function select(card, { scroll = true } = {}) {
  if (!card) return;
  for (const other of document.querySelectorAll(`${CARD}.is-selected`)) {
    other.classList.remove("is-selected");
    other.removeAttribute("aria-current");
  }
  card.classList.add("is-selected");
  card.setAttribute("aria-current", "true");
  selectedId = card.id;
  if (scroll) card.scrollIntoView({ block: "nearest", behavior: "instant" });
}

function move(step) {
  const all = cards();
  const index = all.indexOf(selected());
  select(all[Math.min(Math.max(index + step, 0), all.length - 1)]);
}

function nextUnrated(card) {
  const all = cards();
  const after = all.slice(all.indexOf(card) + 1);
  return after.find((c) => c.dataset.rated === "false") || after[0] || card;
}

function isTyping(target) {
  return target.matches?.("textarea, select, input:not([type=checkbox]):not([type=radio])");
}

function save(card) {
  advanceFrom = card.id;
  card.querySelector("form").requestSubmit();
}

function pickVerdict(card, value) {
  const radio = card.querySelector(`input[name=verdict][value=${value}]`);
  if (radio) radio.checked = true;
}

function toggleReason(card, key) {
  const box = card.querySelector(`input[name=reasons][data-key="${key}"]`);
  if (box) box.checked = !box.checked;
}

function focusField(card, name) {
  const field = card.querySelector(`[data-field=${name}]`);
  if (field) {
    field.focus();
    field.setSelectionRange(field.value.length, field.value.length);
  }
}

function turnPage(which) {
  document.querySelector(`.pager [data-page=${which}]`)?.click();
}

function toggleHelp() {
  const help = document.getElementById("keys-help");
  if (help.open) help.close();
  else help.showModal();
}

function onTextKey(event) {
  const card = event.target.closest(CARD);
  if (event.key === "Escape") {
    event.preventDefault();
    event.target.blur();
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey) && card) {
    event.preventDefault();
    save(card);
  }
}

const ACTIONS = {
  j: () => move(1),
  k: () => move(-1),
  g: (card) => pickVerdict(card, "good"),
  b: (card) => pickVerdict(card, "bad"),
  c: (card) => focusField(card, "comment"),
  i: (card) => focusField(card, "ideal_reply"),
  n: () => turnPage("next"),
  p: () => turnPage("previous"),
  Enter: (card) => save(card),
};

function onKey(event) {
  if (event.defaultPrevented || event.altKey) return;
  if (isTyping(event.target)) return onTextKey(event);
  if (event.ctrlKey || event.metaKey) return;
  if (event.key === "?") {
    event.preventDefault();
    return toggleHelp();
  }
  if (document.getElementById("keys-help")?.open) return;
  // Enter on a focused button or link keeps its own meaning.
  if (event.key === "Enter" && event.target.closest("button, a, summary")) return;
  const card = selected() || cards()[0];
  if (!card) return;
  if (!selected()) select(card);
  const action = /^[1-8]$/.test(event.key) ? (c) => toggleReason(c, event.key) : ACTIONS[event.key];
  if (!action) return;
  event.preventDefault();
  action(selected());
}

// A swapped-in card (after a save) or list (after filtering or paging) takes the selection.
function onLoad(event) {
  const element = event.detail.elt;
  if (element.matches?.(CARD)) {
    const advance = element.id === advanceFrom && element.dataset.saved === "true";
    if (element.id === advanceFrom) advanceFrom = null;
    if (advance) select(nextUnrated(element));
    else if (element.id === selectedId) select(element, { scroll: false });
  } else if (element.id === "queue-list") {
    select(element.querySelector(`${CARD}[data-rated=false]`) || element.querySelector(CARD));
  }
}

document.addEventListener("keydown", onKey);
document.body.addEventListener("htmx:load", onLoad);
document.addEventListener("click", (event) => {
  const card = event.target.closest(CARD);
  if (card && card.id !== selectedId) select(card, { scroll: false });
});
document.addEventListener("submit", (event) => {
  // A click on Save advances like Enter does.
  const card = event.target.closest(CARD);
  if (card) advanceFrom = card.id;
});
select(document.querySelector(`${CARD}[data-rated=false]`) || document.querySelector(CARD), {
  scroll: false,
});
