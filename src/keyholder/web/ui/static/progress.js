/* Keyholder: keeps a section[data-poll] up to date while the server is still working on it.
 *
 * Every few seconds the section is fetched again from its data-poll address and replaced by
 * the answer; the answer drops data-poll once nothing more will change, which ends the
 * polling. Without this script the section has a Refresh link.
 */
(function () {
  "use strict";

  var INTERVAL_MS = 3000;
  var MAX_POLLS = 200; // ten minutes: after that, the Refresh link

  function poll(section, remaining) {
    var url = section.getAttribute("data-poll");
    if (!url || remaining <= 0) { return; }
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (response) {
          if (!response.ok) { throw new Error("status " + response.status); }
          return response.text();
        })
        .then(function (html) {
          var holder = document.createElement("div");
          holder.innerHTML = html;
          var fresh = holder.querySelector("section[id]");
          if (!fresh || fresh.id !== section.id) { throw new Error("unexpected answer"); }
          section.replaceWith(fresh);
          showCopyButtons(fresh);
          poll(fresh, remaining - 1);
        })
        .catch(function () { poll(section, remaining - 1); });
    }, INTERVAL_MS);
  }

  // Copy buttons (button[data-copy] names the element whose text it copies). They stay
  // hidden without this script, or where the browser offers no clipboard (plain http).
  function showCopyButtons(root) {
    if (!navigator.clipboard) { return; }
    root.querySelectorAll("button[data-copy]").forEach(function (button) { button.hidden = false; });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("button[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var section = button.closest("section");
    var status = section && section.querySelector(".copied");
    navigator.clipboard.writeText(source.textContent.trim()).then(function () {
      if (status) {
        status.textContent = "Copied: " + source.textContent.trim();
        status.hidden = false;
      }
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    showCopyButtons(document);
    document.querySelectorAll("section[data-poll]").forEach(function (section) {
      poll(section, MAX_POLLS);
    });
  });
})();
