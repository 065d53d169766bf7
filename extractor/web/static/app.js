// The vax page: add files, preview and run requests, follow jobs live, show results.
// Plain DOM code, no framework and no network assets: the page must work offline.
"use strict";

const state = { files: new Map(), jobs: new Map(), limits: null, interpreter: true };
const $ = (selector, root = document) => root.querySelector(selector);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat(Infinity)) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: {} };
  if (options.body !== undefined) {
    init.method = options.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  const response = await fetch(path, init);
  let data = null;
  try { data = await response.json(); } catch (error) { data = { message: response.statusText }; }
  if (!response.ok) throw new Error(data.message || `the server answered ${response.status}`);
  return data;
}

function humanSize(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024, unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function seconds(value) {
  if (value === null || value === undefined) return "unknown";
  if (value < 60) return `${value.toFixed(3)} s`;
  const m = Math.floor(value / 60), s = (value - m * 60).toFixed(1).padStart(4, "0");
  return `${m}:${s}`;
}

// -- adding files ---------------------------------------------------------------------------
function setupAdding() {
  const input = $("#file-input"), drop = $("#drop");
  $("#choose").addEventListener("click", () => input.click());
  input.addEventListener("change", () => { addFiles([...input.files]); input.value = ""; });
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault(); drop.classList.remove("over");
    addFiles([...event.dataTransfer.files]);
  });
  $("#path-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const field = $("#path-input");
    $("#add-error").textContent = "";
    try {
      const file = await api("/api/files", { body: { path: field.value } });
      field.value = "";
      addFileCard(file, true);
    } catch (error) { $("#add-error").textContent = error.message; }
  });
}

function addFiles(files) {
  $("#add-error").textContent = "";
  for (const file of files) upload(file);
}

async function upload(file) {
  const row = el("li", {}, el("span", { text: file.name }));
  $("#uploads").append(row);
  try {  // refuse too-large or non-media files before sending a byte
    await api("/api/upload/check", { body: { name: file.name, size: file.size } });
  } catch (error) {
    row.className = "failed"; row.textContent = error.message; return;
  }
  const bar = el("progress", { max: 1, value: 0, "aria-label": `Upload of ${file.name}` });
  const percent = el("span", { text: "0%" });
  row.append(bar, percent);
  const request = new XMLHttpRequest();
  request.open("POST", "/api/upload");
  request.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
  request.upload.addEventListener("progress", (event) => {
    if (!event.lengthComputable) return;
    bar.value = event.loaded / event.total;
    percent.textContent = `${Math.floor(100 * bar.value)}%`;
  });
  request.addEventListener("load", () => {
    let data = {};
    try { data = JSON.parse(request.responseText); } catch (error) { data = { message: request.statusText }; }
    if (request.status === 200) { row.remove(); addFileCard(data, true); }
    else { row.className = "failed"; row.textContent = data.message || `upload failed (${request.status})`; }
  });
  request.addEventListener("error", () => {
    row.className = "failed"; row.textContent = `${file.name}: the upload was interrupted`;
  });
  request.send(file);
}

