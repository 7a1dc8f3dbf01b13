// Gazetteer's few behaviours on top of htmx: keyboard search, inline edit keys, small confirmations.
// No inline scripts anywhere (the pages' Content-Security-Policy forbids them); everything is delegated.
(function () {
  "use strict";

  function typingIn(element) {
    if (!element) return false;
    var tag = element.tagName;
    return element.isContentEditable || tag === "INPUT" || tag === "TEXTAREA" || tag === "SELECT";
  }

  function results() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-result]"));
  }

  function move(step) {
    var items = results();
    if (!items.length) return false;
    var index = items.indexOf(document.activeElement);
    var search = document.getElementById("q");
    if (index === -1) {
      if (step < 0) return false;
      index = 0;
    } else {
      index += step;
    }
    if (index < 0) {
      if (search) search.focus();
      return true;
    }
    index = Math.min(index, items.length - 1);
    items[index].focus();
    items[index].scrollIntoView({block: "nearest"});
    return true;
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.defaultPrevented || event.altKey || event.metaKey || event.ctrlKey) {
      // Ctrl/Cmd+Enter saves an inline edit.
      if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && target.closest && target.closest("[data-edit-form]")) {
        event.preventDefault();
        target.closest("form").requestSubmit();
      }
      return;
    }
    if (event.key === "/" && target.id === "q" && target.selectionStart === 0 &&
        target.selectionEnd === target.value.length) {
      event.preventDefault();  // already in the (empty or all-selected) box: "/" means "search", not a slash
      return;
    }
    if (event.key === "/" && !typingIn(target)) {
      var search = document.getElementById("q");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      } else {
        event.preventDefault();
        window.location.href = "/";
      }
      return;
    }
    if (event.key === "Escape" && target.closest && target.closest("[data-edit-form]")) {
      var cancel = target.closest("form").querySelector("[data-cancel]");
      if (cancel) {
        event.preventDefault();
        cancel.click();
      }
      return;
    }
    var inSearch = target.id === "q";
    var onResult = target.hasAttribute && target.hasAttribute("data-result");
    if (inSearch || onResult) {
      if (event.key === "ArrowDown" && move(1)) event.preventDefault();
      else if (event.key === "ArrowUp" && onResult && move(-1)) event.preventDefault();
      else if (event.key === "Escape" && inSearch && target.value) {
        event.preventDefault();
        target.value = "";
        target.dispatchEvent(new Event("input", {bubbles: true}));
      }
    }
  });

  // Enter in the search box opens the first result when results are shown and nothing changed since.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.id === "search-form" && document.activeElement && document.activeElement.id === "q") {
      var first = results()[0];
      var region = document.getElementById("results");
      if (first && region && region.getAttribute("data-for") === document.activeElement.value) {
        event.preventDefault();
        event.stopPropagation();
        first.click();
      }
    }
    var question = form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);

  document.addEventListener("click", function (event) {
    var back = event.target.closest && event.target.closest("[data-back]");
    if (back && window.history.length > 1) {
      event.preventDefault();
      window.history.back();
      return;
    }
    var copy = event.target.closest && event.target.closest("[data-copy]");
    if (copy) {
      copyText(copy);
      return;
    }
    var toggle = event.target.closest && event.target.closest("[data-toggle-all]");
    if (toggle) {
      var all = document.querySelectorAll(toggle.getAttribute("data-toggle-all"));
      var open = toggle.getAttribute("aria-pressed") !== "true";
      all.forEach(function (details) { details.open = open; });
      toggle.setAttribute("aria-pressed", open ? "true" : "false");
      toggle.textContent = open ? "Collapse all" : "Expand all";
    }
  });

  // Copy buttons: the Clipboard API where the page may use it (https, localhost), else a selection copy;
  // the button says "Copied" and so does the page's live region, for screen readers.
  function announce(text) {
    var region = document.getElementById("announce");
    if (!region) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }

  function copiedBy(button, ok) {
    var label = button.getAttribute("data-label") || button.textContent;
    button.setAttribute("data-label", label);
    button.textContent = ok ? "Copied" : "Select and copy";
    announce(ok ? "Copied" : "Could not copy: select the text and copy it");
    window.setTimeout(function () { button.textContent = label; }, 2000);
  }

  function selectionCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "sr-only";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (error) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  function copyText(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { copiedBy(button, true); },
        function () { copiedBy(button, selectionCopy(text)); });
    } else {
      copiedBy(button, selectionCopy(text));
    }
  }

  function showCopyButtons() {
    document.querySelectorAll("button[data-copy][hidden]").forEach(function (button) { button.hidden = false; });
  }
  document.addEventListener("DOMContentLoaded", showCopyButtons);
  document.addEventListener("htmx:afterSettle", showCopyButtons);

  // Remember which query the shown results belong to (Enter opens the first one only if they match).
  function markResults() {
    var region = document.getElementById("results");
    var search = document.getElementById("q");
    if (region && search) region.setAttribute("data-for", region.querySelector("[data-query]") ?
      region.querySelector("[data-query]").getAttribute("data-query") : search.value);
  }
  document.addEventListener("DOMContentLoaded", markResults);

  // A lineage graph wider than its box opens scrolled to its middle (the asset whose page it is), not its
  // far upstream end; it is all there without this, only scrolled to the left.
  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-graph-center]").forEach(function (box) {
      var center = parseInt(box.getAttribute("data-graph-center"), 10);
      var svg = box.querySelector("svg");
      var offset = svg ? svg.getBoundingClientRect().left - box.getBoundingClientRect().left + box.scrollLeft : 0;
      if (box.scrollWidth > box.clientWidth) box.scrollLeft = Math.max(0, offset + center - box.clientWidth / 2);
    });
  });
  document.addEventListener("htmx:afterSettle", markResults);

  // Busy state for screen readers and the spinner.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest && event.target.closest("#search-form");
    if (form) form.classList.add("busy");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest && event.target.closest("#search-form");
    if (form) form.classList.remove("busy");
  });

  // htmx takes over swapped-in content only when it settles; an edit form is taken over at once, so that
  // a quick Enter cannot slip past it as a plain form post (which would still work, with a page reload).
  // Its field gets the focus with the caret at the end, here rather than at settle time, so that typing
  // that starts right away is never disturbed.
  document.addEventListener("htmx:afterSwap", function () {
    document.querySelectorAll("[data-edit-form]").forEach(function (form) {
      window.htmx.process(form);
      var field = form.querySelector("[autofocus]");
      if (field && document.activeElement !== field) {
        field.focus();
        if (field.setSelectionRange && typeof field.value === "string") {
          field.setSelectionRange(field.value.length, field.value.length);
        }
      }
    });
  });
})();
