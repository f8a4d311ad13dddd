// The monthly entry sheet. What the cadre types is kept on the phone (localStorage, one
// draft per user, group and month) until the server has saved it: a dropped connection,
// an expired session or a tap on the wrong link loses nothing. The page works without
// this script; with it, saving does not leave the page when the network fails.
(function () {
  "use strict";
  var PREFIX = "uppka-draft:";
  var state = { unsaved: false, submitting: false };

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function format(pattern, values) {
    return pattern.replace(/%\((\w+)\)s/g, function (match, name) { return values[name]; });
  }

  function init() {
    var form = document.getElementById("entry-sheet");
    var textNode = document.getElementById("sheet-text");
    if (!form || !textNode) return;
    var text = JSON.parse(textNode.textContent);
    var store = storage();
    var key = PREFIX + form.dataset.draftKey;
    var bound = form.hasAttribute("data-bound");
    var rows = Array.prototype.slice.call(form.querySelectorAll("[data-row]"));
    var status = document.getElementById("draft-status");
    var count = document.getElementById("sheet-count");
    var nextMissing = document.getElementById("next-missing");
    var notice = document.getElementById("draft-notice");
    var button = form.querySelector("button[type=submit]");
    state.submitting = false;

    function field(row, name) { return row.querySelector("[name=" + name + "_" + row.dataset.row + "]"); }
    function amount(row) { return field(row, "amount"); }

    // Every control of a row but the hidden ones: amount, KB method and reason, ticks.
    function controls(row) {
      return Array.prototype.filter.call(row.querySelectorAll("input, select"), function (c) {
        return c.type !== "hidden" && !c.disabled;
      });
    }
    function valueOf(control) {
      return control.type === "checkbox" || control.type === "radio" ? control.checked : control.value;
    }
    function defaultOf(control) {
      if (control.type === "checkbox" || control.type === "radio") return control.defaultChecked;
      if (control.tagName === "SELECT") {
        var chosen = Array.prototype.find.call(control.options, function (o) { return o.defaultSelected; });
        return chosen ? chosen.value : (control.options[0] ? control.options[0].value : "");
      }
      return control.defaultValue;
    }
    // What the server holds for a control, where the page says so: after a refused save
    // the page shows what was sent, so a changed method or tick is no longer "changed"
    // against what the page shows, yet still unsaved.
    var ticksInput = form.querySelector("[name=ticks_was]");
    var ticksWas = ticksInput ? ticksInput.value.split(",") : [];
    function savedOf(control) {
      var match = /^(kb|reason)_(\d+)$/.exec(control.name);
      if (match) {
        var was = form.querySelector("[name=kb_was_" + match[2] + "]");
        if (!was) return defaultOf(control);
        var parts = was.value.split(":");
        if (match[1] === "kb") return parts[0];
        return parts[0] === "TIDAK" ? (parts[1] || "") : "";
      }
      match = /^present_(\d+)_(\d+)$/.exec(control.name);
      if (match && ticksInput) return ticksWas.indexOf(match[1] + "-" + match[2]) !== -1;
      return defaultOf(control);
    }
    function baseline(control) { return bound ? savedOf(control) : defaultOf(control); }
    function changed(row) {
      return controls(row).some(function (c) { return valueOf(c) !== baseline(c); });
    }

    function saveDraft() {
      if (!store) return;
      var draft = {};
      rows.forEach(function (row) {
        if (!(bound ? amount(row).value.trim() || changed(row) : changed(row))) return;
        // Only what the cadre changed: restoring an untouched control could undo what
        // someone else saved since.
        var fields = {};
        controls(row).forEach(function (c) {
          if (valueOf(c) === baseline(c) && !(bound && c.hasAttribute("data-amount") && c.value.trim())) return;
          if (c.type === "radio") { if (c.checked) fields[c.name] = c.value; } else fields[c.name] = valueOf(c);
        });
        draft[row.dataset.row] = { was: field(row, "was").value, fields: fields };
      });
      try {
        if (Object.keys(draft).length) store.setItem(key, JSON.stringify({ at: Date.now(), rows: draft }));
        else store.removeItem(key);
      } catch (e) { /* storage full or refused: the page still works */ }
    }

    function refresh() {
      var filled = 0;
      state.unsaved = bound || rows.some(changed);
      rows.forEach(function (row) {
        var empty = !amount(row).value.trim();
        if (!empty) filled += 1;
        row.classList.toggle("sheet-missing", empty && !row.classList.contains("list-group-item-danger"));
      });
      if (count) count.textContent = format(text.count, { filled: filled, total: rows.length });
      // Nothing moves under the cadre's finger: the link turns invisible, not gone, and
      // the status keeps its two lines (see css/sheet.css).
      if (nextMissing) nextMissing.classList.toggle("invisible", filled === rows.length);
      showStatus();
    }

    // The reason belongs to "no method" only.
    function showReason(row) {
      var kb = row.querySelector("[data-kb]"), reason = row.querySelector("[data-reason]");
      if (kb && reason) reason.classList.toggle("invisible", kb.value !== "TIDAK");
    }

    function showStatus() {
      if (!status) return;
      var offline = navigator.onLine === false;
      status.textContent = !state.unsaved ? "" : offline ? text.offline_status : text.unsaved;
      status.classList.toggle("unsaved", state.unsaved);
    }
    state.showStatus = showStatus;

    function restore() {
      var raw = store && store.getItem(key);
      if (!raw) return;
      var draft;
      try { draft = JSON.parse(raw); } catch (e) { store.removeItem(key); return; }
      var restored = [], leftOut = 0;
      Object.keys(draft.rows || {}).forEach(function (id) {
        var row = form.querySelector('[data-row="' + id + '"]');
        if (!row || amount(row).disabled) { leftOut += 1; return; }
        var saved = draft.rows[id], differs = false;
        controls(row).forEach(function (c) {
          if (!(c.name in (saved.fields || {}))) return;
          var value = saved.fields[c.name];
          if (c.type === "radio") {
            if (c.checked !== (c.value === value)) { c.checked = c.value === value; differs = true; }
          } else if (valueOf(c) !== value) {
            if (c.type === "checkbox") c.checked = value; else c.value = value;
            differs = true;
          }
        });
        if (!differs) return;
        // The amount stored when the draft was typed: if someone saved since, the server
        // says so and asks which amount to keep, instead of overwriting theirs.
        field(row, "was").value = saved.was;
        restored.push(row);
      });
      if (!restored.length) { store.removeItem(key); return; }
      var time = new Date(draft.at).toLocaleTimeString(document.documentElement.lang || undefined,
        { hour: "2-digit", minute: "2-digit" });
      var message = format(text.restored, { time: time, count: restored.length });
      if (leftOut) message += " " + format(text.left_out, { count: leftOut });
      document.getElementById("draft-notice-text").textContent = message;
      notice.classList.remove("d-none");
      document.getElementById("draft-discard").onclick = function () {
        restored.forEach(function (row) {
          controls(row).forEach(function (c) {
            if (c.type === "checkbox" || c.type === "radio") c.checked = c.defaultChecked; else c.value = defaultOf(c);
          });
          field(row, "was").value = field(row, "was").defaultValue;
          showReason(row);
        });
        if (store) store.removeItem(key);
        notice.classList.add("d-none");
        refresh();
      };
    }

    function showProblem(message) {
      state.submitting = false;
      if (button) button.disabled = false;
      showStatus();
      var alert = document.getElementById("sheet-save-problem");
      if (!alert) {
        alert = document.createElement("div");
        alert.id = "sheet-save-problem";
        alert.className = "alert alert-warning";
        alert.setAttribute("role", "alert");
        form.parentNode.insertBefore(alert, form);
      }
      alert.textContent = message;
      alert.scrollIntoView({ block: "center" });
    }

    if (form.hasAttribute("data-draft-saved")) { if (store) store.removeItem(key); }
    else if (bound) saveDraft();
    else restore();
    rows.forEach(showReason);
    refresh();

    var lastField = null;  // the next empty row is the one after where the cadre was typing
    form.addEventListener("focusin", function (event) {
      if (event.target.hasAttribute("data-amount")) lastField = event.target;
    });
    form.addEventListener("input", function () { saveDraft(); refresh(); });
    form.addEventListener("change", function (event) {
      var row = event.target.closest("[data-row]");
      if (row) showReason(row);
      saveDraft();
      refresh();
    });

    if (nextMissing) nextMissing.addEventListener("click", function (event) {
      event.preventDefault();
      var empty = rows.filter(function (row) { return !amount(row).value.trim(); });
      if (!empty.length) return;
      var after = empty.filter(function (row) {
        return lastField && row.compareDocumentPosition(lastField) & Node.DOCUMENT_POSITION_PRECEDING;
      });
      var target = amount(after[0] || empty[0]);
      target.focus();
      target.scrollIntoView({ block: "center" });
    });

    if (bound) {
      var first = form.querySelector(".is-invalid");
      if (first) { first.focus(); first.scrollIntoView({ block: "center" }); }
    }

    // Adding a meeting reloads the sheet: the draft comes back with it, no need to ask.
    document.querySelectorAll("form[data-keeps-draft]").forEach(function (other) {
      other.addEventListener("submit", function () { saveDraft(); state.submitting = true; });
    });
    var submitMonth = document.getElementById("submit-month");
    if (submitMonth) submitMonth.addEventListener("submit", function (event) {
      if (state.unsaved) { event.preventDefault(); showProblem(text.save_first); }
      else state.submitting = true;
    });

    form.addEventListener("submit", function (event) {
      if (!window.fetch || !window.DOMParser) return;  // an old browser posts the form itself
      event.preventDefault();
      if (state.submitting) return;
      saveDraft();
      state.submitting = true;
      if (button) button.disabled = true;
      if (status) status.textContent = text.saving;
      var here = window.location.href.split("#")[0];
      fetch(here, {
        method: "POST", body: new FormData(form), credentials: "same-origin", redirect: "manual"
      }).then(function (response) {
        if (response.type === "opaqueredirect") {
          // Saved (the server shows the sheet again), or the session expired (the login
          // page leads back here, and the draft is restored).
          window.location.assign(here);
          return null;
        }
        if (response.status !== 200) { showProblem(format(text.failed, { status: response.status })); return null; }
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var main = page.querySelector("main");
          if (!main) { showProblem(format(text.failed, { status: response.status })); return; }
          document.querySelector("main").replaceWith(document.adoptNode(main));
          init();
        });
      }).catch(function () {
        showProblem(text.offline);
      });
    });
  }

  window.addEventListener("beforeunload", function (event) {
    if (state.unsaved && !state.submitting) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.addEventListener("offline", function () { if (state.showStatus) state.showStatus(); });
  window.addEventListener("online", function () { if (state.showStatus) state.showStatus(); });

  init();
})();