// -- files ----------------------------------------------------------------------------------
function addFileCard(file, focus = false) {
  state.files.set(file.id, file);
  $("#empty").hidden = true;
  const probe = file.probe || {};
  const tracks = probe.audio || [];
  const requestId = `request-${file.id}`;
  const preview = el("div", { class: "preview", "aria-live": "polite" });
  const field = el("input", { type: "text", id: requestId, autocomplete: "off",
    placeholder: "e.g. just the audio as mp3 please" });
  const runButton = el("button", { type: "submit", class: "primary" }, "Run");
  const form = el("form", { class: "request" },
    el("label", { for: requestId }, `What do you want from ${file.name}?`),
    el("div", { class: "row" }, field, runButton), preview);
  const answer = el("div", { class: "answer", "aria-live": "polite" });
  const jobs = el("ol", { class: "jobs", "aria-label": `Results for ${file.name}` });
  const video = (probe.video || []).map((v) => `${v.width}×${v.height} ${v.codec}`).join(", ");
  const removeButton = el("button", { type: "button", class: "danger remove",
    "aria-label": `Remove ${file.name} from the session` }, "Remove");
  const card = el("article", { class: "file", id: `file-${file.id}`, "aria-label": file.name },
    el("div", { class: "file-head" }, el("h3", { text: file.name }),
      el("span", { class: "hint", text: file.source === "path" ? "used in place" : "uploaded copy" }),
      removeButton),
    el("p", { class: "meta", text: [
      containerName(file), humanSize(file.size || 0),
      probe.duration ? seconds(probe.duration) : null, video ? `video ${video}` : "no video",
    ].filter(Boolean).join(" · ") }),
    tracksTable(file, tracks), form, answer, jobs);
  $("#files").prepend(card);

  let timer = null;
  field.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => showPreview(file.id, field.value, preview), 300);
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearTimeout(timer);
    const text = field.value.trim();
    if (!text) { preview.replaceChildren(el("p", { class: "problem", text: "Type what you want first." })); return; }
    runButton.disabled = true;
    try {
      const reply = await api("/api/run", { body: { file_id: file.id, text } });
      preview.replaceChildren();
      if (reply.kind === "answer") {
        answer.textContent = reply.answer;
        if (reply.interpretation.intent === "probe") highlightTracks(card);
      } else {
        answer.textContent = "";
        for (const job of reply.jobs) showJob(job);
        field.value = "";
        field.placeholder = "Refine it: e.g. now only the first minute, as flac instead, do the same for all";
      }
    } catch (error) {
      preview.replaceChildren(el("p", { class: "problem", text: error.message }));
    } finally { runButton.disabled = false; }
  });
  removeButton.addEventListener("click", () => removeFile(file, card, removeButton));
  if (focus) field.focus();
  return card;
}

async function removeFile(file, card, button) {
  const what = file.source === "path"
    ? `Forget ${file.name} and delete its results from the workspace? The file itself stays where it is.`
    : `Delete the uploaded copy of ${file.name} and its results from the workspace?`;
  if (!window.confirm(what)) return;
  button.disabled = true;
  try {
    await api(`/api/files/${encodeURIComponent(file.id)}`, { method: "DELETE" });
  } catch (error) {
    button.disabled = false;
    $("#status-line").textContent = error.message;
    return;
  }
  // Keyboard users lose the button they pressed: move focus to the next card, or the section heading.
  const next = card.nextElementSibling || card.previousElementSibling;
  card.remove();
  state.files.delete(file.id);
  for (const [id, job] of state.jobs) if (job.file_id === file.id) state.jobs.delete(id);
  $("#empty").hidden = state.files.size > 0;
  const target = next ? $(".request input", next) : $("#files-title");
  if (!next) target.setAttribute("tabindex", "-1");
  target.focus();
  $("#status-line").textContent = `Removed ${file.name} from the session.`;
}

function containerName(file) {
  // FFmpeg names demuxers by family ("mov,mp4,m4a,3gp,..."): the file's own extension says it better.
  const dot = file.name.lastIndexOf(".");
  return dot > 0 ? file.name.slice(dot + 1).toUpperCase() : ((file.probe || {}).container || "").split(",")[0].toUpperCase();
}

function tracksTable(file, tracks) {
  if (!tracks.length) return el("p", { class: "problem", text: "This file has no audio track." });
  const head = ["#", "Codec", "Language", "Title", "Channels", "Duration", "Starts at"];
  return el("table", { class: "tracks" },
    el("caption", { text: `Audio tracks (${tracks.length})` }),
    el("thead", {}, el("tr", {}, head.map((name) => el("th", { scope: "col", text: name })))),
    el("tbody", {}, tracks.map((t) => el("tr", {},
      el("td", { text: t.number + (t.default ? " (default)" : "") }),
      el("td", { text: `${t.codec}${t.decodable ? "" : " (no local decoder)"}` }),
      el("td", { text: t.language || "—" }), el("td", { text: t.title || "—" }),
      el("td", { text: `${t.channels} (${t.layout || "?"}), ${t.sample_rate} Hz` }),
      el("td", { text: seconds(t.duration) }),
      el("td", { text: t.offset ? `${t.offset > 0 ? "+" : ""}${t.offset.toFixed(3)} s after the video` : "with the video" })))));
}

