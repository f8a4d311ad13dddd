// A job's page while it runs: asks the server how far it is every second or two and moves the
// bar; when the job has ended, loads the page again to show its result. No inline script
// (the CSP forbids it): the status address comes from the page's data attribute.
(function () {
  "use strict";
  var box = document.getElementById("job-progress");
  if (!box || !window.fetch) { return; }
  var url = box.getAttribute("data-status-url");
  var bar = document.getElementById("job-bar");
  var stage = document.getElementById("job-stage");
  var delay = 1000;

  function show(state) {
    if (stage.textContent !== state.text) { stage.textContent = state.text; }
    if (state.percent === null || state.percent === undefined) {
      bar.removeAttribute("value");
    } else {
      bar.value = state.percent;
    }
  }

  function poll() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (state) {
        if (state.ended) { window.location.reload(); return; }
        show(state);
        delay = 1000;
        window.setTimeout(poll, delay);
      })
      .catch(function () {  // a weak connection: try again, less often
        delay = Math.min(delay * 2, 15000);
        window.setTimeout(poll, delay);
      });
  }
  window.setTimeout(poll, delay);
}());
