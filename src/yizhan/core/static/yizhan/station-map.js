/* One station on a map: shown on its page, or picked on the console's form (data-pick).
   Data are WGS-84; tiles drawn in GCJ-02 get the point shifted for display and taps shifted
   back (coords.js). The picker writes WGS-84 into the latitude and longitude fields and sets
   "coordinates from" to WGS-84; choosing a community recentres the map on it. */
(function () {
  "use strict";
  var box = document.getElementById("station-map");
  if (!box || !window.L) return;
  var coords = YizhanCoords.forTiles(box.dataset.tileCrs);
  var lat = parseFloat(box.dataset.lat), lng = parseFloat(box.dataset.lng);
  var known = isFinite(lat) && isFinite(lng);
  var centresNode = document.getElementById("community-centres");
  var centres = centresNode ? JSON.parse(centresNode.textContent) : {};
  var community = document.getElementById("id_community");
  if (!known) {
    // A new station: start at the chosen community's centre (or the first one offered).
    var first = centres[community && community.value] || centres[Object.keys(centres)[0]];
    lat = first ? first[0] : 40.09;
    lng = first ? first[1] : 113.30;
  }
  var map = L.map(box, { zoomControl: true }).setView(coords.toMap(lat, lng), known ? 16 : 14);
  if (box.dataset.tileUrl) {
    var options = { attribution: box.dataset.tileAttribution || "", maxZoom: 19 };
    if (box.dataset.tileSubdomains) options.subdomains = box.dataset.tileSubdomains;
    L.tileLayer(box.dataset.tileUrl, options).addTo(map);
  }
  var marker = null;
  function show(wLat, wLng) {
    var p = coords.toMap(wLat, wLng);
    if (marker) marker.setLatLng(p);
    else marker = L.marker(p, { title: box.dataset.name || "" }).addTo(map);
  }
  if (known) show(lat, lng);
  if (!box.dataset.pick) return;

  var latInput = document.getElementById("id_lat");
  var lngInput = document.getElementById("id_lng");
  var crsInput = document.getElementById("id_crs");
  var status = document.getElementById("station-map-status");
  function setPoint(wLat, wLng) {
    latInput.value = wLat.toFixed(7);
    lngInput.value = wLng.toFixed(7);
    if (crsInput) crsInput.value = "wgs84";
    show(wLat, wLng);
  }
  map.on("click", function (e) {
    var p = coords.fromMap(e.latlng.lat, e.latlng.lng);
    setPoint(p[0], p[1]);
  });
  // Typed coordinates move the marker too (WGS-84 or GCJ-02; BD-09 is converted on saving).
  function typed() {
    var tLat = parseFloat(latInput.value), tLng = parseFloat(lngInput.value);
    if (!isFinite(tLat) || !isFinite(tLng)) return;
    var system = crsInput ? crsInput.value : "wgs84";
    if (system === "bd09") return;
    var w = system === "gcj02" ? YizhanCoords.gcjToWgs(tLat, tLng) : [tLat, tLng];
    show(w[0], w[1]);
    map.setView(coords.toMap(w[0], w[1]), Math.max(map.getZoom(), 15));
  }
  [latInput, lngInput, crsInput].forEach(function (input) {
    if (input) input.addEventListener("change", typed);
  });
  var locate = document.getElementById("use-my-location");
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", function () {
      navigator.geolocation.getCurrentPosition(function (pos) {
        setPoint(pos.coords.latitude, pos.coords.longitude);
        map.setView(coords.toMap(pos.coords.latitude, pos.coords.longitude), 17);
      }, function () { if (status) status.textContent = status.dataset.denied; });
    });
  }
  if (community) {
    community.addEventListener("change", function () {
      var c = centres[community.value];
      if (c && !marker) map.setView(coords.toMap(c[0], c[1]), 15);
      else if (c) map.panTo(coords.toMap(c[0], c[1]));
    });
  }
  if (!known) {
    var t = parseFloat(latInput.value), g = parseFloat(lngInput.value);
    if (isFinite(t) && isFinite(g)) { typed(); }
  }
})();
