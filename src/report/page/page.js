// electsim run page: draws the run embedded in #run-data as a space-time diagram.
// Hand-written, no library, no network. View state (window, cursor) lives in the URL fragment.
"use strict";
const D = JSON.parse(document.getElementById("run-data").textContent);
const $ = (id) => document.getElementById(id);
const svg = $("diagram");
const ROLE = { down: "#464646", follower: "#9ebee6", pre_candidate: "#fadc78", candidate: "#f08c28", leader: "#1e8c3c", service: "#c8c8c8" };
const SIDE = ["rgba(60,120,220,0.22)", "rgba(230,140,20,0.26)", "rgba(40,170,90,0.24)", "rgba(170,60,190,0.22)"];
const KIND = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#ff7f0e"];
const LABEL_W = 92, TOP = 34, LANE_H = 30, DRAW_LIMIT = 4000;
const view = { from: 0, to: D.end, cursor: null, selected: null };
const hidden = { kind: new Set(), cls: new Set() };

const esc = (s) => String(s).replace(/[&<>"]/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;" })[c]);
function fmt(t) {
  if (D.unit === "step") return "step " + (t / 1e6).toFixed(t % 1e6 ? 2 : 0);
  const a = Math.abs(t);
  if (a >= 1e9) return (t / 1e9).toFixed(6).replace(/\.?0+$/, "") + " s";
  if (a >= 1e6) return (t / 1e6).toFixed(3).replace(/\.?0+$/, "") + " ms";
  if (a >= 1e3) return (t / 1e3).toFixed(3).replace(/\.?0+$/, "") + " µs";
  return t + " ns";
}
const width = () => Math.max(400, svg.clientWidth || 1000);
const x = (t) => LABEL_W + ((t - view.from) / (view.to - view.from)) * (width() - LABEL_W - 12);
const tAt = (px) => view.from + ((px - LABEL_W) / (width() - LABEL_W - 12)) * (view.to - view.from);
const y = (lane) => TOP + lane * LANE_H + LANE_H / 2;
const inView = (s, e) => e >= view.from && s <= view.to;
const clip = (px) => Math.max(LABEL_W, Math.min(width(), px));

function setWindow(from, to) {
  const span = Math.max(2, Math.min(to - from, D.end));
  from = Math.max(0, Math.min(from, D.end - span));
  view.from = Math.round(from);
  view.to = Math.round(from + span);
  render();
}
function zoom(factor, at) {
  const c = at === undefined ? (view.from + view.to) / 2 : at;
  setWindow(c - (c - view.from) * factor, c + (view.to - c) * factor);
}
const pan = (frac) => { const s = view.to - view.from; setWindow(view.from + s * frac, view.to + s * frac); };

function ticks() {
  const span = view.to - view.from, raw = span / 8, p = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * p).find((s) => s >= raw);
  let out = "";
  for (let t = Math.ceil(view.from / step) * step; t <= view.to; t += step) {
    out += `<line x1="${x(t)}" x2="${x(t)}" y1="${TOP - 6}" y2="${TOP + D.lanes.length * LANE_H}" stroke="#eee"/>` +
      `<text class="tick" x="${x(t) + 2}" y="${TOP - 10}">${fmt(t)}</text>`;
  }
  return out;
}

function netFaults() {
  let out = "";
  const bottom = TOP + D.lanes.length * LANE_H;
  D.net.forEach((f, i) => {
    if (!inView(f.start, f.end)) return;
    const x0 = clip(x(f.start)), x1 = Math.max(x0 + 2, clip(x(f.end)));
    f.sides.forEach((side, k) => side.forEach((n) => {
      out += `<rect class="side" data-side="${k}" x="${x0}" width="${x1 - x0}" y="${y(n) - LANE_H / 2}" height="${LANE_H}" fill="${SIDE[k % SIDE.length]}"/>`;
    }));
    for (const [a, b] of f.links) {
      const lanes = a === b ? [a] : [a, b];
      for (const n of lanes) out += `<rect x="${x0}" width="${x1 - x0}" y="${y(n) - LANE_H / 2}" height="${LANE_H}" fill="rgba(255,200,0,0.22)"/>`;
    }
    out += `<line x1="${x0}" x2="${x0}" y1="${TOP}" y2="${bottom}" stroke="#b08d00" stroke-dasharray="4 3"/>` +
      `<text class="net-label" data-r="${f.record}" x="${x0 + 3}" y="${bottom + 12 + 12 * (i % 3)}">${esc(f.what)}</text>`;
  });
  for (const [t, what, r] of D.link_changes) {
    if (!inView(t, t)) continue;
    out += `<line data-r="${r}" x1="${x(t)}" x2="${x(t)}" y1="${TOP}" y2="${bottom}" stroke="#b08d00" stroke-width="2" stroke-dasharray="1 3"/>` +
      `<text class="net-label" data-r="${r}" x="${x(t) + 3}" y="${bottom + 48}">${esc(what)}</text>`;
  }
  return out;
}

