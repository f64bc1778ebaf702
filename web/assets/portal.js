// Progressive enhancement for the portal's pages: every page works without
// this script; with it, the error summary's links put the focus in the field
// (as the GOV.UK error summary does) and the decision clock stays current.
(function () {
  "use strict";

  // Error summary: a fragment link only scrolls; focus the field as well.
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.addEventListener("click", function (event) {
      var link = event.target.closest ? event.target.closest("a") : null;
      var href = link ? link.getAttribute("href") : "";
      if (!href || href.charAt(0) !== "#") { return; }
      var field = document.getElementById(href.slice(1));
      if (!field) { return; }
      event.preventDefault();
      var group = field.closest(".form-group");
      if (group) { group.scrollIntoView(); }
      field.focus({ preventScroll: true });
    });
  }

  // Decision clock: "time left", recomputed every 15 seconds.
  var clock = document.getElementById("clock");
  if (!clock || !window.Intl) { return; }
  var due = Date.parse(clock.getAttribute("data-due"));
  var lang = document.documentElement.lang || "en";
  var hours = new Intl.NumberFormat(lang, { style: "unit", unit: "hour", unitDisplay: "long" });
  var minutes = new Intl.NumberFormat(lang, { style: "unit", unit: "minute", unitDisplay: "long" });
  function tick() {
    var left = Math.max(0, Math.floor((due - Date.now()) / 60000));
    var h = Math.floor(left / 60), m = left % 60;
    var parts = [];
    if (h > 0) { parts.push(hours.format(h)); }
    if (m > 0 || h === 0) { parts.push(minutes.format(m)); }
    clock.textContent = parts.join(" ");
    clock.setAttribute("data-live", "on");
  }
  if (!isNaN(due)) { tick(); setInterval(tick, 15000); }
}());
