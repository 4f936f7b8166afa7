// kindvoice on a phone: the service worker, and the player's phone parts: lock-screen
// controls (Media Session), resume where you left off, tap a transcript line to seek,
// "Keep offline" (a session, a course's day, or a whole course in one tap), and the
// private practice history (static/history.js draws it).
// Everything here stays in this browser: nothing is sent to the server.
"use strict";

const KEPT_CACHE = "kindvoice-kept-v1"; // the same name in sw.js
const HISTORY_KEY = "kindvoice:history:v1";
const FINISHED_AT = 0.9; // a session counts as finished from 90 % on...
const LISTENED_AT = 0.8; // ...once 80 % of it was played (seeking to the end is no practice)
const SKIP_S = 15;

// the worker's address from the page (/sw.js when served; beside the pages in a static
// copy, `kindvoice site`): its scope is its folder, so it covers every page
const WORKER = (document.currentScript && document.currentScript.dataset.worker) || "/sw.js";

if ("serviceWorker" in navigator) {
  navigator.serviceWorker.register(WORKER).then(() => {
    const mark = () => { document.documentElement.dataset.sw = "controlled"; };
    if (navigator.serviceWorker.controller) mark();
    navigator.serviceWorker.addEventListener("controllerchange", mark);
  }).catch(() => {}); // no worker (an insecure origin): the pages work as before
  // the worker's own offline page speaks the language of the last page seen
  navigator.serviceWorker.ready.then((registration) => {
    if (!registration.active) return;
    registration.active.postMessage({ type: "offline-words", lang: document.documentElement.lang || "en", words: {
      title: tr("You are offline"),
      needs: tr("This page needs a connection to the computer that renders your sessions."),
      kept: tr("These sessions are kept on this phone and play without a connection:"),
      none: tr("No session is kept on this phone yet. Next time you are online, open a session and choose “Keep offline”."),
      history: tr("Your practice history"),
    } });
  }).catch(() => {});
}

// The practice history: a list of {id, stem, title, seconds, at, note} in localStorage.
const practiceHistory = {
  load() {
    try {
      const entries = JSON.parse(localStorage.getItem(HISTORY_KEY) || "[]");
      return Array.isArray(entries) ? entries : [];
    } catch (error) {
      return [];
    }
  },
  save(entries) { localStorage.setItem(HISTORY_KEY, JSON.stringify(entries)); },
  add(entry) {
    const entries = this.load();
    entries.push(entry);
    this.save(entries);
  },
  note(id, text) {
    const entries = this.load();
    const entry = entries.find((e) => e.id === id);
    if (entry) entry.note = text;
    this.save(entries);
    return Boolean(entry);
  },
};
window.kindvoiceHistory = practiceHistory;

