// Charts drawn from data embedded with json_script (no inline scripts: CSP-friendly).
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
