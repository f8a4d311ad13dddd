// Pictures over time (templates/reports/includes/trends.html): target progress by month,
// income by months since joining, the register month by month. Data and words come from the
// page, or from the fragment fetched into [data-trends-src], with json_script (no inline
// scripts: CSP-friendly).
(function () {
  "use strict";
  if (!window.Chart) { return; }
  Chart.defaults.animation = false;
  var number = new Intl.NumberFormat("id-ID");
  var rupiah = new Intl.NumberFormat("id-ID", { style: "currency", currency: "IDR", maximumFractionDigits: 0 });
  var compact = new Intl.NumberFormat("id-ID", { notation: "compact", maximumSignificantDigits: 3 });

  function readJson(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function draw() {
  var target = readJson("trend-target-data");
  var targetCanvas = document.getElementById("trend-target-chart");
  if (target && targetCanvas) {
    var datasets = [{
      label: target.count_label, data: target.counts, borderColor: "#198754", backgroundColor: "#198754",
      tension: 0.2, pointRadius: 3
    }];
    if (target.target) {
      datasets.push({
        label: target.target_label, data: target.labels.map(function () { return target.target; }),
        borderColor: "#dc3545", backgroundColor: "#dc3545", borderDash: [6, 4], pointRadius: 0, borderWidth: 1.5
      });
    }
    new Chart(targetCanvas, {
      type: "line",
      data: { labels: target.labels, datasets: datasets },
      options: {
        maintainAspectRatio: false,
        plugins: { tooltip: { callbacks: { label: function (c) { return c.dataset.label + ": " + number.format(c.parsed.y); } } } },
        scales: { y: { beginAtZero: true, ticks: { precision: 0, callback: function (v) { return compact.format(v); } } } }
      }
    });
  }

  var income = readJson("trend-income-data");
  var incomeCanvas = document.getElementById("trend-income-chart");
  if (income && incomeCanvas) {
    var zero = income.offsets.indexOf(0);
    // The join month: a dashed vertical line at offset 0, named at its top.
    var joinMarker = {
      id: "joinMarker",
      afterDatasetsDraw: function (chart) {
        var x = chart.scales.x.getPixelForValue(zero), area = chart.chartArea, ctx = chart.ctx;
        ctx.save();
        ctx.strokeStyle = "#fd7e14";
        ctx.lineWidth = 1.5;
        ctx.setLineDash([4, 4]);
        ctx.beginPath();
        ctx.moveTo(x, area.top);
        ctx.lineTo(x, area.bottom);
        ctx.stroke();
        ctx.fillStyle = "#b35900";
        ctx.font = "11px system-ui, sans-serif";
        ctx.fillText(income.join_label, x + 4, area.top + 11);
        ctx.restore();
      }
    };
    new Chart(incomeCanvas, {
      type: "line",
      data: {
        labels: income.labels,
        datasets: [
          { label: "p25", data: income.p25, borderColor: "rgba(25,135,84,0.25)", pointRadius: 0, borderWidth: 1, fill: false },
          { label: income.band_label, data: income.p75, borderColor: "rgba(25,135,84,0.25)", backgroundColor: "rgba(25,135,84,0.18)",
            pointRadius: 0, borderWidth: 1, fill: "-1" },
          { label: income.median_label, data: income.median, borderColor: "#198754", backgroundColor: "#198754",
            pointRadius: 2, tension: 0.2, fill: false }
        ]
      },
      options: {
        maintainAspectRatio: false,
        interaction: { mode: "index", intersect: false },
        plugins: {
          legend: { labels: { filter: function (item) { return item.datasetIndex > 0; } } },
          tooltip: {
            filter: function (item) { return item.datasetIndex === 2; },
            callbacks: {
              label: function (c) {
                var i = c.dataIndex;
                return [income.median_label + ": " + rupiah.format(income.median[i]),
                  rupiah.format(income.p25[i]) + " – " + rupiah.format(income.p75[i]),
                  number.format(income.n[i]) + " " + income.families_label];
              }
            }
          }
        },
        scales: {
          x: { title: { display: true, text: income.axis_label } },
          y: { ticks: { callback: function (v) { return compact.format(v); } } }
        }
      },
      plugins: [joinMarker]
    });
  }

  var register = readJson("trend-register-data");
  var registerCanvas = document.getElementById("trend-register-chart");
  if (register && registerCanvas) {
    new Chart(registerCanvas, {
      type: "bar",
      data: { labels: register.labels, datasets: [{ label: register.label, data: register.pct, backgroundColor: "#0d6efd" }] },
      options: {
        maintainAspectRatio: false,
        plugins: {
          legend: { display: false },
          tooltip: {
            callbacks: {
              label: function (c) {
                var i = c.dataIndex;
                return number.format(register.reported[i]) + " " + register.of_label + " " + number.format(register.counted[i]) +
                  " (" + c.parsed.y.toLocaleString("id-ID") + "%)";
              }
            }
          }
        },
        scales: { y: { beginAtZero: true, max: 100, ticks: { callback: function (v) { return v + "%"; } } } }
      }
    });
  }
  }

  // The dashboard and the report page fetch their pictures after showing their figures
  // (they take longer than the rest of the page); the group page has them in the page.
  var holder = document.querySelector("[data-trends-src]");
  if (!holder) { draw(); return; }
  fetch(holder.getAttribute("data-trends-src"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
    .then(function (response) {
      if (!response.ok) { throw new Error(response.status); }
      return response.text();
    })
    .then(function (html) {
      holder.innerHTML = html;  // our own server's fragment: its data travels as JSON, no script runs
      draw();
    })
    .catch(function () { /* the link to open them on their own stays */ });
})();
