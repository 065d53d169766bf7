// The vax page: add files, preview and run requests, follow jobs live, show results.
// Plain DOM code, no framework and no network assets: the page must work offline.
// connection.js (token, api, events) and results.js (result cards) load before this file.
"use strict";

// removing: files this tab asked to remove; the session's event stream may drop their card
// before the DELETE answers, and the keyboard focus must still move on then.
const state = { files: new Map(), jobs: new Map(), limits: null, interpreter: true, removing: new Set() };
const FINISHED = ["done", "failed", "cancelled", "interrupted"];
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

// Screen readers hear job completions and failures through one polite live region.
function announce(text) {
  const region = $("#announcer");
  region.textContent = "";
  setTimeout(() => { region.textContent = text; }, 50);
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
  // A file dropped anywhere on the page is added: a browser would otherwise open it in place
  // of the page and the session's view would be gone.
  const carriesFiles = (event) => event.dataTransfer && [...event.dataTransfer.types].includes("Files");
  window.addEventListener("dragover", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = connection.locked ? "none" : "copy";
    document.body.classList.add("dragging");
  });
  window.addEventListener("dragleave", (event) => { if (!event.relatedTarget) document.body.classList.remove("dragging"); });
  window.addEventListener("drop", (event) => {
    if (!carriesFiles(event)) return;
    event.preventDefault();
    document.body.classList.remove("dragging");
    if (!connection.locked) addFiles([...event.dataTransfer.files]);
  });
  drop.addEventListener("dragover", () => drop.classList.add("over"));
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", () => drop.classList.remove("over"));
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

// A failed upload keeps its row (with the reason) until the user dismisses it.
const failedUploads = new Map();  // name -> how many uploads of it failed: each Dismiss has its own name

function failUpload(row, file, text) {
  row.className = "failed";
  const count = (failedUploads.get(file.name) || 0) + 1;
  failedUploads.set(file.name, count);
  const label = `Dismiss the failed upload of ${file.name}${count > 1 ? ` (${count})` : ""}`;
  const dismiss = el("button", { type: "button", class: "dismiss", "aria-label": label }, "Dismiss");
  dismiss.addEventListener("click", () => {
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    (next ? $("button", next) || $("#choose") : $("#choose")).focus();
  });
  row.replaceChildren(el("span", { class: "reason", text }), dismiss);
  announce(`Upload failed: ${text}`);
}

async function upload(file) {
  const row = el("li", {}, el("span", { class: "upload-name", text: file.name }));
  $("#uploads").append(row);
  try {  // refuse too-large or non-media files before sending a byte
    await api("/api/upload/check", { body: { name: file.name, size: file.size } });
  } catch (error) { failUpload(row, file, error.message); return; }
  const bar = el("progress", { max: 1, value: 0, "aria-label": `Upload of ${file.name}` });
  const percent = el("span", { text: "0%" });
  row.append(bar, percent);
  const request = new XMLHttpRequest();
  request.open("POST", "/api/upload");
  request.setRequestHeader("X-Vax-Token", connection.token || "");
  request.setRequestHeader("X-File-Name", encodeURIComponent(file.name));
  request.upload.addEventListener("progress", (event) => {
    if (!event.lengthComputable) return;
    bar.value = event.loaded / event.total;
    percent.textContent = `${Math.floor(100 * bar.value)}%`;
  });
  request.addEventListener("load", () => {
    let data = {};
    try { data = JSON.parse(request.responseText); } catch (error) { data = { message: request.statusText }; }
    if (request.status === 200) { row.remove(); addFileCard(data, true); announce(`${data.name} added`); }
    else failUpload(row, file, data.message || `the upload failed (the server answered ${request.status})`);
  });
  request.addEventListener("error", () => failUpload(row, file, `${file.name}: the upload was interrupted`));
  request.send(file);
}

