// Behaviour shared by all pages. No inline scripts: pages stay compatible with a strict CSP.
document.querySelectorAll("[data-width]").forEach(function (el) {
  el.style.width = Math.min(100, parseFloat(el.dataset.width) || 0) + "%";
});
