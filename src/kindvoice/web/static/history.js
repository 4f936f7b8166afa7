// kindvoice: the practice history page (/history), drawn from this browser's own storage
// (static/pwa.js writes it when a session is listened to the end). A calm month calendar,
// the sessions and notes by day, a Markdown download. Nothing is sent anywhere.
"use strict";

(function historyPage() {
  const root = document.querySelector("[data-history]");
  const store = window.kindvoiceHistory;
  if (!root || !store) return;

  const pad = (n) => String(n).padStart(2, "0");
  const dayKey = (date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const longDay = (date) => date.toLocaleDateString("en-GB", {
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
    const title = shown.toLocaleDateString("en-GB", { month: "long", year: "numeric" });
    const table = el("table", { className: "calendar" });
    table.append(el("caption", { className: "sr" }, `Days you practised in ${title}`));
    const head = el("tr");
    for (const name of ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]) head.append(el("th", { scope: "col" }, name));
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
        const words = sessions.length === 1 ? "one session" : `${sessions.length} sessions`;
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
      el("button", { type: "button", className: "quiet", onclick: move(-1) }, "‹", el("span", { className: "sr" }, " Earlier month")),
      el("h2", { id: "month-h" }, title),
      el("button", { type: "button", className: "quiet", onclick: move(1) }, "›", el("span", { className: "sr" }, " Later month")));
    return el("section", { className: "month-view" }, nav, table);
  }

  function list(days) {
    const section = el("section", { className: "days" }, el("h2", {}, "Sessions and notes"));
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
    const lines = ["# My practice history", "",
      `Kept on my phone with kindvoice; written out on ${longDay(new Date())}.`];
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
      root.append(el("p", {}, "Nothing here yet. When you listen to a session to the end, it is noted here, ",
        "with room for a line about what helped. There is nothing to keep up with: ",
        "each time you come back is enough."));
      return;
    }
    const days = byDay();
    const since = new Date(entries.map((e) => e.at).sort()[0]);
    const count = entries.length === 1 ? "One session" : `${entries.length} sessions`;
    root.append(el("p", { className: "soft" }, `${count} noted since ${longDay(since)}. `,
      "However often you come, you are welcome."));
    root.append(calendar(days), list(days));
    const actions = el("div", { className: "actions" },
      el("button", { type: "button", onclick: download }, "Download as Markdown"),
      el("button", {
        type: "button", className: "danger",
        onclick: () => {
          if (!window.confirm("Clear the whole practice history on this phone? This cannot be undone.")) return;
          store.save([]);
          draw();
        },
      }, "Clear the history"));
    root.append(actions);
  }

  window.kindvoiceHistoryMarkdown = markdown;
  draw();
})();
