/* The door's service worker (served as /door-sw.js, scope /door): the page and its files are
 * kept so the page reloads while the network is down; everything else goes to the network.
 * Scans are not this worker's business: door.js queues them itself. */
"use strict";

var CACHE = "foro-door-v1";
var FILES = [
  "/static/foro.css?v=1",
  "/static/door.css?v=1",
  "/static/door.js?v=1",
  "/static/vendor/htmx.min.js?v=2.0.11",
  "/static/vendor/zxing-library.min.js?v=0.23.0"
];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(FILES); }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (n) {
        return n.indexOf("foro-door-") === 0 && n !== CACHE;
      }).map(function (n) { return caches.delete(n); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate" && url.pathname === "/door") {
    // The page: the network first (a fresh CSRF token, the points), the last copy offline.
    event.respondWith(
      fetch(request).then(function (response) {
        if (response.ok && !response.redirected) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put("/door", copy); });
        }
        return response;
      }).catch(function () {
        return caches.match("/door").then(function (found) { return found || Response.error(); });
      })
    );
    return;
  }
  if (FILES.indexOf(url.pathname + url.search) !== -1) {
    event.respondWith(
      caches.match(request).then(function (found) { return found || fetch(request); })
    );
  }
});
