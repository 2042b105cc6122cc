// Akta: drag and drop of several files onto an Akte or Vorgang (and of one file onto a
// document for a new version), with a progress bar, cancel and retry per file. Uploads go
// to the REST routes with the session cookie and the page's CSRF token. Everything else in
// the UI works without this script.
(function () {
  "use strict";

  var de = (document.documentElement.lang || "de") !== "en";
  var text = {
    waiting: de ? "wartet" : "waiting",
    uploading: de ? "wird hochgeladen" : "uploading",
    done: de ? "abgelegt" : "filed",
    failed: de ? "fehlgeschlagen" : "failed",
    cancelled: de ? "abgebrochen" : "cancelled",
    cancel: de ? "Abbrechen" : "Cancel",
    retry: de ? "Erneut versuchen" : "Retry",
    open: de ? "Öffnen" : "Open",
    progress: de ? "Fortschritt" : "Progress",
    allDone: de ? "Alle Dateien abgelegt. Liste aktualisieren" : "All files filed. Refresh the list",
    newVersion: de ? "Neue Version für" : "New version of"
  };

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function titleOf(name) {
    var dot = name.lastIndexOf(".");
    return (dot > 0 ? name.slice(0, dot) : name).slice(0, 300);
  }

  function problemText(xhr) {
    try {
      var p = JSON.parse(xhr.responseText);
      if (p && p.detail) { return p.detail; }
    } catch (e) { /* not JSON */ }
    return "HTTP " + xhr.status;
  }

  // One list entry per file: name, progress bar, state, cancel/retry.
  function Upload(list, file, url, withMetadata, kind, label) {
    this.file = file;
    this.url = url;
    this.withMetadata = withMetadata;
    this.kind = kind;
    this.li = document.createElement("li");
    this.li.setAttribute("data-testid", "upload-item");
    var name = document.createElement("span");
    name.textContent = (label ? label + ": " : "") + file.name;
    this.bar = document.createElement("progress");
    this.bar.max = 100;
    this.bar.value = 0;
    this.bar.setAttribute("aria-label", text.progress + " " + file.name);
    this.state = document.createElement("span");
    this.state.setAttribute("data-testid", "upload-state");
    this.button = document.createElement("button");
    this.button.type = "button";
    this.li.appendChild(name);
    this.li.appendChild(this.bar);
    this.li.appendChild(this.state);
    this.li.appendChild(this.button);
    list.appendChild(this.li);
    var self = this;
    this.button.addEventListener("click", function () { self.onButton(); });
  }

  Upload.prototype.setState = function (state, message) {
    this.status = state;
    this.li.setAttribute("data-state", state);
    this.state.className = "state-" + state;
    this.state.textContent = message;
    this.button.hidden = state === "done";
    this.button.textContent = state === "uploading" ? text.cancel : text.retry;
  };

  Upload.prototype.onButton = function () {
    if (this.status === "uploading" && this.xhr) {
      this.xhr.abort();
    } else if (this.status === "failed" || this.status === "cancelled") {
      this.start();
    }
  };

  Upload.prototype.start = function () {
    var self = this;
    var form = new FormData();
    if (this.withMetadata) {
      var meta = JSON.stringify({ title: titleOf(this.file.name), kind: this.kind });
      form.append("metadata", new Blob([meta], { type: "application/json" }));
    }
    form.append("file", this.file, this.file.name);
    var xhr = new XMLHttpRequest();
    this.xhr = xhr;
    xhr.open("POST", this.url);
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) { self.bar.value = Math.round((e.loaded / e.total) * 100); }
    });
    xhr.addEventListener("load", function () {
      if (xhr.status >= 200 && xhr.status < 300) {
        self.bar.value = 100;
        self.setState("done", text.done);
        if (self.onFinish) { self.onFinish(); }
      } else {
        self.setState("failed", text.failed + ": " + problemText(xhr));
      }
    });
    xhr.addEventListener("error", function () { self.setState("failed", text.failed); });
    xhr.addEventListener("abort", function () { self.setState("cancelled", text.cancelled); });
    this.bar.value = 0;
    this.setState("uploading", text.uploading);
    xhr.send(form);
  };

  function refreshLink(list, uploads) {
    var pending = uploads.some(function (u) { return u.status !== "done"; });
    var old = list.parentNode.querySelector(".refresh");
    if (pending || old) { return; }
    var p = document.createElement("p");
    p.className = "refresh";
    var a = document.createElement("a");
    a.href = window.location.pathname + window.location.search;
    a.textContent = text.allDone;
    a.setAttribute("data-testid", "uploads-done");
    p.appendChild(a);
    list.parentNode.appendChild(p);
  }

  // Files are uploaded one after another: each keeps its own state, and a failure of one
  // never loses the others.
  function uploadAll(zone, files, url, withMetadata, label) {
    var list = zone.querySelector(".uploads");
    var kindSelect = zone.querySelector(".drop-kind");
    var kind = kindSelect ? kindSelect.value : "Eingang";
    var uploads = Array.prototype.map.call(files, function (f) {
      var u = new Upload(list, f, url, withMetadata, kind, label);
      u.setState("waiting", text.waiting);
      return u;
    });
    var i = 0;
    function next() {
      if (i >= uploads.length) { refreshLink(list, uploads); return; }
      var u = uploads[i++];
      var finish = function () { u.xhr.removeEventListener("loadend", finish); next(); };
      u.onFinish = function () { refreshLink(list, uploads); };
      u.start();
      u.xhr.addEventListener("loadend", finish);
    }
    next();
  }

  function hasFiles(e) {
    return e.dataTransfer && Array.prototype.indexOf.call(e.dataTransfer.types, "Files") >= 0;
  }

  function makeDropTarget(el, onFiles) {
    el.addEventListener("dragover", function (e) {
      if (!hasFiles(e)) { return; }
      e.preventDefault();
      e.stopPropagation();
      el.classList.add(el.tagName === "TR" ? "drop-over" : "over");
    });
    el.addEventListener("dragleave", function () {
      el.classList.remove("over");
      el.classList.remove("drop-over");
    });
    el.addEventListener("drop", function (e) {
      if (!hasFiles(e)) { return; }
      e.preventDefault();
      e.stopPropagation();
      el.classList.remove("over");
      el.classList.remove("drop-over");
      onFiles(e.dataTransfer.files);
    });
  }

  // Aktenzeichen fields: Akten and Vorgänge matching what is typed (Zeichen or Betreff)
  // appear as suggestions; without the script the server resolves the typed Zeichen.
  document.querySelectorAll("input[data-records-suggest]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-records-suggest"));
    if (!list) { return; }
    var timer = null;
    var asked = "";
    function suggest() {
      var typed = input.value.trim();
      if (typed.length < 2 || typed === asked) { return; }
      asked = typed;
      fetch("/api/v1/records?limit=10&q=" + encodeURIComponent(typed), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (r) { return r.ok ? r.json() : { items: [] }; })
        .then(function (body) {
          if (input.value.trim() !== typed) { return; }
          list.textContent = "";
          (body.items || []).forEach(function (hit) {
            var option = document.createElement("option");
            option.value = hit.reference;
            option.label = hit.subject + (hit.type === "case" ? " (" + hit.file_reference + ")" : "");
            list.appendChild(option);
          });
        })
        .catch(function () { /* suggestions are a convenience */ });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(suggest, 150);
    });
  });

  document.querySelectorAll(".dropzone[data-upload-url]").forEach(function (zone) {
    zone.hidden = false;
    var url = zone.getAttribute("data-upload-url");
    var isVersion = zone.getAttribute("data-version") === "true";
    var input = zone.querySelector(".drop-input");
    function take(files) {
      if (!files || files.length === 0) { return; }
      if (isVersion) { files = [files[0]]; }
      uploadAll(zone, files, url, !isVersion, "");
    }
    makeDropTarget(zone, take);
    if (input) {
      input.addEventListener("change", function () { take(input.files); input.value = ""; });
    }
    // Dropping onto a document row adds a new version of that document.
    document.querySelectorAll("tr[data-version-url]").forEach(function (row) {
      makeDropTarget(row, function (files) {
        if (!files || files.length === 0) { return; }
        uploadAll(zone, [files[0]], row.getAttribute("data-version-url"), false,
          text.newVersion + " " + (row.getAttribute("data-title") || ""));
      });
    });
  });
}());
