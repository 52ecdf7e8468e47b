// The timeline: class probabilities over time as lines, the label per frame as a band, spotted
// events as marks, a playhead that follows the video and a keyboard selection. Plain SVG.
// The data keep every frame; only the drawing is reduced, to min/max per pixel column, when
// there are more frames than columns.

const NS = "http://www.w3.org/2000/svg";
// Okabe-Ito (colour-blind safe), strongest on white first; the rest class is grey.
const PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#8C6D1F"];
export const REST_COLOUR = "#9a9a9a";
const MARGIN = { left: 34, right: 10, top: 6 };
const SIZES = { events: 16, lines: 200, gap: 6, band: 16, axis: 20 };
const TICKS = [0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600];

export function classColours(classes, rest) {
  const colours = new Map();
  let next = 0;
  for (const name of classes) {
    colours.set(name, name === rest ? REST_COLOUR : PALETTE[next++ % PALETTE.length]);
  }
  return colours;
}

export function formatTime(t) {
  if (!Number.isFinite(t)) return "–";
  if (t < 60) return `${t.toFixed(t < 10 ? 2 : 1)} s`;
  const m = Math.floor(t / 60);
  const s = t - m * 60;
  return `${m}:${s.toFixed(1).padStart(4, "0")}`;
}

function el(name, attrs = {}, parent = null) {
  const node = document.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (parent) parent.appendChild(node);
  return node;
}

function tickLabel(t, step) {
  if (t >= 60 || step >= 60) {
    const m = Math.floor(t / 60);
    return `${m}:${String(Math.round(t - m * 60)).padStart(2, "0")}`;
  }
  return `${+t.toFixed(step < 1 ? 1 : 0)} s`;
}

export class Timeline {
  constructor(svg, { onSeek, onEvent, onSelect }) {
    this.svg = svg;
    this.onSeek = onSeek;
    this.onEvent = onEvent;
    this.onSelect = onSelect;
    this.n = 0;
    this.selected = 0;
    this.playhead = 0;
    this.dragging = false;
    svg.addEventListener("pointerdown", (e) => this.pointer(e, true));
    svg.addEventListener("pointermove", (e) => this.dragging && this.pointer(e, false));
    const stop = () => (this.dragging = false);
    svg.addEventListener("pointerup", stop);
    svg.addEventListener("pointercancel", stop);
    svg.addEventListener("keydown", (e) => this.key(e));
    // The cursors are layers of their own above the chart: moving one is a compositor
    // transform and does not repaint the chart's thousands of vertices.
    const cursor = (name) => {
      const div = document.createElement("div");
      div.className = `cursor ${name}`;
      div.setAttribute("aria-hidden", "true");
      svg.parentElement.appendChild(div);
      return div;
    };
    this.selLine = cursor("selection");
    this.headLine = cursor("playhead");
    new ResizeObserver(() => this.n && this.schedule()).observe(svg.parentElement);
  }

  // result: a PredictResponse (all frames); colours: Map class -> colour.
  setResult(result, colours, restName) {
    this.restName = restName;
    const frames = result.frames;
    const classes = result.model.classes;
    const n = frames.length;
    this.n = n;
    this.classes = classes;
    this.colours = colours;
    this.events = result.events || [];
    this.ts = new Float64Array(n);
    this.label = new Int16Array(n);
    this.probs = classes.map(() => new Float32Array(n));
    const index = new Map(classes.map((c, k) => [c, k]));
    for (let i = 0; i < n; i++) {
      const f = frames[i];
      this.ts[i] = f.timestamp_s;
      this.label[i] = f.label == null ? -1 : (index.get(f.label) ?? -1);
      for (let k = 0; k < classes.length; k++) {
        const p = f.probabilities ? f.probabilities[classes[k]] : undefined;
        this.probs[k][i] = p == null ? NaN : p;
      }
    }
    const last = n ? this.ts[n - 1] : 0;
    const step = n > 1 ? (last - this.ts[0]) / (n - 1) : 1 / (result.media.fps || 1);
    this.t1 = Math.max(result.media.duration_s || 0, last + step, 1e-3);
    this.svg.dataset.frames = String(n);
    this.svg.setAttribute("aria-valuemax", String(Math.max(0, n - 1)));
    this.selected = 0;
    this.playhead = 0;
    this.draw();
    this.select(0, false);
  }

  schedule() {
    if (this.pending) return;
    this.pending = requestAnimationFrame(() => {
      this.pending = 0;
      this.draw();
    });
  }

  get plotWidth() {
    return this.width - MARGIN.left - MARGIN.right;
  }

  xOf(t) {
    return MARGIN.left + (t / this.t1) * this.plotWidth;
  }

  tOf(x) {
    return Math.min(this.t1, Math.max(0, ((x - MARGIN.left) / this.plotWidth) * this.t1));
  }

