// kindvoice: the recording page. One phrase at a time: Record (Space) opens the
// microphone and records with MediaRecorder, Stop (Space) sends the take to the server,
// which cleans it and holds it; the teacher hears the cleaned take and keeps it (Enter)
// or records again. The arrows move between phrases. The microphone is closed between
// takes (the phone's indicator goes off). Where the browser gives no microphone (a page
// on plain http from another computer), a file from the phone's recorder goes the same way.
// Its words are the page's (tr, app.js); a take being cleaned says how long so far
// (timeSoFar, wait.js) and, when its length is known (recorded here, or a file the
// browser can read), the time left at the server's own cleaning pace (seconds per second of take, timed on its last takes: data-clean-pace).
"use strict";
(() => {
  const box = document.querySelector("[data-recorder]");
  if (!box) return;
  const secret = document.querySelector('meta[name="kindvoice-token"]').content;
  const phrases = JSON.parse(box.querySelector("[data-phrases]").textContent);
  const $ = (name) => box.querySelector(`[data-${name}]`);
  const recordButton = $("record"), keepButton = $("keep"), playback = $("playback");
  const errorLine = $("error"), statusLine = $("status");
  let index = Math.max(0, phrases.findIndex((p) => !p.recorded));
  let recorder = null, pending = null, busy = false;
  let cleanPace = Number(box.dataset.cleanPace) || 0;

  const base = () => ({ practice: box.dataset.practice, language: box.dataset.language, voice: box.dataset.voice });

  function audioUrl(stem, waiting) {
    const query = new URLSearchParams({ ...base(), stem });
    if (waiting) query.set("pending", "1");
    query.set("t", Date.now());  // a take kept again is a new file
    return `${box.dataset.audioUrl}?${query}`;
  }

  function say(message, isError) {
    errorLine.hidden = !isError;
    errorLine.textContent = isError ? message : "";
    statusLine.textContent = isError ? "" : message;
  }

  function show() {
    const phrase = phrases[index];
    $("position").textContent = tr("Phrase {number} of {count}", { number: index + 1, count: phrases.length });
    $("section").textContent = phrase.section;
    $("state").textContent = `· ${phrase.recorded ? tr("recorded") + " \u2713" : tr("not recorded yet")}`;
    $("before").textContent = index > 0 ? phrases[index - 1].text : "";
    $("phrase").textContent = phrase.text;
    $("after").textContent = index + 1 < phrases.length ? phrases[index + 1].text : "";
    $("needed").textContent = [phrase.lengths, phrase.changed && tr("changed since recorded (the take said “{text}”)", { text: phrase.changed })]
      .filter(Boolean).join("; ");
    pending = null;
    keepButton.hidden = true;
    if (phrase.recorded) {
      playback.src = audioUrl(phrase.stem, false);
      playback.hidden = false;
    } else {
      playback.removeAttribute("src");
      playback.hidden = true;
    }
    box.dataset.index = String(index);
  }

  function move(step) {
    if (recorder || busy) return;
    const next = index + step;
    if (next < 0 || next >= phrases.length) return;
    index = next;
    say("", false);
    show();
  }

  function pickType() {
    for (const type of ["audio/webm;codecs=opus", "audio/mp4", "audio/webm", "audio/ogg;codecs=opus"]) {
      if (window.MediaRecorder && MediaRecorder.isTypeSupported(type)) return type;
    }
    return "";
  }

  async function start() {
    let stream;
    try {
      // the server cleans the take: the browser's own processing would only colour it
      stream = await navigator.mediaDevices.getUserMedia({
        audio: { echoCancellation: false, noiseSuppression: false, autoGainControl: false },
      });
    } catch (error) {
      say(tr("The microphone cannot be opened ({reason}): allow it for this page, then try again.", { reason: error.name }), true);
      return;
    }
    const type = pickType();
    const chunks = [];
    recorder = new MediaRecorder(stream, type ? { mimeType: type } : {});
    recorder.addEventListener("dataavailable", (event) => { if (event.data.size) chunks.push(event.data); });
    recorder.addEventListener("stop", () => {
      stream.getTracks().forEach((track) => track.stop());
      const blob = new Blob(chunks, { type: recorder.mimeType || type || "audio/webm" });
      recorder = null;
      send(blob, (Date.now() - began) / 1000);
    });
    const began = Date.now();
    recorder.start();
    recordButton.textContent = `\u25A0 ${tr("Stop")}`;
    recordButton.classList.add("on");
    box.dataset.recording = "1";
    keepButton.hidden = true;
    say(tr("Recording… read the phrase, then stop."), false);
  }

  function stop() {
    if (recorder && recorder.state !== "inactive") recorder.stop();
    recordButton.textContent = `\u25CF ${tr("Record again")}`;
    recordButton.classList.remove("on");
    delete box.dataset.recording;
  }

  async function send(blob, takeSeconds) {
    const phrase = phrases[index];
    const form = new FormData();
    for (const [key, value] of Object.entries(base())) form.set(key, value);
    form.set("stem", phrase.stem);
    const suffix = blob.type.includes("mp4") ? "m4a" : blob.type.includes("ogg") ? "ogg" : "webm";
    form.set("take", blob, blob.name || `take.${suffix}`);
    busy = true;
    say(tr("Cleaning the take…"), false);
    // the upload and the cleaning's start, then the take at the server's pace
    const expected = takeSeconds && cleanPace ? 1 + takeSeconds * cleanPace : 0;
    const ticking = timeSoFar(statusLine, (time, elapsed) => {
      const left = Math.ceil(expected - elapsed);
      return left >= 1
        ? tr("Cleaning the take… ({time} so far, about {left} left)", { time, left: clock(left) })
        : tr("Cleaning the take… ({time} so far)", { time });
    });
    try {
      const response = await fetch(box.dataset.takeUrl, {
        method: "POST", headers: { "X-Kindvoice-Token": secret }, body: form,
      });
      const answer = await response.json().catch(() => ({ error: response.statusText }));
      ticking();
      if (!response.ok) throw new Error(answer.error || response.statusText);
      cleanPace = answer.clean_pace || cleanPace;
      if (phrases[index] !== phrase) return;  // moved on meanwhile: it waits, unkept
      pending = phrase.stem;
      playback.src = answer.audio;
      playback.hidden = false;
      keepButton.hidden = false;
      say(tr("Listen back ({seconds} s, cleaned): keep it, or record again.", { seconds: answer.seconds.toFixed(1) }), false);
      box.dataset.pending = phrase.stem;
    } catch (error) {
      say(error.message, true);
      box.dataset.refused = String(Number(box.dataset.refused || 0) + 1);
    } finally {
      ticking();
      busy = false;
    }
  }

  async function keep() {
    if (!pending || busy) return;
    busy = true;
    const body = new URLSearchParams({ ...base(), stem: pending, token: secret });
    try {
      const response = await fetch(box.dataset.keepUrl, {
        method: "POST", headers: { "X-Kindvoice-Token": secret }, body,
      });
      const answer = await response.json();
      if (!response.ok) throw new Error(answer.error || response.statusText);
      for (const fresh of answer.phrases) {
        const known = phrases.find((p) => p.stem === fresh.stem);
        if (known) Object.assign(known, fresh);
      }
      $("summary").textContent = answer.summary;
      busy = false;
      say(tr("Kept."), false);
      recordButton.textContent = `\u25CF ${tr("Record")}`;
      const later = phrases.findIndex((p, i) => i > index && !p.recorded);
      const next = later >= 0 ? later : phrases.findIndex((p) => !p.recorded);
      if (next >= 0) { index = next; show(); } else { show(); say(tr("Every phrase is recorded."), false); }
    } catch (error) {
      say(error.message, true);
    } finally {
      busy = false;
    }
  }

  function toggle() {
    if (busy) return;
    if (recorder) stop(); else start();
  }

  const canRecord = Boolean(window.isSecureContext && navigator.mediaDevices && window.MediaRecorder);
  if (!canRecord) {
    $("insecure").hidden = false;
    recordButton.disabled = true;
  }
  const fileInput = $("file");
  // a file's length, as the browser reads it from the file itself (0: it cannot tell)
  function fileSeconds(file) {
    return new Promise((resolve) => {
      const probe = new Audio(), url = URL.createObjectURL(file);
      const done = (seconds) => { URL.revokeObjectURL(url); resolve(isFinite(seconds) ? seconds : 0); };
      probe.addEventListener("loadedmetadata", () => done(probe.duration));
      probe.addEventListener("error", () => done(0));
      setTimeout(() => done(0), 1000);
      probe.preload = "metadata";
      probe.src = url;
    });
  }
  fileInput.addEventListener("change", async () => {
    const file = fileInput.files[0];
    fileInput.value = "";
    if (file && !recorder && !busy) send(file, await fileSeconds(file));
  });
  recordButton.addEventListener("click", toggle);
  keepButton.addEventListener("click", keep);
  box.querySelectorAll("[data-move]").forEach((button) => {
    button.addEventListener("click", () => move(Number(button.dataset.move)));
  });
  document.addEventListener("keydown", (event) => {
    if (event.target.closest("input, textarea, select, audio") || event.altKey || event.ctrlKey || event.metaKey) return;
    if (event.key === " ") { event.preventDefault(); if (canRecord && !event.repeat) toggle(); }
    else if (event.key === "ArrowRight") { event.preventDefault(); move(1); }
    else if (event.key === "ArrowLeft") { event.preventDefault(); move(-1); }
    else if (event.key === "Enter" && pending && !event.target.closest("button, a")) { event.preventDefault(); keep(); }
  });
  // a space released on a focused button would click it as well
  document.addEventListener("keyup", (event) => {
    if (event.key === " " && event.target.closest("button")) event.preventDefault();
  });
  show();
})();
