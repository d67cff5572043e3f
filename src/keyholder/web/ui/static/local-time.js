/* Keyholder: times in the reader's own time zone.
 *
 * The server writes each time[data-local] in UTC with a month name ("3 Dec 2026, 14:05 UTC",
 * see web/ui/times.py). This rewrites the text in the browser's time zone, with the zone's
 * name, and keeps the UTC text as the tooltip. Without this script the UTC text stays.
 */
(function () {
  "use strict";

  var FORMATS = {
    datetime: {day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit",
      hourCycle: "h23", timeZoneName: "short"},
    date: {day: "numeric", month: "short", year: "numeric"}
  };

  function localise(root) {
    Array.prototype.forEach.call(root.querySelectorAll("time[data-local]"), function (el) {
      var moment = new Date(el.getAttribute("datetime"));
      var kind = el.getAttribute("data-local");
      var options = FORMATS[kind];
      if (isNaN(moment.getTime()) || !options || el.hasAttribute("title")) { return; }
      el.title = kind === "date" ? el.textContent + " (UTC)" : el.textContent;
      el.textContent = new Intl.DateTimeFormat("en-GB", options).format(moment);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    localise(document);
    // Parts of a page replaced later (progress.js, upload.js) bring new times with them.
    new MutationObserver(function () { localise(document); })
      .observe(document.body, {childList: true, subtree: true});
  });
}());