function highlightTracks(card) {
  for (const row of card.querySelectorAll("table.tracks tbody tr")) row.classList.add("highlight");
  setTimeout(() => card.querySelectorAll("tr.highlight").forEach((r) => r.classList.remove("highlight")), 2500);
}

async function showPreview(fileId, text, box) {
  if (!text.trim()) { box.replaceChildren(); return; }
  if (!state.interpreter) {
    box.replaceChildren(el("p", { class: "problem", text: "The request interpreter is not installed in this build." }));
    return;
  }
  try {
    const found = await api("/api/interpret", { body: { file_id: fileId, text } });
    const parts = [el("p", { class: "understood", text: found.understood })];
    if (found.outputs && found.outputs.length) parts.push(el("p", { class: "hint", text: `Output: ${found.outputs.join(", ")}` }));
    if (found.targets) parts.push(el("p", { class: "hint", text: found.targets.length ? `Files: ${found.targets.join(", ")}` : "There are no other files yet." }));
    if (found.unknown.length) {
      parts.push(el("p", { class: "unknown", text: `I did not understand: ${found.unknown.map((u) => `“${u}”`).join(", ")}. Edit the request, or run it without that.` }));
    }
    if (found.problem) parts.push(el("p", { class: "problem", text: found.problem }));
    box.replaceChildren(...parts);
  } catch (error) {
    box.replaceChildren(el("p", { class: "problem", text: error.message }));
  }
}

// -- jobs and results -----------------------------------------------------------------------
function showJob(job) {
  state.jobs.set(job.id, job);
  const card = document.getElementById(`file-${job.file_id}`);
  if (!card) return;
  let item = document.getElementById(`job-${job.id}`);
  if (!item) {
    item = el("li", { class: "job", id: `job-${job.id}` });
    $(".jobs", card).prepend(item);
  }
  const finished = ["done", "failed", "cancelled", "interrupted"].includes(job.status);
  const label = { queued: "waiting", running: "working", done: "done", failed: "failed", cancelled: "cancelled", interrupted: "interrupted" }[job.status] || job.status;
  const parts = [
    el("div", { class: "job-head" }, el("p", { class: "job-request", text: `“${job.request}”` }),
      el("span", { class: `status ${job.status}`, text: label })),
    el("p", { class: "job-understood", text: job.understood }),
  ];
  if (!finished) {
    const fraction = Math.max(0, Math.min(1, job.progress || 0));
    parts.push(el("div", { class: "progress-row" },
      el("progress", { max: 1, value: fraction, "aria-label": `Progress of “${job.request}”` }),
      el("span", { text: `${Math.floor(fraction * 100)}%` }),
      el("button", { type: "button", class: "cancel", onclick: () => cancelJob(job.id) }, "Cancel")));
  }
  if (job.message) parts.push(el("p", { class: `job-message ${job.status === "done" ? "" : "bad"}`, text: job.message }));
  for (const result of job.results || []) parts.push(resultCard(job, result));
  item.replaceChildren(...parts);
}

