// The gateway's HTTP API as the page uses it: the API key (this tab only, X-API-Key header
// only), JSON requests with problem+json errors, the job's event stream read with fetch()
// streaming (EventSource cannot send headers), and a job's whole result, page by page.

const KEY = "mmed.apiKey";
const PAGE = 5000;

export class ApiError extends Error {
  constructor(status, title, detail) {
    super(detail ? `${title}: ${detail}` : title);
    this.status = status;
  }
}

export function apiKey() {
  return sessionStorage.getItem(KEY) || "";
}

export function setApiKey(value) {
  if (value) sessionStorage.setItem(KEY, value);
  else sessionStorage.removeItem(KEY);
}

function headers(extra = {}) {
  const h = new Headers(extra);
  const key = apiKey();
  if (key) h.set("X-API-Key", key);
  return h;
}

async function problem(response) {
  let title = `HTTP ${response.status}`;
  let detail = "";
  try {
    const body = await response.json();
    if (typeof body.title === "string") title = body.title;
    if (typeof body.detail === "string") detail = body.detail;
  } catch {
    /* not JSON: keep the status line */
  }
  return new ApiError(response.status, title, detail);
}

export async function request(path, { method = "GET", signal, accept = "application/json" } = {}) {
  const response = await fetch(path, { method, signal, headers: headers({ Accept: accept }) });
  if (!response.ok) throw await problem(response);
  if (response.status === 204) return null;
  return response.json();
}

// POST the file as a job, with upload progress (XMLHttpRequest: fetch() has none).
// Returns { promise, abort }.
export function submitJob(file, params, onUpload) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open("POST", `/v1/jobs?${new URLSearchParams(params)}`);
    headers({ Accept: "application/json", "Idempotency-Key": crypto.randomUUID() }).forEach(
      (value, name) => xhr.setRequestHeader(name, value),
    );
    xhr.responseType = "json";
    xhr.upload.onprogress = (e) => e.lengthComputable && onUpload(e.loaded / e.total);
    xhr.onload = () => {
      const body = xhr.response || {};
      if (xhr.status >= 200 && xhr.status < 300) resolve(body);
      else reject(new ApiError(xhr.status, body.title || `HTTP ${xhr.status}`, body.detail || ""));
    };
    xhr.onerror = () => reject(new ApiError(0, "Network error", "the upload did not reach the server"));
    xhr.onabort = () => reject(new DOMException("aborted", "AbortError"));
    const form = new FormData();
    form.append("file", file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

// Read a text/event-stream with fetch(); call onEvent(name, data) for each event. Resolves when
// the server closes the stream.
export async function readEvents(path, onEvent, signal) {
  const response = await fetch(path, {
    signal,
    headers: headers({ Accept: "text/event-stream" }),
    cache: "no-store",
  });
  if (!response.ok) throw await problem(response);
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  let name = "message";
  let data = [];
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop();
    for (const line of lines) {
      if (line === "") {
        if (data.length) onEvent(name, data.join("\n"));
        name = "message";
        data = [];
      } else if (line.startsWith("event:")) {
        name = line.slice(6).trim();
      } else if (line.startsWith("data:")) {
        data.push(line.slice(5).replace(/^ /, ""));
      }
    }
  }
}

// A job's whole result: the first page's body with the frames of every page.
export async function fetchResult(id, signal) {
  const base = `/v1/jobs/${encodeURIComponent(id)}/result`;
  const first = await request(`${base}?offset=0&limit=${PAGE}`, { signal });
  const frames = first.frames.slice();
  const total = first.media?.frames_sampled ?? frames.length;
  while (frames.length < total) {
    const page = await request(`${base}?offset=${frames.length}&limit=${PAGE}`, { signal });
    if (!page.frames.length) break;
    for (const f of page.frames) frames.push(f);
  }
  return { ...first, frames };
}

export function listOf(body, key) {
  if (Array.isArray(body)) return body;
  return body?.[key] ?? body?.items ?? [];
}