// -- files ----------------------------------------------------------------------------------
function addFileCard(file, focus = false) {
  const existing = document.getElementById(`file-${file.id}`);
  if (existing) {  // the session's event stream was quicker than the upload's own answer
    if (focus) $(".request input", existing).focus();
    return existing;
  }
  state.files.set(file.id, file);
  $("#empty").hidden = true;
  const probe = file.probe || {};
  const tracks = probe.audio || [];
  const requestId = `request-${file.id}`;
  const preview = el("div", { class: "preview" });
  const field = el("input", { type: "text", id: requestId, autocomplete: "off",
    placeholder: "e.g. just the audio as mp3 please" });
  const runButton = el("button", { type: "submit", class: "primary", "aria-label": `Run the request for ${file.name}` }, "Run");
  const form = el("form", { class: "request" },
    el("label", { for: requestId }, `What do you want from ${file.name}?`),
    el("div", { class: "row" }, field, runButton), quickPicks(file, field), preview);
  const answer = el("div", { class: "answer" });
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
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(timer);
    runRequest(file, field, { preview, answer, runButton, card });
  });
  removeButton.addEventListener("click", () => removeFile(file, card, removeButton));
  for (const job of state.jobs.values()) if (job.file_id === file.id) showJob(job);
  if (focus) field.focus();
  return card;
}

async function runRequest(file, field, { preview, answer, runButton, card }) {
  const text = field.value.trim();
  if (!text) { preview.replaceChildren(el("p", { class: "problem", text: "Type what you want first." })); return; }
  runButton.disabled = true;
  try {
    const reply = await api("/api/run", { body: { file_id: file.id, text } });
    preview.replaceChildren();
    if (reply.kind === "answer") {
      answer.textContent = reply.answer;
      if (reply.interpretation.intent === "probe") highlightTracks(card);
      if (reply.interpretation.intent === "start_over") field.value = "";
    } else {
      const skipped = (reply.skipped || []).map((s) => `Skipped ${s.name}: ${s.reason}`);
      answer.textContent = skipped.join("\n");
      for (const job of reply.jobs) showJob(job);
      announce(`Started ${reply.jobs.length === 1 ? "a job" : `${reply.jobs.length} jobs`}` +
        (skipped.length ? `; skipped ${skipped.length} file${skipped.length === 1 ? "" : "s"}` : ""));
      field.value = "";
      field.placeholder = "Refine it: e.g. now only the first minute, as flac instead, do the same for all, start over";
    }
  } catch (error) {
    preview.replaceChildren(el("p", { class: "problem", text: error.message }));
  } finally { runButton.disabled = false; }
}

async function removeFile(file, card, button) {
  const what = file.source === "path"
    ? `Forget ${file.name} and delete its results from the workspace? The file itself stays where it is.`
    : `Delete the uploaded copy of ${file.name} and its results from the workspace?`;
  if (!window.confirm(what)) return;
  button.disabled = true;  // a disabled button loses the focus: dropFileCard is told through state.removing
  state.removing.add(file.id);
  try {
    await api(`/api/files/${encodeURIComponent(file.id)}`, { method: "DELETE" });
  } catch (error) {
    state.removing.delete(file.id);
    button.disabled = false;
    $("#status-line").textContent = error.message;
    return;
  }
  dropFileCard(file.id, true);
  state.removing.delete(file.id);
  $("#status-line").textContent = `Removed ${file.name} from the session.`;
}

// A card goes (removed here or in another tab); keyboard focus moves on if it was inside.
function dropFileCard(fileId, moveFocus) {
  const card = document.getElementById(`file-${fileId}`);
  if (!card) return;
  const hadFocus = moveFocus || state.removing.has(fileId) || card.contains(document.activeElement);
  const next = card.nextElementSibling || card.previousElementSibling;
  card.remove();
  state.files.delete(fileId);
  for (const [id, job] of state.jobs) if (job.file_id === fileId) state.jobs.delete(id);
  $("#empty").hidden = state.files.size > 0;
  if (!hadFocus) return;
  const target = next ? $(".request input", next) : $("#files-title");
  if (!next) target.setAttribute("tabindex", "-1");
  target.focus();
}

// The session's files as the server has them now: cards added or removed to match.
function syncFiles(files) {
  const ids = new Set(files.map((f) => f.id));
  for (const id of [...state.files.keys()]) if (!ids.has(id)) dropFileCard(id, false);
  for (const file of files) if (!state.files.has(file.id)) addFileCard(file);
}

function containerName(file) {
  // FFmpeg names demuxers by family ("mov,mp4,m4a,3gp,..."): the file's own extension says it better.
  const dot = file.name.lastIndexOf(".");
  return dot > 0 ? file.name.slice(dot + 1).toUpperCase() : ((file.probe || {}).container || "").split(",")[0].toUpperCase();
}