function mmss(seconds) {
  const total = Math.max(0, Math.round(seconds));
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

const sessionData = document.getElementById("session-data");
const audio = document.getElementById("player");
if (sessionData && audio) phonePlayer(JSON.parse(sessionData.textContent), audio);

function phonePlayer(session, audio) {
  const chapters = session.chapters || [];
  const positionKey = `kindvoice:position:${session.stem}`;
  const nowPlaying = document.querySelector("[data-now-playing]");

  // --- the audio cannot be loaded: say why in plain words (deleted, or no connection)
  const audioError = document.querySelector("[data-audio-error]");
  audio.addEventListener("error", async () => {
    if (!audioError) return;
    let gone = false;
    try {
      gone = (await fetch(audio.currentSrc || audio.src, { method: "HEAD" })).status === 404;
    } catch (error) { /* offline: said below */ }
    audioError.textContent = gone
      ? tr("This session is no longer on the server: the teacher may have deleted it.")
      : tr("The audio stopped loading. Check the connection, then try again.");
    audioError.hidden = false;
  });

  // --- chapters, and the controls on the page and on the lock screen
  const chapterAt = (t) => {
    let index = -1;
    chapters.forEach((c, i) => { if (t >= c.start - 0.05) index = i; });
    return index;
  };
  const seek = (t) => {
    const end = Number.isFinite(audio.duration) ? audio.duration : session.seconds;
    audio.currentTime = Math.min(Math.max(0, t), Math.max(0, end - 0.1));
  };
  const actions = {
    previous() {
      const i = chapterAt(audio.currentTime);
      if (i < 0) return seek(0);
      const back = audio.currentTime - chapters[i].start > 3 || i === 0;
      seek(back ? chapters[i].start : chapters[i - 1].start);
    },
    next() {
      const i = chapterAt(audio.currentTime);
      if (i + 1 < chapters.length) seek(chapters[i + 1].start);
    },
    back(details) { seek(audio.currentTime - ((details && details.seekOffset) || SKIP_S)); },
    forward(details) { seek(audio.currentTime + ((details && details.seekOffset) || SKIP_S)); },
  };
  for (const button of document.querySelectorAll("[data-skip]")) {
    button.addEventListener("click", () => actions[button.dataset.skip]());
  }
  for (const button of document.querySelectorAll(".skips button[data-skip=previous], .skips button[data-skip=next]")) {
    button.hidden = chapters.length < 2;
  }

  const media = "mediaSession" in navigator ? navigator.mediaSession : null;
  let shownChapter; // undefined: nothing shown yet
  const setMetadata = () => {
    const i = audio.paused && audio.currentTime === 0 ? -1 : chapterAt(audio.currentTime);
    const chapter = i >= 0 ? chapters[i].title : null;
    if (nowPlaying) nowPlaying.textContent = chapter ? tr("Now: {chapter}", { chapter }) : "";
    if (!media || chapter === shownChapter) return;
    shownChapter = chapter;
    media.metadata = new MediaMetadata({
      title: chapter || session.title,
      artist: chapter ? session.title : "kindvoice",
      album: session.album || "kindvoice",
      artwork: [{ src: new URL(session.artwork, location.href).href, type: session.artwork_type }],
    });
  };
  setMetadata();
  if (media) {
    const handlers = {
      play: () => audio.play(),
      pause: () => audio.pause(),
      seekbackward: actions.back,
      seekforward: actions.forward,
      previoustrack: actions.previous,
      nexttrack: chapters.length > 1 ? actions.next : null,
      seekto: (details) => seek(details.seekTime),
    };
    for (const [action, handler] of Object.entries(handlers)) {
      try { media.setActionHandler(action, handler); } catch (error) { /* not offered here */ }
    }
  }
  const showPosition = () => {
    if (!media || !media.setPositionState || !Number.isFinite(audio.duration)) return;
    try {
      media.setPositionState({
        duration: audio.duration, playbackRate: audio.playbackRate,
        position: Math.min(audio.currentTime, audio.duration),
      });
    } catch (error) { /* a position the browser refuses: the next update fixes it */ }
  };

  // --- tap a transcript line to listen from there
  const transcript = document.querySelector("[data-transcript]");
  if (transcript) {
    transcript.addEventListener("click", (event) => {
      const line = event.target.closest("li[data-start]");
      if (!line) return;
      seek(Number(line.dataset.start));
      audio.play().catch(() => {});
    });
  }

  // --- resume where you left off (this phone only)
  const resume = document.querySelector("[data-resume]");
  let savedAt = 0;
  // the seconds actually played (kept with the position, so a resumed session counts)
  const listenedKey = `${positionKey}:listened`;
  let listened = Number(localStorage.getItem(listenedKey)) || 0;
  let lastTime = null;
  const remember = () => {
    const d = audio.duration;
    if (!Number.isFinite(d) || audio.currentTime < 5 || audio.currentTime > d - 5) {
      localStorage.removeItem(positionKey);
    } else {
      localStorage.setItem(positionKey, String(audio.currentTime));
    }
    localStorage.setItem(listenedKey, String(listened));
  };
  audio.addEventListener("loadedmetadata", () => {
    showPosition();
    const saved = Number(localStorage.getItem(positionKey));
    if (!resume || !saved || saved < 5 || saved > audio.duration - 5 || audio.currentTime > 0) return;
    audio.currentTime = saved;
    resume.querySelector("[data-resume-text]").textContent = tr("Picking up where you left off, at {time}.", { time: mmss(saved) });
    resume.hidden = false;
  }, { once: true });
  if (resume) {
    resume.querySelector("[data-restart]").addEventListener("click", () => {
      seek(0);
      localStorage.removeItem(positionKey);
      resume.hidden = true;
    });
  }

  // --- finished: a line in the practice history, and room for a note
  const finished = document.querySelector("[data-finished]");
  let entryId = null;
  const finish = () => {
    const d = Number.isFinite(audio.duration) ? audio.duration : session.seconds;
    if (entryId !== null || listened < LISTENED_AT * d) return;
    entryId = `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`;
    practiceHistory.add({
      id: entryId, stem: session.stem, title: session.history_title || session.title,
      seconds: Number.isFinite(audio.duration) ? audio.duration : session.seconds,
      at: new Date().toISOString(), note: "",
    });
    localStorage.removeItem(positionKey);
    localStorage.removeItem(listenedKey);
    listened = 0;
    if (finished) finished.hidden = false;
  };
  audio.addEventListener("timeupdate", () => {
    setMetadata();
    const t = audio.currentTime;
    // time played, not jumped: a step no longer than a few updates at this speed
    const step = lastTime === null ? 0 : t - lastTime;
    if (!audio.paused && !audio.seeking && step > 0 && step <= 1.5 * Math.max(1, audio.playbackRate)) {
      listened += step;
    }
    lastTime = t;
    if (Math.abs(t - savedAt) >= 3) { savedAt = t; remember(); }
    if (Number.isFinite(audio.duration) && t >= FINISHED_AT * audio.duration && !audio.seeking) finish();
  });
  audio.addEventListener("ended", finish);
  audio.addEventListener("pause", () => { remember(); showPosition(); });
  audio.addEventListener("play", () => { setMetadata(); showPosition(); });
  audio.addEventListener("seeked", () => { lastTime = audio.currentTime; showPosition(); });
  audio.addEventListener("ratechange", showPosition);
  window.addEventListener("pagehide", remember);

  const noteForm = document.querySelector("[data-note-form]");
  if (noteForm) {
    noteForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const text = noteForm.elements.note.value.replace(/\s+/g, " ").trim().slice(0, 200);
      const status = noteForm.querySelector("[data-note-status]");
      if (entryId !== null && practiceHistory.note(entryId, text)) {
        status.textContent = text ? tr("Kept, on this phone only.") : tr("No note: that is fine too.");
      }
    });
  }

  // --- keep this session offline (the Cache API; the service worker answers from it)
  const keepBox = document.querySelector("[data-keep-box]");
  if (keepBox && canKeep()) keeper(keepBox, session.files, tr("Kept on this phone: it plays without a connection."));
  else {
    // plain http (not a secure context): no offline copies here; the page says so, and
    // offers the download instead
    const needsHttps = document.querySelector("[data-needs-https]");
    if (needsHttps) needsHttps.hidden = false;
  }
}

