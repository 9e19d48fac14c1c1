// Needle Aftercare service worker: a visited check-in opens again offline.
//
// Served as /f/sw.js (tracker/views/offline.py), so it controls the patient
// pages under /f/ and nothing else.
// - Pages under /f/: network first; a 200 answer to a GET is kept, and shown
//   when the network fails, or when it has not begun to answer within
//   NETWORK_PATIENCE_MS (a stalled connection can take a minute to fail).
//   POSTs are never touched or kept. A link the server no longer knows (404)
//   has its kept pages deleted.
// - The pages' own files (patient.css, check-in.js, icons): cache first.
//   Deployed names carry a content hash, so a kept copy never goes stale;
//   unhashed names (development) are refreshed in the background.
// - Whatever comes from the network is handed to the page first and written
//   to the cache after (event.waitUntil keeps the worker alive for the write).
// - check-in.js posts {type: "cache", urls} after the worker is ready, since
//   the first visit to a link loads before any worker controls it, and
//   {type: "keep", url, html} for a page it showed from a fetch() answer.
// Change VERSION when what the cache holds changes meaning: old caches are deleted.
"use strict";

const VERSION = "v1";
const PREFIX = "needle-aftercare-";
const CACHE = PREFIX + VERSION;
const SCOPE = new URL(self.registration.scope).pathname; // "/f/"
const LINK_ROOT = /^\/f\/[^/]+\//;
const ASSETS = new Set(["style", "script", "image", "font"]);
const HASHED = /\.[0-9a-f]{12}\.[a-z0-9]+$/; // ManifestStaticFilesStorage names
// Vary (e.g. Accept-Language) must not hide a kept page from the same phone.
const MATCH = { ignoreVary: true };
// How long a page waits for the network before a kept copy is shown instead.
// A check-in page is about 4 KB: on a slow 3G link (400 kbit/s, 400 ms round
// trips) it arrives in about 1.5 s; twice that and nothing is a stalled network.
const NETWORK_PATIENCE_MS = 3000;

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil((async function () {
    const names = await caches.keys();
    await Promise.all(
      names.filter(function (name) { return name.indexOf(PREFIX) === 0 && name !== CACHE; })
        .map(function (name) { return caches.delete(name); })
    );
    await self.clients.claim();
  })());
});

function isPage(url) {
  return url.origin === self.location.origin && url.pathname.indexOf(SCOPE) === 0;
}

function keepable(response) {
  return response && response.status === 200 && response.type === "basic";
}

// Forget every kept page of a link the server no longer knows.
async function forgetLink(cache, url) {
  const match = url.pathname.match(LINK_ROOT);
  if (!match) return;
  const root = url.origin + match[0];
  const requests = await cache.keys();
  await Promise.all(
    requests.filter(function (request) { return request.url.indexOf(root) === 0; })
      .map(function (request) { return cache.delete(request); })
  );
}

// Keep a page's copy (a 200), or forget a link the server no longer knows (404).
async function keepPage(url, response) {
  const cache = await caches.open(CACHE);
  if (keepable(response)) {
    await cache.put(url.href, response);
  } else if (response.status === 404) {
    await forgetLink(cache, url);
  }
}

async function keepAsset(url, response) {
  if (!keepable(response)) return;
  const cache = await caches.open(CACHE);
  await cache.put(url.href, response);
}

// `network` for the page as soon as it arrives; `keep` gets a copy, and the
// event lasts until it is written. The copy is taken in the first reaction to
// `network`, before the browser can start reading the body.
function answerThenKeep(event, network, keep) {
  event.waitUntil(
    network.then(function (response) { return keep(response.clone()); }).catch(function () {})
  );
  return network;
}

async function fetchPage(url) {
  const response = await fetch(url.href);
  await keepPage(url, response.clone());
  return response;
}

async function fetchAsset(url) {
  const response = await fetch(url.href);
  await keepAsset(url, response.clone());
  return response;
}

function networkFirst(event, url) {
  const network = answerThenKeep(event, fetch(event.request), function (copy) {
    return keepPage(url, copy);
  });
  return new Promise(function (resolve, reject) {
    let answered = false;
    function answer(response) {
      if (!answered) {
        answered = true;
        resolve(response);
      }
    }
    async function keptOr(error) {
      const kept = await caches.match(url.href, MATCH);
      if (kept) answer(kept);
      else if (error && !answered) {
        answered = true;
        reject(error);
      }
    }
    // A stalled network: the kept copy now. The network's answer, if it
    // comes, still replaces the copy for next time.
    const timer = setTimeout(function () { keptOr(null); }, NETWORK_PATIENCE_MS);
    network.then(
      function (response) {
        clearTimeout(timer);
        answer(response);
      },
      function (error) {
        clearTimeout(timer);
        keptOr(error);
      }
    );
  });
}

async function cacheFirst(event, url) {
  const kept = await caches.match(url.href, MATCH);
  if (!kept) {
    return answerThenKeep(event, fetch(url.href), function (copy) { return keepAsset(url, copy); });
  }
  if (!HASHED.test(url.pathname)) {
    event.waitUntil(fetchAsset(url).catch(function () {}));
  }
  return kept;
}

self.addEventListener("fetch", function (event) {
  const request = event.request;
  if (request.method !== "GET") return; // check-ins go to the server, never to a cache
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (isPage(url)) {
    if (url.pathname === SCOPE + "sw.js") return;
    event.respondWith(networkFirst(event, url));
  } else if (ASSETS.has(request.destination)) {
    event.respondWith(cacheFirst(event, url));
  }
});

// A page check-in.js showed from a fetch() answer (the "done" page a check-in
// was redirected to): kept as it was shown, without asking the server again.
function keepShown(event, data) {
  let url;
  try {
    url = new URL(data.url, self.location.href);
  } catch (error) {
    return;
  }
  if (!isPage(url) || !LINK_ROOT.test(url.pathname)) return;
  url.hash = "";
  const page = new Response(data.html, { headers: { "Content-Type": "text/html; charset=utf-8" } });
  event.waitUntil(caches.open(CACHE).then(function (cache) { return cache.put(url.href, page); }));
}

self.addEventListener("message", function (event) {
  const data = event.data || {};
  if (data.type === "keep" && typeof data.url === "string" && typeof data.html === "string") {
    keepShown(event, data);
    return;
  }
  if (data.type !== "cache" || !Array.isArray(data.urls)) return;
  event.waitUntil(Promise.all(data.urls.map(async function (href) {
    let url;
    try {
      url = new URL(href, self.location.href);
    } catch (error) {
      return;
    }
    if (url.origin !== self.location.origin) return;
    url.hash = "";
    try {
      if (isPage(url)) {
        await fetchPage(url);
      } else if (!(await caches.match(url.href, MATCH))) {
        await fetchAsset(url);
      }
    } catch (error) {
      // Offline now: the next visit tries again.
    }
  })));
});
