// Downloads built in the page from the result it holds (every frame): JSON as the API sent it,
// CSV one row per frame.

function cell(value) {
  if (value == null) return "";
  let text = String(value);
  if (typeof value === "string" && /^[=+\-@\t\r]/.test(text)) text = `'${text}`; // no formulas
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function toCSV(result) {
  const classes = result.model.classes;
  const head = ["index", "timestamp_s", "label", "confidence", "face_x", "face_y", "face_w",
    "face_h", "face_score", ...classes.map((c) => `p_${c}`)];
  const rows = [head.map(cell).join(",")];
  for (const f of result.frames) {
    const face = f.face || {};
    const probs = f.probabilities || {};
    rows.push([f.index, f.timestamp_s, f.label, f.confidence, face.x, face.y, face.w, face.h,
      face.score, ...classes.map((c) => probs[c])].map(cell).join(","));
  }
  return rows.join("\r\n") + "\r\n";
}

export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
