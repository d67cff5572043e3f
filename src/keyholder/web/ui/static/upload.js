/* Keyholder: forms with files, enhanced. Without this script they are plain multipart forms.
 *
 * For each form[data-upload]: its file inputs take files dropped on their drop zone, the
 * chosen files are listed with their sizes, and the form is sent with XMLHttpRequest so a
 * progress bar can follow the upload. The answer replaces the page's main content (a
 * refused form comes back with its message), or the browser goes where a redirect led.
 */
(function () {
  "use strict";

  function humanSize(bytes) {
    if (bytes < 1024) { return bytes + " bytes"; }
    if (bytes < 1024 * 1024) { return (bytes / 1024).toFixed(1) + " KB"; }
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  function describe(input, info) {
    var files = Array.prototype.slice.call(input.files || []);
    info.textContent = files.length
      ? "Chosen: " + files.map(function (f) { return f.name + " (" + humanSize(f.size) + ")"; }).join(", ")
      : "No file chosen yet.";
  }

  function enhanceZone(zone) {
    var input = zone.querySelector("input[type=file]");
    var info = zone.querySelector(".file-info");
    if (!input || !info) { return; }
    input.addEventListener("change", function () { describe(input, info); });
    ["dragenter", "dragover"].forEach(function (name) {
      zone.addEventListener(name, function (event) {
        event.preventDefault();
        zone.classList.add("dragging");
      });
    });
    ["dragleave", "drop"].forEach(function (name) {
      zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
    });
    zone.addEventListener("drop", function (event) {
      event.preventDefault();
      var dropped = event.dataTransfer && event.dataTransfer.files;
      if (!dropped || !dropped.length) { return; }
      if (!input.multiple && dropped.length > 1) {
        info.textContent = "Drop one file only.";
        return;
      }
      input.files = dropped;
      describe(input, info);
    });
    zone.classList.add("enhanced");
  }

  function replaceMain(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var fresh = doc.querySelector("main");
    var main = document.querySelector("main");
    if (!fresh || !main) {
      document.open();
      document.write(html);
      document.close();
      return;
    }
    document.title = doc.title;
    main.replaceWith(fresh);
    enhance(fresh);
    (fresh.querySelector("[autofocus]") || fresh).focus();  // an error summary, if any
  }

  function enhanceForm(form) {
    var progress = form.querySelector("progress");
    var status = form.querySelector(".upload-status");
    form.addEventListener("submit", function (event) {
      if (!window.FormData || !window.XMLHttpRequest || !form.checkValidity()) { return; }
      event.preventDefault();
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      var xhr = new XMLHttpRequest();
      xhr.open("POST", form.action);
      if (progress) {
        progress.hidden = false;
        progress.value = 0;
      }
      xhr.upload.addEventListener("progress", function (e) {
        if (!e.lengthComputable) { return; }
        var percent = Math.round((e.loaded / e.total) * 100);
        if (progress) { progress.value = percent; }
        if (status) { status.textContent = "Uploading: " + percent + "%"; }
      });
      xhr.addEventListener("load", function () {
        var sentTo = new URL(form.action, window.location.href);
        var landed = xhr.responseURL ? new URL(xhr.responseURL) : sentTo;
        if (landed.pathname !== sentTo.pathname || landed.search !== sentTo.search) {
          window.location.assign(landed.href);  // the form redirected: go there
        } else {
          replaceMain(xhr.responseText);  // the form came back, with its message
        }
      });
      xhr.addEventListener("error", function () {
        if (button) { button.disabled = false; }
        if (progress) { progress.hidden = true; }
        if (status) { status.textContent = "The upload failed. Check your connection and try again."; }
      });
      xhr.send(new FormData(form));
    });
  }

  function enhance(root) {
    Array.prototype.forEach.call(root.querySelectorAll(".dropzone"), enhanceZone);
    Array.prototype.forEach.call(root.querySelectorAll("form[data-upload]"), enhanceForm);
  }

  enhance(document);
}());
