// The chat page's socket: sends what the user does, shows what the server says.
//
// Markup comes from the server (the same sanitised partial the page renders), but for the text
// of a reply being written: markdown_live.js renders it with the server's markdown options and
// allowlist until the `done` frame swaps in the server's HTML.

import { showLiveMarkdown } from "./markdown_live.js";

const root = document.getElementById("chat");
const log = document.getElementById("chat-log");
// The page's words (templates/conversations/_chat_strings.html), in the reader's language.
const words = document.getElementById("chat-strings")?.dataset ?? {};

const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 15000;
const GIVE_UP_AFTER = 8; // failed attempts in a row before asking for a reload
const NEAR_BOTTOM_PX = 120;
const COPIED_SHOWN_MS = 2000;

const state = {
  socket: null,
  connectedOnce: false,
  failures: 0,
  pending: null, // {frame, content}: a send not yet acknowledged by a `message` frame
  streams: new Map(), // message id -> {seq, text, gap}
  redraws: new Set(), // ids of messages whose text changed since the last animation frame
  editing: null, // {messageId, draft}: the composer holds the last message, to send it anew
  countdown: null, // {cancel}: a retry waiting for the time the server asked for
};

function elementFromHtml(html) {
  const template = document.createElement("template");
  template.innerHTML = html.trim();
  return template.content.firstElementChild;
}

function nearBottom() {
  return log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
}

function scrollToBottom() {
  log.scrollTop = log.scrollHeight;
}

function ui(role) {
  return root.querySelector(`[data-role="${role}"]`);
}

// --- messages in the log --------------------------------------------------------------------

function placeMessage(html) {
  const element = elementFromHtml(html);
  if (!element) return null;
  const stick = nearBottom();
  const existing = document.getElementById(element.id);
  const sibling = element.dataset.query && element.classList.contains("msg-assistant")
    ? log.querySelector(`.msg-assistant[data-query="${CSS.escape(element.dataset.query)}"]`)
    : null;
  if (existing) {
    existing.replaceWith(element);
  } else if (sibling) {
    sibling.replaceWith(element); // another alternative of the same question
  } else {
    log.append(element);
    for (const control of log.querySelectorAll("[data-latest-only]")) {
      if (!element.contains(control)) control.remove();
    }
  }
  showStream(element);
  if (window.htmx) window.htmx.process(element); // a job card in it polls while it runs
  if (stick) scrollToBottom();
  return element;
}

function placeJob(frame) {
  const card = elementFromHtml(frame.html);
  if (!card) return;
  const stick = nearBottom();
  const existing = document.getElementById(card.id);
  const holder = log.querySelector(`#msg-${frame.message_id} .msg-jobs`);
  if (existing) existing.replaceWith(card);
  else if (holder) holder.append(card);
  else return;
  if (window.htmx) window.htmx.process(card);
  keepBottomInView(card, stick);
}

function isJobCard(element) {
  return element instanceof Element && element.matches(".job-card");
}

// A job card changes at the foot of a reply (a `job` frame, or its own polling). When the end of
// the log was in view it stays in view, also once the card's picture has loaded and grown.
function keepBottomInView(card, stick) {
  if (!stick) return;
  scrollToBottom();
  for (const image of card.querySelectorAll("img")) {
    if (!image.complete) image.addEventListener("load", scrollToBottom, { once: true });
  }
}

function showStream(element) {
  const stream = state.streams.get(Number(element.dataset.messageId));
  const body = element.querySelector(".msg-body");
  if (!body || element.dataset.state !== "streaming") return;
  // Without frames yet, a body the server has just rendered holds the text so far, unformatted.
  showLiveMarkdown(body, stream ? stream.text : body.textContent);
}

function streamOf(messageId) {
  if (!state.streams.has(messageId)) state.streams.set(messageId, { seq: 0, text: "", gap: false });
  return state.streams.get(messageId);
}

// Deltas come faster than frames are painted: the whole text is rendered once per frame.
function refreshStream(messageId) {
  if (state.redraws.size === 0) requestAnimationFrame(redrawStreams);
  state.redraws.add(messageId);
}

function redrawStreams() {
  const stick = nearBottom();
  for (const messageId of state.redraws) {
    const element = document.getElementById(`msg-${messageId}`);
    if (element) showStream(element);
  }
  state.redraws.clear();
  if (stick) scrollToBottom();
}

