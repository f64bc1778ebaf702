// Keeps "time left" on the decision clock current. The page says the same
// without this script; it only saves a reload.
(function () {
  "use strict";
  var el = document.getElementById("clock");
  if (!el || !window.Intl) { return; }
  var due = Date.parse(el.getAttribute("data-due"));
  var lang = document.documentElement.lang || "en";
  var hours = new Intl.NumberFormat(lang, { style: "unit", unit: "hour", unitDisplay: "long" });
  var minutes = new Intl.NumberFormat(lang, { style: "unit", unit: "minute", unitDisplay: "long" });
  function tick() {
    var left = Math.max(0, Math.floor((due - Date.now()) / 60000));
    var h = Math.floor(left / 60), m = left % 60;
    var parts = [];
    if (h > 0) { parts.push(hours.format(h)); }
    if (m > 0 || h === 0) { parts.push(minutes.format(m)); }
    el.textContent = parts.join(" ");
    el.setAttribute("data-live", "on");
  }
  if (!isNaN(due)) { tick(); setInterval(tick, 15000); }
}());