function lanes() {
  let out = "";
  D.lanes.forEach((l, n) => {
    out += `<g class="lane" data-lane="${n}"><line x1="${LABEL_W}" x2="${width()}" y1="${y(n)}" y2="${y(n)}" stroke="#ddd"/>` +
      `<text class="lane-label" x="4" y="${y(n) + 4}">${esc(l.label)}</text></g>`;
  });
  for (const [n, s, e, role, term, leader, r] of D.segments) {
    if (!inView(s, e)) continue;
    const x0 = clip(x(s)), x1 = clip(x(e)), w = Math.max(1, x1 - x0);
    const tip = `node ${n}: ${role}, term ${term}, leader ${leader === null ? "none" : leader} (${fmt(s)} – ${fmt(e)})`;
    out += `<rect class="seg" data-r="${r}" x="${x0}" width="${w}" y="${y(n) - 9}" height="18" fill="${ROLE[role] || "#999"}"><title>${esc(tip)}</title></rect>`;
    if (w > 56 && role !== "down") out += `<text class="seg-label" x="${x0 + 3}" y="${y(n) + 4}">t${term}${leader === null ? "" : " L" + leader}</text>`;
  }
  for (const [n, s, e] of D.pauses) {
    if (inView(s, e)) out += `<rect x="${clip(x(s))}" width="${Math.max(2, clip(x(e)) - clip(x(s)))}" y="${y(n) - 11}" height="22" fill="rgba(140,40,170,0.5)"><title>paused ${fmt(s)} – ${fmt(e)}</title></rect>`;
  }
  const glyph = { crash: ["✕", "#d00"], restart: ["↻", "#060"], pause: ["⏸", "#8c28aa"], resume: ["▶", "#8c28aa"], elected: ["▼", "#000"] };
  for (const [n, t, what, r] of D.marks) {
    if (!inView(t, t)) continue;
    const [g, c] = glyph[what];
    out += `<text class="mark" data-mark="${what}" data-r="${r}" x="${x(t) - 5}" y="${y(n) - (what === "elected" ? 10 : -5)}" fill="${c}" font-size="13">${g}<title>${what} node ${n} at ${fmt(t)}</title></text>`;
  }
  return out;
}

function arrows() {
  const vis = D.arrows.filter((a) => inView(a[5], a[6]) && !hidden.kind.has(a[3]) && !hidden.cls.has(a[4]));
  if (vis.length > DRAW_LIMIT) return [density(), vis.length];
  let out = "";
  for (const [r, from, to, kind, cls, s, e, how, er] of vis) {
    const c = KIND[kind % KIND.length], x0 = x(s), x1 = x(e), y0 = y(from), y1 = y(to);
    const tip = `${D.kinds[kind]} ${from}→${to} (${D.classes[cls]}) sent ${fmt(s)}, ${how || "in flight at the end"} ${how ? fmt(e) : ""}`;
    const drop = how !== "deliver" && how !== "";
    const yEnd = drop ? y0 + (y1 - y0) * 0.6 : y1;
    out += `<line class="arrow${drop ? " dropped" : ""}" data-r="${er === null ? r : er}" x1="${x0}" y1="${y0}" x2="${x1}" y2="${yEnd}" stroke="${c}"${how === "" ? ' stroke-dasharray="3 3"' : ""} marker-end="url(#${drop ? "x" : "tip"})"><title>${esc(tip)}</title></line>`;
    if (drop) out += `<text class="drop-reason" x="${x1 + 4}" y="${yEnd + 3}" font-size="10" fill="#d00">${how}</text>`;
  }
  return [out, vis.length];
}

function density() {
  let out = "";
  const max = Math.max(1, ...D.density.map((row) => Math.max(...row)));
  D.density.forEach((row, n) => row.forEach((c, b) => {
    const s = b * D.bin_ns, e = s + D.bin_ns;
    if (c && inView(s, e)) out += `<rect class="density" x="${clip(x(s))}" width="${Math.max(1, clip(x(e)) - clip(x(s)))}" y="${y(n) + 9}" height="${(c / max) * 5 + 1}" fill="#333"><title>${c} messages sent ${fmt(s)} – ${fmt(e)}</title></rect>`;
  }));
  return out;
}

