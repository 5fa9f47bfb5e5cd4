/* Yizhan's service worker. /sw.js serves it with its settings in self.YIZHAN (core/pwa.py):
     version   a hash of the shell's files: a new one replaces the old caches
     offline   the page shown when a page cannot be loaded
     shell     what is cached at install (the offline page, styles, scripts, icons)
     static    the static files' prefix: answered from the cache, refreshed behind it
     pages     the rider's pages whose last copy is kept for reading offline
     clearOn   log-in and log-out: the kept pages are removed (phones are shared)
   Pages come from the network first. Writes (POST) are never answered from a cache: what the
   rider makes offline is kept by outbox.js in IndexedDB and sent when the phone is back. */
/* global self, caches, fetch, Response, URL */
"use strict";

var CONFIG = self.YIZHAN || {};
var SHELL = "yizhan-shell-" + CONFIG.version;
var PAGES = "yizhan-pages";

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(SHELL)
      .then(function (cache) { return cache.addAll(CONFIG.shell || []); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.map(function (name) {
        if (name.indexOf("yizhan-shell-") === 0 && name !== SHELL) return caches.delete(name);
        return null;
      }));
    }).then(function () { return self.clients.claim(); })
  );
});

function isPage(path) {
  return (CONFIG.pages || []).indexOf(path) !== -1;
}

function fromNetworkFirst(request, url) {
  return fetch(request).then(function (response) {
    // Keep the last good copy of the rider's own pages (never a redirect to the log-in page).
    if (response.ok && !response.redirected && response.type === "basic" && isPage(url.pathname)) {
      var copy = response.clone();
      caches.open(PAGES).then(function (cache) { cache.put(url.pathname, copy); });
    }
    return response;
  }).catch(function () {
    return caches.open(PAGES)
      .then(function (cache) { return cache.match(url.pathname); })
      .then(function (kept) {
        return kept || caches.match(CONFIG.offline, { cacheName: SHELL });
      })
      .then(function (answer) {
        return answer || new Response("offline", { status: 503, headers: { "Content-Type": "text/plain" } });
      });
  });
}

/* Static files: the cached copy at once, refreshed from the network behind it (their names
   carry no hash in every deployment, so a copy must not live for ever). */
function fromCacheThenRefresh(event, request) {
  return caches.open(SHELL).then(function (cache) {
    return cache.match(request).then(function (hit) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok && response.type === "basic") cache.put(request, response.clone());
        return response;
      });
      if (hit) {
        event.waitUntil(fresh.catch(function () { return null; }));
        return hit;
      }
      return fresh;
    });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method !== "GET") {
    if (request.method === "POST" && (CONFIG.clearOn || []).indexOf(url.pathname) !== -1) {
      event.waitUntil(caches.delete(PAGES));
    }
    return; // the network, as always
  }
  if (request.mode === "navigate") {
    event.respondWith(fromNetworkFirst(request, url));
  } else if (CONFIG.static && url.pathname.indexOf(CONFIG.static) === 0) {
    event.respondWith(fromCacheThenRefresh(event, request));
  }
  // Everything else (htmx fragments, the API, media) goes to the network untouched.
});

/* A page may ask the worker to drop the kept pages (e.g. after the session ended). */
self.addEventListener("message", function (event) {
  if (event.data === "clear-pages") event.waitUntil(caches.delete(PAGES));
});
