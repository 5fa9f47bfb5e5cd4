/* The phone's outbox: reports and station check-ins made without a connection, kept in
   IndexedDB with their idempotency keys and sent when the connection returns. A resend carries
   the same key, so the server never makes a second report or check-in of one item.

   window.YizhanOutbox:
     add(item)         keep an item: {key, kind: "report"|"checkin", url, fields: [[name, value]],
                       files: [{field, name, type, blob}], title, createdAt}
     get(key), all(), remove(key), count()
     flush()           send every waiting item, one at a time (automatic: on load, when the
                       browser says it is online again, and every minute while items wait)
     scalePhoto(file)  a photo scaled down on the phone (≤ 1920 px, JPEG), its EXIF kept
     newKey()          a fresh idempotency key (UUID 4)
     text(name)        a translated message (from the page's #outbox-i18n)

   States: "waiting" (will be sent), "sending", "login" (the session ended: log in again and it
   is sent), "other" (made while another account was logged in on this phone: only that account
   sends it), "attention" (the server refused it: the message says why; a report can be edited
   and sent again, or deleted). Each item carries its owner (the page's opaque data-user). The header's #outbox-link shows how many items wait; pages with
   #outbox-list (the outbox page and the offline page) list them. */
(function () {
  "use strict";
  if (!window.indexedDB || !window.Promise) return;

  var DB_NAME = "yizhan";
  var STORE = "outbox";
  var MAX_SIDE = 1920;
  var QUALITY = 0.85;
  var SMALL_BYTES = 350 * 1024;
  var strings = {};
  try { strings = JSON.parse(document.getElementById("outbox-i18n").textContent) || {}; }
  catch (e) { strings = {}; }
  function text(name) { return strings[name] || name; }

  /* --- storage ----------------------------------------------------------------------------- */

  var opening = null;
  function db() {
    if (!opening) {
      opening = new Promise(function (resolve, reject) {
        var request = indexedDB.open(DB_NAME, 1);
        request.onupgradeneeded = function () {
          request.result.createObjectStore(STORE, { keyPath: "key" });
        };
        request.onsuccess = function () { resolve(request.result); };
        request.onerror = function () { reject(request.error); };
      });
    }
    return opening;
  }
  function tx(mode, work) {
    return db().then(function (conn) {
      return new Promise(function (resolve, reject) {
        var t = conn.transaction(STORE, mode);
        var result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        t.onerror = function () { reject(t.error); };
        t.onabort = function () { reject(t.error); };
      });
    });
  }
  function put(item) { return tx("readwrite", function (s) { return s.put(item); }).then(changed); }
  function get(key) { return tx("readonly", function (s) { return s.get(key); }); }
  function all() {
    return tx("readonly", function (s) { return s.getAll(); }).then(function (items) {
      return (items || []).sort(function (a, b) { return a.createdAt - b.createdAt; });
    });
  }
  function remove(key) { return tx("readwrite", function (s) { return s["delete"](key); }).then(changed); }
  function add(item) {
    item.owner = item.owner || lastUser();
    item.state = item.state || "waiting";
    item.message = item.message || "";
    item.createdAt = item.createdAt || Date.now();
    item.attempts = item.attempts || 0;
    return put(item);
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /* --- sending ----------------------------------------------------------------------------- */

  function csrfToken(doc) {
    var body = (doc || document).body;
    try { return JSON.parse(body.getAttribute("hx-headers"))["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }
  var token = "";
  function freshToken() {
    // The page may be a copy kept offline, with a token of an earlier session: ask the server.
    return fetch("/outbox/", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        token = csrfToken(new DOMParser().parseFromString(html, "text/html")) || token;
        return token;
      });
  }
  function body(item) {
    var data = new FormData();
    (item.fields || []).forEach(function (pair) { data.append(pair[0], pair[1]); });
    (item.files || []).forEach(function (f) { data.append(f.field, f.blob, f.name); });
    return data;
  }
  function refusal(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var parts = [];
    doc.querySelectorAll(".errorlist li, [role=alert] p, [data-testid=form-error]").forEach(function (el) {
      if (el.closest("[hidden]")) return; // a notice the page keeps for its script, not shown
      var t = el.textContent.trim();
      if (t && parts.indexOf(t) === -1) parts.push(t);
    });
    return parts.join(" ") || text("refused");
  }
  function post(item, retried) {
    return fetch(item.url, {
      method: "POST",
      body: body(item),
      credentials: "same-origin",
      headers: { "X-CSRFToken": token || csrfToken() },
      redirect: "follow"
    }).then(function (response) {
      var path = new URL(response.url, location.href).pathname;
      if (/^\/login\//.test(path)) return { state: "login", message: text("login") };
      if (response.status === 403 && !retried) {
        return freshToken().then(function () { return post(item, true); });
      }
      if (response.ok) {
        if (item.kind === "report" && !/^\/reports\/\d+\/done\/$/.test(path)) {
          return { state: "attention", message: text("refused") };
        }
        return { state: "sent", url: response.url };
      }
      if (response.status === 429 || response.status >= 500) {
        return { state: "waiting", message: text("busy") };
      }
      return response.text().then(function (html) {
        return { state: "attention", message: refusal(html) };
      });
    });
  }

  var retryDelay = 2000, retryTimer = null;
  function retryLater() {
    if (retryTimer) return;
    retryTimer = window.setTimeout(function () {
      retryTimer = null;
      flush().then(refresh, refresh);
    }, retryDelay);
    retryDelay = Math.min(retryDelay * 2, 60000);
  }

  /* Who is logged in now (the opaque data-user of a page the server draws now: this page may
     be an old copy, or another tab may have logged in as someone else), with a fresh CSRF
     token. "" when nobody is. */
  function whoIsHere() {
    return fetch("/outbox/", { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, "text/html");
        token = csrfToken(doc) || token;
        return doc.body.getAttribute("data-user") || "";
      });
  }
  function lastUser() {
    var body = document.body;
    if (body && body.hasAttribute("data-user")) return body.getAttribute("data-user");
    try { return window.localStorage.getItem("yizhan-user") || ""; } catch (e) { return ""; }
  }

  var flushing = null;
  function flush() {
    if (flushing) return flushing;
    flushing = all().then(function (items) {
      if (!items.length) return [null, items];
      return whoIsHere().then(function (me) { return [me, items]; });
    }).then(function (found) {
      var me = found[0], items = found[1];
      var sent = 0;
      var queue = items.filter(function (i) { return i.state !== "attention"; });
      function next() {
        var item = queue.shift();
        if (!item) return sent;
        // A shared phone: an item is sent only by the account that made it.
        if (!me || (item.owner && item.owner !== me)) {
          item.state = me ? "other" : "login";
          item.message = text(item.state === "login" ? "login" : "other");
          return put(item).then(next);
        }
        item.state = "sending";
        item.attempts += 1;
        return put(item)
          .then(function () { return post(item); })
          .then(function (outcome) {
            retryDelay = 2000;
            if (outcome.state === "sent") {
              sent += 1;
              return remove(item.key).then(next);
            }
            item.state = outcome.state;
            item.message = outcome.message;
            if (outcome.state === "waiting") retryLater();
            return put(item).then(next);
          }, function () {
            // No connection (or it dropped): the item waits; the others would fail the same way.
            // Another try soon, then less and less often (a connection that just came back is
            // often not usable for a few seconds).
            item.state = "waiting";
            item.message = text("offline");
            retryLater();
            return put(item).then(function () { return sent; });
          });
      }
      return next();
    }).then(function (sent) {
      if (sent) say(text("sent").replace("%(n)s", sent));
      flushing = null;
      return sent;
    }, function (err) {
      flushing = null;
      retryLater(); // no connection to ask who is logged in: later
      throw err;
    });
    return flushing;
  }

  /* --- photos -------------------------------------------------------------------------------- */

  /* The APP1 (EXIF) segment of a JPEG, with its orientation set to "upright" (the canvas has
     already turned the picture), or null. The server reads the time and place the camera wrote
     (and then removes them): scaling on the phone must not hide them from its checks. */
  function exifSegment(buffer) {
    var v = new DataView(buffer);
    if (v.byteLength < 4 || v.getUint16(0) !== 0xFFD8) return null;
    var at = 2;
    while (at + 4 <= v.byteLength) {
      var marker = v.getUint16(at);
      if ((marker & 0xFF00) !== 0xFF00 || marker === 0xFFDA) return null;
      var size = v.getUint16(at + 2);
      if (marker === 0xFFE1 && at + 10 <= v.byteLength && v.getUint32(at + 4) === 0x45786966) {
        var seg = buffer.slice(at, at + 2 + size);
        try { upright(new DataView(seg)); } catch (e) { /* left as it was */ }
        return seg;
      }
      at += 2 + size;
    }
    return null;
  }
  function upright(seg) {
    var tiff = 10, little = seg.getUint16(tiff) === 0x4949;
    var ifd = tiff + seg.getUint32(tiff + 4, little);
    var n = seg.getUint16(ifd, little);
    for (var i = 0; i < n; i++) {
      var entry = ifd + 2 + i * 12;
      if (seg.getUint16(entry, little) === 0x0112) seg.setUint16(entry + 8, 1, little);
    }
  }
  function withExif(blob, segment) {
    if (!segment) return Promise.resolve(blob);
    // The canvas's JPEG starts with SOI and a JFIF APP0: the EXIF segment goes right after SOI.
    return Promise.resolve(new Blob([blob.slice(0, 2), segment, blob.slice(2)], { type: "image/jpeg" }));
  }
  function scalePhoto(file) {
    if (!/^image\/(jpeg|png|webp)$/.test(file.type) || file.size <= SMALL_BYTES ||
        !window.createImageBitmap || !HTMLCanvasElement.prototype.toBlob) {
      return Promise.resolve(file);
    }
    var read = file.type === "image/jpeg" ? file.slice(0, 131072).arrayBuffer() : Promise.resolve(null);
    return read.then(function (head) {
      var segment = head ? exifSegment(head) : null;
      return createImageBitmap(file, { imageOrientation: "from-image" }).then(function (bitmap) {
        var scale = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        if (bitmap.close) bitmap.close();
        return new Promise(function (resolve) { canvas.toBlob(resolve, "image/jpeg", QUALITY); });
      }).then(function (blob) {
        if (!blob || blob.size >= file.size) return file;
        return withExif(blob, segment).then(function (jpeg) {
          var name = file.name.replace(/\.[^.]*$/, "") + ".jpg";
          return new File([jpeg], name, { type: "image/jpeg", lastModified: file.lastModified });
        });
      });
    }).catch(function () {
      // Too large for this phone's memory, or not decodable here: the server decides.
      return file;
    });
  }

  /* --- what the rider sees ------------------------------------------------------------------- */

  function say(message) {
    var box = document.getElementById("outbox-status");
    if (!box || !message) return;
    box.textContent = message;
    box.hidden = false;
  }
  function when(ms) {
    try {
      return new Date(ms).toLocaleString(document.documentElement.lang || "zh-Hans",
        { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
    } catch (e) { return new Date(ms).toISOString(); }
  }
  function el(tag, cls, content) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (content !== undefined) node.textContent = content;
    return node;
  }
  function button(label, cls, onclick) {
    var b = el("button", "button " + (cls || ""), label);
    b.type = "button";
    b.addEventListener("click", onclick);
    return b;
  }
  function drawList(items) {
    var list = document.getElementById("outbox-list");
    if (!list) return;
    var empty = document.getElementById("outbox-empty");
    list.innerHTML = "";
    if (empty) empty.hidden = items.length > 0;
    items.forEach(function (item) {
      var li = el("li", "card outbox-item state-" + item.state);
      li.setAttribute("data-key", item.key);
      li.appendChild(el("h2", "u-mt0", (item.kind === "checkin" ? text("checkin") : text("report")) +
        (item.title ? " · " + item.title : "")));
      li.appendChild(el("p", "muted", text("made") + " " + when(item.createdAt) +
        ((item.files || []).length ? " · " + text("photos").replace("%(n)s", item.files.length) : "")));
      var state = el("p", "outbox-state", text("state_" + item.state));
      state.setAttribute("role", item.state === "waiting" || item.state === "sending" ? "status" : "alert");
      li.appendChild(state);
      if (item.message && item.state !== "waiting") li.appendChild(el("p", "notice error", item.message));
      var actions = el("p", "actions");
      if (item.state === "login") {
        var login = el("a", "button", text("log_in"));
        login.href = "/login/?next=/outbox/";
        actions.appendChild(login);
      }
      if (item.state === "attention" && item.kind === "report") {
        var edit = el("a", "button", text("edit"));
        edit.href = "/report/?outbox=" + encodeURIComponent(item.key);
        actions.appendChild(edit);
      }
      if (item.state !== "sending") {
        actions.appendChild(button(text("send_now"), "secondary", function () {
          item.state = "waiting";
          put(item).then(flush).then(refresh, refresh);
        }));
        actions.appendChild(button(text("delete"), "quiet", function () {
          if (window.confirm(text("confirm_delete"))) remove(item.key);
        }));
      }
      li.appendChild(actions);
      list.appendChild(li);
    });
  }
  function drawBadge(items) {
    var link = document.getElementById("outbox-link");
    if (!link) return;
    var count = document.getElementById("outbox-count");
    if (count) count.textContent = String(items.length);
    link.hidden = items.length === 0;
    link.classList.toggle("attention", items.some(function (i) {
      return i.state === "attention" || i.state === "login" || i.state === "other";
    }));
  }
  function refresh() {
    return all().then(function (items) { drawBadge(items); drawList(items); return items; });
  }
  var listeners = [];
  function changed() {
    listeners.forEach(function (fn) { try { fn(); } catch (e) { /* a listener's own problem */ } });
    return refresh();
  }

  /* The offline page, opened at a station's QR address: check in once the phone is back. */
  function offlineCheckIn() {
    var box = document.getElementById("offline-checkin");
    var match = /^\/s\/(\d+)\/([^/]+)\/$/.exec(location.pathname);
    if (!box || !match) return;
    box.hidden = false;
    var go = document.getElementById("offline-checkin-button");
    var done = document.getElementById("offline-checkin-done");
    go.addEventListener("click", function () {
      go.disabled = true;
      var key = newKey();
      add({
        key: key,
        kind: "checkin",
        url: location.pathname,
        title: text("station") + " #" + match[1],
        fields: [["idempotency_key", key], ["scanned_at", new Date().toISOString()]],
        files: []
      }).then(function () {
        go.hidden = true;
        done.hidden = false;
      });
    });
  }

  window.YizhanOutbox = {
    add: add, get: get, all: all, remove: remove, flush: flush, refresh: refresh,
    count: function () { return all().then(function (i) { return i.length; }); },
    onChange: function (fn) { listeners.push(fn); },
    scalePhoto: scalePhoto, newKey: newKey, text: text
  };

  function start() {
    var body = document.body;
    if (body && body.hasAttribute("data-user")) {
      try { window.localStorage.setItem("yizhan-user", body.getAttribute("data-user")); }
      catch (e) { /* private mode: the offline page then asks the server */ }
    }
    offlineCheckIn();
    refresh().then(function (items) {
      if (items.length && navigator.onLine !== false) flush().then(refresh, refresh);
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
  window.addEventListener("online", function () { flush().then(refresh, refresh); });
  window.setInterval(function () {
    if (navigator.onLine === false) return;
    all().then(function (items) {
      if (items.some(function (i) { return i.state === "waiting" || i.state === "sending"; })) {
        flush().then(refresh, refresh);
      }
    });
  }, 60000);

  /* The service worker: installable app, offline pages (only where the browser has one). */
  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { return null; });
  }
})();