function flagsSvg() {
  let out = "";
  D.flags.forEach((f, i) => {
    if (!inView(f.start, f.end)) return;
    const x0 = clip(x(f.start)), w = Math.max(3, clip(x(f.end)) - x0);
    out += `<rect class="flag" data-flag="${i}" x="${x0}" width="${w}" y="${TOP - 4}" height="${D.lanes.length * LANE_H + 4}"><title>${esc(f.kind + ": " + f.detail)}</title></rect>`;
  });
  return out;
}

function render() {
  const h = TOP + D.lanes.length * LANE_H + 56;
  svg.setAttribute("height", h);
  svg.setAttribute("viewBox", `0 0 ${width()} ${h}`);
  const [arr, shown] = arrows();
  const cursor = view.cursor === null || !inView(view.cursor, view.cursor) ? "" :
    `<line id="cursor" x1="${x(view.cursor)}" x2="${x(view.cursor)}" y1="${TOP - 8}" y2="${h - 52}" stroke="#000" stroke-width="1.5"/>`;
  svg.innerHTML = `<defs><marker id="tip" viewBox="0 0 8 8" refX="7" refY="4" markerWidth="6" markerHeight="6" orient="auto"><path d="M0 0L8 4L0 8z" fill="#555"/></marker>` +
    `<marker id="x" viewBox="0 0 8 8" refX="4" refY="4" markerWidth="8" markerHeight="8"><path d="M0 0L8 8M8 0L0 8" stroke="#d00" stroke-width="2"/></marker>` +
    `<clipPath id="plot"><rect x="${LABEL_W}" y="0" width="${width() - LABEL_W}" height="${h}"/></clipPath></defs>` +
    ticks() + netFaults() + flagsSvg() + lanes() + `<g id="arrows" clip-path="url(#plot)">${arr}</g>` + cursor;
  svg.dataset.from = view.from; svg.dataset.to = view.to;
  $("window").textContent = `${fmt(view.from)} – ${fmt(view.to)}` + (view.cursor === null ? "" : ` · cursor ${fmt(view.cursor)}`) +
    (shown > DRAW_LIMIT ? ` · ${shown} messages in view: drawn as counts, zoom in for arrows` : ` · ${shown} arrows`);
  if (view.selected !== null) svg.querySelectorAll(`[data-r="${view.selected}"]`).forEach((el) => el.classList.add("selected"));
  history.replaceState(null, "", `#from=${view.from}&to=${view.to}` + (view.cursor === null ? "" : `&cursor=${view.cursor}`));
}

function select(r) {
  view.selected = r;
  const rec = D.records[r];
  $("detail").textContent = rec ? JSON.stringify(rec, null, 1) : `record ${r} is beyond the ${D.records.length} embedded records`;
  if (rec) view.cursor = rec.time_ns;
}

function step(dir) {
  const t = view.cursor === null ? (dir > 0 ? view.from - 1 : view.to + 1) : view.cursor;
  const T = D.times;
  let i = dir > 0 ? T.findIndex((v, k) => v > t || (v === t && k > (view.selected ?? -1))) : -1;
  if (dir < 0) for (let k = T.length - 1; k >= 0; k--) if (T[k] < t || (T[k] === t && k < (view.selected ?? T.length))) { i = k; break; }
  if (i < 0) return;
  select(i);
  const s = view.to - view.from;
  if (!inView(T[i], T[i])) setWindow(T[i] - s / 2, T[i] + s / 2); else render();
}

function jump(f) {
  const pad = Math.max((f.end - f.start) * 3, D.unit === "step" ? 2e6 : Math.min(2e5, D.end / 10));
  view.cursor = f.start;
  view.selected = null;
  $("detail").textContent = `${f.kind} ${fmt(f.start)} – ${fmt(f.end)}: ${f.detail}`;
  setWindow(f.start - pad, f.end + pad);
}

