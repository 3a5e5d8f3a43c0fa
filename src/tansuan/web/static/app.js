// tansuan dashboard: live values over server-sent events and ECharts history charts.
window.tansuan = (function () {
  function scopes(id, data, names, labels) {
    var el = document.getElementById(id);
    if (!el || !window.echarts) return;
    var keys = Object.keys(data);
    echarts.init(el).setOption({
      animation: false, tooltip: { trigger: "axis" }, legend: { data: names, top: 0, right: 0 },
      grid: { left: 50, right: 10, top: 40, bottom: 25 },
      xAxis: { type: "category", data: keys.map(function (k) { return (labels || {})[k] || "scope " + k; }) },
      yAxis: { type: "value", name: "tCO₂e" },
      series: [0, 1].map(function (i) { return { name: names[i], type: "bar", data: keys.map(function (k) { return +data[k][i].toFixed(3); }) }; })
    });
  }

  // A timestamp in the site's time zone (not the browser's), as YYYY-MM-DD HH:MM:SS.
  var zone = "Asia/Shanghai";
  function fields(iso) {
    var parts = {};
    new Intl.DateTimeFormat("en-CA", { timeZone: zone, hourCycle: "h23", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" })
      .formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return parts;
  }
  function when(iso) {
    if (!iso) return "";
    var p = fields(iso);
    return p.year + "-" + p.month + "-" + p.day + " " + p.hour + ":" + p.minute + ":" + p.second;
  }
  // The site's wall-clock time as epoch ms read in UTC: the chart (useUTC) shows site time.
  function siteMs(iso) {
    var p = fields(iso);
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second);
  }

  // A counter's register exactly (to 3 decimals, "6985123.4 kWh", not "6985000"); a
  // measurement to 4 significant figures, never losing integer digits.
  function shownValue(value, kind) {
    if (value === null) return "—";
    if (kind && kind !== "instantaneous") return Number(value.toFixed(3)).toString();
    if (Math.abs(value) >= 10000) return Math.round(value).toString();
    return Number(value.toPrecision(4)).toString();
  }

  function device(site, dev, noData, tz) {
    zone = tz || zone;
    document.querySelectorAll("#live td.ts").forEach(function (c) { c.textContent = when(c.dataset.ts); });
    var base = "/api/v1/sites/" + encodeURIComponent(site);
    var dot = document.getElementById("live-dot");
    var source = new EventSource(base + "/devices/" + encodeURIComponent(dev) + "/stream");
    source.addEventListener("open", function () { dot.classList.add("on"); });
    source.addEventListener("error", function () { dot.classList.remove("on"); });
    source.addEventListener("values", function (event) {
      JSON.parse(event.data).forEach(function (v) {
        var row = document.querySelector('#live tr[data-point="' + v.point + '"]');
        if (!row) return;
        var cell = row.querySelector(".value");
        var text = shownValue(v.value, row.dataset.kind);
        if (cell.textContent !== text) {
          cell.textContent = text;
          cell.classList.add("flash");
          setTimeout(function () { cell.classList.remove("flash"); }, 900);
        }
        row.querySelector(".ts").textContent = when(v.ts);
        if (resolution === "raw" && v.point === select.value && v.ts && v.value !== null) {
          var last = rawData.length ? rawData[rawData.length - 1][0] : null;
          if (last !== siteMs(v.ts)) { rawData.push([siteMs(v.ts), v.value]); chart.setOption({ series: [{ data: rawData }] }); }
        }
      });
    });

    var chart = echarts.init(document.getElementById("history"));
    var select = document.getElementById("chart-point");
    var resolution = "hour";
    var rawData = [];
    var spans = { raw: 1, hour: 7, day: 90, month: 730 };
    function load() {
      document.querySelectorAll("button.res").forEach(function (b) { b.classList.toggle("active", b.dataset.res === resolution); });
      var to = new Date(); var from = new Date(to.getTime() - spans[resolution] * 86400000);
      var url = base + "/points/" + encodeURIComponent(select.value) + "/series?resolution=" + resolution +
        "&from=" + encodeURIComponent(from.toISOString()) + "&to=" + encodeURIComponent(to.toISOString());
      fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (body) {
        var items = body.items || [];
        var timeAxis = resolution === "raw" || resolution === "hour";
        var data = items.map(function (r) { return [timeAxis ? siteMs(r.period) : r.period, resolution === "raw" ? r.value : (r.delta !== null && r.delta !== undefined ? r.delta : r.mean)]; });
        if (resolution === "raw") rawData = data;
        chart.setOption({
          animation: false, useUTC: true,
          title: { text: items.length ? "" : noData, left: "center", top: "middle", textStyle: { color: "#999", fontSize: 14 } },
          tooltip: { trigger: "axis" },
          xAxis: { type: resolution === "raw" || resolution === "hour" ? "time" : "category" },
          yAxis: { type: "value", scale: true },
          dataZoom: [{ type: "inside" }, { type: "slider" }],
          series: [{ type: resolution === "day" || resolution === "month" ? "bar" : "line", showSymbol: false, data: data, name: select.value }]
        }, true);
      });
    }
    document.querySelectorAll("button.res").forEach(function (b) {
      b.addEventListener("click", function () { resolution = b.dataset.res; load(); });
    });
    select.addEventListener("change", load);
    if (select.value) load();
    window.addEventListener("resize", function () { chart.resize(); });
  }

  return { scopes: scopes, device: device };
})();