  // The frame shown at time t: the last one whose timestamp is <= t (+1 ms).
  frameAt(t) {
    let lo = 0;
    let hi = this.n - 1;
    if (hi < 0) return -1;
    if (t < this.ts[0]) return 0;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.ts[mid] <= t + 1e-3) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  // The frame nearest to time t.
  nearest(t) {
    const i = this.frameAt(t);
    if (i + 1 < this.n && this.ts[i + 1] - t < t - this.ts[i]) return i + 1;
    return i;
  }

  draw() {
    const svg = this.svg;
    this.width = Math.max(200, Math.floor(svg.parentElement.clientWidth));
    const hasEvents = this.events.length > 0;
    const y0 = MARGIN.top + (hasEvents ? SIZES.events : 0);
    this.rows = {
      events: MARGIN.top,
      linesTop: y0,
      linesBottom: y0 + SIZES.lines,
      band: y0 + SIZES.lines + SIZES.gap,
      axis: y0 + SIZES.lines + SIZES.gap + SIZES.band,
    };
    const height = this.rows.axis + SIZES.axis;
    svg.setAttribute("viewBox", `0 0 ${this.width} ${height}`);
    svg.setAttribute("width", String(this.width));
    svg.setAttribute("height", String(height));
    svg.replaceChildren();
    this.drawGrid();
    this.drawBand();
    this.drawLines();
    if (hasEvents) this.drawEvents();
    for (const line of [this.selLine, this.headLine]) {
      line.style.top = `${MARGIN.top}px`;
      line.style.height = `${this.rows.axis - MARGIN.top}px`;
    }
    this.moveLine(this.selLine, this.n ? this.ts[this.selected] : 0);
    this.moveLine(this.headLine, this.playhead);
  }

  drawGrid() {
    const g = el("g", { class: "grid" }, this.svg);
    const { linesTop, linesBottom, axis } = this.rows;
    for (const p of [0, 0.5, 1]) {
      const y = linesBottom - p * (linesBottom - linesTop);
      el("line", { x1: MARGIN.left, x2: this.width - MARGIN.right, y1: y, y2: y }, g);
      const text = el("text", { x: MARGIN.left - 4, y: y + 4, class: "ylabel" }, g);
      text.textContent = p === 0.5 ? ".5" : String(p);
    }
    const step = TICKS.find((s) => (s / this.t1) * this.plotWidth >= 70) || TICKS.at(-1);
    for (let t = 0; t <= this.t1 + 1e-9; t += step) {
      const x = this.xOf(t);
      el("line", { x1: x, x2: x, y1: axis, y2: axis + 4, class: "tick" }, g);
      const text = el("text", { x, y: axis + 15, class: "xlabel" }, g);
      text.textContent = tickLabel(t, step);
    }
  }

  // Column c of the plot covers frames [cols[c], cols[c + 1]) (downsampled drawing only).
  columns() {
    const count = Math.max(1, Math.floor(this.plotWidth));
    const cols = new Int32Array(count + 1);
    let i = 0;
    for (let c = 0; c <= count; c++) {
      const t = (c / count) * this.t1;
      while (i < this.n && this.ts[i] < t) i++;
      cols[c] = c === count ? this.n : i;
    }
    return cols;
  }

  drawLines() {
    const g = el("g", { class: "lines" }, this.svg);
    const { linesTop, linesBottom } = this.rows;
    const yOf = (p) => (linesBottom - p * (linesBottom - linesTop)).toFixed(1);
    const perFrame = this.n <= this.plotWidth;
    const cols = perFrame ? null : this.columns();
    this.svg.dataset.drawing = perFrame ? "every-frame" : "min-max-per-column";
    this.classes.forEach((name, k) => {
      const p = this.probs[k];
      const parts = [];
      let penDown = false;
      if (perFrame) {
        for (let i = 0; i < this.n; i++) {
          if (Number.isNaN(p[i])) {
            penDown = false;
            continue;
          }
          parts.push(`${penDown ? "L" : "M"}${this.xOf(this.ts[i]).toFixed(1)} ${yOf(p[i])}`);
          penDown = true;
        }
      } else {
        for (let c = 0; c + 1 < cols.length; c++) {
          let lo = Infinity;
          let hi = -Infinity;
          for (let i = cols[c]; i < cols[c + 1]; i++) {
            if (p[i] < lo) lo = p[i];
            if (p[i] > hi) hi = p[i];
          }
          if (lo === Infinity) {
            if (cols[c] < cols[c + 1]) penDown = false; // frames, none with a face
            continue;
          }
          const x = (MARGIN.left + c + 0.5).toFixed(1);
          parts.push(`${penDown ? "L" : "M"}${x} ${yOf(hi)}`);
          if (hi !== lo) parts.push(`L${x} ${yOf(lo)}`);
          penDown = true;
        }
      }
      el("path", {
        d: parts.join(""),
        class: name === this.restName ? "line rest" : "line",
        stroke: this.colours.get(name),
        "data-class": name,
      }, g);
    });
  }

