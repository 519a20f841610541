// Light or dark pages: the system's choice unless the reader picked one with the top bar's
// toggle (kept in localStorage). Loaded in <head>, not deferred, so that <html> carries
// data-theme before anything is drawn and a dark page never flashes light.
(() => {
  const KEY = "theme";
  const CHOICES = ["system", "light", "dark"];
  const root = document.documentElement;
  const systemDark = window.matchMedia("(prefers-color-scheme: dark)");

  // Storage can be refused (a private window, a locked-down browser): the system decides then.
  function stored() {
    try {
      const choice = localStorage.getItem(KEY);
      return CHOICES.includes(choice) ? choice : "system";
    } catch {
      return "system";
    }
  }

  function remember(choice) {
    try {
      if (choice === "system") localStorage.removeItem(KEY);
      else localStorage.setItem(KEY, choice);
    } catch {
      // Not kept, but still applied to this page.
    }
  }

  function labelToggle(choice) {
    const toggle = document.querySelector("[data-theme-toggle]");
    if (!toggle) return;
    const label = toggle.dataset[`label${choice[0].toUpperCase()}${choice.slice(1)}`];
    toggle.setAttribute("aria-label", label);
    toggle.title = label;
  }

  function apply(choice) {
    root.dataset.themeChoice = choice;
    root.dataset.theme = choice === "system" ? (systemDark.matches ? "dark" : "light") : choice;
    labelToggle(choice);
  }

  apply(stored());
  systemDark.addEventListener("change", () => apply(root.dataset.themeChoice));
  // Another tab changed the choice.
  window.addEventListener("storage", (event) => {
    if (event.key === KEY || event.key === null) apply(stored());
  });

  document.addEventListener("DOMContentLoaded", () => {
    const toggle = document.querySelector("[data-theme-toggle]");
    if (!toggle) return;
    labelToggle(root.dataset.themeChoice);
    toggle.hidden = false; // without this script the toggle could do nothing
    toggle.addEventListener("click", () => {
      const next = CHOICES[(CHOICES.indexOf(root.dataset.themeChoice) + 1) % CHOICES.length];
      remember(next);
      apply(next);
    });
  });
})();
