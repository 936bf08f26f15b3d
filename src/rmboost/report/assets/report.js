// rmboost report: the pair and failure browsers, built from the JSON embedded in the page.
// Every text from the data becomes a DOM text node (never innerHTML), so a response holding markup
// or script is shown as text. The word diff runs here, for the cards on screen only.
"use strict";
(function () {
  const DATA = JSON.parse(document.getElementById("report-data").textContent);
  const PAGE_SIZE = 50;
  const MAX_DIFF_CELLS = 4000000; // longer pairs are shown as one change, not diffed word by word
  const NONE = "(none)";

  function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "text") el.textContent = value;
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return el;
  }

  const fmt = (n) => n.toLocaleString("en-US");
  const setName = (row) => DATA.sets[row.s].name;
  const promptOf = (row) => (row.p === null || row.p === undefined ? "" : DATA.prompts[row.p]);

  // --- word diff ------------------------------------------------------------------------
  function tokenize(text) {
    const tokens = [];
    const re = /(\s*)(\S+)/g;
    let m;
    let end = 0;
    while ((m = re.exec(text)) !== null) {
      tokens.push({ ws: m[1], w: m[2] });
      end = re.lastIndex;
    }
    return { tokens, tail: text.slice(end) };
  }

  // Which words of a and of b are outside a longest common subsequence of words.
  function diffWords(a, b) {
    const aChanged = new Array(a.length).fill(false);
    const bChanged = new Array(b.length).fill(false);
    let pre = 0;
    while (pre < a.length && pre < b.length && a[pre] === b[pre]) pre++;
    let suf = 0;
    while (suf < a.length - pre && suf < b.length - pre && a[a.length - 1 - suf] === b[b.length - 1 - suf]) suf++;
    const n = a.length - pre - suf;
    const m = b.length - pre - suf;
    if (n * m > MAX_DIFF_CELLS) {
      for (let i = 0; i < n; i++) aChanged[pre + i] = true;
      for (let j = 0; j < m; j++) bChanged[pre + j] = true;
      return { aChanged, bChanged, approximate: true };
    }
    const w = m + 1;
    const L = new Uint16Array((n + 1) * w); // L[i*w+j]: LCS length of a[pre+i..] and b[pre+j..]
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        L[i * w + j] = a[pre + i] === b[pre + j] ? L[(i + 1) * w + j + 1] + 1
          : Math.max(L[(i + 1) * w + j], L[i * w + j + 1]);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n && j < m) {
      if (a[pre + i] === b[pre + j]) { i++; j++; }
      else if (L[(i + 1) * w + j] >= L[i * w + j + 1]) aChanged[pre + i++] = true;
      else bChanged[pre + j++] = true;
    }
    while (i < n) aChanged[pre + i++] = true;
    while (j < m) bChanged[pre + j++] = true;
    return { aChanged, bChanged, approximate: false };
  }

  // The text with its changed words wrapped in <del> or <ins>, runs of them in one element.
  function marked(parsed, changed, tagName) {
    const out = document.createDocumentFragment();
    let run = null;
    parsed.tokens.forEach((t, k) => {
      if (!changed[k]) {
        run = null;
        out.append(t.ws + t.w);
        return;
      }
      if (run === null) {
        out.append(t.ws);
        run = h(tagName, { class: tagName === "del" ? "deleted" : "inserted" });
        out.append(run);
        run.append(t.w);
      } else {
        run.append(t.ws + t.w);
      }
    });
    out.append(parsed.tail);
    return out;
  }

  // --- pair cards -----------------------------------------------------------------------
  function lastLine(text) {
    const lines = text.split("\n").map((l) => l.trim()).filter((l) => l);
    const line = lines.length ? lines[lines.length - 1] : "";
    return line.length > 220 ? line.slice(0, 219) + "…" : line;
  }

  function side(title, sub, body, cls) {
    return h("div", { class: "side " + cls }, h("h4", {}, title, sub ? h("small", {}, " " + sub) : null),
      h("div", { class: "text" }, body));
  }

  function sides(row) {
    if (!row.y1) {
      return [h("div", { class: "sides" }, side("chosen", "", row.c, "chosen"), side("rejected", "", row.r, "rejected")), null];
    }
    const y1 = row.y1 === "chosen" ? row.c : row.r;
    const y2 = row.y1 === "chosen" ? row.r : row.c;
    const p1 = tokenize(y1);
    const p2 = tokenize(y2);
    const d = diffWords(p1.tokens.map((t) => t.w), p2.tokens.map((t) => t.w));
    const del = marked(p1, d.aChanged, "del");
    const ins = marked(p2, d.bChanged, "ins");
    const y1Side = ["y1, the original", "struck out: words the rewrite deleted"];
    const y2Side = ["y2, the rewrite", "highlighted: words it inserted"];
    const chosen = row.y1 === "chosen" ? side("chosen · " + y1Side[0], y1Side[1], del, "chosen")
      : side("chosen · " + y2Side[0], y2Side[1], ins, "chosen");
    const rejected = row.y1 === "chosen" ? side("rejected · " + y2Side[0], y2Side[1], ins, "rejected")
      : side("rejected · " + y1Side[0], y1Side[1], del, "rejected");
    const nDel = d.aChanged.filter(Boolean).length;
    const nIns = d.bChanged.filter(Boolean).length;
    const stats = h("p", { class: "diff-stats" }, `The rewrite kept ${fmt(p1.tokens.length - nDel)} of ` +
      `${fmt(p1.tokens.length)} words, deleted ${fmt(nDel)} and inserted ${fmt(nIns)}` +
      (d.approximate ? " (too long to diff word by word: shown as one change)." : "."));
    return [h("div", { class: "sides diffed" }, chosen, rejected), stats];
  }

  function chip(text, cls) {
    return h("span", { class: "chip " + (cls || "") }, text);
  }

  function pairCard(row) {
    const prompt = promptOf(row);
    const [body, stats] = sides(row);
    const meta = h("header", {}, h("strong", {}, setName(row)), chip(row.m || "no method", "method"),
      row.l ? chip(row.l, "label label-" + row.l.toLowerCase()) : null,
      row.t ? chip(row.t, "task") : null, ...row.a.map((a) => chip(a, "aspect")),
      h("code", { class: "id" }, row.id));
    return h("article", { class: "pair card", "data-id": row.id, "data-set": setName(row) }, meta,
      h("details", { class: "prompt" }, h("summary", {}, h("b", {}, "prompt "), lastLine(prompt)),
        h("pre", {}, prompt)),
      body, stats,
      row.x ? h("details", { class: "extra" }, h("summary", {}, "other columns"), h("pre", {}, row.x)) : null);
  }

  function failureCard(row) {
    const meta = h("header", {}, h("strong", {}, setName(row)), chip(row.m || "no method", "method"),
      chip("stage: " + row.st, "stage"), h("span", { class: "reason" }, row.rs),
      row.at !== null && row.at !== undefined ? chip("attempts: " + row.at, "attempts") : null,
      row.rt ? chip("retryable", "retryable") : null, h("code", { class: "id" }, row.id));
    return h("article", { class: "failure card", "data-id": row.id, "data-set": setName(row) }, meta,
      row.raw !== null ? h("div", { class: "raw" }, h("h4", {}, "raw text of the answer"), h("pre", {}, row.raw)) : null,
      row.d ? h("details", { class: "extra" }, h("summary", {}, "detail"), h("pre", {}, row.d)) : null,
      row.p !== null ? h("details", { class: "prompt" }, h("summary", {}, h("b", {}, "prompt "), lastLine(promptOf(row))),
        h("pre", {}, promptOf(row))) : null);
  }

  // --- a filtered, paged list -----------------------------------------------------------
  function fillSelect(select, values) {
    const counts = new Map();
    values.flat().forEach((v) => counts.set(v, (counts.get(v) || 0) + 1));
    select.append(h("option", { value: "" }, `all (${counts.size})`));
    [...counts.keys()].sort().forEach((v) => select.append(h("option", { value: v }, `${v} (${fmt(counts.get(v))})`)));
    if (counts.size <= 1) select.closest("label").classList.add("single");
  }

  function browser(cfg) {
    const state = { page: 0, matches: cfg.rows };
    const hay = new Map();
    const haystack = (row) => {
      if (!hay.has(row)) hay.set(row, cfg.text(row).toLowerCase());
      return hay.get(row);
    };
    cfg.filters.forEach(([id, key]) => fillSelect(document.getElementById(id), cfg.rows.map(key)));
    const search = document.getElementById(cfg.search);

    function apply() {
      const chosen = cfg.filters.map(([id, key]) => [document.getElementById(id).value, key]).filter(([v]) => v);
      const words = search.value.toLowerCase().split(/\s+/).filter((w) => w);
      state.matches = cfg.rows.filter((row) => chosen.every(([v, key]) => [key(row)].flat().includes(v)) &&
        words.every((w) => haystack(row).includes(w) || (cfg.prompt && cfg.prompt(row).includes(w))));
      state.page = 0;
      render();
    }

    function pager(el) {
      el.replaceChildren();
      const pages = Math.ceil(state.matches.length / PAGE_SIZE);
      if (pages <= 1) return;
      const go = (p) => () => { state.page = p; render(); el.closest("section").scrollIntoView(); };
      el.append(h("button", { type: "button", disabled: state.page === 0, onclick: go(state.page - 1) }, "‹ previous"),
        ` page ${state.page + 1} of ${pages} `,
        h("button", { type: "button", disabled: state.page >= pages - 1, onclick: go(state.page + 1) }, "next ›"));
    }

    function render() {
      const n = state.matches.length;
      const count = document.getElementById(cfg.count);
      count.dataset.count = String(n);
      count.dataset.state = "ready"; // "filtering" while a change waits for its debounce
      count.textContent = n === cfg.rows.length ? `${fmt(n)} ${cfg.noun}` : `${fmt(n)} of ${fmt(cfg.rows.length)} ${cfg.noun} match`;
      const start = state.page * PAGE_SIZE;
      document.getElementById(cfg.list).replaceChildren(...state.matches.slice(start, start + PAGE_SIZE).map(cfg.card));
      cfg.pagers.forEach((id) => pager(document.getElementById(id)));
    }

    let timer = null;
    const pending = () => { document.getElementById(cfg.count).dataset.state = "filtering"; };
    document.getElementById(cfg.form).addEventListener("input", () => {
      pending();
      clearTimeout(timer);
      timer = setTimeout(apply, 120);
    });
    document.getElementById(cfg.form).addEventListener("reset", () => { pending(); setTimeout(apply, 0); });
    document.getElementById(cfg.form).addEventListener("submit", (e) => e.preventDefault());
    render();
  }

  const promptHay = new Map();
  const promptLower = (row) => {
    if (!promptHay.has(row.p)) promptHay.set(row.p, promptOf(row).toLowerCase());
    return promptHay.get(row.p);
  };

  // --- page -----------------------------------------------------------------------------
  function setupTabs() {
    const buttons = document.querySelectorAll("nav.tabs button");
    buttons.forEach((b) => b.addEventListener("click", () => {
      buttons.forEach((o) => o.setAttribute("aria-selected", String(o === b)));
      document.querySelectorAll("section.tab").forEach((s) => { s.hidden = s.id !== "tab-" + b.dataset.tab; });
    }));
  }

  function setupHeader() {
    const notes = document.getElementById("notes");
    DATA.notes.forEach((n) => notes.append(h("p", { class: "banner" }, n)));
    document.getElementById("totals").textContent = `· ${fmt(DATA.pairs.length)} pairs and ` +
      `${fmt(DATA.failures.length)} failures in ${DATA.sets.length} set${DATA.sets.length === 1 ? "" : "s"}`;
    document.getElementById("tab-pairs-count").textContent = fmt(DATA.pairs.length);
    document.getElementById("tab-failures-count").textContent = fmt(DATA.failures.length);
  }

  setupTabs();
  setupHeader();
  browser({
    rows: DATA.pairs, noun: "pairs", form: "pair-filters", search: "f-search", count: "pair-count",
    list: "pair-list", pagers: ["pair-pager", "pair-pager-bottom"], card: pairCard,
    filters: [["f-set", setName], ["f-method", (r) => r.m || NONE], ["f-label", (r) => r.l || NONE],
      ["f-aspect", (r) => (r.a.length ? r.a : [NONE])], ["f-task", (r) => r.t || NONE]],
    text: (r) => [r.id, r.c, r.r].join("\n"), prompt: promptLower,
  });
  browser({
    rows: DATA.failures, noun: "failures", form: "failure-filters", search: "ff-search", count: "failure-count",
    list: "failure-list", pagers: ["failure-pager", "failure-pager-bottom"], card: failureCard,
    filters: [["ff-set", setName], ["ff-method", (r) => r.m || NONE], ["ff-stage", (r) => r.st],
      ["ff-reason", (r) => r.rs]],
    text: (r) => [r.id, r.st, r.rs, r.raw || "", r.d || ""].join("\n"), prompt: promptLower,
  });
})();
