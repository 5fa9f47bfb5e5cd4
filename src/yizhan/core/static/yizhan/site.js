/* Small behaviours every page may use, declared with data- attributes instead of inline
   handlers (the Content-Security-Policy allows no inline script):
     data-confirm="…"   on a form or a submit button: ask before sending
     data-autosubmit    on a field: send its form when it changes
     data-print         on a button: print the page
     data-back          on a link: go back in history (the link's href is the fallback)
     data-album="…"     on a file input with capture (the camera opens directly): a button after
                        it (after its label, when the label holds it) opens the same input on the
                        album instead, for a photo taken earlier or a camera refused to the browser */
(function () {
  "use strict";
  document.addEventListener("submit", function (e) {
    var form = e.target;
    var button = e.submitter;
    var question = (button && button.getAttribute("data-confirm")) || form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) e.preventDefault();
  }, true);
  document.addEventListener("change", function (e) {
    var field = e.target;
    if (field && field.hasAttribute && field.hasAttribute("data-autosubmit") && field.form) {
      if (field.form.requestSubmit) field.form.requestSubmit(); else field.form.submit();
    }
  });
  document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-print], [data-back]") : null;
    if (!el) return;
    if (el.hasAttribute("data-print")) { e.preventDefault(); window.print(); }
    else if (el.hasAttribute("data-back") && window.history.length > 1) { e.preventDefault(); window.history.back(); }
  });
  function albumButtons() {
    var inputs = document.querySelectorAll("input[type=file][capture][data-album]");
    Array.prototype.forEach.call(inputs, function (input) {
      if (input.hasAttribute("data-album-ready")) return;
      input.setAttribute("data-album-ready", "");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button secondary block album";
      if (input.id) button.id = input.id + "-album";
      button.textContent = input.getAttribute("data-album");
      button.addEventListener("click", function () {
        var capture = input.getAttribute("capture");
        input.removeAttribute("capture");
        input.click(); // the browser reads the attribute as it opens the chooser
        input.setAttribute("capture", capture);
      });
      var after = (input.closest && input.closest("label")) || input;
      after.parentNode.insertBefore(button, after.nextSibling);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", albumButtons);
  else albumButtons();
  document.addEventListener("htmx:load", albumButtons);
})();
