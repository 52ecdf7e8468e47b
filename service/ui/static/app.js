// The page's flow: the API key (when the server asks for one), the model choice, the upload as
// a job, its progress from the job's event stream, the review, and the caller's earlier jobs.

import { ApiError, apiKey, fetchResult, listOf, readEvents, request, setApiKey, submitJob } from "./api.js";
import { Review } from "./review.js";
import { formatTime } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
const files = new Map(); // job id -> the File it was made from (this tab only)
let models = [];
let file = null;
let running = null; // { id, upload, controller }
let lastAnnounced = -1;
const review = new Review();

function announce(text) {
  $("live").textContent = text;
}

function setState(state) {
  document.body.dataset.state = state;
  $("submit").hidden = state === "running" || state === "review";
  $("progress").hidden = state !== "running";
  $("review").hidden = state !== "review";
}

function showError(where, err) {
  const text = err instanceof Error ? err.message : String(err);
  $(where).textContent = text;
  announce(text);
}

// ---- API key and models --------------------------------------------------------------------

async function loadModels() {
  try {
    models = listOf(await request("/v1/models"), "models");
    $("submit-error").textContent = "";
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      $("key-form").hidden = false;
      showError("submit-error", apiKey() ? "That API key was not accepted." : "This server needs an API key.");
      $("api-key").focus();
    } else showError("submit-error", err);
    models = [];
  }
  const tasks = [...new Set(models.map((m) => m.task))];
  const task = $("task");
  const chosen = task.value;
  task.replaceChildren(...tasks.map((t) => new Option(t, t)));
  // The API's own default task first (micro), then whatever the catalogue has.
  if (tasks.includes(chosen)) task.value = chosen;
  else if (tasks.includes("micro")) task.value = "micro";
  fillModels();
  if (document.body.dataset.state === "loading") setState("idle");
  return models.length > 0;
}

function fillModels() {
  const select = $("model");
  const options = models
    .filter((m) => m.task === $("task").value)
    .map((m) => {
      const label = `${m.name} v${m.version}${m.status === "available" ? "" : ` (${m.status})`}`;
      const option = new Option(label, m.name, m.default_for_task, m.default_for_task);
      option.disabled = m.status === "unavailable";
      return option;
    });
  select.replaceChildren(...options);
  updateStart();
}

function updateStart() {
  $("start").disabled = !file || !$("model").value;
}

// ---- upload and progress ------------------------------------------------------------------

function chooseFile(chosen) {
  if (!chosen) return;
  file = chosen;
  $("file-name").textContent = `${chosen.name} (${(chosen.size / 1e6).toFixed(1)} MB)`;
  updateStart();
}

function progressText(job) {
  const p = job.progress || {};
  const parts = [job.status];
  if (p.frames_total) {
    parts.push(`${p.frames_done ?? 0} of ${p.frames_total} frames`);
  } else if (p.frames_done) parts.push(`${p.frames_done} frames`);
  if (p.media_s_total) parts.push(`${formatTime(p.media_s_done ?? 0)} of ${formatTime(p.media_s_total)}`);
  if (job.eta_s != null && job.status === "running") parts.push(`about ${formatTime(job.eta_s)} left`);
  return parts.join(" · ");
}

function fraction(job) {
  const p = job.progress || {};
  if (p.frames_total) return Math.min(1, (p.frames_done || 0) / p.frames_total);
  if (p.media_s_total) return Math.min(1, (p.media_s_done || 0) / p.media_s_total);
  return job.status === "succeeded" ? 1 : 0;
}

function showProgress(job) {
  const f = fraction(job);
  $("bar").value = f;
  $("progress-text").textContent = progressText(job);
  const step = Math.floor(f * 10);
  if (step !== lastAnnounced) {
    lastAnnounced = step;
    announce(`Analysis ${Math.round(f * 100)} % done`);
  }
}

async function start(event) {
  event.preventDefault();
  if (!file) return;
  const params = { task: $("task").value, model: $("model").value, sample_interval: $("sampling").value };
  setState("running");
  lastAnnounced = -1;
  $("bar").value = 0;
  $("progress-title").textContent = `Uploading ${file.name}`;
  $("progress-text").textContent = "uploading";
  announce(`Uploading ${file.name}`);
  const upload = submitJob(file, params, (f) => {
    $("bar").value = f;
    $("progress-text").textContent =
      f < 1 ? `uploading · ${Math.round(f * 100)} %` : "uploaded · the server is checking the file";
  });
  running = { upload };
  let job;
  try {
    job = await upload.promise;
  } catch (err) {
    running = null;
    setState("idle");
    if (err.name !== "AbortError") showError("submit-error", err);
    else announce("Upload cancelled");
    return;
  }
  files.set(job.id, file);
  await follow(job, file.name);
}

