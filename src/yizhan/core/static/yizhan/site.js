/* Small behaviours every page may use, declared with data- attributes instead of inline
   handlers (the Content-Security-Policy allows no inline script):
     data-confirm="…"   on a form or a submit button: ask before sending
     data-autosubmit    on a field: send its form when it changes
     data-print         on a button: print the page
     data-back          on a link: go back in history (the link's href is the fallback) */
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
})();
