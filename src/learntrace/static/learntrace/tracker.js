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
  var csrf = root.getAttribute("data-csrf");
  var beatUrl = root.getAttribute("data-beat-url");
  var kind = root.getAttribute("data-kind");
  var video = root.querySelector("video");
  var indicator = root.querySelector(".tracker-indicator");
  var state = {
    attempt: null, seq: 0, startedAt: 0, segments: [], segStart: null, lastTime: null,
    readingMs: 0, readingSince: null, furthest: 0, noSkipping: false, durationMs: 0
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
    var percent = duration ? Math.min(100, Math.floor(covered * 100 / duration)) : 0;
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
        if (answer && item.attempt === state.attempt) { show(answer); }
        flush();
      })
      .catch(function () { flushing = false; });
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
        reading_ms: Math.round(state.readingMs)
      };
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
      if (kind === "document") { state.readingSince = performance.now(); }
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
      window.setInterval(function () { beat(); flush(); }, BEAT_MS);
      flush();
    })
    .catch(function () { if (indicator) { indicator.textContent = root.getAttribute("data-offline"); } });
})();
