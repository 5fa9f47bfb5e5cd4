/* Coordinate systems at the edge of a map (DESIGN.md §5). Data are stored in WGS-84; tiles drawn
   in GCJ-02 (Amap, Tencent) need points shifted for display and clicks shifted back. The
   GCJ-02 → WGS-84 direction is solved iteratively (the one-step formula is off by metres).
   Points outside China pass through unchanged, as GCJ-02 defines. */
(function (global) {
  "use strict";
  var A = 6378245.0, EE = 0.00669342162296594323;

  function outOfChina(lat, lng) {
    return lng < 72.004 || lng > 137.8347 || lat < 0.8293 || lat > 55.8271;
  }
  function tLat(x, y) {
    var r = -100 + 2 * x + 3 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(y * Math.PI) + 40 * Math.sin(y / 3 * Math.PI)) * 2 / 3;
    r += (160 * Math.sin(y / 12 * Math.PI) + 320 * Math.sin(y * Math.PI / 30)) * 2 / 3;
    return r;
  }
  function tLng(x, y) {
    var r = 300 + x + 2 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    r += (20 * Math.sin(6 * x * Math.PI) + 20 * Math.sin(2 * x * Math.PI)) * 2 / 3;
    r += (20 * Math.sin(x * Math.PI) + 40 * Math.sin(x / 3 * Math.PI)) * 2 / 3;
    r += (150 * Math.sin(x / 12 * Math.PI) + 300 * Math.sin(x / 30 * Math.PI)) * 2 / 3;
    return r;
  }
  function wgsToGcj(lat, lng) {
    if (outOfChina(lat, lng)) return [lat, lng];
    var dLat = tLat(lng - 105, lat - 35), dLng = tLng(lng - 105, lat - 35);
    var rad = lat / 180 * Math.PI, magic = Math.sin(rad);
    magic = 1 - EE * magic * magic;
    var sq = Math.sqrt(magic);
    dLat = (dLat * 180) / ((A * (1 - EE)) / (magic * sq) * Math.PI);
    dLng = (dLng * 180) / (A / sq * Math.cos(rad) * Math.PI);
    return [lat + dLat, lng + dLng];
  }
  function gcjToWgs(lat, lng) {
    if (outOfChina(lat, lng)) return [lat, lng];
    var wLat = lat, wLng = lng;
    for (var i = 0; i < 30; i++) {
      var g = wgsToGcj(wLat, wLng), eLat = g[0] - lat, eLng = g[1] - lng;
      wLat -= eLat; wLng -= eLng;
      if (Math.abs(eLat) < 1e-9 && Math.abs(eLng) < 1e-9) break;
    }
    return [wLat, wLng];
  }
  /* toMap / fromMap: WGS-84 data to the tiles' system and back. */
  global.YizhanCoords = {
    wgsToGcj: wgsToGcj,
    gcjToWgs: gcjToWgs,
    forTiles: function (crs) {
      if (crs === "gcj02") return { toMap: wgsToGcj, fromMap: gcjToWgs };
      var same = function (lat, lng) { return [lat, lng]; };
      return { toMap: same, fromMap: same };
    }
  };
})(window);
