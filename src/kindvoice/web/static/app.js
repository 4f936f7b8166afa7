// kindvoice: the live parts of the pages. Each part starts only where its page asks
// for it (data-* attributes), so every page works as plain HTML first.
"use strict";
document.documentElement.classList.add("js");

const token = document.querySelector('meta[name="kindvoice-token"]').content;

// The page's words in its language: the server sends the translations in a JSON block
// (web/i18n.py's JS_WORDS); tr("Done in {seconds} s.", { seconds: 3 }) fills the names.
// Used by pwa.js and history.js too (loaded after this script).
const pageWords = (() => {
  const block = document.getElementById("kindvoice-words");
  try { return block ? JSON.parse(block.textContent) : {}; } catch (error) { return {}; }
})();
function tr(text, values = {}) {
  const said = pageWords[text] || text;
  return said.replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
}

function clock(seconds) {
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
  const ss = String(s).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${ss}` : `${m}:${ss}`;
}

// The menu: on a phone a long one (a teacher's) folds under "Menu", so the page's own
// content is in view; it opens in place, wrapped inside the screen.
const menu = document.querySelector("details.menu");
if (menu && menu.querySelectorAll("li").length > 5 && window.matchMedia("(max-width: 40rem)").matches) {
  menu.dataset.folds = "";
  menu.open = false;
}

// Practice and language selects: choosing another reloads the form for it (keeping the
// engine chosen below).
for (const select of document.querySelectorAll("select[data-autosubmit]")) {
  select.addEventListener("change", () => {
    const keep = select.form.querySelector("[data-keep-engine]");
    const engine = document.getElementById("engine");
    if (keep && engine) keep.value = engine.value;
    select.form.submit();
  });
}

// Confirm before deleting.
for (const form of document.querySelectorAll("form[data-confirm]")) {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
}

// Format: the MP3 quality only matters for MP3.
for (const select of document.querySelectorAll("select[data-format]")) {
  const rows = select.form.querySelectorAll("[data-mp3-only]");
  const update = () => rows.forEach((row) => { row.hidden = select.value !== "mp3"; });
  select.addEventListener("change", update);
  update();
}

// Build form: slider read-outs, background levels, and the feasible range for the voice.
const build = document.querySelector("form[data-range-url]");
if (build) {
  const minutes = build.querySelector("#minutes");
  const minutesOut = build.querySelector("#minutes-out");
  const rate = build.querySelector("#rate");
  const rateOut = build.querySelector("#rate-out");
  const note = build.querySelector("[data-range-note]");
  const showMinutes = () => { minutesOut.value = clock(minutes.value * 60); };
  minutes.addEventListener("input", showMinutes);
  rate.addEventListener("input", () => { rateOut.value = Number(rate.value).toFixed(2); });

  for (const box of build.querySelectorAll(".layers input[type=checkbox]")) {
    const show = () => box.closest("li").classList.toggle("on", box.checked);
    box.addEventListener("change", show);
    show();
  }

  // The measurement the page waits for is a job it follows; another choice leaves it (the
  // server stops it when no other page waits for it), and so does leaving the page.
  let asked = 0;
  let measuring = null;  // the measurement job the page waits for
  function askRange(params, ask) {  // measured, asked again: the answer is kept
    const url = `${build.dataset.rangeUrl}?${params}&waiter=${encodeURIComponent(waiter)}`;
    return untilDone(() => getJSON(url), (s) => {
      if (ask === asked) note.textContent = waitWords(tr("Measuring what this voice can fill"), s);
    }, () => ask === asked, (id) => { measuring = id; }, true);
  }
  async function updateRange() {
    const ask = ++asked;
    const params = new URLSearchParams({
      practice: build.elements.practice.value,
      language: build.elements.language ? build.elements.language.value : "",
      engine: build.elements.engine.value,
      voice: build.elements.voice.value,
      rate: build.elements.rate.value,
    });
    if (build.elements.fill && build.elements.fill.checked) params.set("fill", "1");
    leaveJob(measuring, false);  // another choice: the page waits for that one no more
    measuring = null;
    try {
      const range = await askRange(params, ask);
      if (ask !== asked || !range) return;
      const value = Math.min(Math.max(Number(minutes.value), range.min), range.max);
      minutes.min = range.min;
      minutes.max = range.max;
      minutes.value = value;
      showMinutes();
      const high = range.high_s === null ? tr("no upper limit") : clock(range.high_s);
      note.textContent = tr("With {voice}: {low} to {high} on the slider (the script can run {from} to {to}).", {
        voice: range.voice, low: clock(range.min * 60), high: clock(range.max * 60), from: clock(range.low_s), to: high,
      });
      build.dataset.rangeReady = "1";
    } catch (error) {
      if (ask === asked) note.textContent = error.message;
    }
  }
  // back to a page kept in the browser's memory: what it waited for was left, ask again
  window.addEventListener("pageshow", (event) => { if (event.persisted) updateRange(); });
  // the voice list is replaced when the engine changes: listen on the form, not the inputs
  build.addEventListener("change", (event) => {
    if (event.target.matches("[data-range-input]")) updateRange();
  });
  build.addEventListener("voices-changed", updateRange);
  updateRange();
}

// Voice fields: the engine's voices (swapped when the engine changes), each with a sample
// rendered on the server on its first play and kept there, so later plays are instant.
for (const field of document.querySelectorAll("[data-voices]")) {
  const form = field.closest("form");
  const engine = document.getElementById(field.dataset.engine);
  const box = field.querySelector("[data-voice-box]");
  const error = field.querySelector("[data-voice-error]");
  const status = field.querySelector("[data-voice-status]");
  const audio = field.querySelector("[data-voice-audio]");
  const showError = (message) => {
    error.textContent = message;
    error.hidden = !message;
  };

  let asked = 0;
  let playing = 0;
  let sampling = null;  // the sample job the field waits for
  const stopSample = () => { leaveJob(sampling, false); sampling = null; };
  engine.addEventListener("change", async () => {
    const ask = ++asked;
    playing++;  // a sample of the engine left behind is not played
    stopSample();
    const params = new URLSearchParams({
      engine: engine.value, practice: field.dataset.practice, language: field.dataset.language,
    });
    status.textContent = tr("Loading the voices…");
    showError("");
    try {
      const answer = await getJSON(`${field.dataset.voices}?${params}`);
      if (ask !== asked) return;
      box.innerHTML = answer.html;
      status.textContent = "";
      form.dispatchEvent(new Event("voices-changed"));
    } catch (error_) {
      if (ask === asked) { status.textContent = ""; showError(error_.message); }
    }
  });

  box.addEventListener("click", async (event) => {
    const button = event.target.closest("button[data-sample]");
    if (!button) return;
    const ask = ++playing;
    stopSample();  // another voice: the last one asked for is not wanted now
    const voice = button.dataset.sample;
    const body = new URLSearchParams({ engine: engine.value, voice, waiter });
    showError("");
    audio.pause();
    button.disabled = true;
    status.textContent = tr("Preparing a sample of {voice}…", { voice });
    try {
      const answer = await untilDone(() => getJSON(field.dataset.sampleUrl, {
        method: "POST", headers: { "X-Kindvoice-Token": token }, body,
      }), (s) => {
        if (ask !== playing) return;
        status.textContent = s.status === "waiting"
          ? tr("Waiting for a free worker to speak a sample of {voice}…", { voice })
          : waitWords(tr("Preparing a sample of {voice}", { voice }), s);
      }, () => ask === playing, (id) => { sampling = id; });
      if (!answer || ask !== playing) return;  // another voice was asked for meanwhile
      status.textContent = tr("Playing a sample of {voice}.", { voice });
      audio.src = answer.url;
      audio.hidden = false;
      audio.dataset.voice = voice;
      await audio.play().catch(() => {});
    } catch (error_) {
      if (ask === playing) {
        status.textContent = "";
        showError(tr("The sample of {voice} could not be made: {reason}", { voice, reason: error_.message }));
      }
    } finally {
      button.disabled = false;
    }
  });
}

// Render forms: sent in the background so a wrong field is shown next to that field, in
// the page's words (the server answers {error, field}); a good one goes to the job page.
for (const form of document.querySelectorAll("form[data-fields]")) {
  const clear = () => {
    for (const old of form.querySelectorAll("[data-field-error]")) old.remove();
    for (const bad of form.querySelectorAll("[aria-invalid][data-was-invalid]")) {
      bad.removeAttribute("aria-invalid");
      bad.removeAttribute("data-was-invalid");
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clear();
    const button = event.submitter || form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try {
      const response = await fetch(form.action, {
        method: "POST", body: new URLSearchParams(new FormData(form)),
        headers: { Accept: "application/json" },
      });
      const type = response.headers.get("Content-Type") || "";
      if (response.ok && !type.includes("json")) { window.location.assign(response.url); return; }
      if (!type.includes("json")) { form.submit(); return; }  // no field to show it by: the page
      const body = await response.json();
      showFieldError(form, body.field, body.error || response.statusText);
    } catch (error) {
      showFieldError(form, null, error.message);
    } finally {
      if (button) button.disabled = false;
    }
  });
}

function showFieldError(form, name, message) {
  const control = name ? form.elements[name] : null;
  const first = control && control.length !== undefined && !control.tagName ? control[0] : control;
  const box = name === "practices" ? form.querySelector("#practices")
    : first ? first.closest(".voice-field, .row, li, fieldset") : null;
  const note = document.createElement("p");
  note.className = "field-error";
  note.setAttribute("role", "alert");
  note.dataset.fieldError = name || "";
  note.id = `${name || "form"}-field-error`;
  note.textContent = message;
  if (box) box.append(note);
  else form.prepend(note);
  if (first && first.focus) {
    first.setAttribute("aria-invalid", "true");
    first.dataset.wasInvalid = "1";
    first.setAttribute("aria-describedby", note.id);
    first.focus();
  }
}

// Write page: the caret goes to the problem's line; the starter fills the editor.
const editor = document.querySelector("textarea[data-error-line]");
if (editor) {
  const line = Number(editor.dataset.errorLine), col = Number(editor.dataset.errorCol || 1);
  const lines = editor.value.split("\n");
  let at = 0;
  for (let n = 0; n < Math.min(line - 1, lines.length); n++) at += lines[n].length + 1;
  at += Math.min(Math.max(col - 1, 0), (lines[line - 1] || "").length);
  editor.focus();
  editor.setSelectionRange(at, at);
  // scroll the line into view: about the line's share of the text's height
  editor.scrollTop = Math.max(0, (line - 3) * (editor.scrollHeight / Math.max(lines.length, 1)));
}
for (const link of document.querySelectorAll("a[data-starter]")) {
  link.addEventListener("click", async (event) => {
    const text = document.getElementById("text");
    event.preventDefault();
    if (text.value.trim() && !window.confirm(tr("Replace your text with the starter template?"))) return;
    const response = await fetch(link.dataset.starter);
    text.value = await response.text();
    text.removeAttribute("aria-invalid");
    text.focus();
    text.setSelectionRange(0, 0);
  });
}

// Practice cards: filter by tag (the buttons show only when this script runs).
const tagFilter = document.querySelector("[data-tag-filter]");
if (tagFilter) {
  const cards = [...document.querySelectorAll(".cards > .card")];
  const count = document.querySelector("[data-tag-count]");
  tagFilter.hidden = false;
  tagFilter.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-tag]");
    if (!button) return;
    const tag = button.dataset.tag;
    for (const other of tagFilter.querySelectorAll("button")) {
      other.setAttribute("aria-pressed", String(other === button));
    }
    let shown = 0;
    for (const card of cards) {
      card.hidden = Boolean(tag) && !card.dataset.tags.split(" ").includes(tag);
      shown += !card.hidden;
    }
    count.textContent = tag ? tr("{n} practices tagged {tag}.", { n: shown, tag: button.textContent }) : "";
  });
}

// Job page: the progress bar follows the render, then opens the player.
const job = document.querySelector("[data-job]");
if (job) {
  const bar = job.querySelector("progress");
  const status = job.querySelector("[data-job-status]");
  const done = job.querySelector("[data-job-done]");
  follow(job.dataset.job, (state) => {
    bar.value = state.percent;
    bar.textContent = `${state.percent}%`;
    if (state.status === "waiting") {
      const ahead = state.ahead + state.running;
      status.textContent = state.ahead === 0 && state.running < state.workers
        ? tr("Starting…")
        : tr("Waiting: {ahead} ahead ({running} rendering, {waiting} waiting).", { ahead, running: state.running, waiting: state.ahead });
    }
    else if (state.status === "running") {
      const doing = { speech: tr("Speaking"), sessions: tr("Rendering the sessions") }[state.stage] || tr("Mixing");
      status.textContent = waitWords(doing, state);
    } else if (state.status !== "done") {
      status.textContent = state.message;
      const retry = job.querySelector("[data-job-retry]");
      if (retry && state.retryable) retry.hidden = false;
    } else {
      status.textContent = tr("Done in {seconds} s.", { seconds: state.seconds });
      done.hidden = false;
      done.innerHTML = "";
      const link = document.createElement("a");
      link.className = "button";
      link.href = state.url;
      link.textContent = tr("Listen");
      done.append(link);
      window.location.assign(state.url);
    }
  }, () => { status.textContent = tr("Reconnecting…"); }).catch((error) => { status.textContent = error.message; });
}

// Build form: "Render again with changes" opens it with a session's settings in the
// address; the fields the page did not set itself are filled here.
if (build && new URLSearchParams(window.location.search).has("minutes")) {
  const params = new URLSearchParams(window.location.search);
  for (const name of new Set(params.keys())) {
    if (["practice", "language", "token"].includes(name)) continue;
    const values = params.getAll(name);
    const fields = [...build.querySelectorAll(`[name="${CSS.escape(name)}"]`)];
    // a choice the page no longer offers (a voice not installed now) keeps the page's own
    if (fields.some((f) => f.type === "radio") && !fields.some((f) => values.includes(f.value))) continue;
    for (const field of fields) {
      if (field.type === "hidden") continue;
      const checkable = field.type === "checkbox" || field.type === "radio";
      const before = checkable ? field.checked : field.value;
      if (checkable) field.checked = values.includes(field.value);
      else field.value = values[0];
      if ((checkable ? field.checked : field.value) === before) continue;  // (the engine: no reload)
      field.dispatchEvent(new Event("input", { bubbles: true }));
      field.dispatchEvent(new Event("change", { bubbles: true }));
    }
  }
  for (const box of build.querySelectorAll('input[type="checkbox"]')) {
    if (params.has(box.name) || !box.checked) continue;
    box.checked = false;  // a box left unticked is not in the form
    box.dispatchEvent(new Event("change", { bubbles: true }));
  }
}

// Practice cards: a preview (in the card's language) plays at once when it ships with the
// package, else it is rendered on first request, then played.
for (const button of document.querySelectorAll("button[data-preview]")) {
  button.addEventListener("click", async () => {
    const id = button.dataset.preview;
    const audio = document.getElementById(`preview-${id}`);
    const status = document.getElementById(`preview-status-${id}`);
    button.disabled = true;
    try {
      const language = button.dataset.language ? `?language=${encodeURIComponent(button.dataset.language)}` : "";
      const answer = await untilDone(() => getJSON(`/api/previews/${encodeURIComponent(id)}${language}`, {
        method: "POST", headers: { "X-Kindvoice-Token": token }, body: new URLSearchParams({ waiter }),
      }), (s) => {
        status.textContent = s.status === "waiting" ? tr("Waiting for a free worker…") : waitWords(tr("Preparing a preview"), s);
      }, () => true);
      status.textContent = "";
      audio.src = answer.url;
      audio.hidden = false;
      await audio.play().catch(() => {});
    } catch (error) {
      status.textContent = error.message;
    } finally {
      button.disabled = false;
    }
  });
}

// Player: chapters seek; the transcript follows the sound.
const player = document.getElementById("player");
if (player) {
  for (const button of document.querySelectorAll("[data-seek]")) {
    button.addEventListener("click", () => {
      player.currentTime = Number(button.dataset.seek);
      player.play().catch(() => {});
    });
  }
  const cues = [...document.querySelectorAll("[data-transcript] li[data-start]")];
  const followBox = document.getElementById("follow");
  let current = null;
  player.addEventListener("timeupdate", () => {
    const t = player.currentTime;
    const cue = cues.find((li) => t >= Number(li.dataset.start) && t < Number(li.dataset.end)) || null;
    if (cue === current) return;
    if (current) { current.classList.remove("now"); current.removeAttribute("aria-current"); }
    current = cue;
    if (cue) {
      cue.classList.add("now");
      cue.setAttribute("aria-current", "true");
      if (followBox.checked) {
        const list = cue.parentElement;
        list.scrollTop = cue.offsetTop - list.offsetTop - list.clientHeight / 3;
      }
    }
  });
}

// Write page: a chosen file is read here, so the draft in the editor is never lost. A file
// too large or not UTF-8 is said by the file field; a good one replaces the text only
// after asking (when there is text). Text too large to send is said before sending.
const writeForm = document.querySelector("form[data-write]");
if (writeForm) {
  const upload = writeForm.elements.file;
  const editor = writeForm.elements.text;
  const note = document.getElementById("file-error");
  const maxBytes = Number(writeForm.dataset.maxBytes);
  const kb = (bytes) => `${Math.ceil(bytes / 1024)} KB`;
  const say = (message) => {
    note.textContent = `${message} ${tr("Your text in the editor is kept.")}`;
    note.hidden = false;
    upload.value = "";
  };
  upload.addEventListener("change", async () => {
    note.hidden = true;
    const file = upload.files[0];
    if (!file) return;
    const name = file.name.length > 80 ? `${file.name.slice(0, 80)}…` : file.name;
    if (file.size > maxBytes) {
      say(tr("“{name}” is {size}: a template can be at most {limit}.", { name, size: kb(file.size), limit: kb(maxBytes) }));
      return;
    }
    let read;
    try {
      read = new TextDecoder("utf-8", { fatal: true }).decode(await file.arrayBuffer());
    } catch (error) {
      say(tr("“{name}” is not UTF-8 text: save it as UTF-8 in your editor, then choose it again.", { name }));
      return;
    }
    const replace = !editor.value.trim() || editor.value === read
      || window.confirm(tr("Replace the text in the editor with “{name}”?", { name }));
    if (replace) editor.value = read;
    upload.value = "";  // the editor's text is what is sent
  });
  // the check speaks every phrase and solves every minute (seconds with espeak, more
  // with a slow voice) in one request, which cannot report its progress: the page says
  // what it does and for how long so far
  const checking = writeForm.querySelector("[data-write-status]");
  writeForm.addEventListener("submit", (event) => {
    const size = new Blob([editor.value]).size + (upload.files[0] ? upload.files[0].size : 0);
    if (size > maxBytes) {
      event.preventDefault();
      say(tr("The template is {size}: it can be at most {limit}.", { size: kb(size), limit: kb(maxBytes) }));
      return;
    }
    timeSoFar(checking, (time) => tr("Checking every length of its range… ({time} so far)", { time }));
  });
}

// The feed's "Copy" button: the address on the clipboard (selected in its field when the
// browser allows no clipboard, as on a plain-http address).
for (const button of document.querySelectorAll("button[data-copy]")) {
  const status = button.parentElement.querySelector("[data-copy-status]");
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(button.dataset.copy);
      status.textContent = tr("Copied: paste it into your podcast app.");
    } catch (error) {
      const field = document.querySelector("input[data-feed]");
      field.closest("details").open = true;
      field.select();
      status.textContent = tr("Copy the selected address.");
    }
  });
}
