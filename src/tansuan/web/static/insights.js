// tansuan dashboard: the analytics charts (findings evidence, savings, forecast) in ECharts.
window.tansuanInsights = (function () {
  function chart(id) { var el = document.getElementById(id); return el && window.echarts ? echarts.init(el) : null; }
  function evidence(id, finding, names) {
    var c = chart(id); var ev = finding.evidence;
    if (!c || !ev) return;
    if (ev.days) {  // a degradation: daily energy against the baseline, and the CUSUM
      c.setOption({
        animation: false, tooltip: { trigger: "axis" }, legend: { top: 0, left: "center" },
        grid: { left: 55, right: 55, top: 40, bottom: 30 },
        xAxis: { type: "category", data: ev.days },
        yAxis: [{ type: "value", name: "kWh/d" }, { type: "value", name: "CUSUM" }],
        series: [
          { name: names.actual, type: "line", data: ev.actual, symbol: "none",
            markLine: { symbol: "none", data: [{ xAxis: ev.start }] } },
          { name: names.baseline, type: "line", data: ev.expected, symbol: "none", lineStyle: { type: "dashed" } },
          { name: "CUSUM", type: "line", yAxisIndex: 1, data: ev.cusum, symbol: "none", itemStyle: { color: "#c0392b" } }
        ]
      });
    } else if (ev.hours) {
      c.setOption({
        animation: false, tooltip: { trigger: "axis" }, legend: { top: 0, right: 0 },
        grid: { left: 55, right: 10, top: 35, bottom: 30 },
        xAxis: { type: "category", data: ev.hours }, yAxis: { type: "value", name: "kWh" },
        series: [
          { name: names.kwh, type: "bar", data: ev.kwh.map(function (v, i) { return ev.flagged[i] ? null : v; }), stack: "e", itemStyle: { color: "#7f8c8d" } },
          { name: names.flagged, type: "bar", data: ev.kwh.map(function (v, i) { return ev.flagged[i] ? v : null; }), stack: "e", itemStyle: { color: "#c0392b" } }
        ]
      });
    } else {
      c.setOption({ animation: false, xAxis: { type: "category", data: ["median", finding.device] }, yAxis: { type: "value", name: "kWh/unit" },
        series: [{ type: "bar", data: [ev.median, ev.specific] }] });
    }
  }
  function savings(id, ch, names) {
    var c = chart(id); if (!c) return;
    var lower = ch.baseline_kwh.map(function (v, i) { return v - ch.band_kwh[i]; });
    var width = ch.band_kwh.map(function (b) { return 2 * b; });
    c.setOption({
      animation: false, tooltip: { trigger: "axis" }, legend: { top: 0, right: 0, data: [names.actual, names.baseline, names.band] },
      grid: { left: 60, right: 10, top: 35, bottom: 30 },
      xAxis: { type: "category", data: ch.dates }, yAxis: { type: "value", name: "kWh/d" },
      series: [
        { name: "lower", type: "line", data: lower, stack: "band", lineStyle: { opacity: 0 }, symbol: "none" },
        { name: names.band, type: "line", data: width, stack: "band", lineStyle: { opacity: 0 }, areaStyle: { color: "#0f7b5f", opacity: 0.15 }, symbol: "none" },
        { name: names.baseline, type: "line", data: ch.baseline_kwh, symbol: "none", lineStyle: { type: "dashed" } },
        { name: names.actual, type: "line", data: ch.actual_kwh, symbol: "none",
          markLine: { symbol: "none", data: [{ xAxis: ch.reporting_from }] } }
      ]
    });
  }
  function forecast(id, history, fc, names) {
    var c = chart(id); if (!c) return;
    var months = history.map(function (h) { return h.month; }).concat(fc.map(function (f) { return f.month; }));
    var n = history.length, pad = function (k) { return new Array(k).fill(null); };
    c.setOption({
      animation: false, tooltip: { trigger: "axis" }, legend: { top: 0, right: 0, data: [names.history, names.mean, names.band] },
      grid: { left: 60, right: 10, top: 35, bottom: 30 },
      xAxis: { type: "category", data: months }, yAxis: { type: "value", name: "tCO₂e" },
      series: [
        { name: "lower", type: "line", stack: "band", symbol: "none", lineStyle: { opacity: 0 }, data: pad(n).concat(fc.map(function (f) { return f.lower; })) },
        { name: names.band, type: "line", stack: "band", symbol: "none", lineStyle: { opacity: 0 }, areaStyle: { color: "#0f7b5f", opacity: 0.18 }, data: pad(n).concat(fc.map(function (f) { return f.upper - f.lower; })) },
        { name: names.history, type: "line", data: history.map(function (h) { return h.tco2e; }).concat(pad(fc.length)) },
        { name: names.mean, type: "line", lineStyle: { type: "dashed" }, data: pad(n).concat(fc.map(function (f) { return f.mean; })) }
      ]
    });
  }
  return { evidence: evidence, savings: savings, forecast: forecast };
})();
