// kindvoice service worker (at /sw.js, or at the top of a static copy: its scope is its folder).
// Two caches: SHELL holds the page's style, scripts, icons and the pages a listener opens
// first (the sessions list, the history); KEPT holds the sessions kept offline with
// "Keep offline" on the player, or on a course's page for all its days (static/pwa.js
// fills it: the pages, the audio, the transcript, the chapters, the cover). Audio is
// answered with byte ranges, so an offline copy plays and seeks. Nothing here sends
// anything anywhere.
"use strict";

const SHELL = "kindvoice-shell-v4"; // v3: wait.js; v4: the offline page in the page's language
const KEPT = "kindvoice-kept-v1"; // the same name in pwa.js; never dropped on an update
const WORDS = "kindvoice-words-v1"; // the offline page's words (below); kept on an update
// Every path is relative to the worker's own folder: "/" under `kindvoice serve`, the
// copy's folder on a static host (`kindvoice site`, which writes its own PAGES line).
const ROOT = new URL("./", self.location.href).pathname;
const at = (path) => ROOT + path;
const PAGES = { sessions: "sessions", history: "history" };
const SHELL_FILES = [
  "static/style.css",
  "static/app.js",
  "static/wait.js",
  "static/pwa.js",
  "static/history.js",
  "static/icons/icon-192.png",
  "static/icons/icon-512.png",
  "manifest.webmanifest",
  PAGES.sessions,
  PAGES.history,
].map(at);
// pages kept fresh in SHELL each time they are opened online
const SHELL_PAGES = new Set([at(PAGES.sessions), at(PAGES.history)]);

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL);
    // one by one: a file that fails (a server asking for its link) does not stop the rest
    await Promise.all(SHELL_FILES.map((url) => cache.add(url).catch(() => {})));
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("kindvoice-") && ![SHELL, KEPT, WORDS].includes(name)) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith(at("api/")) || url.pathname.startsWith(at("jobs/"))) return;
  if (request.mode === "navigate") event.respondWith(page(request, url));
  else if (url.pathname.startsWith(at("files/")) || url.pathname.startsWith(at("courses/"))) {
    event.respondWith(file(request)); // a session's file, or a course's
  }
  else if (url.pathname.startsWith(at("static/"))) event.respondWith(shellFile(request));
});

// Pages: the network first (always the newest), the kept copy when offline, or when the
// server refuses it (an old link after the teacher made new ones: what is kept still plays).
async function page(request, url) {
  try {
    const response = await fetch(request);
    const kept = await caches.open(KEPT);
    if (response.ok) {
      if (await kept.match(request)) await kept.put(request, response.clone());
      else if (SHELL_PAGES.has(url.pathname)) await (await caches.open(SHELL)).put(request, response.clone());
    } else if (response.status === 403) {
      return (await kept.match(request)) || response;
    }
    return response;
  } catch (error) {
    const cached = await caches.match(request);
    return cached || offlinePage();
  }
}

// Library and course files: a kept copy (with byte ranges for the audio element), else the network.
async function file(request) {
  const cached = await (await caches.open(KEPT)).match(request.url);
  if (!cached) return fetch(request);
  return ranged(request, cached);
}

async function ranged(request, response) {
  const range = request.headers.get("range");
  if (!range) return response;
  const blob = await response.blob();
  const size = blob.size;
  const match = /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  let start = 0;
  let end = size - 1;
  if (match && match[1] !== "") {
    start = Number(match[1]);
    if (match[2] !== "") end = Math.min(Number(match[2]), size - 1);
  } else if (match && match[2] !== "") {
    start = Math.max(0, size - Number(match[2]));
  }
  if (!match || start >= size || start > end) {
    return new Response(null, { status: 416, headers: { "Content-Range": `bytes */${size}` } });
  }
  return new Response(blob.slice(start, end + 1), {
    status: 206,
    statusText: "Partial Content",
    headers: {
      "Content-Type": response.headers.get("Content-Type") || "application/octet-stream",
      "Content-Range": `bytes ${start}-${end}/${size}`,
      "Content-Length": String(end - start + 1),
      "Accept-Ranges": "bytes",
    },
  });
}

// Style, scripts, icons: the network first (a new version at once, matching its pages),
// the copy kept at install when offline.
async function shellFile(request) {
  const cache = await caches.open(SHELL);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    const cached = await cache.match(request, { ignoreSearch: true });
    if (cached) return cached;
    throw error;
  }
}

// The offline page's words in the language of the last page the phone showed (pwa.js
// sends them, translated); English until a page has.
const WORDS_KEY = at("offline-words.json");
const ENGLISH = {
  lang: "en",
  title: "You are offline",
  needs: "This page needs a connection to the computer that renders your sessions.",
  kept: "These sessions are kept on this phone and play without a connection:",
  none: "No session is kept on this phone yet. Next time you are online, open a session and choose “Keep offline”.",
  history: "Your practice history",
};
self.addEventListener("message", (event) => {
  const data = event.data || {};
  if (data.type !== "offline-words" || typeof data.words !== "object") return;
  const words = { ...ENGLISH, ...data.words, lang: String(data.lang || "en").slice(0, 16) };
  event.waitUntil(caches.open(WORDS).then((cache) => cache.put(WORDS_KEY, new Response(JSON.stringify(words)))));
});
async function offlineWords() {
  const saved = await (await caches.open(WORDS)).match(WORDS_KEY);
  return saved ? { ...ENGLISH, ...(await saved.json()) } : ENGLISH;
}
const escape = (text) => String(text).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);

// Offline, a page that was not kept: say so kindly, and list what is here.
async function offlinePage() {
  const say = await offlineWords();
  const kept = await caches.open(KEPT);
  const items = [];
  for (const request of await kept.keys()) {
    const path = new URL(request.url).pathname;
    if (!keptPage(path)) continue;
    const text = await (await kept.match(request)).text();
    const title = (/<title>([^<]*?)(?: · kindvoice)?<\/title>/.exec(text) || [])[1] || path;
    items.push(`<li><a class="button quiet" href="${path}">${title}</a></li>`);
  }
  const list = items.length
    ? `<p>${escape(say.kept)}</p><ul class="downloads">${items.join("")}</ul>`
    : `<p>${escape(say.none)}</p>`;
  const body = `<!doctype html><html lang="${escape(say.lang)}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(say.title)} · kindvoice</title><link rel="stylesheet" href="${at("static/style.css")}"></head>
<body><main id="main" data-offline><h1>${escape(say.title)}</h1>
<p class="lead">${escape(say.needs)}</p>
${list}<p><a class="button quiet" href="${at(PAGES.history)}">${escape(say.history)}</a></p></main></body></html>`;
  return new Response(body, { status: 503, headers: { "Content-Type": "text/html; charset=utf-8" } });
}

// A kept page the offline page lists: a session's player, a course's page or one of its
// days ("a/b/" in a static copy, whose start page is a course's own page when it copies
// one course: the worker's folder itself).
function keptPage(path) {
  if (!path.startsWith(ROOT)) return false;
  const rest = path.slice(ROOT.length);
  return rest === "" || rest.startsWith("sessions/") || /^courses\/[^/]+(\/days\/\d+)?\/?$/.test(rest);
}
