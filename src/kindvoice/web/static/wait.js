// kindvoice: waiting on the server's work, for the pages that wait (the Build slider's
// measuring, voice samples, previews, a render's page, a take being cleaned). Loaded
// before app.js by those pages only (base.html's `waits`); its functions use app.js's
// token, tr() and clock(), which exist by the time anything here is called.
"use strict";

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// This page's own name while it waits on the server's work (web/jobs.py's waiters). A
// preview, sample or measurement the page moves away from, or that it waits on when it
// is hidden or closed, is left: the server cancels it when no other page waits for it.
// (Chromium dropped some beacons sent from pagehide alone; visibilitychange comes first.)
const waiter = `page-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 10)}`;
const waitedJobs = new Set();
function leaveJob(id, closing) {
  if (!id || !waitedJobs.delete(id)) return;
  const url = `/api/jobs/${encodeURIComponent(id)}/leave`;
  const body = new URLSearchParams({ waiter, token });
  if (closing) navigator.sendBeacon(url, body);
  else fetch(url, { method: "POST", body, keepalive: true }).catch(() => {});
}
const leaveAll = () => { for (const id of [...waitedJobs]) leaveJob(id, true); };
window.addEventListener("pagehide", leaveAll);
document.addEventListener("visibilitychange", () => { if (document.hidden) leaveAll(); });
const whenVisible = () => new Promise((resolve) => {
  if (!document.hidden) { resolve(); return; }
  const seen = () => {
    if (document.hidden) return;
    document.removeEventListener("visibilitychange", seen);
    resolve();
  };
  document.addEventListener("visibilitychange", seen);
});

// Ask for a piece of the server's work (ask() answers it, or the job making it) and wait
// for it: onJob hears each job, onUpdate each state; the answer is the job's last state,
// or with again, what ask() answers once the job is done. Work cancelled while the page
// was hidden (nobody waited) is asked for again once the page is seen, if still wanted();
// what was spoken before is in the server's cache, so it goes on where it stopped.
async function untilDone(ask, onUpdate, wanted, onJob = () => {}, again = false) {
  for (;;) {
    const answer = await ask();
    if (!answer.job) return answer;
    waitedJobs.add(answer.job);
    onJob(answer.job);
    let state;
    try {
      state = await follow(answer.poll, onUpdate);
    } finally {
      waitedJobs.delete(answer.job);
    }
    if (!wanted()) return null;
    if (state.status === "done" && again) continue;
    if (state.status === "done") return state;
    if (state.status !== "cancelled") throw new Error(state.message);
    await whenVisible();
    if (!wanted()) return null;
  }
}

// One line for every wait: what is being done, the work's own percent, and the time left
// the server estimates (in the page's words), or how long so far while it cannot tell.
function waitWords(doing, state) {
  const percent = Math.round(state.percent);
  const left = state.left || tr("{time} so far", { time: clock(state.elapsed_s || 0) });
  return tr("{doing}… {percent}% ({left})", { doing, percent, left });
}

// A JSON answer; an error that waiting may cure (no connection, the server restarting,
// a proxy's 502) is marked `lost`.
async function getJSON(url, options) {
  let response, body;
  try {
    response = await fetch(url, options);
    body = await response.json();
  } catch (error) {
    throw Object.assign(new Error(tr("The server cannot be reached.")), { lost: true });
  }
  if (!response.ok) {
    throw Object.assign(new Error(body.error || response.statusText), { lost: response.status >= 502 });
  }
  return body;
}

// Poll a render job until it finishes; onUpdate gets each state. A lost connection is
// retried with a growing pause (1 s, 2 s, 4 s ... 15 s), onLost telling the page meanwhile.
async function follow(url, onUpdate, onLost) {
  let pause = 1000;
  const polled = `${url}${url.includes("?") ? "&" : "?"}waiter=${encodeURIComponent(waiter)}`;
  for (;;) {
    let state;
    try {
      state = await getJSON(polled);
    } catch (error) {
      if (!error.lost) throw error;
      if (onLost) onLost(error);
      await sleep(pause);
      pause = Math.min(2 * pause, 15000);
      continue;
    }
    pause = 1000;
    onUpdate(state);
    if (["done", "failed", "interrupted", "cancelled"].includes(state.status)) return state;
    await sleep(500);
  }
}

// A wait that cannot report its progress (one long request: the Write page's check, a
// take being cleaned): after 2 s, `line` says what is being done and for how long so far
// (words(time) gives the line for "0:05"), once a second; the function returned stops it.
function timeSoFar(line, words) {
  const started = Date.now();
  let ticking = null;
  const show = () => {
    const elapsed = (Date.now() - started) / 1000;
    line.textContent = words(clock(elapsed), elapsed);
    line.hidden = false;
  };
  const first = setTimeout(() => { show(); ticking = setInterval(show, 1000); }, 2000);
  return () => { clearTimeout(first); clearInterval(ticking); };
}
