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
