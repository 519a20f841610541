// The character form shows only the settings of the chosen reply platform.
(function () {
  "use strict";

  function showSettingsOf(platform) {
    document.querySelectorAll("fieldset.platform-settings").forEach(function (fieldset) {
      fieldset.hidden = !fieldset.classList.contains("platform-" + platform);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.getElementById("id_reply_platform");
    if (!select) {
      return;
    }
    showSettingsOf(select.value);
    select.addEventListener("change", function () {
      showSettingsOf(select.value);
    });
  });
})();
