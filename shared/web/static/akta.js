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
    newVersion: de ? "Neue Version für" : "New version of",
    title: de ? "Titel" : "Title",
    kind: de ? "Art" : "Kind",
    party: de ? "Absender/Empfänger" : "Sender/recipient",
    date: de ? "Datum" : "Date",
    checking: de ? "wird geprüft" : "checking",
    identical: de ? "Diese Datei liegt schon in der Akte:" : "This file is already in the file:",
    version: de ? "Version" : "version",
    fileAnyway: de ? "Trotzdem ablegen" : "File anyway",
    discard: de ? "Nicht ablegen" : "Do not file",
    discarded: de ? "nicht abgelegt" : "not filed",
    saved: de ? "Angaben gespeichert" : "details saved"
  };

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // The title a file name suggests, as the server suggests it (akta_domain FileName::
  // suggested_title): no extension, underscores as spaces, the first letter capitalised.
  function titleOf(name) {
    var dot = name.lastIndexOf(".");
    var stem = dot > 0 && name.length - dot - 1 <= 5 ? name.slice(0, dot) : name;
    var spaced = stem.split(/[_ ]+/).filter(function (w) { return w; }).join(" ");
    if (!spaced) { return name.slice(0, 300); }
    return (spaced.charAt(0).toUpperCase() + spaced.slice(1)).slice(0, 300);
  }

  function field(row, label, input) {
    var wrap = document.createElement("label");
    wrap.className = "upload-field";
    var caption = document.createElement("span");
    caption.textContent = label;
    wrap.appendChild(caption);
    wrap.appendChild(input);
    row.appendChild(wrap);
    return input;
  }

  function sha256Hex(file) {
    if (!window.crypto || !window.crypto.subtle || file.size > 256 * 1024 * 1024) {
      return Promise.resolve(null);
    }
    return file.arrayBuffer()
      .then(function (buf) { return window.crypto.subtle.digest("SHA-256", buf); })
      .then(function (digest) {
        return Array.prototype.map.call(new Uint8Array(digest), function (b) {
          return ("0" + b.toString(16)).slice(-2);
        }).join("");
      })
      .catch(function () { return null; });
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
    var self = this;
    if (withMetadata) {
      // Filing in one step: each file's details, prefilled, editable, sent with the upload
      // (and saved to the document when changed after it).
      var row = document.createElement("div");
      row.className = "upload-meta";
      var title = document.createElement("input");
      title.value = titleOf(file.name);
      title.setAttribute("data-testid", "upload-title");
      this.title = field(row, text.title, title);
      var kindSelect = document.createElement("select");
      ["Eingang", "Ausgang", "Vermerk", "Bescheid", "Sonstiges"].forEach(function (k) {
        var o = document.createElement("option");
        o.value = k;
        o.textContent = k;
        kindSelect.appendChild(o);
      });
      kindSelect.value = kind;
      this.kindSelect = field(row, text.kind, kindSelect);
      var party = document.createElement("input");
      party.setAttribute("data-testid", "upload-party");
      this.party = field(row, text.party, party);
      var date = document.createElement("input");
      date.type = "date";
      date.setAttribute("data-testid", "upload-date");
      this.date = field(row, text.date, date);
      [title, kindSelect, party, date].forEach(function (input) {
        input.addEventListener("change", function () { self.saveDetails(); });
      });
      this.li.appendChild(row);
      this.notice = document.createElement("p");
      this.notice.className = "upload-notice";
      this.notice.hidden = true;
      this.notice.setAttribute("data-testid", "upload-identical");
      this.li.appendChild(this.notice);
    }
    list.appendChild(this.li);
    this.button.addEventListener("click", function () { self.onButton(); });
  }

  Upload.prototype.details = function () {
    var kind = this.kindSelect ? this.kindSelect.value : this.kind;
    var meta = { title: (this.title && this.title.value.trim()) || titleOf(this.file.name), kind: kind };
    var party = this.party ? this.party.value.trim() : "";
    if (party) { meta[kind === "Ausgang" ? "recipient" : "sender"] = party; }
    if (this.date && this.date.value) { meta.document_date = this.date.value; }
    return meta;
  };

  // After the upload: what the clerk changes in the row goes to the document.
  Upload.prototype.saveDetails = function () {
    if (this.status !== "done" || !this.documentId) { return; }
    // One change at a time: each carries the version the last one answered.
    if (this.saving) { this.saveAgain = true; return; }
    this.saving = true;
    var self = this;
    var meta = this.details();
    var body = { title: meta.title, kind: meta.kind, sender: meta.sender || null,
      recipient: meta.recipient || null, document_date: meta.document_date || null };
    var xhr = new XMLHttpRequest();
    xhr.open("PATCH", "/api/v1/documents/" + this.documentId);
    xhr.setRequestHeader("X-CSRF-Token", csrfToken());
    xhr.setRequestHeader("Content-Type", "application/json");
    xhr.setRequestHeader("If-Match", "\"v" + this.rowVersion + "\"");
    xhr.addEventListener("loadend", function () {
      if (xhr.status === 200) {
        try { self.rowVersion = JSON.parse(xhr.responseText).version; } catch (e) { /* kept */ }
        self.setState("done", text.saved);
      } else {
        self.setState("done", text.failed + ": " + problemText(xhr));
      }
      self.saving = false;
      if (self.saveAgain) {
        self.saveAgain = false;
        self.saveDetails();
      }
    });
    xhr.send(JSON.stringify(body));
  };

  // Before storing: is this very file (same SHA-256) in the Akte already? Then the clerk
  // decides; otherwise the upload starts at once.
  Upload.prototype.check = function (fileId, go) {
    var self = this;
    if (!fileId) { go(); return; }
    this.setState("waiting", text.checking);
    sha256Hex(this.file).then(function (sha) {
      if (!sha) { go(); return; }
      var xhr = new XMLHttpRequest();
      xhr.open("GET", "/api/v1/files/" + fileId + "/identical?sha256=" + sha);
      xhr.addEventListener("load", function () {
        var items = [];
        try { items = xhr.status === 200 ? JSON.parse(xhr.responseText).items : []; } catch (e) { items = []; }
        if (!items.length) { go(); return; }
        self.notice.hidden = false;
        self.notice.textContent = text.identical + " " + items.map(function (i) {
          return "„" + i.title + "“ (" + text.version + " " + i.version + ")";
        }).join(", ");
        var anyway = document.createElement("button");
        anyway.type = "button";
        anyway.textContent = text.fileAnyway;
        anyway.setAttribute("data-testid", "upload-anyway");
        var skip = document.createElement("button");
        skip.type = "button";
        skip.textContent = text.discard;
        skip.setAttribute("data-testid", "upload-skip");
        self.notice.appendChild(document.createTextNode(" "));
        self.notice.appendChild(anyway);
        self.notice.appendChild(skip);
        self.setState("waiting", text.waiting);
        self.button.hidden = true;
        anyway.addEventListener("click", function () { self.notice.hidden = true; go(); });
        skip.addEventListener("click", function () {
          self.notice.hidden = true;
          self.setState("cancelled", text.discarded);
          self.button.hidden = true;
          self.skipped = true;
          go(true);
        });
      });
      xhr.addEventListener("error", function () { go(); });
      xhr.send();
    });
  };

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
      var meta = JSON.stringify(this.details());
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
        try {
          var doc = JSON.parse(xhr.responseText);
          self.documentId = doc.id;
          self.rowVersion = doc.version;
        } catch (e) { /* a version upload answers the version */ }
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
    var pending = uploads.some(function (u) { return u.status !== "done" && !u.skipped; });
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
    var fileId = zone.getAttribute("data-file-id");
    var i = 0;
    function next() {
      if (i >= uploads.length) { refreshLink(list, uploads); return; }
      var u = uploads[i++];
      u.onFinish = function () { refreshLink(list, uploads); };
      u.check(withMetadata ? fileId : null, function (skipped) {
        if (skipped) { next(); return; }
        var finish = function () { u.xhr.removeEventListener("loadend", finish); next(); };
        u.start();
        u.xhr.addEventListener("loadend", finish);
      });
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
