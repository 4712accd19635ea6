// Small conveniences on top of pages that work without JavaScript: nothing here is needed
// to use Lifeguard.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  // Ask before a form that cannot be undone (revoking a token) is sent.
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });

  // A copy button for text shown once, such as a new API token; hidden until it can work.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent).then(function () {
        button.textContent = "Copied";
      });
    });
  });
});
