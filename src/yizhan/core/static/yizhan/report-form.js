/* The report form (随手拍): photo previews, "use my location" (browsers report WGS-84), a pin to
   drag or a tap on the map to adjust it, typed coordinates, and the community as the fallback.
   The form keeps points in WGS-84; tiles drawn in GCJ-02 get them shifted for display and taps
   and drags shifted back (coords.js). Each new place fires "yz:place" on the form: htmx then
   reloads the place's categories, and after them the open reports of that kind nearby. Without
   this script the form still works: typed coordinates or the community, and a plain submit. */
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form) return;
  var latInput = document.getElementById("id_lat");
  var lngInput = document.getElementById("id_lng");
  var crsInput = document.getElementById("id_crs");
  var community = document.getElementById("id_community");
  var status = document.getElementById("report-location-status");
  var centres = {};
  try { centres = JSON.parse(document.getElementById("community-centres").textContent) || {}; }
  catch (e) { centres = {}; }

  function say(key) { if (status) status.textContent = (key && status.dataset[key]) || ""; }
  function fire(name) {
    var event;
    name = name || "yz:place";
    try { event = new CustomEvent(name, { bubbles: true }); }
    catch (e) { event = document.createEvent("CustomEvent"); event.initCustomEvent(name, true, false, null); }
    form.dispatchEvent(event);
  }
  /* A chosen community or category fires "yz:community" / "yz:category" for htmx: trigger
     filters (change[...]) would need eval, which the Content-Security-Policy forbids. */
  form.addEventListener("change", function (e) {
    var name = e.target && e.target.name;
    if (name === "community" || name === "category") fire("yz:" + name);
  });

  /* Photos: a preview of each (HEIC cannot be drawn by most browsers: its name instead). */
  var photos = document.getElementById("id_photos");
  var previews = document.getElementById("photo-previews");
  var photoNote = document.getElementById("photo-note");
  if (photos && previews) {
    photos.addEventListener("change", function () {
      previews.innerHTML = "";
      var files = Array.prototype.slice.call(photos.files || []);
      files.forEach(function (file) {
        var item = document.createElement("li");
        if (window.URL && URL.createObjectURL && /^image\/(jpeg|png|webp|gif)$/.test(file.type)) {
          var img = new Image();
          img.alt = file.name;
          img.onload = function () { URL.revokeObjectURL(img.src); };
          img.src = URL.createObjectURL(file);
          item.appendChild(img);
        } else {
          item.textContent = file.name;
        }
        previews.appendChild(item);
      });
      var max = parseInt(previews.dataset.max || "6", 10);
      if (photoNote) {
        photoNote.textContent = files.length > max ? previews.dataset.tooMany : "";
        photoNote.hidden = files.length <= max;
      }
    });
  }

  /* The map: a pin for the point, moved by a drag or a tap. */
  var box = document.getElementById("report-map");
  var map = null, marker = null;
  var coords = window.YizhanCoords ? YizhanCoords.forTiles(box && box.dataset.tileCrs) : null;
  function show(lat, lng) {
    if (!map) return;
    var p = coords.toMap(lat, lng);
    if (marker) { marker.setLatLng(p); return; }
    marker = L.marker(p, { draggable: true, autoPan: true, keyboard: true }).addTo(map);
    marker.on("dragend", function () {
      var q = marker.getLatLng(), w = coords.fromMap(q.lat, q.lng);
      setPoint(w[0], w[1], "moved");
    });
  }
  function setPoint(lat, lng, message) {
    latInput.value = lat.toFixed(7);
    lngInput.value = lng.toFixed(7);
    if (crsInput) crsInput.value = "wgs84";
    if (community) community.value = "";
    show(lat, lng);
    say(message);
    fire();
  }
  if (box && window.L && coords) {
    var start = [parseFloat(box.dataset.lat), parseFloat(box.dataset.lng)];
    if (!isFinite(start[0]) || !isFinite(start[1])) start = [40.09, 113.30];
    map = L.map(box, { zoomControl: true })
      .setView(coords.toMap(start[0], start[1]), box.dataset.pinned ? 17 : 15);
    if (box.dataset.tileUrl) {
      var options = { attribution: box.dataset.tileAttribution || "", maxZoom: 19 };
      if (box.dataset.tileSubdomains) options.subdomains = box.dataset.tileSubdomains;
      L.tileLayer(box.dataset.tileUrl, options).addTo(map);
    }
    map.on("click", function (e) {
      var p = coords.fromMap(e.latlng.lat, e.latlng.lng);
      setPoint(p[0], p[1], "moved");
    });
    if (box.dataset.pinned) show(start[0], start[1]);
  }

  /* Typed coordinates (WGS-84 or GCJ-02 move the pin; BD-09 is converted by the server). */
  function typed() {
    var lat = parseFloat(latInput.value), lng = parseFloat(lngInput.value);
    if (!isFinite(lat) || !isFinite(lng)) return;
    if (community) community.value = "";
    var system = crsInput ? crsInput.value : "wgs84";
    if (map && system !== "bd09") {
      var w = system === "gcj02" ? YizhanCoords.gcjToWgs(lat, lng) : [lat, lng];
      show(w[0], w[1]);
      map.setView(coords.toMap(w[0], w[1]), Math.max(map.getZoom(), 16));
    }
    say("");
    fire();
  }
  [latInput, lngInput, crsInput].forEach(function (input) {
    if (input) input.addEventListener("change", typed);
  });

  /* The community instead of a point: the point is dropped, the map moves to the community. */
  if (community) {
    community.addEventListener("change", function () {
      if (!community.value) return;
      latInput.value = "";
      lngInput.value = "";
      if (marker && map) { map.removeLayer(marker); marker = null; }
      var c = centres[community.value];
      if (c && map) map.setView(coords.toMap(c[0], c[1]), 15);
      say("");
    });
  }

  /* "Use my location": on a tap, or at once when the browser already allows it. */
  var locate = document.getElementById("use-my-location");
  function locateMe() {
    say("locating");
    navigator.geolocation.getCurrentPosition(function (pos) {
      var lat = pos.coords.latitude, lng = pos.coords.longitude;
      setPoint(lat, lng, "located");
      if (map) map.setView(coords.toMap(lat, lng), 17);
    }, function () { say("denied"); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
  }
  if (locate && navigator.geolocation) {
    locate.hidden = false;
    locate.addEventListener("click", locateMe);
    if (!latInput.value && navigator.permissions && navigator.permissions.query) {
      navigator.permissions.query({ name: "geolocation" }).then(function (result) {
        if (result.state === "granted" && !latInput.value) locateMe();
      }).catch(function () {});
    }
  }

  /* The category list is reloaded when the place changes: a category chosen while the reload
     was on its way is kept when the new list still has it. */
  var categoryBox = document.getElementById("report-categories");
  if (categoryBox) {
    var chosenCategory = "";
    categoryBox.addEventListener("htmx:beforeSwap", function () {
      var select = form.querySelector("select[name=category]");
      chosenCategory = select ? select.value : "";
    });
    categoryBox.addEventListener("htmx:afterSettle", function () {
      var select = form.querySelector("select[name=category]");
      if (!select || select.value || !chosenCategory) return;
      if (select.querySelector("option[value='" + chosenCategory.replace(/'/g, "") + "']")) {
        select.value = chosenCategory;
        fire("yz:category");
      }
    });
  }

  /* Sending. One tap sends once (the idempotency key would make a second one harmless anyway).
     With outbox.js (and fetch), the photos are scaled down on the phone first and the report is
     sent in the background: without a connection, or when it drops, the report is kept on the
     phone with its key and sent later; a log-in that expired keeps it too. Any other answer
     (the form with what to correct, a refusal) is shown as a plain submit would show it. */
  var submit = document.getElementById("report-submit");
  var keyInput = form.querySelector("input[name=idempotency_key]");
  var outbox = null; // outbox.js is deferred: it is there once the document has been parsed
  var fromOutbox = new URLSearchParams(window.location.search).get("outbox");
  var label = submit ? submit.textContent : "";
  function busy(on) {
    if (!submit) return;
    if (on) { submit.setAttribute("aria-disabled", "true"); submit.textContent = submit.dataset.sending || label; }
    else { submit.removeAttribute("aria-disabled"); submit.textContent = label; }
  }
  window.addEventListener("pageshow", function () { busy(false); });

  function formData() {
    var data = new FormData(form);
    var files = photos && photos.files ? Array.prototype.slice.call(photos.files) : [];
    data.delete("photos");
    return Promise.all(files.map(outbox.scalePhoto)).then(function (scaled) {
      scaled.forEach(function (file) { data.append("photos", file, file.name); });
      return data;
    });
  }
  function title() {
    var category = form.querySelector("select[name=category]");
    var chosen = category && category.selectedIndex > 0 ? category.options[category.selectedIndex].text : "";
    var text = (form.querySelector("[name=description]") || {}).value || "";
    return [chosen, text.slice(0, 30)].filter(Boolean).join(" · ");
  }
  function keep(data, reason) {
    // When the phone made it: the report reaches the server later (only kept ones say so).
    if (!data.get("captured_at")) data.set("captured_at", new Date().toISOString());
    var item = { key: data.get("idempotency_key") || outbox.newKey(), kind: "report",
      url: form.getAttribute("action"), title: title(), fields: [], files: [] };
    data.forEach(function (value, name) {
      if (name === "csrfmiddlewaretoken") return;
      if (typeof value === "string") item.fields.push([name, value]);
      else item.files.push({ field: name, name: value.name, type: value.type, blob: value });
    });
    return outbox.add(item).then(function () {
      var note = document.getElementById("report-kept");
      note.querySelector("[data-kept-text]").textContent = outbox.text(reason === "login" ? "kept_login" : "kept");
      note.querySelector("[data-kept-login]").hidden = reason !== "login";
      note.hidden = false;
      form.hidden = true;
      note.scrollIntoView();
      note.focus();
    });
  }
  if (form && submit) {
    form.addEventListener("submit", function (e) {
      if (e.submitter && e.submitter !== submit) return;
      if (submit.getAttribute("aria-disabled") === "true") { e.preventDefault(); return; }
      busy(true);
      outbox = window.YizhanOutbox;
      if (!outbox || !window.fetch || !window.FormData) return; // a plain submit
      e.preventDefault();
      formData().then(function (data) {
        if (navigator.onLine === false) return keep(data, "offline");
        return fetch(form.getAttribute("action"), { method: "POST", body: data, credentials: "same-origin" })
          .then(function (response) {
            var path = new URL(response.url, window.location.href).pathname;
            if (/^\/login\//.test(path)) return keep(data, "login");
            if (response.ok && response.redirected) {
              var done = fromOutbox ? outbox.remove(fromOutbox) : Promise.resolve();
              return done.then(function () { window.location.assign(response.url); });
            }
            return response.text().then(function (html) {
              document.open();
              document.write(html);
              document.close();
            });
          }, function () { return keep(data, "offline"); });
      }).catch(function () { busy(false); form.submit(); });
    });
  }

  /* "Change and send again" from the outbox (?outbox=key): the kept report back in the form,
     photos included, with its own key (the server wrote nothing for it). */
  function restore(item) {
    if (!item || item.kind !== "report") return;
    var values = {};
    item.fields.forEach(function (pair) { values[pair[0]] = pair[1]; });
    ["lat", "lng", "crs", "community", "description", "address", "building", "unit", "floor",
      "captured_at"].forEach(function (name) {
      var input = form.querySelector("[name=" + name + "]");
      if (input && values[name] !== undefined) input.value = values[name];
    });
    if (keyInput) keyInput.value = item.key;
    if (photos && window.DataTransfer && item.files.length) {
      var transfer = new DataTransfer();
      item.files.forEach(function (f) {
        transfer.items.add(new File([f.blob], f.name, { type: f.type || f.blob.type }));
      });
      photos.files = transfer.files;
      photos.dispatchEvent(new Event("change"));
    }
    var notice = document.getElementById("report-restored");
    if (notice) {
      notice.querySelector("[data-restored-text]").textContent = item.message || "";
      notice.hidden = false;
    }
    var categories = document.getElementById("report-categories");
    if (categories && values.category) {
      categories.addEventListener("htmx:afterSettle", function pick() {
        categories.removeEventListener("htmx:afterSettle", pick);
        var select = form.querySelector("select[name=category]");
        if (select && select.querySelector("option[value='" + values.category.replace(/'/g, "") + "']")) {
          select.value = values.category;
          fire("yz:category");
        }
      });
    }
    if (values.lat && values.lng) show(parseFloat(values.lat), parseFloat(values.lng));
    fire(values.lat ? "yz:place" : "yz:community");
  }
  if (fromOutbox) {
    document.addEventListener("DOMContentLoaded", function () {
      outbox = window.YizhanOutbox;
      if (outbox) outbox.get(fromOutbox).then(restore);
    });
  }
})();
