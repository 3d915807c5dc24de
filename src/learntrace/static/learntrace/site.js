// Behaviour shared by every page, kept out of the HTML so that the Content-Security-Policy
// can forbid inline scripts: a <select data-submit-on-change> sends its form when changed,
// first emptying the fields named in data-clear-on-change (a filter that no longer applies).
(function () {
  "use strict";
  document.addEventListener("change", function (event) {
    var field = event.target;
    if (!field.hasAttribute || !field.hasAttribute("data-submit-on-change") || !field.form) { return; }
    (field.getAttribute("data-clear-on-change") || "").split(" ").forEach(function (name) {
      var other = name && field.form.elements.namedItem(name);
      if (other) { other.value = ""; }
    });
    field.form.submit();
  });
})();
