// warden web UI: live pages. No inline script; loaded from /static.
"use strict";

// A leaver run: poll its server-rendered progress until it is done.
document.addEventListener("DOMContentLoaded", function () {
  var box = document.querySelector("[data-poll]");
  if (!box) { return; }
  var url = box.dataset.poll;
  function tick() {
    if (box.querySelector("[data-done]")) { return; }
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      .then(function (html) {
        // The fragment is html/template output: every value in it is escaped.
        box.innerHTML = html;
        setTimeout(tick, 500);
      })
      .catch(function () { setTimeout(tick, 2000); });
  }
  setTimeout(tick, 300);
});

// The sync page: follow every connection's syncs through server-sent
// events (/sync/events), start "Sync now" without leaving the page, and
// redraw the connections (server-rendered) when a run starts or ends.
document.addEventListener("DOMContentLoaded", function () {
  var root = document.querySelector("[data-events]");
  if (!root || !window.EventSource) { return; }
  var live = document.getElementById("sync-live");
  var log = document.getElementById("sync-log");
  var redrawing = null;

  function say(text) { if (live) { live.textContent = text; } }
  function note(text) {
    if (!log) { return; }
    log.closest("section").hidden = false;
    var li = document.createElement("li");
    li.textContent = new Date().toISOString().slice(11, 19) + " " + text;
    log.appendChild(li);
    while (log.children.length > 50) { log.removeChild(log.firstChild); }
  }
  function redraw() {
    if (redrawing) { return redrawing; }
    redrawing = fetch(root.dataset.fragment, { credentials: "same-origin" })
      .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.text(); })
      // The fragment is html/template output: every value in it is escaped.
      .then(function (html) { root.innerHTML = html; })
      .catch(function () { say("The page could not be brought up to date; reload it."); })
      .then(function () { redrawing = null; });
    return redrawing;
  }
  function section(conn) { return document.getElementById("sync-" + conn); }

  // "Sync now" posts in the background; the events show the rest.
  root.addEventListener("submit", function (ev) {
    var form = ev.target;
    if (!form.classList.contains("syncnow")) { return; }
    ev.preventDefault();
    var button = form.querySelector("button");
    if (button) { button.disabled = true; }
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
      .then(function (r) {
        if (r.ok) { say("Sync started."); return redraw(); }
        return r.text().then(function (html) {
          var doc = new DOMParser().parseFromString(html, "text/html"); // inert: nothing in it runs
          var msg = doc.querySelector(".error");
          say(msg ? msg.textContent : "The sync did not start (" + r.status + ").");
          if (button) { button.disabled = false; }
        });
      })
      .catch(function () { say("The sync did not start: the server did not answer."); if (button) { button.disabled = false; } });
  });

  var es = new EventSource(root.dataset.events);
  es.addEventListener("status", function (e) {
    // On every (re)connection: redraw if a run started or ended meanwhile.
    var stale = false;
    JSON.parse(e.data).forEach(function (st) {
      var sec = section(st.connection);
      if (!sec) { return; }
      var running = st.running ? st.running.id : "", last = st.last ? st.last.id : "";
      stale = stale || sec.dataset.running !== running || sec.dataset.last !== last;
    });
    if (stale) { redraw(); }
  });
  es.addEventListener("start", function (e) {
    var ev = JSON.parse(e.data);
    note(ev.run.connection + ": started by " + ev.run.actor);
    say("A sync of " + ev.run.connection + " is running; this page follows it.");
    redraw();
  });
  es.addEventListener("progress", function (e) {
    var ev = JSON.parse(e.data), p = ev.progress;
    var text = p.stage + (p.total ? " " + p.done + "/" + p.total : "") + (p.message ? " " + p.message : "");
    note(ev.run.connection + ": " + text);
    var sec = section(ev.run.connection);
    var cell = sec && sec.querySelector(".state");
    if (cell) { cell.textContent = "running since " + new Date(ev.run.started).toISOString().replace("T", " ").slice(0, 16) + " UTC · " + text; }
  });
  es.addEventListener("end", function (e) {
    var ev = JSON.parse(e.data), run = ev.run;
    note(run.connection + ": " + run.result + (run.snapshot_id ? ", snapshot " + run.snapshot_id : "") + (run.error ? " · " + run.error : ""));
    say("The sync of " + run.connection + " ended: " + run.result + ".");
    redraw();
  });
});
