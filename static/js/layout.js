// The page frame on small screens: the top bar's menu, the simulator banner that can be put
// away, and the chat page's side panel as a drawer. Loaded in <head>, not deferred, so that <html>
// carries its classes before anything is drawn: without this script the navigation stays a plain
// row of links and the side panel stays below the chat.
(() => {
  const root = document.documentElement;
  const BANNER_KEY = "banner-hidden";
  // Where phones' rules start in app.css and chat.css.
  const PHONE = window.matchMedia("(max-width: 820px)");

  root.classList.add("has-layout-js");

  // Session storage: the notice is put away for this visit, and comes back in a new one.
  function bannerHidden() {
    try {
      return sessionStorage.getItem(BANNER_KEY) === "1";
    } catch {
      return false;
    }
  }

  function hideBanner(banner) {
    try {
      sessionStorage.setItem(BANNER_KEY, "1");
    } catch {
      // Not kept, but hidden on this page.
    }
    banner.hidden = true;
  }

  if (bannerHidden()) root.dataset.bannerHidden = "";

  function setUpBanner() {
    const banner = document.querySelector("[data-banner]");
    const close = banner?.querySelector("[data-banner-close]");
    if (!close) return;
    close.hidden = false;
    close.addEventListener("click", () => hideBanner(banner));
  }

  // --- the top bar's menu ---------------------------------------------------------------------

  function setUpMenu() {
    const topbar = document.querySelector("[data-topbar]");
    const toggle = topbar?.querySelector("[data-nav-toggle]");
    if (!toggle) return;
    const menu = document.getElementById(toggle.getAttribute("aria-controls"));

    function show(open) {
      topbar.classList.toggle("is-menu-open", open);
      toggle.setAttribute("aria-expanded", String(open));
    }

    toggle.hidden = false;
    toggle.addEventListener("click", () => show(!topbar.classList.contains("is-menu-open")));
    document.addEventListener("click", (event) => {
      if (!topbar.contains(event.target)) show(false);
    });
    topbar.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !topbar.classList.contains("is-menu-open")) return;
      event.stopPropagation();
      show(false);
      toggle.focus();
    });
    // Tabbing past the last link leaves the menu: fold it so it does not cover the page.
    menu.addEventListener("focusout", (event) => {
      if (!topbar.contains(event.relatedTarget)) show(false);
    });
    PHONE.addEventListener("change", () => show(false));
  }

  // --- the chat page's drawer -----------------------------------------------------------------

  function setUpDrawer() {
    const opener = document.querySelector("[data-drawer-open]");
    if (!opener) return;
    const drawer = document.getElementById(opener.getAttribute("aria-controls"));
    const backdrop = document.querySelector("[data-drawer-backdrop]");
    // What stays behind the drawer: not reachable by Tab or a screen reader while it is open.
    const behind = () => document.querySelectorAll("[data-topbar], [data-banner], .chat-main");

    function isOpen() {
      return drawer.classList.contains("is-open");
    }

    function open() {
      drawer.classList.add("is-open");
      drawer.setAttribute("role", "dialog");
      drawer.setAttribute("aria-modal", "true");
      opener.setAttribute("aria-expanded", "true");
      backdrop.hidden = false;
      for (const element of behind()) element.inert = true;
      drawer.querySelector("[data-drawer-close]").focus();
    }

    function close({ restoreFocus = true } = {}) {
      if (!isOpen()) return;
      drawer.classList.remove("is-open");
      drawer.removeAttribute("role");
      drawer.removeAttribute("aria-modal");
      opener.setAttribute("aria-expanded", "false");
      backdrop.hidden = true;
      for (const element of behind()) element.inert = false;
      if (restoreFocus) opener.focus();
    }

    opener.hidden = false;
    opener.addEventListener("click", open);
    backdrop.addEventListener("click", () => close());
    for (const button of drawer.querySelectorAll("[data-drawer-close]")) {
      button.addEventListener("click", () => close());
    }
    // Captured on the document, so that it works wherever focus went (an htmx swap in the
    // drawer can drop it) and the chat's own Escape, which stops a reply, never sees it.
    document.addEventListener("keydown", (event) => {
      if (event.key !== "Escape" || !isOpen()) return;
      event.stopPropagation();
      close();
    }, true);
    // On a wide screen the panel is a column again.
    PHONE.addEventListener("change", () => close({ restoreFocus: false }));
  }

  // --- the chat log when the screen changes size ----------------------------------------------

  // The on-screen keyboard shrinks the page (interactive-widget=resizes-content): a log that
  // showed its latest message keeps showing it, and the composer stays in view.
  function setUpChatLog() {
    const log = document.getElementById("chat-log");
    if (!log || !window.ResizeObserver) return;
    const NEAR_BOTTOM_PX = 120;
    let atBottom = true;
    log.addEventListener("scroll", () => {
      atBottom = log.scrollHeight - log.scrollTop - log.clientHeight < NEAR_BOTTOM_PX;
    }, { passive: true });
    new ResizeObserver(() => {
      if (atBottom) log.scrollTop = log.scrollHeight;
      const composer = document.querySelector("[data-role=composer]");
      if (composer && composer.contains(document.activeElement)) {
        composer.scrollIntoView({ block: "nearest" });
      }
    }).observe(log);
  }

  document.addEventListener("DOMContentLoaded", () => {
    setUpBanner();
    setUpMenu();
    setUpDrawer();
    setUpChatLog();
  });
})();
