/* The registration form's map: mark where you usually work; the community follows. */
(function () {
  "use strict";
  var box = document.getElementById("work-map");
  if (!box || !window.L) return;
  var latInput = document.getElementById("id_work_lat");
  var lngInput = document.getElementById("id_work_lng");
  var community = document.getElementById("id_community");
  var status = document.getElementById("work-map-status");
  var coords = YizhanCoords.forTiles(box.dataset.tileCrs);
  var center = [parseFloat(box.dataset.lat), parseFloat(box.dataset.lng)];
  var map = L.map(box, { zoomControl: true }).setView(coords.toMap(center[0], center[1]), 14);
  if (box.dataset.tileUrl) {
    var options = { attribution: box.dataset.tileAttribution || "", maxZoom: 19 };
    if (box.dataset.tileSubdomains) options.subdomains = box.dataset.tileSubdomains;
    L.tileLayer(box.dataset.tileUrl, options).addTo(map);
  }
  var marker = null, outline = null;

  function toMapRings(geometry) {
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    return polygons.map(function (polygon) {
      return polygon.map(function (ring) {
        return ring.map(function (p) { return coords.toMap(p[1], p[0]); });
      });
    });
  }
  function showCommunity(code, recenter) {
    if (!code) return;
    fetch("/api/v1/areas/" + encodeURIComponent(code), { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (area) {
        if (!area || !area.boundary) return;
        if (outline) map.removeLayer(outline);
        outline = L.polygon(toMapRings(area.boundary), { color: "#b42318", weight: 2, fillOpacity: 0.05 }).addTo(map);
        if (recenter && !marker) map.fitBounds(outline.getBounds());
      });
  }
  function setPoint(lat, lng, fromCommunity) {
    latInput.value = lat.toFixed(6);
    lngInput.value = lng.toFixed(6);
    var shown = coords.toMap(lat, lng);
    if (marker) marker.setLatLng(shown); else marker = L.marker(shown).addTo(map);
    fetch("/api/v1/areas/locate?lat=" + lat + "&lng=" + lng, { headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (found) {
        if (!found || !found.community) {
          status.textContent = status.dataset.outside;
          return;
        }
        status.textContent = status.dataset.inside
          .replace("%(community)s", found.community.name)
          .replace("%(grid)s", found.grid ? found.grid.name : "");
        if (!fromCommunity && community && community.value !== found.community.code) {
          community.value = found.community.code;
          showCommunity(found.community.code, false);
        }
      });
  }
  map.on("click", function (e) {
    var p = coords.fromMap(e.latlng.lat, e.latlng.lng);
    setPoint(p[0], p[1], false);
  });
  var locate = document.getElementById("use-my-location");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        // Browsers report WGS-84.
        setPoint(pos.coords.latitude, pos.coords.longitude, false);
        map.setView(coords.toMap(pos.coords.latitude, pos.coords.longitude), 16);
      }, function () { status.textContent = status.dataset.denied; });
    });
  }
  if (community) {
    community.addEventListener("change", function () { showCommunity(community.value, true); });
    showCommunity(community.value, true);
  }
  var lat = parseFloat(latInput.value), lng = parseFloat(lngInput.value);
  if (isFinite(lat) && isFinite(lng)) {
    setPoint(lat, lng, true);
    map.setView(coords.toMap(lat, lng), 15);
  }
})();