async function poll(id, signal) {
  for (;;) {
    const job = await request(`/v1/jobs/${encodeURIComponent(id)}`, { signal });
    showProgress(job);
    if (TERMINAL.has(job.status)) return job;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

// Follow a job to its end (event stream; polling if the stream breaks), then open its result.
async function follow(job, name) {
  setState("running");
  $("progress-title").textContent = `Analysing ${name || job.id}`;
  const controller = new AbortController();
  running = { id: job.id, controller };
  showProgress(job);
  let last = job;
  try {
    if (!TERMINAL.has(job.status)) {
      try {
        await readEvents(`/v1/jobs/${encodeURIComponent(job.id)}/events`, (kind, data) => {
          last = JSON.parse(data);
          showProgress(last);
        }, controller.signal);
      } catch (err) {
        if (err.name === "AbortError") throw err;
      }
      if (!TERMINAL.has(last.status)) last = await poll(job.id, controller.signal);
    }
  } catch (err) {
    if (err.name === "AbortError") return;
    setState("idle");
    showError("submit-error", err);
    return;
  } finally {
    running = null;
  }
  loadJobs();
  if (last.status === "succeeded") {
    performance.mark("mmed-job-end");
    await open(last.id, name);
  } else {
    setState("idle");
    const detail = last.error?.detail ? `: ${last.error.detail}` : "";
    showError("submit-error", `The job ${last.status}${detail}`);
  }
}

async function cancel() {
  if (!running) return;
  const { upload, id, controller } = running;
  if (upload) {
    upload.abort();
    return;
  }
  controller.abort();
  running = null;
  try {
    await request(`/v1/jobs/${encodeURIComponent(id)}`, { method: "DELETE" });
    announce("Job cancelled");
  } catch (err) {
    showError("submit-error", err);
  }
  setState("idle");
  loadJobs();
}

// ---- review and earlier jobs --------------------------------------------------------------

async function open(id, name) {
  performance.clearMarks("mmed-review-ready");
  let result;
  try {
    result = await fetchResult(id);
    performance.mark("mmed-result-fetched");
  } catch (err) {
    setState("idle");
    showError("submit-error", err);
    return;
  }
  review.jobId = id;
  review.onFile = (f) => files.set(id, f);
  setState("review");
  await review.show(result, files.get(id) || null, name || files.get(id)?.name || id);
  performance.mark("mmed-review-ready");
  document.body.dataset.ready = id;
  announce(`Result ready: ${result.frames.length} frames`);
  $("review-title").focus?.();
}

function jobName(job) {
  return files.get(job.id)?.name || `job ${job.id.slice(0, 8)}`;
}

async function loadJobs() {
  let jobs;
  try {
    jobs = listOf(await request("/v1/jobs"), "jobs");
  } catch (err) {
    $("jobs-empty").textContent = err.status === 401 ? "" : `Jobs unavailable: ${err.message}`;
    $("jobs-table").hidden = true;
    return;
  }
  const tbody = $("jobs-table").tBodies[0];
  tbody.replaceChildren();
  $("jobs-table").hidden = jobs.length === 0;
  $("jobs-empty").textContent = jobs.length ? "" : "No jobs yet.";
  for (const job of jobs) {
    const tr = document.createElement("tr");
    const created = job.created_at ? new Date(job.created_at).toLocaleString() : "";
    const model = job.model ? `${job.model.name} v${job.model.version}` : (job.parameters?.model ?? "");
    for (const [text, kind] of [[created, ""], [jobName(job), "file"], [model, "optional"], [job.status, ""]]) {
      const td = document.createElement("td");
      td.textContent = text;
      td.className = kind;
      tr.appendChild(td);
    }
    const actions = document.createElement("td");
    const action = (label, handler, aria) => {
      const b = document.createElement("button");
      b.type = "button";
      b.className = "small";
      b.textContent = label;
      b.setAttribute("aria-label", `${aria} ${jobName(job)}`);
      b.addEventListener("click", handler);
      actions.appendChild(b);
    };
    if (job.status === "succeeded") action("Open", () => open(job.id, jobName(job)), "Open");
    if (!TERMINAL.has(job.status)) action("Follow", () => !running && follow(job, jobName(job)), "Follow");
    action(TERMINAL.has(job.status) ? "Delete" : "Cancel", async () => {
      try {
        await request(`/v1/jobs/${encodeURIComponent(job.id)}`, { method: "DELETE" });
      } catch (err) {
        showError("submit-error", err);
      }
      loadJobs();
    }, TERMINAL.has(job.status) ? "Delete" : "Cancel");
    tr.appendChild(actions);
    tbody.appendChild(tr);
  }
}

// ---- wiring ---------------------------------------------------------------------------------

function wire() {
  $("key-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    setApiKey($("api-key").value.trim());
    $("api-key").value = "";
    if (await loadModels()) loadJobs();
  });
  $("task").addEventListener("change", fillModels);
  $("model").addEventListener("change", updateStart);
  $("file").addEventListener("change", (e) => chooseFile(e.target.files[0]));
  const drop = $("drop");
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    chooseFile(e.dataTransfer.files[0]);
  });
  // A file dropped beside the drop zone must not make the browser navigate to it.
  for (const name of ["dragover", "drop"]) window.addEventListener(name, (e) => e.preventDefault());
  $("options").addEventListener("submit", start);
  $("cancel").addEventListener("click", cancel);
  $("new").addEventListener("click", () => {
    review.detach();
    setState("idle");
  });
  $("jobs-refresh").addEventListener("click", loadJobs);
}

wire();
if (apiKey()) $("key-form").hidden = false;
loadModels().then((ok) => ok && loadJobs());
