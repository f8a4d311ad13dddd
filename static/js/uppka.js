// Behaviour shared by all pages. No inline scripts: pages stay compatible with a strict CSP.
document.querySelectorAll("[data-width]").forEach(function (el) {
  el.style.width = Math.min(100, parseFloat(el.dataset.width) || 0) + "%";
});

// A select whose options belong to a choice made in another select (kelurahan of a
// kecamatan): only the options of the chosen one are offered.
document.querySelectorAll("select[data-follows]").forEach(function (select) {
  var leader = document.getElementById(select.dataset.follows);
  if (!leader) return;
  function follow() {
    var chosen = leader.value;
    Array.prototype.forEach.call(select.options, function (option) {
      var other = Boolean(chosen && option.dataset.kecamatan && option.dataset.kecamatan !== chosen);
      option.hidden = other;
      option.disabled = other;
    });
    if (select.selectedOptions.length && select.selectedOptions[0].disabled) select.value = "";
  }
  leader.addEventListener("change", follow);
  follow();
});

// Drafts of the entry sheet (static/js/sheet.js) belong to one user: logging out removes
// them all, and whoever signs in next on this phone never finds another user's draft.
(function () {
  var PREFIX = "uppka-draft:";
  var store;
  try { store = window.localStorage; } catch (e) { return; }
  if (!store) return;
  function purge(keep) {
    for (var i = store.length - 1; i >= 0; i--) {
      var key = store.key(i);
      if (key && key.indexOf(PREFIX) === 0 && !(keep && key.indexOf(PREFIX + keep + ":") === 0)) store.removeItem(key);
    }
  }
  if (document.body.dataset.user) purge(document.body.dataset.user);
  document.querySelectorAll("form[data-logout]").forEach(function (form) {
    form.addEventListener("submit", function () { purge(null); });
  });
})();

// A table wider than its box scrolls sideways inside it: the box takes the keyboard focus
// (arrow keys scroll it) and is named after the table's heading (WCAG 2.1.1).
function markScrollingTables() {
  document.querySelectorAll(".table-responsive").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      box.tabIndex = 0;
      box.setAttribute("role", "region");
      var heading = box.previousElementSibling;
      var name = heading && /^H[1-6]$/.test(heading.tagName) ? heading.textContent : document.title;
      box.setAttribute("aria-label", name.trim());
    } else if (box.getAttribute("role") === "region") {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  });
}
markScrollingTables();
window.addEventListener("resize", markScrollingTables);

// A page that comes back with errors says so (role="alert") and puts the focus on its
// summary; each field named there is a link that moves the focus into that field. (The
// entry sheet's own script then moves the focus on to the first row to check.)
// (Delegated: the entry sheet replaces its summary when a save comes back refused.)
document.addEventListener("click", function (event) {
  var link = event.target.closest && event.target.closest("[data-error-summary] a[href^='#']");
  var field = link && document.getElementById(link.getAttribute("href").slice(1));
  if (!field) return;
  event.preventDefault();
  field.focus();
  field.scrollIntoView({ block: "center" });
});
(function () {
  var summary = document.querySelector("[data-error-summary]");
  if (summary) summary.focus();
})();

// A form that sends a file (data-busy="Mengunggah…"): once sent, its button says so and
// is disabled, so a slow upload is not sent twice by an impatient second tap. The browser's
// own validation runs first (a form it refuses is not marked busy).
document.querySelectorAll("form[data-busy]").forEach(function (form) {
  var button = form.querySelector("button[type=submit]");
  if (!button) return;
  var label = button.textContent;
  form.addEventListener("submit", function () {
    window.setTimeout(function () {  // after the browser has taken the button's own value
      button.disabled = true;
      button.textContent = form.dataset.busy;
    }, 0);
  });
  window.addEventListener("pageshow", function () {  // back to this page: ready again
    button.disabled = false;
    button.textContent = label;
  });
});
