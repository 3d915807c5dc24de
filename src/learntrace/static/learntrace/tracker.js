// The video and document tracker. It reports what was really watched (segments of the
// media played while the page was visible) or read (visible seconds), every 15 seconds
// and when the page is left. Beats are queued in localStorage until the server has
// answered, so a flaky network loses nothing; the server accepts each (attempt, seq) once.
(function () {
  "use strict";
  var root = document.querySelector("[data-tracker]");
  if (!root || !window.fetch) { return; }
  var QUEUE_KEY = "learntrace-beats";
  var BEAT_MS = Number(root.getAttribute("data-beat-ms") || 15000);
  var QUESTION_BEAT_MS = 3000;
  var csrf = root.getAttribute("data-csrf");
  var beatUrl = root.getAttribute("data-beat-url");
  var kind = root.getAttribute("data-kind");
  var video = root.querySelector("video");
  var indicator = root.querySelector(".tracker-indicator");
  var attentionUrl = root.getAttribute("data-attention-url");
  var dialog = root.querySelector("dialog.attention");
  var notice = root.querySelector(".tracker-notice");
  var state = {
    attempt: null, seq: 0, startedAt: 0, segments: [], segStart: null, lastTime: null,
    readingMs: 0, readingSince: null, furthest: 0, noSkipping: false, durationMs: 0,
    // Attention: whether the learner interacted since the last beat, and when last; the check shown.
    active: false, lastInteraction: performance.now(), idleMs: 0, questions: false, check: null,
    // Checks answered here: a beat sent before an answer reached the server may still carry its check.
    answered: {}
  };

  function form(fields) {
    var data = new FormData();
    data.append("csrfmiddlewaretoken", csrf);
    Object.keys(fields).forEach(function (key) { data.append(key, fields[key]); });
    return data;
  }

  function clock(ms) {
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    var ss = String(s % 60).padStart(2, "0");
    return h ? h + ":" + String(m).padStart(2, "0") + ":" + ss : m + ":" + ss;
  }

  function show(answer) {
    if (!indicator || !answer) { return; }
    var total = answer.total_credited_ms, duration = answer.duration_ms || state.durationMs;
    var covered = kind === "video" ? answer.covered_ms : total;
    // The share of the course credited, as the course page and completion count it.
    var percent = duration ? Math.min(100, Math.floor(total * 100 / duration)) : 0;
    var text = root.getAttribute("data-indicator")
      .replace("{credited}", clock(total)).replace("{duration}", clock(duration)).replace("{percent}", percent);
    if (answer.completed) { text += " · " + root.getAttribute("data-done"); }
    indicator.textContent = text;
    indicator.setAttribute("data-credited-ms", total);
    indicator.setAttribute("data-covered-ms", covered);
  }

  // ---- the queue of beats not yet answered
  function queue() {
    try { return JSON.parse(localStorage.getItem(QUEUE_KEY) || "[]"); } catch (e) { return []; }
  }
  function saveQueue(items) {
    try { localStorage.setItem(QUEUE_KEY, JSON.stringify(items.slice(-500))); } catch (e) { /* storage full */ }
  }
  var flushing = false;
  function flush() {
    if (flushing) { return; }
    var items = queue();
    if (!items.length) { return; }
    flushing = true;
    var item = items[0];
    fetch(beatUrl, { method: "POST", credentials: "same-origin", body: form({ attempt: item.attempt, beat: JSON.stringify(item.beat) }) })
      .then(function (response) {
        if (response.status >= 500 || response.status === 429) { throw new Error("retry later"); }
        saveQueue(queue().filter(function (q) { return !(q.attempt === item.attempt && q.beat.seq === item.beat.seq); }));
        return response.ok ? response.json() : null;
      })
      .then(function (answer) {
        flushing = false;
        if (answer && item.attempt === state.attempt) { show(answer); attend(answer); }
        flush();
      })
      .catch(function () { flushing = false; });
  }

  // ---- attention: idle prompts and questions (docs/tracking-protocol.md, "Attention")
  function text(name) {
    var node = root.querySelector("[data-text='" + name + "']");
    return node ? node.textContent : "";
  }
  function say(message) {
    if (notice) { notice.textContent = message; notice.hidden = !message; }
  }
  function post(body) {
    body.attempt = state.attempt;
    return fetch(attentionUrl, {
      method: "POST", credentials: "same-origin", body: JSON.stringify(body),
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }
    }).then(function (response) { return response.json(); });
  }
  var countdown = null;
  function closeCheck() {
    window.clearInterval(countdown);
    state.check = null;
    if (dialog && dialog.open) { dialog.close(); }
  }
  function openCheck(check, kind) {
    if (!dialog || (state.check && state.check.check === check.check)) { return; }
    if (check.check !== null && check.check !== undefined && state.answered[check.check]) { return; }
    state.check = check;
    if (video && !video.paused) { video.pause(); }
    if (video && kind === "question" && video.currentTime * 1000 > check.due_ms) { video.currentTime = check.due_ms / 1000; }
    dialog.querySelector(".attention-title").textContent = kind === "question" ? text("question") : text("idle");
    var body = dialog.querySelector(".attention-body");
    body.textContent = "";
    if (kind === "question") {
      var fieldset = document.createElement("fieldset");
      var legend = document.createElement("legend");
      legend.textContent = check.text;
      fieldset.appendChild(legend);
      check.choices.forEach(function (choice) {
        var label = document.createElement("label");
        var input = document.createElement("input");
        input.type = check.multiple ? "checkbox" : "radio";
        input.name = "choice";
        input.value = choice.id;
        label.appendChild(input);
        label.appendChild(document.createTextNode(" " + choice.text));
        fieldset.appendChild(label);
      });
      body.appendChild(fieldset);
    } else {
      var p = document.createElement("p");
      p.textContent = text("idle-body");
      body.appendChild(p);
    }
    dialog.querySelector(".attention-submit").textContent = kind === "question" ? text("answer") : text("continue");
    var left = check.seconds, clockNode = dialog.querySelector(".attention-countdown");
    var tick = function () {
      clockNode.textContent = text("countdown").replace("{seconds}", left);
      if (left-- > 0) { return; }
      window.clearInterval(countdown);
      // A question not answered in time is a missing answer; an idle prompt waits for the learner's return.
      if (kind === "question") { submit(true); } else { clockNode.textContent = text("time-up"); }
    };
    window.clearInterval(countdown);
    tick();
    countdown = window.setInterval(tick, 1000);
    dialog.showModal();
  }
  function submit(timeUp) {
    var check = state.check;
    if (!check) { return; }
    var chosen = [];
    if (!timeUp) {
      dialog.querySelectorAll("input[name=choice]:checked").forEach(function (input) { chosen.push(Number(input.value)); });
    }
    closeCheck();
    state.answered[check.check] = true;
    state.lastInteraction = performance.now();
    post({ check: check.check, choices: chosen }).then(function (result) {
      if (result.outcome === "right") { say(text("right")); }
      else if (result.outcome === "answered") { say(""); }
      else if (result.outcome === "missed" && check.choices === undefined) { say(text("late")); }
      else if (result.rewind_to_ms !== null && result.rewind_to_ms !== undefined) {
        say(text("rewind"));
        if (video) { video.currentTime = result.rewind_to_ms / 1000; }
      } else if (result.outcome) { say(text("not-credited")); }
      if (result.total_credited_ms !== undefined) { show({ total_credited_ms: result.total_credited_ms, covered_ms: result.covered_ms, completed: result.completed, duration_ms: state.durationMs }); }
      if (video && !timeUp) { video.play(); }
    });
  }
  function attend(answer) {
    if (answer.question) { openCheck(answer.question, "question"); }
    else if (answer.prompt) { openCheck(answer.prompt, "idle"); }
    if (answer.flags && answer.flags.indexOf("another_window") >= 0) { say(text("elsewhere")); }
  }
  if (dialog) {
    dialog.querySelector("form").addEventListener("submit", function (event) { event.preventDefault(); submit(false); });
    // Escape would close the dialog without an answer: the check stays, and so does the pause.
    dialog.addEventListener("cancel", function (event) { event.preventDefault(); });
  }
  ["pointerdown", "keydown", "touchstart", "wheel", "scroll"].forEach(function (name) {
    document.addEventListener(name, function () { state.active = true; state.lastInteraction = performance.now(); },
      { passive: true, capture: true });
  });
  function idleTick() {
    if (!state.idleMs || state.check || document.hidden) { return; }
    var learning = video ? !video.paused && !video.ended : true;
    if (learning && performance.now() - state.lastInteraction >= state.idleMs) {
      beat();
      flush();
      post({ idle: true })
        .then(function (answer) { if (answer.prompt) { openCheck(answer.prompt, "idle"); } else { state.check = null; } })
        .catch(function () { state.check = null; });
      state.check = { check: null };  // until the server answers: no second prompt
    }
  }

  // One course at a time: a course that starts playing pauses the others in this browser.
  var channel = window.BroadcastChannel ? new BroadcastChannel("learntrace-player") : null;
  function announce() { if (channel && state.attempt) { channel.postMessage({ attempt: state.attempt }); } }
  if (channel) {
    channel.onmessage = function (event) {
      if (!event.data || event.data.attempt === state.attempt) { return; }
      if (video && !video.paused) { video.pause(); }
      if (kind === "document") { readNow(); state.readingSince = null; }
      say(text("elsewhere"));
    };
  }

  // ---- what was played
  function closeSegment() {
    if (state.segStart !== null && state.lastTime !== null && state.lastTime > state.segStart) {
      state.segments.push([state.segStart, state.lastTime]);
      if (state.segStart <= state.furthest / 1000 + 1) { state.furthest = Math.max(state.furthest, state.lastTime * 1000); }
    }
    state.segStart = null;
  }

  function readNow() {
    if (state.readingSince !== null) {
      var now = performance.now();
      state.readingMs += now - state.readingSince;
      state.readingSince = document.hidden ? null : now;
    }
  }

  function beat() {
    if (!state.attempt) { return; }
    var playing = video && !video.paused && !video.ended;
    closeSegment();
    if (kind === "document") { readNow(); }
    var hasData = state.segments.length || Math.round(state.readingMs) > 0;
    if (hasData) {
      var data = {
        seq: state.seq++, segments: state.segments, rate: video ? video.playbackRate : 1,
        // Segments and reading time are only collected while the page is visible.
        hidden: false, elapsed_ms: Math.round(performance.now() - state.startedAt),
        reading_ms: Math.round(state.readingMs), active: state.active
      };
      state.active = false;
      var items = queue();
      items.push({ attempt: state.attempt, beat: data });
      saveQueue(items);
      state.segments = [];
      state.readingMs = 0;
    }
    if (playing && !document.hidden && video) { state.segStart = video.currentTime; state.lastTime = video.currentTime; }
    return hasData;
  }

  if (video) {
    video.addEventListener("timeupdate", function () {
      var now = video.currentTime;
      var continuous = state.lastTime !== null && now > state.lastTime && now - state.lastTime <= 1.5 * Math.max(video.playbackRate, 1);
      if (!video.paused && !video.seeking && !document.hidden && continuous) {
        if (state.segStart === null) { state.segStart = state.lastTime; }
      } else {
        closeSegment();
      }
      state.lastTime = now;
    });
    video.addEventListener("seeking", function () {
      closeSegment();
      if (state.noSkipping && video.currentTime * 1000 > state.furthest + 1000) { video.currentTime = state.furthest / 1000; }
      state.lastTime = null;
    });
    video.addEventListener("play", function () {
      if (state.check) { video.pause(); return; }  // not while a question or prompt waits
      if (notice && notice.textContent === text("elsewhere")) { say(""); }
      announce();
    });
    ["pause", "ended"].forEach(function (name) { video.addEventListener(name, function () { closeSegment(); state.lastTime = video.currentTime; }); });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (video) { state.lastTime = video.currentTime; }
      closeSegment();
      if (kind === "document") { readNow(); state.readingSince = null; }
      beat();
      flush();
    } else {
      if (video) { state.lastTime = video.currentTime; }
      if (kind === "document") {
        state.readingSince = performance.now();
        announce();
        if (notice && notice.textContent === text("elsewhere")) { say(""); }
      }
    }
  });

  window.addEventListener("pagehide", function () {
    if (!beat()) { return; }
    // The page is going away: hand the newest beat to the browser; it stays queued too,
    // and is resent (harmlessly) by the next page if it did not arrive.
    var items = queue();
    var last = items[items.length - 1];
    if (last && navigator.sendBeacon) {
      navigator.sendBeacon(beatUrl, form({ attempt: last.attempt, beat: JSON.stringify(last.beat) }));
    }
  });
  window.addEventListener("online", flush);

  fetch(root.getAttribute("data-start-url"), { method: "POST", credentials: "same-origin", body: form({}) })
    .then(function (response) { return response.ok ? response.json() : Promise.reject(response.status); })
    .then(function (answer) {
      state.attempt = answer.attempt;
      state.startedAt = performance.now();
      state.furthest = answer.furthest_ms;
      state.noSkipping = answer.no_skipping;
      state.durationMs = answer.duration_ms;
      state.idleMs = answer.idle_ms || 0;
      state.questions = answer.questions;
      announce();
      root.setAttribute("data-attempt", answer.attempt);
      show(answer);
      if (video) {
        var resume = function () {
          if (answer.resume_ms > 0 && answer.resume_ms < answer.duration_ms - 5000) { video.currentTime = answer.resume_ms / 1000; }
          state.lastTime = video.currentTime;
        };
        if (video.readyState >= 1) { resume(); } else { video.addEventListener("loadedmetadata", resume, { once: true }); }
      } else if (!document.hidden) {
        state.readingSince = performance.now();
      }
      // With questions, beats go more often so that a question due is asked close to its moment.
      window.setInterval(function () { beat(); flush(); }, state.questions ? Math.min(BEAT_MS, QUESTION_BEAT_MS) : BEAT_MS);
      if (state.idleMs) { window.setInterval(idleTick, 1000); }
      flush();
    })
    .catch(function () { if (indicator) { indicator.textContent = root.getAttribute("data-offline"); } });
})();
