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
          poll(fresh, remaining - 1);
        })
        .catch(function () { poll(section, remaining - 1); });
    }, INTERVAL_MS);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("section[data-poll]").forEach(function (section) {
      poll(section, MAX_POLLS);
    });
  });
})();
