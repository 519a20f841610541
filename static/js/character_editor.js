// The character editor's structured widgets (characters/widgets.py). The rows are ordinary
// form inputs that work without this script; it adds and removes rows, turns typed role types
// into ticks, says while typing whether a JSON cell parses, and previews the opening line and
// a newly chosen avatar. No inline script and no eval: the page's CSP forbids both.
(function () {
  "use strict";

  function setUpRows(editor) {
    var list = editor.querySelector("[data-rows]");
    var template = editor.querySelector("template[data-row-template]");
    var count = editor.querySelector("[data-row-count]");
    var add = editor.querySelector("[data-add-row]");
    if (!list || !template || !count || !add) {
      return;
    }
    function renumber() {
      list.querySelectorAll("[data-row-number]").forEach(function (number, index) {
        number.textContent = String(index + 1);
      });
    }
    function wire(row) {
      var remove = row.querySelector("[data-remove-row]");
      if (remove) {
        remove.hidden = false;
        remove.addEventListener("click", function () {
          // Its inputs leave the form with it; the server skips the missing index.
          row.remove();
          renumber();
        });
      }
      row.querySelectorAll("[data-json-cell]").forEach(watchJson);
    }
    list.querySelectorAll("[data-row]").forEach(wire);
    add.hidden = false;
    add.addEventListener("click", function () {
      var index = Number(count.value);
      var html = template.innerHTML.split("__prefix__").join(String(index));
      var holder = document.createElement("ol");
      holder.innerHTML = html;
      var row = holder.firstElementChild;
      list.appendChild(row);
      count.value = String(index + 1);
      wire(row);
      renumber();
      var first = row.querySelector("input[type=text], textarea");
      if (first) {
        first.focus();
      }
    });
  }

  function watchJson(cell) {
    var status = cell.closest("label").parentElement.querySelector("[data-json-status]");
    if (!status) {
      return;
    }
    function check() {
      var text = cell.value.trim();
      if (!text) {
        status.textContent = "";
        cell.removeAttribute("aria-invalid");
        return;
      }
      try {
        JSON.parse(text);
        status.textContent = "";
        cell.removeAttribute("aria-invalid");
      } catch (error) {
        status.textContent = error.message;
        cell.setAttribute("aria-invalid", "true");
      }
    }
    cell.addEventListener("input", check);
    check();
  }

  function setUpTags(editor) {
    var input = editor.querySelector("[data-tag-input]");
    var list = editor.querySelector("[data-tag-list]");
    if (!input || !list) {
      return;
    }
    function addTyped() {
      input.value.split(/[,，]/).forEach(function (raw) {
        var value = raw.trim();
        if (!value) {
          return;
        }
        var existing = Array.prototype.find.call(
          list.querySelectorAll("input[type=checkbox]"),
          function (box) { return box.value === value; }
        );
        if (existing) {
          existing.checked = true;
          return;
        }
        var item = document.createElement("li");
        var label = document.createElement("label");
        var box = document.createElement("input");
        label.className = "tag-choice";
        box.type = "checkbox";
        box.name = input.dataset.tagName;
        box.value = value;
        box.checked = true;
        label.appendChild(box);
        label.appendChild(document.createTextNode(" " + value));
        item.appendChild(label);
        list.appendChild(item);
      });
      input.value = "";
    }
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter" || event.key === ",") {
        event.preventDefault();  // Enter would submit the whole form
        addTyped();
      }
    });
    input.addEventListener("blur", addTyped);
  }

  function setUpOpeningPreview() {
    var preview = document.querySelector("[data-opening-preview]");
    var source = document.getElementById("id_opening_line");
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (!preview || !source || !token) {
      return;
    }
    var timer = null;
    var sent = 0;
    source.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        var ticket = ++sent;
        var body = new URLSearchParams({ text: source.value });
        fetch(preview.dataset.previewUrl, {
          method: "POST",
          body: body,
          headers: { "X-CSRFToken": token.value },
          credentials: "same-origin",
        })
          .then(function (response) { return response.ok ? response.text() : null; })
          .then(function (html) {
            // Sanitised by the server exactly as chat replies are; stale answers are dropped.
            if (html !== null && ticket === sent) {
              preview.innerHTML = html;
            }
          })
          .catch(function () {});
      }, 300);
    });
  }

  function setUpAvatarPreview() {
    var input = document.getElementById("id_avatar");
    var image = document.querySelector("[data-avatar-preview]");
    if (!input || !image) {
      return;
    }
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      if (!file || !file.type.startsWith("image/")) {
        return;
      }
      var reader = new FileReader();
      reader.addEventListener("load", function () {
        image.src = reader.result;  // a data: URL, which the CSP allows for images
        image.hidden = false;
        var empty = document.querySelector("[data-avatar-empty]");
        if (empty) {
          empty.hidden = true;
        }
      });
      reader.readAsDataURL(file);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-rows-editor]").forEach(setUpRows);
    document.querySelectorAll("[data-tags-editor]").forEach(setUpTags);
    document.querySelectorAll(".plugins-editor [data-json-cell]").forEach(watchJson);
    setUpOpeningPreview();
    setUpAvatarPreview();
  });
})();
