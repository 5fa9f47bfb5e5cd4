/* The dashboard's charts and map. The page is complete without this file: every number is in
   an HTML table drawn by the server. Each chart reads its numbers from the table it sits on
   (data-table), so chart and table can never disagree; once a chart is drawn its table folds
   into "The numbers" (still there for screen readers and for copying). The map reads its
   points and heat cells from the JSON next to it (WGS-84) and shifts them to the tiles'
   system for display only (coords.js). With no tile URL the map keeps a grey background. */
(function () {
  "use strict";

  var PALETTE = ["#0b57d0", "#b42318", "#1a7f37", "#9a6700", "#8250df", "#0a7ea4", "#57606a",
    "#bf3989", "#1b7c83", "#953800"];

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) return [];
    try { return JSON.parse(node.textContent) || []; } catch (e) { return []; }
  }

  /* The table as { categories, series: [{ name, data }] }: the label column names the rows,
     every header marked data-series is a series, numbers come from data-value (raw). */
  function readTable(table, labelColumn) {
    var heads = table.tHead.rows[0].cells;
    var columns = [];
    for (var i = 0; i < heads.length; i++) {
      if (heads[i].hasAttribute("data-series")) columns.push(i);
    }
    var categories = [];
    var series = columns.map(function (i) {
      return { name: heads[i].textContent.trim(), data: [] };
    });
    Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
      var label = row.cells[labelColumn];
      categories.push(label ? (label.getAttribute("data-name") || label.textContent.trim()) : "");
      columns.forEach(function (i, s) {
        var cell = row.cells[i];
        var raw = cell ? cell.getAttribute("data-value") : null;
        series[s].data.push(raw === null || raw === "" ? null : Number(raw));
      });
    });
    return { categories: categories, series: series };
  }

  function option(kind, data) {
    var narrow = window.matchMedia && window.matchMedia("(max-width: 600px)").matches;
    var base = {
      color: PALETTE,
      tooltip: { trigger: kind === "pie" ? "item" : "axis", confine: true },
      legend: { show: data.series.length > 1 || kind === "pie", type: "scroll", bottom: 0 },
      grid: { left: 8, right: 16, top: 16, bottom: data.series.length > 1 ? 40 : 16,
        containLabel: true },
      animation: false
    };
    if (kind === "pie") {
      base.series = [{
        type: "pie", radius: narrow ? ["30%", "60%"] : ["35%", "65%"], top: 0, bottom: 30,
        label: { show: !narrow, formatter: "{b}: {c}" },
        data: data.categories.map(function (name, i) {
          return { name: name, value: data.series[0].data[i] };
        }).filter(function (item) { return item.value; })
      }];
      return base;
    }
    var categoryAxis = { type: "category", data: data.categories,
      axisLabel: { hideOverlap: true, width: narrow ? 70 : 120, overflow: "truncate" } };
    var valueAxis = { type: "value", minInterval: 1 };
    if (kind === "hbar") {
      categoryAxis.inverse = true;  // first row at the top, as in the table
      base.xAxis = valueAxis;
      base.yAxis = categoryAxis;
    } else {
      base.xAxis = categoryAxis;
      base.yAxis = valueAxis;
    }
    base.series = data.series.map(function (s) {
      return {
        name: s.name,
        type: kind === "line" ? "line" : "bar",
        data: s.data,
        showSymbol: kind === "line" && data.categories.length <= 31,
        connectNulls: false
      };
    });
    return base;
  }

  function drawCharts() {
    if (!window.echarts) return;
    var charts = [];
    Array.prototype.forEach.call(document.querySelectorAll(".dash-chart"), function (box) {
      var table = document.getElementById(box.getAttribute("data-table"));
      if (!table || !table.tBodies.length) return;
      var data = readTable(table, parseInt(box.getAttribute("data-label-column") || "0", 10));
      if (!data.series.length || !data.categories.length) return;
      if (box.getAttribute("data-chart") === "hbar") {
        box.style.height = Math.max(220, 28 * data.categories.length + 60) + "px";
      }
      box.hidden = false;
      var chart = window.echarts.init(box, null, { renderer: "canvas" });
      chart.setOption(option(box.getAttribute("data-chart"), data));
      charts.push(chart);
      var details = box.parentNode.querySelector("details.dash-numbers");
      if (details) details.open = false;
    });
    var pending = null;
    window.addEventListener("resize", function () {
      clearTimeout(pending);
      pending = setTimeout(function () {
        charts.forEach(function (chart) { chart.resize(); });
      }, 150);
    });
  }

  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }

  function drawMap() {
    var box = document.getElementById("dash-map");
    if (!box || !window.L || !window.YizhanCoords) return;
    var coords = window.YizhanCoords.forTiles(box.dataset.tileCrs);
    var points = readJson(box.dataset.points);
    var heat = readJson(box.dataset.heat);
    var map = L.map(box, { zoomControl: true });
    if (box.dataset.tileUrl) {
      var options = { attribution: box.dataset.tileAttribution || "", maxZoom: 19 };
      if (box.dataset.tileSubdomains) options.subdomains = box.dataset.tileSubdomains;
      L.tileLayer(box.dataset.tileUrl, options).addTo(map);
    }
    var bounds = [];
    var stations = L.layerGroup(), corners = L.layerGroup();
    points.forEach(function (p) {
      var at = coords.toMap(p.lat, p.lng);
      var corner = p.kind === "corner";
      var colour = p.status !== "open" ? "#8c959f" : (corner ? "#0550ae" : "#b42318");
      L.circleMarker(at, {
        radius: corner ? 5 : 8, color: "#fff", weight: corner ? 1 : 2,
        fillOpacity: 0.95, fillColor: colour
      }).bindPopup("<strong>" + escapeHtml(p.name) + "</strong><br>" + escapeHtml(p.label))
        .addTo(corner ? corners : stations);
      bounds.push(at);
    });
    var layers = {};
    if (heat.length && L.heatLayer) {
      var cells = heat.map(function (c) {
        var at = coords.toMap(c[0], c[1]);
        bounds.push(at);
        return [at[0], at[1], c[2]];
      });
      var max = cells.reduce(function (m, c) { return Math.max(m, c[2]); }, 1);
      var heatLayer = L.heatLayer(cells, { radius: 22, blur: 18, max: max, minOpacity: 0.3 });
      heatLayer.addTo(map);
      layers[box.dataset.labelHeat] = heatLayer;
    }
    corners.addTo(map);
    stations.addTo(map);
    layers[box.dataset.labelStations] = stations;
    layers[box.dataset.labelCorners] = corners;
    L.control.layers(null, layers, { collapsed: true }).addTo(map);
    if (bounds.length) {
      map.fitBounds(L.latLngBounds(bounds).pad(0.1), { maxZoom: 16 });
    } else {
      map.setView([40.09, 113.30], 12);
    }
  }

  function start() {
    drawCharts();
    drawMap();
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