function setup() {
  $("title").textContent = D.title;
  const viol = D.flags.length;
  $("summary").textContent = `${D.lanes.length} lanes (${D.participants} nodes${D.lanes.length > D.participants ? `, ${D.lanes.length - D.participants} service replicas` : ""}) · ` +
    `${D.messages} messages · ${D.recorded} trace records · ${viol} flagged interval${viol === 1 ? "" : "s"} · virtual end ${fmt(D.end)}`;
  $("notes").innerHTML = D.notes.map((n) => `<li>${esc(n)}</li>`).join("");
  $("flags").innerHTML = viol ? D.flags.map((f, i) => `<li><a href="#" data-flag="${i}">${esc(f.kind)}</a> ${fmt(f.start)}: ${esc(f.detail)}</li>`).join("") : "<li>none</li>";
  $("flags").addEventListener("click", (e) => { const a = e.target.closest("[data-flag]"); if (a) { e.preventDefault(); jump(D.flags[+a.dataset.flag]); } });
  const box = (group, i, name, color) => `<label><input type="checkbox" checked data-${group}="${i}">${color ? `<i style="color:${color}">■</i>` : ""}${esc(name)}</label>`;
  $("filters").innerHTML = "kinds: " + D.kinds.map((k, i) => box("kind", i, k, KIND[i % KIND.length])).join("") +
    " classes: " + D.classes.map((c, i) => box("cls", i, c)).join("");
  $("filters").addEventListener("change", (e) => {
    const g = "kind" in e.target.dataset ? "kind" : "cls", i = +e.target.dataset[g];
    if (e.target.checked) hidden[g].delete(i); else hidden[g].add(i);
    render();
  });
  $("legend").innerHTML = Object.entries(ROLE).map(([r, c]) => `<span><i style="background:${c}"></i>${r}</span>`).join("") +
    SIDE.slice(0, 2).map((c, k) => `<span><i style="background:${c}"></i>partition side ${k + 1}</span>`).join("") +
    `<span><i style="background:rgba(220,0,0,.3)"></i>violation</span><span>✕ crash</span><span>↻ restart</span><span>⏸ pause</span><span>▼ elected</span>`;
  $("zoom-in").onclick = () => zoom(0.5);
  $("zoom-out").onclick = () => zoom(2);
  $("reset").onclick = () => setWindow(0, D.end);
  $("next").onclick = () => step(1);
  $("prev").onclick = () => step(-1);
}

function input() {
  let drag = null;
  svg.addEventListener("mousedown", (e) => { drag = { px: e.clientX, from: view.from, to: view.to, moved: false }; });
  window.addEventListener("mousemove", (e) => {
    if (!drag) return;
    const dx = e.clientX - drag.px;
    if (Math.abs(dx) > 3) drag.moved = true;
    if (drag.moved) { const dt = (dx / (width() - LABEL_W - 12)) * (drag.to - drag.from); setWindow(drag.from - dt, drag.to - dt); }
  });
  window.addEventListener("mouseup", () => { setTimeout(() => { drag = null; }, 0); });
  svg.addEventListener("click", (e) => {
    if (drag && drag.moved) return;
    const el = e.target.closest("[data-r]"), fl = e.target.closest("[data-flag]");
    if (el) select(+el.dataset.r);
    else if (fl) jump(D.flags[+fl.dataset.flag]);
    else { const r = svg.getBoundingClientRect(); view.cursor = Math.round(tAt((e.clientX - r.left) * width() / r.width)); }
    render();
  });
  svg.addEventListener("wheel", (e) => {
    e.preventDefault();
    const r = svg.getBoundingClientRect();
    zoom(e.deltaY > 0 ? 1.25 : 0.8, tAt((e.clientX - r.left) * width() / r.width));
  }, { passive: false });
  window.addEventListener("keydown", (e) => {
    const k = { "+": () => zoom(0.5), "=": () => zoom(0.5), "-": () => zoom(2), "0": () => setWindow(0, D.end), ArrowLeft: () => pan(-0.2),
      ArrowRight: () => pan(0.2), n: () => step(1), ".": () => step(1), p: () => step(-1), ",": () => step(-1) }[e.key];
    if (k && !(e.target instanceof HTMLInputElement)) { e.preventDefault(); k(); }
  });
  window.addEventListener("resize", render);
  window.addEventListener("hashchange", fromHash);
}

function fromHash() {
  const p = new URLSearchParams(location.hash.slice(1));
  const num = (k) => (p.has(k) && isFinite(+p.get(k)) ? +p.get(k) : null);
  view.cursor = num("cursor");
  const from = num("from") ?? 0, to = num("to") ?? D.end;
  if (to > from) setWindow(from, to); else setWindow(0, D.end);
}

setup();
input();
fromHash();