// Offline copies need the Cache API and a service worker: a secure address (https, or
// localhost), not plain http on the Wi-Fi.
function canKeep() {
  return "caches" in window && "serviceWorker" in navigator;
}

// "Keep offline" for a list of files (a session's, or a whole course's): one button that
// keeps them all in the Cache API, or removes them; the service worker answers from it.
// While it saves, the line says the percent of the bytes (totalBytes when the page knows
// them, else what the files' HEADs say) and, from the pace so far, the time left.
function keeper(box, files, keptWords, totalBytes = 0) {
  if (!canKeep()) return;
  const button = box.querySelector("[data-keep]");
  const status = box.querySelector("[data-keep-status]");
  const label = button.textContent;
  const isKept = async () => {
    const cache = await caches.open(KEPT_CACHE);
    return (await Promise.all(files.map((url) => cache.match(url)))).every(Boolean);
  };
  const show = (kept) => {
    button.textContent = kept ? tr("Remove the offline copy") : label;
    button.dataset.kept = kept ? "1" : "";
    status.textContent = kept ? keptWords : "";
  };
  box.hidden = false;
  isKept().then(show);
  button.addEventListener("click", async () => {
    const cache = await caches.open(KEPT_CACHE);
    button.disabled = true;
    try {
      if (button.dataset.kept) {
        await Promise.all(files.map((url) => cache.delete(url)));
        show(false);
        status.textContent = tr("The offline copy is removed.");
      } else {
        status.textContent = tr("Saving on this phone…");
        await keepAll(cache, files, totalBytes || await sizeOf(files), (line) => { status.textContent = line; });
        show(true);
      }
    } catch (error) {
      await Promise.all(files.map((url) => cache.delete(url)));
      show(false);
      status.textContent = tr("Could not keep it offline ({reason}). There may be too little room on this phone.", { reason: error.message });
    } finally {
      button.disabled = false;
    }
  });
}

