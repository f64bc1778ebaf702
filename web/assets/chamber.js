// Progressive enhancement for the chamber portal's batch page: without this
// script the page shows the progress when it was loaded and a "Refresh
// progress" link; with it, the bars follow the batch every two seconds until
// every application is decided.
(function () {
  "use strict";
  var section = document.getElementById("batch-progress");
  if (!section || !window.fetch) { return; }
  var url = section.getAttribute("data-progress");
  var ids = {
    total: "count-total", processed: "count-processed", started: "count-started",
    decided: "count-decided", set_aside: "count-set-aside"
  };
  function set(id, text) {
    var el = document.getElementById(id);
    if (el && el.textContent !== String(text)) { el.textContent = String(text); }
  }
  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (p) {
        document.getElementById("bar-started").value = p.started_percent;
        document.getElementById("bar-decided").value = p.decided_percent;
        set("text-started", p.started_text);
        set("text-decided", p.decided_text);
        set("batch-stage", p.stage_text);
        Object.keys(ids).forEach(function (k) { set(ids[k], p[k]); });
        section.setAttribute("data-stage", p.stage);
        if (p.stage !== "done") { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 10000); });
  }
  window.setTimeout(poll, 2000);
}());
