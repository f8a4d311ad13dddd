// Charts drawn from data embedded with json_script (no inline scripts: CSP-friendly).
if (window.Chart) { Chart.defaults.animation = false; }  // cheap phones: draw once, at once
(function () {
  "use strict";
  var rupiah = new Intl.NumberFormat("id-ID", { style: "currency", currency: "IDR", maximumFractionDigits: 0 });

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  var income = readJson("income-data");
  var canvas = document.getElementById("income-chart");
  if (income && canvas && window.Chart) {
    var joinIndex = {};
    income.joins.forEach(function (j) { joinIndex[j.month] = j.label; });
    new Chart(canvas, {
      type: "line",
      data: {
        labels: income.labels,
        datasets: [{
          label: canvas.getAttribute("aria-label"),
          data: income.amounts,
          borderColor: "#198754",
          backgroundColor: "#198754",
          tension: 0.2,
          pointRadius: income.labels.map(function (m) { return joinIndex[m] ? 7 : 2; }),
          pointStyle: income.labels.map(function (m) { return joinIndex[m] ? "triangle" : "circle"; }),
          pointBackgroundColor: income.labels.map(function (m) { return joinIndex[m] ? "#fd7e14" : "#198754"; })
        }]
      },
      options: {
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (ctx) { return rupiah.format(ctx.parsed.y); },
              afterLabel: function (ctx) {
                var g = joinIndex[income.labels[ctx.dataIndex]];
                return g ? "\u25B2 " + g : "";
              }
            }
          }
        },
        scales: { y: { ticks: { callback: function (v) { return rupiah.format(v); } } } }
      }
    });
  }
})();

// Bar charts: before/after per OPD (dashboard) and per family (group page), and the
// distribution of changes.
(function () {
  "use strict";
  if (!window.Chart) { return; }
  var rupiah = new Intl.NumberFormat("id-ID", { style: "currency", currency: "IDR", maximumFractionDigits: 0 });
  var compact = new Intl.NumberFormat("id-ID", { notation: "compact", maximumFractionDigits: 1 });
  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }
  function beforeAfter(canvasId, data) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || !data) { return; }
    new Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: [
          { label: data.before_label, data: data.before, backgroundColor: "#adb5bd" },
          { label: data.after_label, data: data.after, backgroundColor: "#198754" }
        ]
      },
      options: {
        maintainAspectRatio: false,
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + rupiah.format(c.parsed.y); } } } },
        scales: { y: { ticks: { callback: function (v) { return compact.format(v); } } } }
      }
    });
  }
  beforeAfter("opd-chart", readJson("opd-data"));
  var members = readJson("members-data");
  beforeAfter("members-chart", members);

  var changes = document.getElementById("changes-chart");
  if (changes && members && members.changes.length) {
    var values = members.changes;
    var min = Math.min.apply(null, values), max = Math.max.apply(null, values);
    var bins = 8, width = Math.max(1, (max - min) / bins), counts = [], labels = [];
    for (var i = 0; i < bins; i++) {
      counts.push(0);
      labels.push(compact.format(min + i * width) + " s.d. " + compact.format(min + (i + 1) * width));
    }
    values.forEach(function (v) { counts[Math.min(bins - 1, Math.floor((v - min) / width))] += 1; });
    new Chart(changes, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: members.count_label, data: counts, backgroundColor: "#0d6efd" }] },
      options: {
        maintainAspectRatio: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { title: { display: true, text: members.change_title } },
          y: { title: { display: true, text: members.count_label }, ticks: { precision: 0 } }
        }
      }
    });
  }
})();
