// The review panel: the user's own file played beside the timeline, the face box on the paused
// frame, the events list, the summary per class and the downloads. Everything from the API goes
// into the page as text (textContent), never as markup.

import { download, toCSV } from "./export.js";
import { Timeline, classColours, formatTime } from "./timeline.js";

const $ = (id) => document.getElementById(id);

function cellRow(tbody, values) {
  const tr = document.createElement("tr");
  for (const v of values) {
    const td = document.createElement("td");
    if (v instanceof Node) td.appendChild(v);
    else td.textContent = v;
    tr.appendChild(td);
  }
  tbody.appendChild(tr);
  return tr;
}

function swatch(colour, text) {
  const span = document.createElement("span");
  span.className = "swatch-label";
  const dot = document.createElement("span");
  dot.className = "swatch";
  dot.style.backgroundColor = colour;
  span.append(dot, document.createTextNode(text));
  return span;
}

const pct = (p) => (p == null ? "–" : `${(100 * p).toFixed(1)}\u00a0%`);

export function restClassOf(model) {
  if (model.rest_class !== undefined) return model.rest_class;
  // A card from before rest_class existed: only these two names have ever meant "no expression".
  return ["neutral", "none"].find((c) => model.classes.includes(c)) ?? null;
}

export class Review {
  constructor() {
    this.video = $("video");
    this.still = $("still");
    this.box = $("facebox");
    this.url = null;
    this.timeline = new Timeline($("timeline"), {
      onSeek: (i) => this.seekFrame(i),
      onEvent: (i) => this.seekEvent(i),
      onSelect: (i) => this.describe(i),
    });
    const v = this.video;
    v.addEventListener("play", () => this.follow());
    for (const name of ["pause", "seeked", "loadeddata"]) v.addEventListener(name, () => this.paused());
    v.addEventListener("timeupdate", () => this.timeline.setPlayhead(v.currentTime));
    new ResizeObserver(() => this.paused()).observe($("stage"));
    $("dl-json").addEventListener("click", () => this.save("json"));
    $("dl-csv").addEventListener("click", () => this.save("csv"));
    $("replay-file").addEventListener("change", (e) => {
      const file = e.target.files[0];
      if (file) {
        this.onFile?.(file);
        this.attach(file);
      }
    });
  }

  // Show a result; file: the user's File (played from memory) or null (timeline only).
  show(result, file, name) {
    this.result = result;
    this.rest = restClassOf(result.model);
    this.colours = classColours(result.model.classes, this.rest);
    $("review-name").textContent = name ? `— ${name}` : "";
    this.legend();
    this.timeline.setResult(result, this.colours, this.rest);
    this.events();
    this.summary();
    return this.attach(file);
  }

  // Play ``file`` (resolves when its first frame can be shown) or offer to pick it.
  attach(file) {
    this.detach();
    $("no-file").hidden = !!file;
    $("stage").hidden = !file;
    if (!file) return Promise.resolve();
    this.url = URL.createObjectURL(file);
    const image = this.result.media.kind === "image";
    const media = image ? this.still : this.video;
    this.still.hidden = !image;
    this.video.hidden = image;
    return new Promise((resolve) => {
      const done = () => {
        this.paused();
        resolve();
      };
      media.addEventListener(image ? "load" : "loadeddata", done, { once: true });
      media.addEventListener("error", () => {
        $("readout").textContent = "This browser cannot play this file; the timeline still works.";
        resolve();
      }, { once: true });
      media.src = this.url;
    });
  }

  detach() {
    this.video.pause();
    this.video.removeAttribute("src");
    this.still.removeAttribute("src");
    this.video.load();
    this.box.hidden = true;
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = null;
  }

  get playing() {
    return !!this.url && this.result.media.kind === "video";
  }

  legend() {
    const ul = $("legend");
    ul.replaceChildren();
    for (const c of this.result.model.classes) {
      const li = document.createElement("li");
      li.appendChild(swatch(this.colours.get(c), c === this.rest ? `${c} (rest)` : c));
      ul.appendChild(li);
    }
  }

  frame(i) {
    return this.result.frames[i];
  }

  describe(i) {
    const f = this.frame(i);
    const text = f.label
      ? `frame ${f.index} at ${formatTime(f.timestamp_s)}: ${f.label} ${pct(f.confidence)}`
      : `frame ${f.index} at ${formatTime(f.timestamp_s)}: no face`;
    $("readout").textContent = text;
    return text;
  }

  seekTime(t) {
    if (this.playing) this.video.currentTime = t + 1e-3;
    this.timeline.setPlayhead(t);
    performance.mark("mmed-seek");
  }

