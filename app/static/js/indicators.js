// Simpul indicators: charts drawn from <canvas data-chart='{...}'> (Chart.js, vendored) and the
// progress of a rollup job polled from its JSON. Every page works without this file: each chart
// has a table with the same numbers, and the job page has a reload link.
//
// Disclosure control (app/indicators/disclosure.py): a cell that is not shown is null in the
// data — a gap, never a zero bar — and a bar chart writes its text ("<5", "dirahasiakan" /
// "hidden", from the series' "texts") where the bar would start, so a gap is not read as zero.
(function () {
  "use strict";
  var english = (document.documentElement.lang || "").indexOf("en") === 0;
  var locale = english ? "en-GB" : "id-ID";
  var number = new Intl.NumberFormat(locale, { minimumFractionDigits: 0, maximumFractionDigits: 2 });
  var PALETTE = ["#5c2a8a", "#0d6efd", "#b45309", "#198754", "#dc3545", "#0dcaf0", "#6c757d"];

  function toNumbers(values) {
    return values.map(function (v) {
      return v === null || v === undefined ? null : parseFloat(v);
    });
  }

  // Writes the text of each hidden cell of a bar chart at the start of its (missing) bar.
  var hiddenTexts = {
    id: "simpulHiddenTexts",
    afterDatasetsDraw: function (chart, args, options) {
      var texts = (options && options.texts) || [];
      var horizontal = chart.options.indexAxis === "y";
      var categories = horizontal ? chart.scales.y : chart.scales.x;
      var values = horizontal ? chart.scales.x : chart.scales.y;
      if (!categories || !values) return;
      var ctx = chart.ctx;
      var count = texts.length;
      ctx.save();
      ctx.fillStyle = "#6c757d";
      ctx.font = "italic 12px system-ui, sans-serif";
      ctx.textBaseline = "middle";
      ctx.textAlign = horizontal ? "left" : "center";
      texts.forEach(function (series, j) {
        (series || []).forEach(function (text, i) {
          var value = chart.data.datasets[j] ? chart.data.datasets[j].data[i] : null;
          if (!text || (value !== null && value !== undefined)) return;
          var at = categories.getPixelForValue(i) + (j - (count - 1) / 2) * 14;
          var base = values.getPixelForValue(values.min > 0 ? values.min : 0);
          if (horizontal) ctx.fillText(text, base + 4, at);
          else ctx.fillText(text, at, base - 8);
        });
      });
      ctx.restore();
    }
  };

  function config(spec) {
    var horizontal = spec.type === "hbar";
    var unit = spec.unit ? " " + spec.unit : "";
    var datasets = spec.series.map(function (s, i) {
      var color = PALETTE[i % PALETTE.length];
      return {
        label: s.label,
        data: toNumbers(s.data),
        borderColor: color,
        backgroundColor: color,
        spanGaps: false,
        tension: 0
      };
    });
    var valueAxis = {
      beginAtZero: true,
      ticks: { callback: function (v) { return number.format(v); } }
    };
    return {
      type: spec.type === "line" ? "line" : "bar",
      plugins: spec.type === "line" ? [] : [hiddenTexts],
      data: { labels: spec.labels, datasets: datasets },
      options: {
        locale: locale,
        indexAxis: horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {
          simpulHiddenTexts: {
            texts: spec.series.map(function (s) { return s.texts || []; })
          },
          legend: { display: spec.series.length > 1, position: "bottom" },
          tooltip: {
            callbacks: {
              label: function (ctx) {
                var v = horizontal ? ctx.parsed.x : ctx.parsed.y;
                return ctx.dataset.label + ": " + number.format(v) + unit;
              }
            }
          }
        },
        scales: horizontal ? { x: valueAxis } : { y: valueAxis }
      }
    };
  }

  function draw(canvas) {
    var spec;
    try {
      spec = JSON.parse(canvas.getAttribute("data-chart"));
    } catch (e) {
      return;
    }
    if (!spec || !spec.series || !spec.labels || !spec.labels.length) return;
    var box = canvas.parentElement;
    if (spec.type === "hbar") {
      box.classList.add("ind-chart-rows-" + Math.min(spec.labels.length, 12));
    }
    box.hidden = false;
    new window.Chart(canvas, config(spec));
    var table = document.querySelector('[data-chart-table="' + canvas.id + '"]');
    if (table) table.open = false;
  }

  if (window.Chart) {
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
})();

// The progress of a job: <section data-job-poll="/indikator/pekerjaan/1.json">.
(function () {
  "use strict";
  var box = document.querySelector("[data-job-poll]");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-job-poll");
  var bar = box.querySelector("[data-job-bar]");
  var state = box.querySelector("[data-job-state]");
  var message = box.querySelector("[data-job-message]");
  var progress = box.querySelector("[role=progressbar]");
  var delay = 1500;

  function show(job) {
    var percent = Math.max(0, Math.min(100, job.progress | 0));
    bar.className = bar.className.replace(/\bind-w-\d+\b/, "");
    bar.style.width = percent + "%";
    bar.textContent = percent + "%";
    progress.setAttribute("aria-valuenow", String(percent));
    state.textContent = state.getAttribute("data-label-" + job.state) || job.state;
    message.textContent = job.message || "";
    var retry = document.querySelector("[data-job-retry]");
    if (retry) retry.hidden = !job.can_retry;
    bar.classList.toggle("bg-warning", job.state === "macet");
    var still = !job.done && job.state !== "macet";
    bar.classList.toggle("progress-bar-striped", still);
    bar.classList.toggle("progress-bar-animated", still);
    if (job.done) bar.classList.add(job.state === "gagal" ? "bg-danger" : "bg-success");
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (response.status >= 400 && response.status < 500) return null; // gone or not ours
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (job) {
        if (!job) return;
        show(job);
        if (!job.done) window.setTimeout(poll, delay);
      })
      .catch(function () {
        delay = Math.min(delay * 2, 30000);
        window.setTimeout(poll, delay);
      });
  }

  poll();
})();
