// Progressive enhancement for the staff console: every page works without
// this script (each has a refresh link); with it, the page says when its
// case or queue changed, and keyboard shortcuts move through the queue and
// to a case's actions. Shortcuts can be switched off (WCAG 2.1.4).
(function () {
  "use strict";

  var main = document.getElementById("main-content");
  var changed = document.getElementById("changed");

  // Live update: poll the page's version; say so when it moved.
  var poll = main && main.getAttribute("data-poll");
  if (poll && changed && window.fetch) {
    var shown = main.getAttribute("data-version");
    var every = parseInt(main.getAttribute("data-every"), 10) || 5000;
    var told = false;
    var check = function () {
      if (told || document.hidden) { return; }
      fetch(poll, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) {
          if (!body || !body.version || body.version === shown) { return; }
          told = true;
          var p = document.createElement("p");
          var a = document.createElement("a");
          a.href = window.location.pathname + window.location.search;
          a.id = "reload";
          a.textContent = "Reload to see the changes";
          p.appendChild(document.createTextNode(main.querySelector("#queue, #empty") ?
            "The queue has changed. " : "This case has changed since you opened it. "));
          p.appendChild(a);
          changed.appendChild(p);
        })
        .catch(function () {});
    };
    setInterval(check, every);
  }

  // Keyboard shortcuts.
  var details = document.getElementById("shortcuts");
  if (!details) { return; }
  var key = "visad-console-shortcuts";
  var on = function () { try { return localStorage.getItem(key) !== "off"; } catch (e) { return true; } };
  var toggle = document.createElement("button");
  toggle.type = "button";
  toggle.className = "button button-secondary";
  toggle.id = "shortcuts-toggle";
  var label = function () { toggle.textContent = on() ? "Turn keyboard shortcuts off" : "Turn keyboard shortcuts on"; };
  label();
  toggle.addEventListener("click", function () {
    try { localStorage.setItem(key, on() ? "off" : "on"); } catch (e) {}
    label();
  });
  details.querySelector(".details-text").appendChild(toggle);

  var focus = function (id) {
    var el = document.getElementById(id);
    if (!el) { return false; }
    el.scrollIntoView({ block: "center" });
    el.focus();
    return true;
  };
  var rows = function () { return Array.prototype.slice.call(document.querySelectorAll(".case-link")); };
  var click = function (id) { var el = document.getElementById(id); if (el) { el.click(); } return !!el; };

  document.addEventListener("keydown", function (event) {
    if (!on() || event.ctrlKey || event.metaKey || event.altKey) { return; }
    var t = event.target;
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT|BUTTON)$/.test(t.tagName))) { return; }
    var done = false;
    switch (event.key) {
      case "?":
        details.open = !details.open; done = true; break;
      case "r":
        done = click("refresh"); break;
      case "j": case "k": {
        var list = rows();
        if (!list.length) { break; }
        var i = list.indexOf(document.activeElement);
        i = event.key === "j" ? Math.min(list.length - 1, i + 1) : Math.max(0, i - 1);
        list[i].focus(); done = true; break;
      }
      case "/":
        done = focus("status"); break;
      case "c":
        done = click("claim"); break;
      case "u":
        done = click("release"); break;
      case "a":
        done = focus("approve") || focus("second-approve") || focus("resolve-approve"); break;
      case "f":
        done = focus("reason-code") || focus("second-reason-code") || focus("resolve-reason-code"); break;
      case "i":
        done = focus("message"); break;
      case "q":
        done = click("back"); break;
    }
    if (done) { event.preventDefault(); }
  });
}());
