// The what-if page: look up the chosen setting's stored figures and draw them. Nothing is
// computed from neighbouring settings (no interpolation); only differences to the pinned one.
"use strict";
(function () {
  const D = JSON.parse(document.getElementById("whatif-data").textContent);
  const UI = D.ui;
  const COLORS = ["#1f5fbf", "#d9822b", "#2e9e5b", "#b3261e", "#7b4fb8", "#5b6775", "#c0488e"];
  const PIN_COLOR = "#8a94a3";
  const esc = s => String(s).replace(/[&<>"]/g, c => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;",
                                                         '"': "&quot;" }[c]));
  const fill = (s, v) => s.replace(/\{(\w+)\}/g, (_, k) => (k in v ? v[k] : "{" + k + "}"));
  // a message with a plural form (KEY_one, KEY_other: English and German use the singular
  // for 1 only), its {n} and any other placeholders filled
  const plural = (key, n, v) => fill(UI[`${key}_${n === 1 ? "one" : "other"}`],
                                     Object.assign({ n }, v || {}));
  const el = (tag, attrs, text) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  };
  // the time axis as milliseconds (a date axis reads them as UTC, i.e. as written): numbers
  // spare plotly parsing a date string per point and trace at every update
  const DAY = Date.UTC(2021, 0, 13);
  const X = Array.from({ length: D.nt }, (_, i) => DAY + (D.t0 + i * D.dt) * 1000);
  const expand = s => (typeof s === "number" ? new Array(D.nt).fill(s) : s);

  const idx = D.levers.map(() => 0);
  let pinned = null;
  const flat = ix => ix.reduce((acc, v, j) => acc * D.shape[j] + v, 0);
  const pointAt = ix => D.points[flat(ix)];
  const settingText = ix =>
    D.levers.map((lv, j) => `${lv.label}: ${lv.value_labels[ix[j]]}`).join(" · ");

  // ------------------------------------------------------------------ controls
  const controls = document.getElementById("controls");
  const outputs = [], hints = [], inputs = [];
  D.levers.forEach((lv, j) => {
    const box = el("div", { class: "lever", "data-lever": lv.path });
    const id = "lever-" + j;
    box.appendChild(el("label", { for: id }, lv.label));
    let input;
    if (lv.control === "slider") {
      input = el("input", { type: "range", id, min: 0, max: lv.values.length - 1, step: 1,
                            value: 0, "aria-valuetext": lv.value_labels[0] });
    } else {
      input = el("select", { id });
      lv.value_labels.forEach((t, i) => input.appendChild(el("option", { value: i }, t)));
    }
    const out = el("output", { for: id }, lv.value_labels[0]);
    const hint = el("div", { class: "hint" });
    input.addEventListener("input", () => { idx[j] = Number(input.value); update(); });
    box.append(input, " ", out, hint);
    controls.appendChild(box);
    inputs.push(input); outputs.push(out); hints.push(hint);
  });

  document.getElementById("pin").addEventListener("click", () => {
    pinned = pinned ? null : idx.slice();
    update();
  });

  // ------------------------------------------------------------------ formatting
  // differences only (every value shown is formatted by the report's Babel formats in
  // Python); the same locale, so "1.234,5" on a German page
  const numFmt = {};
  const fmtNum = (x, digits) => (numFmt[digits] = numFmt[digits] || new Intl.NumberFormat(
    D.locale, { minimumFractionDigits: digits, maximumFractionDigits: digits })).format(x);
  const signed = (d, text) => (d > 0 ? "+" : d < 0 ? "−" : "±") + text;
  function fmtDiff(k, d) {
    const f = k === "cost_eur" ? { digits: 0, pct: false, suffix: "\u202f€" }
                               : D.kpis.find(x => x.key === k).fmt;
    const a = Math.abs(d);
    return signed(d, f.pct ? fmtNum(a * 100, f.digits) + "\u202f" + UI.pp
                           : fmtNum(a, f.digits) + f.suffix);
  }

  function verdictHtml(p, prefix) {
    if (!p) return "";
    if (p.verdict === null) return `<p class=warn>${prefix}${esc(UI.verdict_unknown)}</p>`;
    const how = p.ci_used ? UI.verdict_ci : plural("verdict_means", p.n);
    return p.verdict
      ? `<p class=ok data-verdict=met>${prefix}${esc(UI.verdict_met)}${esc(how)}: ` +
        `${esc(D.target)}.</p>`
      : `<p class=warn data-verdict=not-met>${prefix}<b>${esc(UI.verdict_not_met)}</b>${esc(how)} ` +
        `(${esc(D.target)}). ${esc(fill(UI.misses, { what: p.misses.join("; ") }))}</p>`;
  }

  // ------------------------------------------------------------------ key figures
  const kpiBox = document.getElementById("kpis");
  const cards = {};
  const cardKeys = [...D.kpis, { key: "cost_eur", label: UI.cost_card }];
  cardKeys.forEach(k => {
    const c = el("div", { class: "kpi", "data-kpi": k.key });
    const v = el("div", { class: "v" });
    const ci = el("div", { class: "ci" });
    const pin = el("div", { class: "pin" });
    c.append(v, ci, el("div", { class: "l" }, k.label), pin);
    kpiBox.appendChild(c);
    cards[k.key] = { c, v, ci, pin };
  });

  function showKpis(p, q) {
    D.kpis.forEach(k => {
      const card = cards[k.key];
      const x = p && p.kpis[k.key];
      card.v.textContent = x ? x.t[0] : "–";
      card.c.dataset.value = x ? String(x.v[0]) : "";
      card.ci.textContent = !x ? "" : x.meaningful
        ? fill(UI.ci, { range: `${x.t[1]} – ${x.t[2]}` }) : plural("ci_not_meaningful", x.n);
      const y = q && q.kpis[k.key];
      card.pin.textContent = x && y ? fill(UI.pinned_value, { value: y.t[0],
                                                              diff: fmtDiff(k.key, x.v[0] - y.v[0]) })
                                    : "";
      card.c.dataset.pinned = y ? String(y.v[0]) : "";
    });
    // the cost card: the setting as configured, priced (or why it cannot be)
    const card = cards.cost_eur;
    const c = p && p.cost, d = q && q.cost;
    const has = z => z && z.v !== undefined;
    card.v.textContent = has(c) ? c.t : "–";
    card.c.dataset.value = has(c) ? String(c.v) : "";
    card.ci.textContent = c && !has(c) ? fill(UI.cost_missing, { why: c.missing }) : "";
    card.pin.textContent = has(c) && has(d)
      ? fill(UI.pinned_value, { value: d.t, diff: fmtDiff("cost_eur", c.v - d.v) })
      : d && !has(d) ? fill(UI.cost_missing, { why: d.missing }) : "";
    card.c.dataset.pinned = has(d) ? String(d.v) : "";
  }

  function showHints() {
    D.levers.forEach((lv, j) => {
      if (lv.values.length < 2) { hints[j].textContent = ""; return; }
      const ok = lv.values.map((_, i) => {
        const ix = idx.slice(); ix[j] = i;
        const p = pointAt(ix);
        return p && p.verdict === true;
      });
      const at = lv.value_labels.filter((_, i) => ok[i]);
      hints[j].replaceChildren();
      if (!at.length) { hints[j].textContent = UI.meets_nowhere; return; }
      // a slider's values are ordered: name the smallest that meets the target, the sizing
      // answer a planner asks for ("how many nodes do we need if …")
      // (as the sweep report sizes: the smallest value from which every larger one meets it)
      let from = ok.length;
      while (from > 0 && ok[from - 1]) from--;
      const ascending = lv.values.every((v, i) => i === 0 || v > lv.values[i - 1]);
      if (lv.control === "slider" && ascending && from < ok.length) {
        hints[j].appendChild(el("b", { class: "answer" },
                                fill(UI.meets_from, { value: lv.value_labels[from] })));
        hints[j].appendChild(el("br"));
      }
      hints[j].appendChild(document.createTextNode(fill(UI.meets_at, { values: at.join(", ") })));
    });
  }

  // lost minutes by cause (the runs' direct accounting), shown and pinned side by side
  function showLost(p, q) {
    const box = document.getElementById("lost");
    const a = p && p.causes, b = q && q.causes;
    if (p && !a) { box.replaceChildren(el("p", { class: "warn" }, UI.no_attribution)); return; }
    const keys = [...new Set([...Object.keys((a && a.rows) || {}),
                             ...Object.keys((b && b.rows) || {})])];
    if (!keys.length) { box.replaceChildren(el("p", { class: "muted" }, p ? UI.nothing_lost : ""));
                        return; }
    const iv = z => (z && z.n < 3 ? fill(UI.interval_few, { n: z.n }) : UI.interval);
    const t = el("table", { class: "causes" });
    const h1 = el("tr");
    h1.appendChild(el("th", {}, UI.cause));
    [UI.minutes, UI.share, iv(a)].forEach(x => h1.appendChild(el("th", { class: "num" }, x)));
    if (q) [UI.pinned + ": " + UI.minutes, UI.pinned + ": " + UI.share, iv(b)]
      .forEach(x => h1.appendChild(el("th", { class: "num pinned" }, x)));
    t.appendChild(h1);
    const cells = (r, x) => {
      const share = x ? x.v[1] : 0;
      const bar = el("span", { class: "bar", style: `width:${Math.max(0, Math.min(1, share)) * 100}%` });
      const sh = el("td", { class: "num share" });
      sh.append(el("span", {}, x ? x.t[1] : "–"), el("span", { class: "barbox" }));
      sh.lastChild.appendChild(bar);
      r.append(el("td", { class: "num", "data-minutes": x ? String(x.v[0]) : "0" }, x ? x.t[0] : "–"),
               sh, el("td", { class: "num" }, x ? x.t[2] : "–"));
    };
    keys.forEach(k => {
      const r = el("tr", { "data-cause": k });
      r.appendChild(el("td", {}, D.causes[k] || k));
      cells(r, a && a.rows[k]);
      if (q) cells(r, b && b.rows[k]);
      t.appendChild(r);
    });
    box.replaceChildren(t);
  }

  function showCost(p, q) {
    const box = document.getElementById("cost");
    const c = p && p.cost;
    if (!c) { box.replaceChildren(); return; }
    if (c.v === undefined) {
      box.replaceChildren(el("p", { class: "warn" }, fill(UI.cost_missing, { why: c.missing })));
      return;
    }
    const t = el("table", { class: "cost" });
    const head = el("tr");
    [UI.item, UI.quantity, UI.eur_each, UI.eur].forEach((x, i) =>
      head.appendChild(el("th", i ? { class: "num" } : {}, x)));
    t.appendChild(head);
    const d = q && q.cost && q.cost.v !== undefined ? q.cost : null;
    [...c.items, [UI.total, "", "", c.t]].forEach((it, i) => {
      const r = el("tr", i === c.items.length ? { class: "total" } : {});
      it.forEach((x, j) => r.appendChild(el("td", j ? { class: "num" } : {}, x)));
      t.appendChild(r);
    });
    if (d) {
      const r = el("tr", { class: "pinned" });
      r.append(el("td", {}, `${UI.pinned}: ${UI.total}`), el("td"), el("td"),
               el("td", { class: "num" }, `${d.t} (${fmtDiff("cost_eur", c.v - d.v)})`));
      t.appendChild(r);
    }
    box.replaceChildren(t);
  }

  // ------------------------------------------------------------------ charts
  const cfg = { displaylogo: false, responsive: true };
  const baseLayout = (title2) => ({
    height: 380, margin: { t: 20, r: title2 ? 70 : 20, b: 50, l: 70 },
    // "allow": by default plotly measures every tick label after each redraw to hide those
    // past the div (a quarter of a control move's time, profiled); ours never reach it
    xaxis: { type: "date", tickformat: "%H:%M", hoverformat: "%H:%M", title: UI.time_axis,
             ticklabeloverflow: "allow" },
    legend: { orientation: "h", y: -0.22 }, hovermode: "x unified",
    separators: D.separators,
  });

  function capacityTraces(p, q) {
    const tr = [];
    const add = (z, pin) => {
      if (!z || !z.series) return;
      D.clusters.forEach((c, i) => {
        const col = pin ? PIN_COLOR : COLORS[i % COLORS.length];
        const pre = pin ? UI.pinned_prefix : "";
        tr.push({ x: X, y: expand(z.series.participants[i]), mode: "lines", type: "scatter",
                  name: pre + fill(UI.participants_of, { cluster: D.cluster_labels[i] }),
                  line: { color: col, width: pin ? 1.5 : 2, dash: pin ? "dot" : "solid" } });
        tr.push({ x: X, y: expand(z.series.capacity[i]), mode: "lines", type: "scatter",
                  name: pre + fill(UI.capacity_of, { cluster: D.cluster_labels[i] }),
                  line: { color: col, width: 1, dash: pin ? "dashdot" : "dash", shape: "hv" } });
      });
    };
    add(p, false); add(q, true);
    return tr;
  }

  function failureTraces(p, q) {
    const tr = [];
    const add = (z, pin) => {
      if (!z || !z.series) return;
      const pre = pin ? UI.pinned_prefix : "";
      D.failed.forEach((c, i) => {
        const s = z.series.failed[i];
        // a cause that never occurred at this setting stays in the legend, not drawn: the
        // same traces at every setting let Plotly.react update instead of redrawing
        tr.push({ x: X, y: expand(s), mode: "lines", type: "scatter", name: pre + c.label,
                  visible: s === 0 ? "legendonly" : true,
                  line: { color: pin ? PIN_COLOR : COLORS[(i + 1) % COLORS.length],
                          width: pin ? 1.2 : 1.6, dash: pin ? "dot" : "solid" } });
      });
      tr.push({ x: X, y: expand(z.series.trying), mode: "lines", type: "scatter",
                name: pre + UI.trying, yaxis: "y2",
                line: { color: pin ? PIN_COLOR : "#1d2733", width: 2, dash: pin ? "dot" : "dash" } });
    };
    add(p, false); add(q, true);
    return tr;
  }

  const capDiv = document.getElementById("chart-capacity");
  const failDiv = document.getElementById("chart-failures");
  const capLayout = Object.assign(baseLayout(false), { yaxis: { title: UI.capacity_axis,
    rangemode: "tozero", ticklabeloverflow: "allow" } });
  const failLayout = Object.assign(baseLayout(true), {
    yaxis: { title: UI.failures_axis, rangemode: "tozero", ticklabeloverflow: "allow" },
    yaxis2: { title: UI.trying_axis, overlaying: "y", side: "right", rangemode: "tozero",
              showgrid: false, ticklabeloverflow: "allow" },
  });

  // ------------------------------------------------------------------ update
  let updates = 0;
  function update() {
    const p = pointAt(idx);
    const q = pinned ? pointAt(pinned) : null;
    D.levers.forEach((lv, j) => {
      outputs[j].textContent = lv.value_labels[idx[j]];
      inputs[j].setAttribute("aria-valuetext", lv.value_labels[idx[j]]);
    });
    // the message is set only for a setting without runs (never in the page's static text,
    // which a reader without scripts would see under every setting)
    const missing = document.getElementById("missing");
    missing.hidden = !!p;
    missing.textContent = p ? "" : UI.not_simulated;
    document.getElementById("ci-note").hidden = !p || p.ci_used;
    document.getElementById("verdict").innerHTML = verdictHtml(p, `<b>${esc(UI.current)}:</b> `);
    document.getElementById("verdict-pinned").innerHTML =
      q ? verdictHtml(q, `<b>${esc(UI.pinned)}:</b> `) : "";
    document.getElementById("pinned").textContent =
      pinned ? `${UI.pinned}: ${settingText(pinned)}` : UI.pinned_none;
    document.getElementById("pin").textContent = pinned ? UI.unpin : UI.pin;
    showKpis(p, q);
    showHints();
    showLost(p, q);
    showCost(p, q);
    const n = ++updates;
    document.body.dataset.point = String(flat(idx));
    return Promise.all([
      Plotly.react(capDiv, capacityTraces(p, q), capLayout, cfg),
      Plotly.react(failDiv, failureTraces(p, q), failLayout, cfg),
    ]).then(() => { document.body.dataset.drawn = String(n); });
  }

  document.getElementById("cost-note").textContent =
    D.unpriced.length ? fill(UI.cost_unpriced, { levers: D.unpriced.join(", ") }) : "";
  document.getElementById("about").textContent = plural("about_text", D.replications, {
    points: D.points.filter(Boolean).length,
    base: D.scenario || D.base_config, scale: D.scale === null ? "–" : D.scale,
    target: D.target, version: D.version, when: D.built,
  });
  window.whatif = { data: D, update, select: (j, i) => { inputs[j].value = i; idx[j] = i; } };
  update();
})();
