// Live fragments: an element with data-poll-url is refreshed from that URL every
// data-poll-seconds (default 2) until the returned fragment no longer asks to poll.
(function () {
  "use strict";
  function schedule(element) {
    var seconds = Number(element.getAttribute("data-poll-seconds") || 2);
    window.setTimeout(function () { refresh(element); }, seconds * 1000);
  }
  function refresh(element) {
    var url = element.getAttribute("data-poll-url");
    fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.text();
      })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var next = holder.firstElementChild;
        if (!next) { return; }
        element.replaceWith(next);
        if (next.hasAttribute("data-poll-url")) { schedule(next); }
      })
      .catch(function () { schedule(element); }); // a network hiccup: try again later
  }
  document.querySelectorAll("[data-poll-url]").forEach(schedule);
})();