// The bytes of `files` as their HEADs say (0 when one cannot say: no percent then).
async function sizeOf(files) {
  let total = 0;
  for (const url of files) {
    const response = await fetch(url, { method: "HEAD", cache: "no-store" }).catch(() => null);
    const length = Number(response && response.ok && response.headers.get("Content-Length"));
    if (!length) return 0;
    total += length;
  }
  return total;
}

// Fetch each file into the cache, counting its bytes as they arrive; `say` hears the line.
async function keepAll(cache, files, total, say) {
  const started = Date.now();
  let got = 0;
  let shown = 0;
  for (const url of files) {
    const response = await fetch(url, { cache: "no-store" });
    if (!response.ok) throw new Error(`${url}: ${response.status} ${response.statusText}`);
    const counted = response.clone();
    const putting = cache.put(url, response);  // reads its own copy of the body
    const reader = counted.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      got += value.length;
      if (total && Date.now() - shown >= 250) {
        shown = Date.now();
        say(savingWords(got, total, (shown - started) / 1000));
      }
    }
    await putting;
  }
}

// "Saving on this phone… 40% (about 0:12 left)": the bytes so far over `total`, and the
// time left at the pace so far once it has run 2 s (before that, the time so far).
function savingWords(got, total, elapsedS) {
  const percent = Math.min(99, Math.floor((100 * got) / total));
  let left = tr("{time} so far", { time: mmss(elapsedS) });
  if (elapsedS >= 2 && got > 0) {
    const seconds = (Math.max(0, total - got) * elapsedS) / got;
    left = tr("about {time} left", { time: mmss(seconds < 10 ? Math.ceil(seconds) : 5 * Math.round(seconds / 5)) });
  }
  const doing = tr("Saving on this phone");
  return tr("{doing}… {percent}% ({left})", { doing, percent, left });
}

// A course: keep every day offline in one tap (its size is on the page before the tap).
const courseData = document.getElementById("course-data");
const courseBox = document.querySelector("[data-course-keep]");
if (courseData && courseBox) {
  const course = JSON.parse(courseData.textContent);
  keeper(courseBox, course.files, course.unit === "Session"
    ? tr("Kept on this phone: every session plays without a connection.")
    : tr("Kept on this phone: every day plays without a connection."), course.bytes);
}

// The list of sessions, and a course's days: a quiet mark on the ones kept on this phone
// (any card's link: they are relative in a static copy, `kindvoice site`).
const sessionLinks = document.querySelectorAll(".cards .card h2 a");
if (sessionLinks.length && "caches" in window) {
  caches.open(KEPT_CACHE).then(async (cache) => {
    for (const link of sessionLinks) {
      if (!(await cache.match(link.href))) continue;
      const mark = document.createElement("span");
      mark.className = "kept-mark";
      mark.textContent = tr("Kept offline");
      link.parentElement.after(mark);
    }
  }).catch(() => {});
}
