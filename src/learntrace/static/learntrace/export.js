// An export written in the background: poll its small JSON state until it is ready or failed,
// moving the progress bar, then show the download link.
(function () {
  "use strict";
  var section = document.getElementById("export-job");
  if (!section) { return; }
  var url = section.getAttribute("data-state-url");
  function show(state) {
    section.setAttribute("data-status", state.status);
    section.querySelector(".status").textContent = state.status_text;
    section.querySelector(".done-rows").textContent = state.done_rows;
    section.querySelector(".total-rows").textContent = state.total_rows;
    var bar = section.querySelector(".progress");
    bar.setAttribute("aria-valuenow", state.percent);
    bar.querySelector("rect").setAttribute("width", state.percent);
    if (state.download_url) {
      var link = section.querySelector(".download");
      link.querySelector("a").href = state.download_url;
      link.hidden = false;
    }
  }
  function poll() {
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { if (!response.ok) { throw new Error(String(response.status)); } return response.json(); })
      .then(function (state) {
        show(state);
        if (state.status === "queued" || state.status === "running") { window.setTimeout(poll, 1000); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  var status = section.getAttribute("data-status");
  if (status === "queued" || status === "running") { window.setTimeout(poll, 500); }
})();
