// The chats list: a deleted chat's Undo lasts data-undo-seconds, then its row goes.
(function () {
  "use strict";

  function startUndoTimers(root) {
    var rows = root.querySelectorAll ? root.querySelectorAll("[data-undo-seconds]") : [];
    if (root.matches && root.matches("[data-undo-seconds]")) rows = [root];
    Array.prototype.forEach.call(rows, function (row) {
      if (row.dataset.undoTimer) return;
      row.dataset.undoTimer = "on";
      var seconds = Number(row.dataset.undoSeconds) || 10;
      var bar = row.querySelector(".undo-timer");
      if (bar) bar.style.animationDuration = seconds + "s";
      window.setTimeout(function () {
        if (row.isConnected && row.matches("[data-undo-seconds]")) row.remove();
      }, seconds * 1000);
    });
  }

  document.addEventListener("htmx:load", function (event) {
    startUndoTimers(event.target);
  });
})();
