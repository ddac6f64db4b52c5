// warden web UI: search as you type. No inline script; loaded from /static.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var q = document.querySelector("input[data-live]");
  var out = document.getElementById("results");
  if (!q || !out) { return; }
  var form = q.form, timer = null, seq = 0;
  q.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      var params = new URLSearchParams(new FormData(form));
      params.set("fragment", "1");
      var mine = ++seq;
      fetch(q.dataset.live + "?" + params.toString(), { credentials: "same-origin" })
        .then(function (r) { return r.text(); })
        .then(function (html) {
          if (mine !== seq) { return; }
          // The fragment is server-rendered html/template output: every value in it is escaped.
          out.innerHTML = html;
          params.delete("fragment");
          history.replaceState(null, "", "/search?" + params.toString());
        });
    }, 150);
  });
});
