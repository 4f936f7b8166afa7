// kindvoice: the practice history page (/history), drawn from this browser's own storage
// (static/pwa.js writes it when a session is listened to the end). A calm month calendar,
// the sessions and notes by day, a Markdown download. Nothing is sent anywhere.
"use strict";

(function historyPage() {
  const root = document.querySelector("[data-history]");
  const store = window.kindvoiceHistory;
  if (!root || !store) return;

  // the page's language (<html lang>) for dates and day names; its words through tr (app.js)
  const locale = document.documentElement.lang || "en-GB";
  const pad = (n) => String(n).padStart(2, "0");
  const dayKey = (date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const longDay = (date) => date.toLocaleDateString(locale, {
    weekday: "long", day: "numeric", month: "long", year: "numeric",
  });
  const timeOf = (date) => `${pad(date.getHours())}:${pad(date.getMinutes())}`;
  const clock = (seconds) => {
    const total = Math.round(seconds || 0);
    const m = Math.floor(total / 60), s = total % 60;
    return `${m}:${pad(s)}`;
  };
  const el = (tag, props = {}, ...children) => {
    const node = Object.assign(document.createElement(tag), props);
    node.append(...children);
    return node;
  };

  let entries = [];
  let shown = new Date(); // the month on the calendar
  shown.setDate(1);

  function byDay() {
    const days = new Map();
    for (const entry of entries) {
      const key = dayKey(new Date(entry.at));
      if (!days.has(key)) days.set(key, []);
      days.get(key).push(entry);
    }
    return days;
  }

  function calendar(days) {
    const year = shown.getFullYear(), month = shown.getMonth();
    const title = shown.toLocaleDateString(locale, { month: "long", year: "numeric" });
    const table = el("table", { className: "calendar" });
    table.append(el("caption", { className: "sr" }, tr("Days you practised in {month}", { month: title })));
    const head = el("tr");
    for (let i = 0; i < 7; i++) {  // Monday to Sunday (5 January 1970 was a Monday)
      const name = new Date(1970, 0, 5 + i).toLocaleDateString(locale, { weekday: "short" });
      head.append(el("th", { scope: "col" }, name));
    }
    table.append(el("thead", {}, head));
    const body = el("tbody");
    const first = (new Date(year, month, 1).getDay() + 6) % 7; // Monday first
    const count = new Date(year, month + 1, 0).getDate();
    const today = dayKey(new Date());
    let row = el("tr");
    for (let i = 0; i < first; i++) row.append(el("td"));
    for (let day = 1; day <= count; day++) {
      const date = new Date(year, month, day);
      const key = dayKey(date);
      const sessions = days.get(key) || [];
      const cell = el("td", {}, el("span", { className: "day" }, String(day)));
      if (sessions.length) {
        cell.className = "practised";
        cell.dataset.day = key;
        const words = sessions.length === 1 ? tr("one session") : tr("{n} sessions", { n: sessions.length });
        cell.append(el("span", { className: "sr" }, `: ${words}`));
      }
      if (key === today) cell.setAttribute("aria-current", "date");
      row.append(cell);
      if ((first + day) % 7 === 0) { body.append(row); row = el("tr"); }
    }
    if (row.children.length) body.append(row);
    table.append(body);

    const move = (delta) => () => { shown = new Date(year, month + delta, 1); draw(); };
    const nav = el("div", { className: "month" },
      el("button", { type: "button", className: "quiet", onclick: move(-1) }, "‹", el("span", { className: "sr" }, ` ${tr("Earlier month")}`)),
      el("h2", { id: "month-h" }, title),
      el("button", { type: "button", className: "quiet", onclick: move(1) }, "›", el("span", { className: "sr" }, ` ${tr("Later month")}`)));
    return el("section", { className: "month-view" }, nav, table);
  }

  function list(days) {
    const section = el("section", { className: "days" }, el("h2", {}, tr("Sessions and notes")));
    const keys = [...days.keys()].sort().reverse();
    for (const key of keys) {
      const items = el("ul", { className: "entries" });
      for (const entry of days.get(key).sort((a, b) => a.at.localeCompare(b.at))) {
        const item = el("li", {}, el("span", { className: "soft" }, timeOf(new Date(entry.at))), " ",
          entry.title, el("span", { className: "soft" }, ` (${clock(entry.seconds)})`));
        if (entry.note) item.append(el("p", { className: "note" }, entry.note));
        items.append(item);
      }
      section.append(el("h3", {}, longDay(new Date(`${key}T12:00:00`))), items);
    }
    return section;
  }

  function markdown() {
    const days = byDay();
    const lines = [`# ${tr("My practice history")}`, "",
      tr("Kept on my phone with kindvoice; written out on {day}.", { day: longDay(new Date()) })];
    for (const key of [...days.keys()].sort()) {
      lines.push("", `## ${longDay(new Date(`${key}T12:00:00`))}`, "");
      for (const entry of days.get(key).sort((a, b) => a.at.localeCompare(b.at))) {
        lines.push(`- ${timeOf(new Date(entry.at))} · ${entry.title} (${clock(entry.seconds)})`);
        if (entry.note) lines.push(`  - ${entry.note.replace(/\s+/g, " ")}`);
      }
    }
    return `${lines.join("\n")}\n`;
  }

  function download() {
    const blob = new Blob([markdown()], { type: "text/markdown" });
    const link = el("a", { href: URL.createObjectURL(blob), download: "kindvoice-practice-history.md" });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
  }

  function draw() {
    entries = store.load().filter((e) => e && e.at && !Number.isNaN(new Date(e.at).getTime()));
    root.replaceChildren();
    if (!entries.length) {
      root.append(el("p", {}, tr("Nothing here yet. When you listen to a session to the end, it is noted here, with room for a line about what helped. There is nothing to keep up with: each time you come back is enough.")));
      return;
    }
    const days = byDay();
    const since = new Date(entries.map((e) => e.at).sort()[0]);
    const count = entries.length === 1
      ? tr("One session noted since {day}.", { day: longDay(since) })
      : tr("{n} sessions noted since {day}.", { n: entries.length, day: longDay(since) });
    root.append(el("p", { className: "soft" }, `${count} `, tr("However often you come, you are welcome.")));
    root.append(calendar(days), list(days));
    const actions = el("div", { className: "actions" },
      el("button", { type: "button", onclick: download }, tr("Download as Markdown")),
      el("button", {
        type: "button", className: "danger",
        onclick: () => {
          if (!window.confirm(tr("Clear the whole practice history on this phone? This cannot be undone."))) return;
          store.save([]);
          draw();
        },
      }, tr("Clear the history")));
    root.append(actions);
  }

  window.kindvoiceHistoryMarkdown = markdown;
  draw();
})();
