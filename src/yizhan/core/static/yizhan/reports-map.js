/* Maps of reports on the console and the case pages. The list (or the record) is drawn by the
   server and has everything; this only adds the map. Markers come from the JSON next to the map
   (WGS-84) and are shifted to the tiles' system for display only (coords.js). With no tile URL
   the map keeps its grey background and still shows the markers. */
(function () {
  "use strict";
  if (!window.L) return;
  var COLOURS = {
    urgent: "#b42318", overdue: "#b42318", duplicate: "#9a6700",
    verified: "#1a7f37", closed: "#1a7f37", rejected: "#57606a", merged: "#57606a"
  };
  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) return [];
    try { return JSON.parse(node.textContent) || []; } catch (e) { return []; }
  }
  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }
  Array.prototype.forEach.call(document.querySelectorAll(".report-map"), function (box) {
    var coords = YizhanCoords.forTiles(box.dataset.tileCrs);
    var markers = readJson(box.dataset.markers);
    var first = markers[0] || { lat: parseFloat(box.dataset.lat), lng: parseFloat(box.dataset.lng) };
    var map = L.map(box, { zoomControl: true }).setView(coords.toMap(first.lat, first.lng), 16);
    if (box.dataset.tileUrl) {
      var options = { attribution: box.dataset.tileAttribution || "", maxZoom: 19 };
      if (box.dataset.tileSubdomains) options.subdomains = box.dataset.tileSubdomains;
      L.tileLayer(box.dataset.tileUrl, options).addTo(map);
    }
    var bounds = [];
    markers.forEach(function (m, index) {
      var p = coords.toMap(m.lat, m.lng);
      var colour = COLOURS[m.state] || "#0550ae";
      L.circleMarker(p, {
        radius: index === 0 && markers.length > 1 && m.state !== "duplicate" ? 10 : 8,
        color: "#fff", weight: 2, fillOpacity: 1, fillColor: colour
      }).bindPopup('<a href="' + m.url + '">' + escapeHtml(m.label) + "</a><br>" +
        escapeHtml(m.status || "")).addTo(map);
      bounds.push(p);
    });
    if (bounds.length > 1) map.fitBounds(L.latLngBounds(bounds).pad(0.2), { maxZoom: 17 });
  });
})();