// --- frames from the server -----------------------------------------------------------------

const handlers = {
  message(frame) {
    const message = frame.message;
    placeMessage(message.html);
    if (message.role === "user" && state.pending) {
      state.pending = null;
    }
  },
  start(frame) {
    streamOf(frame.message_id);
  },
  delta(frame) {
    const stream = streamOf(frame.message_id);
    if (frame.seq <= stream.seq) return; // already shown (a snapshot covered it)
    if (frame.seq !== stream.seq + 1) stream.gap = true; // `done` will bring the whole text
    if (stream.gap) return;
    stream.text += frame.text;
    stream.seq = frame.seq;
    refreshStream(frame.message_id);
  },
  snapshot(frame) {
    state.streams.set(frame.message_id, { seq: frame.seq, text: frame.text, gap: false });
    refreshStream(frame.message_id);
  },
  done(frame) {
    state.streams.delete(frame.message_id);
    placeMessage(frame.html);
  },
  job(frame) {
    placeJob(frame);
  },
  deleted(frame) {
    for (const messageId of frame.message_ids) {
      document.getElementById(`msg-${messageId}`)?.remove();
      state.streams.delete(messageId);
      if (state.editing?.messageId === messageId) cancelEdit();
    }
  },
  error(frame) {
    // A reply's error is part of the reply (its HTML says it): shown there, not twice.
    if (frame.message_id) {
      const reply = document.getElementById(`msg-${frame.message_id}`);
      if (reply && frame.code === "rate_limited" && frame.retry_after) {
        retryReplyLater(reply, frame.retry_after);
      }
      return;
    }
    const pending = state.pending;
    if (pending && frame.code === "throttled" && frame.retry_after) {
      state.pending = null;
      const resend = () => sendFromComposer(pending.frame, pending.content);
      countDown(showNotice(""), words.throttled, frame.retry_after, resend, () => {
        showNotice(frame.message);
        restoreComposer(pending.content);
      });
      return;
    }
    showNotice(frame.message);
    if (pending && frame.code !== "upstream" && frame.code !== "rate_limited") {
      restoreComposer(pending.content);
      state.pending = null;
    }
  },
};

function onFrame(event) {
  let frame;
  try {
    frame = JSON.parse(event.data);
  } catch {
    return;
  }
  const handle = handlers[frame.type];
  if (handle) handle(frame);
  updateControls();
}

