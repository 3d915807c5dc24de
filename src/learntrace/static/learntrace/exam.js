// The exam page: saves each answer as it is given, counts down the time the server gave, reports
// when the page is hidden, and submits the form when the time is up. The server decides all of
// it again (deadline, page-leave limit): this script only keeps the person informed.
(function () {
  "use strict";
  var root = document.getElementById("exam");
  if (!root) { return; }
  var form = document.getElementById("exam-form");
  var clock = document.getElementById("exam-clock");
  var notice = document.getElementById("exam-notice");
  var csrf = root.getAttribute("data-csrf");
  var endsAt = Date.now() + parseInt(root.getAttribute("data-remaining"), 10) * 1000;
  var submitting = false;

  function answerOf(fieldset) {
    var kind = fieldset.getAttribute("data-kind");
    var inputs = fieldset.querySelectorAll("input");
    if (kind === "single" || kind === "multiple") {
      return Array.prototype.filter.call(inputs, function (i) { return i.checked; }).map(function (i) { return i.value; });
    }
    if (kind === "true_false") {
      var checked = fieldset.querySelector("input:checked");
      return checked ? checked.value : "";
    }
    return inputs[0].value;
  }

  function finished(data) {
    if (data && data.ended) { window.location.href = data.result_url; return true; }
    return false;
  }

  function save(fieldset) {
    var answers = {};
    answers[fieldset.getAttribute("data-question")] = answerOf(fieldset);
    fetch(root.getAttribute("data-save-url"), {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify({ answers: answers })
    }).then(function (response) {
      return response.json().then(function (data) {
        if (!response.ok && !finished(data)) { notice.textContent = data.error || root.getAttribute("data-save-failed"); }
      });
    }).catch(function () { notice.textContent = root.getAttribute("data-save-failed"); });
  }

  form.addEventListener("change", function (event) {
    var fieldset = event.target.closest("fieldset[data-question]");
    if (fieldset) { save(fieldset); }
  });
  form.addEventListener("submit", function () { submitting = true; });

  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState !== "hidden" || submitting) { return; }
    var body = new FormData();
    body.append("csrfmiddlewaretoken", csrf);
    fetch(root.getAttribute("data-left-url"), { method: "POST", credentials: "same-origin", body: body, keepalive: true })
      .then(function (response) { return response.json(); })
      .then(function (data) { if (!finished(data)) { notice.textContent = root.getAttribute("data-left-warning"); } })
      .catch(function () {});
  });

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function tick() {
    var left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    clock.textContent = Math.floor(left / 60) + ":" + pad(left % 60);
    if (left === 0) {
      if (!submitting) { submitting = true; form.submit(); }
      return;
    }
    window.setTimeout(tick, 1000);
  }
  tick();
})();
