/* The nearby page's map (一刻钟服务圈). The list is drawn by the server; this only adds the map,
   "use my location" (browsers report WGS-84) and "tap the map to search here". Markers come from
   the JSON the list carries (WGS-84) and are shifted to the tiles' system for display only
   (coords.js); a tap is shifted back before it is sent. With no tile URL the map keeps its grey
   background and still shows the markers. htmx swaps the list; the markers follow. */
(function () {
  "use strict";
  var form = document.getElementById("nearby-form");
  if (!form) return;
  var latInput = document.getElementById("nearby-lat");
  var lngInput = document.getElementById("nearby-lng");
  var crsInput = document.getElementById("nearby-crs");
  var community = document.getElementById("nearby-community");
  var status = document.getElementById("nearby-status");

  function submit() {
    if (typeof form.requestSubmit === "function") form.requestSubmit(); else form.submit();
  }
  function searchAt(lat, lng) {
    latInput.value = lat.toFixed(6);
    lngInput.value = lng.toFixed(6);
    crsInput.value = "wgs84";
    if (community) {
      community.value = "";
      if (community.dataset.here) community.options[0].textContent = community.dataset.here;
    }
    submit();
  }
  // Choosing a community searches around its centre, not the last point.
  if (community) {
    community.addEventListener("change", function () {
      if (community.value) { latInput.value = ""; lngInput.value = ""; crsInput.value = ""; }
    });
  }
  var locate = document.getElementById("use-my-location");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      status.textContent = status.dataset.locating;
      navigator.geolocation.getCurrentPosition(function (pos) {
        status.textContent = "";
        searchAt(pos.coords.latitude, pos.coords.longitude);
      }, function () {
        status.textContent = status.dataset.denied;
      }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
  }

  var box = document.getElementById("nearby-map");
  if (!box || !window.L) return;
  var coords = YizhanCoords.forTiles(box.dataset.tileCrs);
  var start = [parseFloat(box.dataset.lat), parseFloat(box.dataset.lng)];
  if (!isFinite(start[0]) || !isFinite(start[1])) start = [40.09, 113.30];
  var map = L.map(box, { zoomControl: true }).setView(coords.toMap(start[0], start[1]), 14);
  if (box.dataset.tileUrl) {
    var options = { attribution: box.dataset.tileAttribution || "", maxZoom: 19 };
    if (box.dataset.tileSubdomains) options.subdomains = box.dataset.tileSubdomains;
    L.tileLayer(box.dataset.tileUrl, options).addTo(map);
  }
  var layer = L.layerGroup().addTo(map);

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node) return null;
    try { return JSON.parse(node.textContent); } catch (e) { return null; }
  }
  function escapeHtml(text) {
    var div = document.createElement("div");
    div.textContent = text;
    return div.innerHTML;
  }
  function draw() {
    layer.clearLayers();
    var center = readJson("nearby-center");
    var markers = readJson("nearby-markers") || [];
    var bounds = [];
    if (center) {
      var c = coords.toMap(center.lat, center.lng);
      L.circle(c, { radius: center.radius, color: "#0b57d0", weight: 1, fillOpacity: 0.04 }).addTo(layer);
      L.circleMarker(c, { radius: 7, color: "#fff", weight: 2, fillColor: "#0b57d0", fillOpacity: 1 })
        .addTo(layer);
      bounds.push(c);
    }
    markers.forEach(function (m) {
      var p = coords.toMap(m.lat, m.lng);
      L.circleMarker(p, {
        radius: 9, color: "#fff", weight: 2, fillOpacity: 1,
        fillColor: m.open ? "#1a7f37" : "#b42318"
      }).bindPopup('<a href="' + m.url + '">' + escapeHtml(m.name) + "</a>").addTo(layer);
      bounds.push(p);
    });
    if (bounds.length > 1) map.fitBounds(L.latLngBounds(bounds).pad(0.15), { maxZoom: 18 });
    else if (bounds.length === 1) map.setView(bounds[0], 15);
  }
  map.on("click", function (e) {
    var p = coords.fromMap(e.latlng.lat, e.latlng.lng);
    searchAt(p[0], p[1]);
  });
  draw();
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail && e.detail.target && e.detail.target.id === "results") draw();
  });
})();