  seekFrame(i) {
    this.seekTime(this.frame(i).timestamp_s);
    if (!this.playing) this.paused();
  }

  seekEvent(k) {
    const ev = this.result.events[k];
    const i = this.result.frames.findIndex((f) => f.index === ev.onset_index);
    this.timeline.select(i >= 0 ? i : this.timeline.nearest(ev.onset_s), false);
    this.seekTime(ev.onset_s);
    if (!this.playing) this.paused();
  }

  follow() {
    this.box.hidden = true;
    const step = () => {
      if (this.video.paused || this.video.ended) return;
      this.timeline.setPlayhead(this.video.currentTime);
      requestAnimationFrame(step);
    };
    requestAnimationFrame(step);
  }

  // The face box of the frame on screen, drawn over the paused video (or the image).
  paused() {
    if (!this.result || !this.url) return;
    const image = this.result.media.kind === "image";
    const media = image ? this.still : this.video;
    if (!image && !this.video.paused) return;
    const t = image ? 0 : this.video.currentTime;
    const f = this.frame(this.timeline.frameAt(t));
    const iw = image ? media.naturalWidth : media.videoWidth;
    const ih = image ? media.naturalHeight : media.videoHeight;
    if (!f || !f.face || !iw || !ih) {
      this.box.hidden = true;
      return;
    }
    const scale = Math.min(media.clientWidth / iw, media.clientHeight / ih);
    const ox = media.offsetLeft + (media.clientWidth - iw * scale) / 2;
    const oy = media.offsetTop + (media.clientHeight - ih * scale) / 2;
    // Boxes are in the decoded frame's pixels (media.width x media.height).
    const sx = (iw * scale) / this.result.media.width;
    const sy = (ih * scale) / this.result.media.height;
    Object.assign(this.box.style, {
      left: `${ox + f.face.x * sx}px`,
      top: `${oy + f.face.y * sy}px`,
      width: `${f.face.w * sx}px`,
      height: `${f.face.h * sy}px`,
      borderColor: this.colours.get(f.label) || "#fff",
    });
    this.box.textContent = "";
    const tag = document.createElement("span");
    tag.textContent = f.label ? `${f.label} ${pct(f.confidence)}` : "";
    this.box.appendChild(tag);
    this.box.classList.toggle("tag-inside", oy + f.face.y * sy < 18); // no room above the box
    this.box.hidden = false;
  }

  events() {
    const events = this.result.events;
    const table = $("events");
    const tbody = table.tBodies[0];
    tbody.replaceChildren();
    const none = $("events-none");
    if (!Array.isArray(events) || events.length === 0) {
      table.hidden = true;
      none.textContent =
        events === undefined
          ? "This server does not spot events."
          : events === null
            ? "Events were not computed for this job (spotting needs every frame of a video, on a server that spots events)."
            : "No events were spotted.";
      return;
    }
    none.textContent = `${events.length} event${events.length === 1 ? "" : "s"}; choose one to seek to its onset.`;
    table.hidden = false;
    events.forEach((ev, k) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "link";
      button.dataset.event = String(k);
      button.textContent = `${formatTime(ev.onset_s)} – ${formatTime(ev.offset_s)}`;
      button.setAttribute("aria-label", `Seek to the ${ev.kind} ${ev.label} event at ${formatTime(ev.onset_s)}`);
      button.addEventListener("click", () => this.seekEvent(k));
      cellRow(tbody, [button, ev.kind, swatch(this.colours.get(ev.label) || "#999", ev.label), pct(ev.confidence)]);
    });
  }

  summary() {
    const { summary, model, frames } = this.result;
    const tbody = $("summary").tBodies[0];
    tbody.replaceChildren();
    const withFace = summary.frames_with_face;
    for (const c of model.classes) {
      const count = summary.label_counts?.[c] ?? 0;
      const tr = cellRow(tbody, [
        swatch(this.colours.get(c), c),
        String(count),
        withFace ? pct(count / withFace) : "–",
        pct(summary.mean_probabilities?.[c]),
      ]);
      if (c === summary.dominant_label) tr.className = "dominant";
    }
    $("summary-text").textContent =
      `${model.name} v${model.version}` +
      (model.gate ? ` (smile gate: ${model.gate.model} v${model.gate.version})` : "") +
      ` · ${frames.length} frames, ${withFace} with a face · ` +
      `dominant: ${summary.dominant_label ?? "none"}`;
  }

  save(kind) {
    const base = `mmed-${this.jobId || "result"}`;
    if (kind === "json") download(`${base}.json`, JSON.stringify(this.result, null, 2), "application/json");
    else download(`${base}.csv`, toCSV(this.result), "text/csv");
  }
}
