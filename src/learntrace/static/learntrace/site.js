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

// The menu: on a phone it starts closed (it is open in the HTML, so it works without JavaScript);
// opening one group of links closes the others, and a click elsewhere closes them all.
(function () {
  "use strict";
  var menu = document.querySelector("header.site details.menu");
  var narrow = window.matchMedia("(max-width: 40rem)");
  if (menu && narrow.matches) { menu.open = false; }
  var groups = Array.prototype.slice.call(document.querySelectorAll("header.site details.group"));
  groups.forEach(function (group) {
    group.addEventListener("toggle", function () {
      if (!group.open || narrow.matches) { return; }
      groups.forEach(function (other) { if (other !== group) { other.open = false; } });
    });
  });
  document.addEventListener("click", function (event) {
    if (narrow.matches) { return; }
    groups.forEach(function (group) { if (!group.contains(event.target)) { group.open = false; } });
  });
})();

// Tables become cards on a narrow screen: each cell is labelled with its column's header.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll(".table-wrap > table"), function (table) {
    var headers = table.tHead ? Array.prototype.map.call(table.tHead.rows[0].cells, function (cell) {
      return cell.textContent.trim();
    }) : [];
    if (!headers.length) { return; }
    Array.prototype.forEach.call(table.tBodies, function (body) {
      Array.prototype.forEach.call(body.rows, function (row) {
        var column = 0;
        Array.prototype.forEach.call(row.cells, function (cell) {
          if (headers[column] && cell.colSpan === 1) { cell.setAttribute("data-label", headers[column]); }
          column += cell.colSpan;
        });
      });
    });
    table.classList.add("cards");
  });
})();

// A group of fields that belongs to some choices only: <fieldset data-shown-by="kind"
// data-shown-for="video live"> is hidden while the form's field "kind" holds another value. Without
// JavaScript every group shows, and the server keeps only the chosen value's fields.
(function () {
  "use strict";
  var groups = Array.prototype.slice.call(document.querySelectorAll("[data-shown-by]"));
  function chosen(form, name) {
    var field = form.elements.namedItem(name);  // a select, or radio buttons (their value is the checked one)
    return field ? field.value : null;
  }
  function update() {
    groups.forEach(function (group) {
      var form = group.closest("form");
      var value = form && chosen(form, group.getAttribute("data-shown-by"));
      if (value === null) { return; }
      group.hidden = group.getAttribute("data-shown-for").split(" ").indexOf(value) < 0;
    });
  }
  if (!groups.length) { return; }
  document.addEventListener("change", update);
  update();
})();

// A course video kept in object storage plays from a link that works for a few minutes (S3_URL_SECONDS),
// and the browser asks that same link for every later range: once it has expired, playing on or seeking
// fails. The player then asks this site again, which checks the person and redirects to a fresh link, and
// goes on from where it was. Two failures in a row are a real error, left to the player to show.
(function () {
  "use strict";
  Array.prototype.forEach.call(document.querySelectorAll("video[data-fresh-link-on-error]"), function (video) {
    var address = video.getAttribute("src");
    var failures = 0;
    ["playing", "seeked"].forEach(function (name) { video.addEventListener(name, function () { failures = 0; }); });
    video.addEventListener("error", function () {
      var code = video.error && video.error.code;
      if ((code !== MediaError.MEDIA_ERR_NETWORK && code !== MediaError.MEDIA_ERR_SRC_NOT_SUPPORTED) || failures >= 2) {
        return;
      }
      failures += 1;
      var at = video.currentTime;
      var playing = !video.paused;
      video.addEventListener("loadedmetadata", function () {
        video.currentTime = at;
        if (playing) { video.play().catch(function () {}); }
      }, { once: true });
      video.src = address;  // setting it loads it again, from this site
    });
  });
})();