  drawBand() {
    const g = el("g", { class: "band" }, this.svg);
    const { band } = this.rows;
    el("rect", {
      class: "band-bg", x: MARGIN.left, y: band, width: this.plotWidth, height: SIZES.band,
    }, g);
    // Runs of one label: [start time, end time, label index].
    const runs = [];
    const push = (t0, t1, k) => {
      const last = runs.at(-1);
      if (last && last[2] === k && Math.abs(last[1] - t0) < 1e-9) last[1] = t1;
      else runs.push([t0, t1, k]);
    };
    if (this.n <= this.plotWidth) {
      for (let i = 0; i < this.n; i++) {
        push(this.ts[i], i + 1 < this.n ? this.ts[i + 1] : this.t1, this.label[i]);
      }
    } else {
      const cols = this.columns();
      const counts = new Int32Array(this.classes.length);
      for (let c = 0; c + 1 < cols.length; c++) {
        if (cols[c] === cols[c + 1]) continue;
        counts.fill(0);
        for (let i = cols[c]; i < cols[c + 1]; i++) if (this.label[i] >= 0) counts[this.label[i]]++;
        let best = -1;
        for (let k = 0; k < counts.length; k++) if (counts[k] && (best < 0 || counts[k] > counts[best])) best = k;
        push(this.tOf(MARGIN.left + c), this.tOf(MARGIN.left + c + 1), best);
      }
    }
    for (const [t0, t1, k] of runs) {
      if (k < 0) continue; // no face: the band's background shows
      const x = this.xOf(t0);
      el("rect", {
        x: x.toFixed(1), y: band, height: SIZES.band,
        width: Math.max(0.5, this.xOf(t1) - x).toFixed(1),
        fill: this.colours.get(this.classes[k]),
      }, g);
    }
  }

  drawEvents() {
    const g = el("g", { class: "events" }, this.svg);
    const y = this.rows.events;
    this.events.forEach((ev, i) => {
      const x0 = this.xOf(ev.onset_s);
      const x1 = Math.max(this.xOf(ev.offset_s), x0 + 4);
      const mark = el("rect", {
        class: `event ${ev.kind}`, x: x0.toFixed(1), y: y + 2, height: SIZES.events - 4,
        width: (x1 - x0).toFixed(1), rx: 2,
        fill: this.colours.get(ev.label) || REST_COLOUR, "data-event": i,
      }, g);
      const title = el("title", {}, mark);
      title.textContent = `${ev.kind} ${ev.label} at ${formatTime(ev.onset_s)}`;
      el("line", {
        class: "apex", x1: this.xOf(ev.apex_s), x2: this.xOf(ev.apex_s),
        y1: y, y2: y + SIZES.events, "data-event": i,
      }, g);
    });
  }

  moveLine(line, t) {
    if (!this.width) return;
    const x = this.xOf(t).toFixed(1);
    line.dataset.x = x; // in the chart's pixels, as the SVG's own coordinates
    line.style.transform = `translateX(${x}px)`;
  }

  setPlayhead(t) {
    this.playhead = t;
    this.moveLine(this.headLine, t);
  }

  select(i, seek) {
    if (!this.n) return;
    i = Math.max(0, Math.min(this.n - 1, i));
    this.selected = i;
    this.moveLine(this.selLine, this.ts[i]);
    this.svg.setAttribute("aria-valuenow", String(i));
    const text = this.onSelect ? this.onSelect(i) : `frame ${i}`;
    this.svg.setAttribute("aria-valuetext", text);
    if (seek) this.onSeek(i);
  }

  pointer(e, down) {
    if (!this.n || (down && e.button !== 0)) return;
    const target = e.target.closest ? e.target.closest("[data-event]") : null;
    if (down && target) {
      this.onEvent(Number(target.dataset.event));
      return;
    }
    if (down) {
      this.dragging = true;
      this.svg.setPointerCapture?.(e.pointerId);
    }
    const box = this.svg.getBoundingClientRect();
    const x = ((e.clientX - box.left) / box.width) * this.width;
    this.select(this.nearest(this.tOf(x)), true);
  }

  key(e) {
    if (!this.n) return;
    const big = Math.max(10, Math.round(this.n / 20));
    const moves = {
      ArrowRight: e.shiftKey ? 10 : 1,
      ArrowLeft: e.shiftKey ? -10 : -1,
      ArrowUp: 1,
      ArrowDown: -1,
      PageUp: big,
      PageDown: -big,
    };
    if (e.key in moves) this.select(this.selected + moves[e.key], false);
    else if (e.key === "Home") this.select(0, false);
    else if (e.key === "End") this.select(this.n - 1, false);
    else if (e.key === "Enter" || e.key === " ") this.select(this.selected, true);
    else return;
    e.preventDefault();
  }
}