function resultCard(job, result) {
  const base = `/api/outputs/${job.id}/${encodeURIComponent(result.name)}`;
  const v = result.verification || {};
  const plan = result.plan || {};
  const facts = [
    ["Format", result.format_label || result.format],
    ["Codec", `${v.codec}, ${v.sample_rate} Hz, ${v.channels === 1 ? "mono" : v.channels === 2 ? "stereo" : `${v.channels} channels`}` +
      (plan.bitrate ? `, ${Math.round(plan.bitrate / 1000)} kb/s` : "")],
    ["Duration", seconds(v.duration) + (v.start_offset ? ` (starts ${v.start_offset.toFixed(3)} s late, as in the video)` : "")],
    ["Size", humanSize(v.size || 0)],
    ["Verified", verifiedText(v)],
  ];
  const loudness = Object.entries(v).find(([key, value]) => /loud|lufs/i.test(key) && typeof value === "number");
  if (loudness) facts.push(["Loudness", `${loudness[1].toFixed(1)} LUFS`]);
  facts.push(["From", `track ${plan.track} of the video, ${result.backend} engine`]);
  const lossless = result.lossless_copy;
  const badge = lossless ? "Lossless copy: not re-encoded" : result.mode === "copy" ? "Copied (not sample-exact)" : "Re-encoded";
  return el("div", { class: "result" },
    el("div", { class: "result-head" }, el("span", { class: "result-name", text: result.name }),
      el("span", { class: `badge ${lossless ? "lossless" : "reencoded"}`, text: badge })),
    result.waveform ? el("img", { class: "wave", src: `/api/outputs/${job.id}/${encodeURIComponent(result.waveform)}`,
      alt: `Waveform of ${result.name}` }) : null,
    el("audio", { controls: true, preload: "metadata", src: base, "aria-label": `Listen to ${result.name}` }),
    el("dl", { class: "facts" }, facts.map(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })])),
    (result.notes || []).length ? el("ul", { class: "notes" }, result.notes.map((n) => el("li", { text: n }))) : null,
    el("a", { class: "button primary download", href: `${base}?download=1`, download: result.name }, `Download ${result.name}`));
}

function verifiedText(v) {
  const parts = ["decoded to the end"];
  if (v.difference !== null && v.difference !== undefined) {
    parts.push(`duration within ${Math.abs(v.difference).toFixed(3)} s of the plan (allowed ${v.tolerance.toFixed(3)} s)`);
  }
  if (v.peak_dbfs !== null && v.peak_dbfs !== undefined) parts.push(`peak ${v.peak_dbfs.toFixed(1)} dBFS`);
  parts.push(`${v.samples} samples`);
  return parts.join("; ");
}

async function cancelJob(jobId) {
  try {
    const reply = await api(`/api/jobs/${jobId}/cancel`, { body: {} });
    if (reply.job) showJob(reply.job);
  } catch (error) { $("#status-line").textContent = error.message; }
}

function listen() {
  const events = new EventSource("/api/events");
  events.addEventListener("job", (event) => showJob(JSON.parse(event.data)));
}

// -- settings -------------------------------------------------------------------------------
function setupSettings(settings, cloudAvailable) {
  const cloud = $("#cloud");
  cloud.checked = !!settings.cloud;
  cloud.addEventListener("change", async () => {
    try {
      const saved = await api("/api/settings", { body: { cloud: cloud.checked } });
      cloud.checked = saved.cloud;
      showCredits(cloudAvailable);
    } catch (error) { $("#credits").textContent = error.message; }
  });
  showCredits(cloudAvailable);
  $("#clear").addEventListener("click", async () => {
    if (!window.confirm("Delete every uploaded copy and result in the workspace, and forget these files?")) return;
    await api("/api/session", { method: "DELETE" });
    state.files.clear(); state.jobs.clear();
    $("#files").replaceChildren(); $("#uploads").replaceChildren();
    $("#empty").hidden = false;
  });
}

async function showCredits(cloudAvailable) {
  const box = $("#credits");
  if (!$("#cloud").checked) { box.textContent = ""; return; }
  if (!cloudAvailable) { box.textContent = "The cloud backend is not installed in this build, so jobs still run only here."; return; }
  box.textContent = "Checking your credits…";
  try { box.textContent = (await api("/api/credits")).credits; } catch (error) { box.textContent = error.message; }
}

async function start() {
  if (location.search.includes("token=")) history.replaceState(null, "", location.pathname);
  setupAdding();
  try {
    const snapshot = await api("/api/state");
    state.limits = snapshot.limits;
    state.interpreter = snapshot.interpreter;
    for (const file of snapshot.files) addFileCard(file);
    for (const job of snapshot.jobs) showJob(job);
    setupSettings(snapshot.settings, snapshot.cloud_available);
    $("#status-line").textContent = `Workspace: ${snapshot.workspace}. Outputs stay in the workspace until you clear the session.`;
    listen();
  } catch (error) {
    $("#add-error").textContent = error.message;
  }
}

start();