function tracksTable(file, tracks) {
  if (!tracks.length) return el("p", { class: "problem", text: "This file has no audio track." });
  const head = ["#", "Codec", "Language", "Title", "Channels", "Duration", "Starts at"];
  const cell = (index, text) => el("td", { "data-label": head[index], text });
  return el("table", { class: "tracks" },
    el("caption", { text: `Audio tracks (${tracks.length})` }),
    el("thead", {}, el("tr", {}, head.map((name) => el("th", { scope: "col", text: name })))),
    el("tbody", {}, tracks.map((t) => el("tr", {},
      cell(0, t.number + (t.default ? " (default)" : "")),
      cell(1, `${t.codec}${t.decodable ? "" : " (no local decoder)"}`),
      cell(2, t.language || "—"), cell(3, t.title || "—"),
      cell(4, `${t.channels} (${t.layout || "?"}), ${t.sample_rate} Hz`),
      cell(5, seconds(t.duration)),
      cell(6, t.offset ? `${t.offset > 0 ? "+" : ""}${t.offset.toFixed(3)} s after the video` : "with the video")))));
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
    if (found.outputs && found.outputs.length) parts.push(el("p", { class: "hint", text: `Will be saved as: ${found.outputs.join(", ")}` }));
    if (found.targets) {
      parts.push(el("p", { class: "hint", text: found.targets.length ? `Runs on: ${found.targets.join(", ")}` : "It fits no other file yet." }));
      for (const skip of found.skipped || []) parts.push(el("p", { class: "hint", text: `Skips ${skip.name}: ${skip.reason}` }));
    }
    if (found.unknown.length) {
      parts.push(el("p", { class: "unknown", text: `I did not understand ${found.unknown.map((u) => `“${u}”`).join(", ")}, so this will not run: change or remove ${found.unknown.length === 1 ? "that part" : "those parts"}.` }));
    }
    if (found.problem) parts.push(el("p", { class: "problem", text: found.problem }));
    box.replaceChildren(...parts);
  } catch (error) {
    box.replaceChildren(el("p", { class: "problem", text: error.message }));
  }
}

// -- jobs -----------------------------------------------------------------------------------
const STATUS_WORDS = { queued: "waiting", running: "working", done: "done", failed: "failed", cancelled: "cancelled", interrupted: "interrupted" };

function jobName(job) {
  return (job.outputs && job.outputs.length) ? job.outputs.join(", ") : `“${job.request}”`;
}

function showJob(job) {
  const before = state.jobs.get(job.id);
  job.seenAt = Date.now();
  state.jobs.set(job.id, job);
  if (before && before.status !== job.status && FINISHED.includes(job.status)) announceJob(job);
  const card = document.getElementById(`file-${job.file_id}`);
  if (!card) return;
  let item = document.getElementById(`job-${job.id}`);
  if (!item) {
    item = el("li", { class: "job", id: `job-${job.id}` });
    $(".jobs", card).prepend(item);
  }
  const parts = [
    el("div", { class: "job-head" }, el("p", { class: "job-request", text: `“${job.request}”` }),
      el("span", { class: `status ${job.status}`, text: STATUS_WORDS[job.status] || job.status })),
    el("p", { class: "job-understood", text: job.understood }),
  ];
  if (!FINISHED.includes(job.status)) {
    const fraction = Math.max(0, Math.min(1, job.progress || 0));
    parts.push(el("div", { class: "progress-row" },
      el("progress", { max: 1, value: fraction, "aria-label": `Progress of ${jobName(job)}` }),
      el("span", { text: `${Math.floor(fraction * 100)}%` }),
      el("button", { type: "button", class: "cancel", "aria-label": `Cancel ${jobName(job)}`, onclick: () => cancelJob(job.id) }, "Cancel")));
  }
  if (job.message) parts.push(el("p", { class: `job-message ${job.status === "done" ? "" : "bad"}`, text: job.message }));
  for (const result of job.results || []) parts.push(resultCard(job, result));
  const focused = item.contains(document.activeElement) ? document.activeElement.getAttribute("aria-label") : null;
  item.replaceChildren(...parts);
  if (focused) { const again = [...item.querySelectorAll("[aria-label]")].find((n) => n.getAttribute("aria-label") === focused); if (again) again.focus(); }
}