// --- the socket -----------------------------------------------------------------------------

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}${root.dataset.socketPath}`;
}

function connect() {
  setConnection("connecting");
  const socket = new WebSocket(socketUrl());
  state.socket = socket;
  let opened = false;
  socket.addEventListener("open", () => {
    opened = true;
    state.failures = 0;
    setConnection("open");
    if (state.connectedOnce) refreshLog();
    state.connectedOnce = true;
    if (state.pending) socket.send(JSON.stringify(state.pending.frame)); // same client_id
    updateControls();
  });
  socket.addEventListener("message", onFrame);
  socket.addEventListener("close", () => {
    state.socket = null;
    if (!opened) state.failures += 1;
    updateControls();
    if (state.failures >= GIVE_UP_AFTER) {
      setConnection("lost");
      return;
    }
    setConnection("reconnecting");
    const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** state.failures);
    setTimeout(connect, delay * (0.75 + Math.random() * 0.5));
  });
}

function send(frame) {
  if (!state.socket || state.socket.readyState !== WebSocket.OPEN) return false;
  state.socket.send(JSON.stringify(frame));
  return true;
}

async function refreshLog() {
  // Frames sent while this page was offline are lost: take the latest messages from the page.
  const response = await fetch(location.href, { headers: { Accept: "text/html" } });
  if (!response.ok) return;
  const page = new DOMParser().parseFromString(await response.text(), "text/html");
  const fresh = page.getElementById("chat-log");
  if (!fresh) return;
  log.replaceChildren(...fresh.childNodes);
  for (const element of log.querySelectorAll('.msg[data-state="streaming"]')) showStream(element);
  if (window.htmx) window.htmx.process(log);
  scrollToBottom();
  updateControls();
}

// --- the composer and the buttons -----------------------------------------------------------

function newClientId() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

function isStreaming() {
  return Boolean(log.querySelector('.msg[data-state="streaming"]'));
}

function submitMessage() {
  const input = ui("composer").elements.content;
  const content = input.value.trim();
  if (!content || isStreaming() || state.pending) return;
  const frame = state.editing
    ? { type: "edit", message_id: state.editing.messageId, content }
    : { type: "send", content };
  if (state.editing) endEdit();
  input.value = "";
  sendFromComposer(frame, content);
}

// A new client_id each time: a retry is a new message, a reconnect resends the same one.
function sendFromComposer(frame, content) {
  const fresh = { ...frame, client_id: newClientId() };
  state.pending = { frame: fresh, content };
  stopCountdown();
  hideNotice();
  if (!send(fresh)) showNotice(words.notConnected);
  updateControls();
}

function restoreComposer(content) {
  const input = ui("composer").elements.content;
  if (!input.value.trim()) input.value = content;
}

function isConnected() {
  return Boolean(state.socket && state.socket.readyState === WebSocket.OPEN);
}

function updateControls() {
  const streaming = isStreaming();
  const connected = isConnected();
  ui("stop").hidden = !streaming;
  ui("send").disabled = streaming || !connected || Boolean(state.pending);
  for (const button of log.querySelectorAll("[data-choose], [data-action='regenerate']")) {
    button.disabled = streaming || !connected;
  }
  // Only the last turn can change, and not while a reply is being written.
  const changeable = !streaming && connected && !state.pending ? lastQuestion() : null;
  for (const button of log.querySelectorAll("[data-action='edit'], [data-action='delete']")) {
    button.hidden = !changeable || !changeable.contains(button);
  }
}

function setConnection(status) {
  const badge = ui("connection");
  badge.dataset.status = status;
  badge.textContent = words[status] ?? status;
}

// The notice takes room from the log: the end of the log stays in view if it was.
function showNotice(text) {
  const notice = ui("notice");
  const stick = nearBottom();
  notice.textContent = text;
  notice.hidden = false;
  if (stick) scrollToBottom();
  return notice;
}

function hideNotice() {
  const stick = nearBottom();
  ui("notice").hidden = true;
  if (stick) scrollToBottom();
}

// --- changing the last turn ----------------------------------------------------------------

// The user's last message, if nothing but its replies came after it.
function lastQuestion() {
  const messages = log.querySelectorAll(".msg");
  for (let i = messages.length - 1; i >= 0; i -= 1) {
    const message = messages[i];
    if (message.classList.contains("msg-user")) return message;
    if (!message.dataset.query) return null; // a reminder or an opening line came after it
  }
  return null;
}

function textOf(message) {
  return message.querySelector(".msg-body")?.innerText.trim() ?? "";
}

function startEdit(question) {
  const input = ui("composer").elements.content;
  if (!state.editing) state.editing = { draft: input.value };
  state.editing.messageId = Number(question.dataset.messageId);
  input.value = textOf(question);
  let banner = ui("editing");
  if (!banner) {
    banner = document.createElement("p");
    banner.className = "composer-editing";
    banner.dataset.role = "editing";
    banner.textContent = words.editing;
    ui("composer").before(banner);
  }
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}

function endEdit() {
  state.editing = null;
  ui("editing")?.remove();
}

function cancelEdit() {
  if (!state.editing) return;
  ui("composer").elements.content.value = state.editing.draft;
  endEdit();
}

function deleteTurn(button) {
  const question = button.closest(".msg");
  if (!window.confirm(button.dataset.confirm)) return;
  hideNotice();
  send({ type: "delete", message_id: Number(question.dataset.messageId) });
}

async function copyMessage(button) {
  const text = textOf(button.closest(".msg"));
  const label = button.dataset.label ?? button.textContent;
  button.dataset.label = label;
  try {
    await navigator.clipboard.writeText(text);
    button.textContent = button.dataset.copied;
  } catch {
    // No clipboard (a page not served over HTTPS): the text is selected for the reader.
    const selection = window.getSelection();
    selection.selectAllChildren(button.closest(".msg").querySelector(".msg-body"));
    button.textContent = button.dataset.copyFailed;
  }
  setTimeout(() => { button.textContent = label; }, COPIED_SHOWN_MS);
}

// --- trying again when the server says when -------------------------------------------------

// Shows "<lead> Trying again in N s… [Cancel]" in `place` and calls `onTime` at zero.
function countDown(place, lead, seconds, onTime, onCancel) {
  stopCountdown();
  const text = document.createElement("span");
  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "link";
  cancel.textContent = words.cancel;
  place.replaceChildren(text, " ", cancel);
  let left = seconds;
  const show = () => {
    text.textContent = `${lead} ${words.retrying.replace("{seconds}", left)}`;
  };
  show();
  const timer = setInterval(() => {
    left -= 1;
    if (left > 0) return show();
    clearInterval(timer);
    state.countdown = null;
    onTime();
  }, 1000);
  state.countdown = {
    cancel() {
      clearInterval(timer);
      state.countdown = null;
      onCancel();
    },
  };
  cancel.addEventListener("click", () => state.countdown?.cancel());
}

function stopCountdown() {
  state.countdown?.cancel();
}

function retryReplyLater(reply, seconds) {
  const line = reply.querySelector(".msg-error");
  if (!line) return;
  const said = line.textContent;
  const putBack = () => {
    const current = document.getElementById(reply.id)?.querySelector(".msg-error");
    if (current) current.textContent = said;
  };
  countDown(line, words.busy, seconds, () => retryReply(reply.id, putBack), putBack);
}

// A reply that failed before any text: its question is sent again in its place. One with
// some text keeps it and gets another reply beside it.
function retryReply(replyId, putBack) {
  const reply = document.getElementById(replyId);
  const question = lastQuestion();
  const isLast = reply && question && reply.dataset.query === question.dataset.messageId;
  if (!isLast || isStreaming() || state.pending || !isConnected()) return putBack();
  if (reply.dataset.state === "failed") {
    const frame = { type: "edit", message_id: Number(question.dataset.messageId) };
    const content = textOf(question);
    sendFromComposer({ ...frame, content }, content);
  } else {
    send({ type: "regenerate" });
  }
}

function wireComposer() {
  const composer = ui("composer");
  const input = composer.elements.content;
  composer.addEventListener("submit", (event) => {
    event.preventDefault();
    submitMessage();
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submitMessage();
    } else if (event.key === "ArrowUp" && !input.value && !event.isComposing) {
      const question = isStreaming() || state.pending ? null : lastQuestion();
      if (question) {
        event.preventDefault();
        startEdit(question);
      }
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || event.isComposing) return;
    if (state.editing) cancelEdit();
    else if (isStreaming()) send({ type: "stop" });
  });
  ui("stop").addEventListener("click", () => send({ type: "stop" }));
  log.addEventListener("click", (event) => {
    const action = event.target.closest("[data-action]");
    if (action?.dataset.action === "copy") return copyMessage(action);
    if (action?.dataset.action === "edit") return startEdit(action.closest(".msg"));
    if (action?.dataset.action === "delete") return deleteTurn(action);
    const choose = event.target.closest("[data-choose]");
    if (choose && choose.dataset.choose) {
      send({ type: "choose", message_id: Number(choose.dataset.choose) });
      return;
    }
    if (event.target.closest("[data-action='regenerate']")) {
      stopCountdown();
      hideNotice();
      send({ type: "regenerate" });
    }
  });
}

// --- page behaviour that needs no socket ----------------------------------------------------

function keepScrollWhenLoadingOlder() {
  let before = null;
  let jobStick = false; // a polling job card swaps itself below, not above, what is read
  log.addEventListener("htmx:beforeSwap", (event) => {
    if (isJobCard(event.target)) {
      jobStick = nearBottom();
      return;
    }
    before = { height: log.scrollHeight, top: log.scrollTop };
  });
  log.addEventListener("htmx:afterSwap", (event) => {
    if (isJobCard(event.target)) {
      keepBottomInView(event.target, jobStick);
      return;
    }
    if (!before) return;
    log.scrollTop = before.top + (log.scrollHeight - before.height);
    before = null;
  });
}

function confirmForms() {
  for (const form of document.querySelectorAll("form[data-confirm]")) {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  }
}

if (root && log) {
  for (const element of log.querySelectorAll('.msg[data-state="streaming"]')) showStream(element);
  scrollToBottom();
  keepScrollWhenLoadingOlder();
  confirmForms();
  if (root.dataset.socketPath && ui("composer")) {
    wireComposer();
    connect();
  }
}
