// The Django admin: the search icon that Django's two-list chooser (filter_horizontal) draws
// carries an aria-label on a plain span, which no assistive technology reads; as an image it
// is named. Django draws the chooser when the page has loaded, so this runs after it.
window.addEventListener("load", function () {
  document.querySelectorAll("span.help-tooltip[aria-label]:not([role])").forEach(function (icon) {
    icon.setAttribute("role", "img");
  });
});