function announceJob(job) {
  const file = state.files.get(job.file_id);
  const where = file ? ` for ${file.name}` : "";
  if (job.status === "done") {
    const names = (job.results || []).map((r) => r.name).join(", ");
    announce(`Done${where}: ${names || "finished"} is ready.`);
  } else {
    announce(`${STATUS_WORDS[job.status][0].toUpperCase()}${STATUS_WORDS[job.status].slice(1)}${where}: ${job.message || jobName(job)}`);
  }
}

async function cancelJob(jobId) {
  try {
    const reply = await api(`/api/jobs/${encodeURIComponent(jobId)}/cancel`, { body: {} });
    if (reply.job) showJob(reply.job);
  } catch (error) { $("#status-line").textContent = error.message; }
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
    try { await api("/api/session", { method: "DELETE" }); } catch (error) { $("#status-line").textContent = error.message; return; }
    syncFiles([]);
    state.jobs.clear();
    $("#uploads").replaceChildren();
  });
  connection.handlers.settings = (saved) => {
    if (cloud.checked !== !!saved.cloud) { cloud.checked = !!saved.cloud; showCredits(cloudAvailable); }
  };
}

async function showCredits(cloudAvailable) {
  const box = $("#credits");
  if (!$("#cloud").checked) { box.textContent = ""; return; }
  if (!cloudAvailable) { box.textContent = "The cloud backend is not installed in this build, so jobs still run only here."; return; }
  box.textContent = "Checking your credits…";
  try { box.textContent = (await api("/api/credits")).credits; } catch (error) { box.textContent = error.message; }
}

// After a lost connection: the session as it is now (jobs cut by a restart say "interrupted").
async function refresh() {
  const snapshot = await api("/api/state");
  syncFiles(snapshot.files);
  for (const job of snapshot.jobs) showJob(job);
}

async function start() {
  setupAdding();
  if (!takeToken()) {
    showLocked("This page needs the link that vax serve printed when it started: it carries the page's key.");
    return;
  }
  try {
    const snapshot = await api("/api/state");
    state.limits = snapshot.limits;
    state.interpreter = snapshot.interpreter;
    for (const job of snapshot.jobs) state.jobs.set(job.id, job);
    for (const file of [...snapshot.files]) addFileCard(file);
    setupSettings(snapshot.settings, snapshot.cloud_available);
    $("#status-line").textContent = `Workspace: ${snapshot.workspace}. Outputs stay in the workspace until you clear the session.`;
  } catch (error) {
    if (!connection.locked) $("#add-error").textContent = error.message;
    if (connection.locked) return;
  }
  connection.handlers.job = showJob;
  connection.handlers.files = syncFiles;
  listen(refresh);
}

start();


// Quick picks beside the words: a preset and, for a file with chapters, one file per chapter.
// They only write the words the interpreter reads ("with the podcast preset"), so the preview
// and the job are exactly what typing them would give.
const PRESETS = ["podcast", "streaming", "broadcast", "audiobook", "cd", "ringtone", "speech"];
const PRESET_WORDS = / ?,? ?with the (podcast|streaming|broadcast|audiobook|cd|ringtone|speech) preset/;
const CHAPTER_WORDS = / ?,? ?one file per chapter/;

function quickPicks(file, field) {
  const picker = el("select", { class: "preset", "aria-label": `Preset for ${file.name}` },
    el("option", { value: "" }, "No preset"), ...PRESETS.map((name) => el("option", { value: name }, name)));
  const row = el("div", { class: "row picks" }, el("span", { class: "hint", text: "Quick picks:" }), picker);
  const rewrite = (pattern, words) => {
    const text = field.value.replace(pattern, "").trim();
    field.value = words ? (text ? `${text}, ${words}` : words) : text;
    field.dispatchEvent(new Event("input"));
  };
  picker.addEventListener("change", () => rewrite(PRESET_WORDS, picker.value ? `with the ${picker.value} preset` : ""));
  const chapters = ((file.probe || {}).chapters || []).length;
  if (chapters) {
    const id = `chapters-${file.id}`;
    const box = el("input", { type: "checkbox", id });
    box.addEventListener("change", () => rewrite(CHAPTER_WORDS, box.checked ? "one file per chapter" : ""));
    row.append(box, el("label", { for: id }, `One file per chapter (${chapters})`));
  }
  return row;
}
