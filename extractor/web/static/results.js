// One result of a job: a plain sentence first, a one-button player, the download, and the
// measured details behind a toggle. Files are fetched through the job's signed links.
"use strict";

const LINK_RENEW_MS = 10 * 60 * 1000;  // links live 15 minutes on the server: renew them well before

function channelsText(count) {
  return count === 1 ? "mono" : count === 2 ? "stereo" : `${count} channels`;
}

function plainSentence(result) {
  const v = result.verification || {}, plan = result.plan || {};
  const what = result.lossless_copy
    ? "The original audio, copied without re-encoding"
    : result.mode === "copy"
      ? "The original audio data, copied without re-encoding (it may start a few milliseconds differently)"
      : `Converted to ${result.format_label || result.format}` + (plan.bitrate ? ` at ${Math.round(plan.bitrate / 1000)} kb/s` : "");
  const parts = [seconds(v.duration), channelsText(v.channels), humanSize(v.size || 0)];
  const loud = typeof v.loudness_lufs === "number" ? ` Loudness ${v.loudness_lufs.toFixed(1)} LUFS.` : "";
  return `${what}: ${parts.join(", ")}. Checked by playing it to the end.${loud}`;
}

function factsList(result) {
  const v = result.verification || {}, plan = result.plan || {};
  const facts = [
    ["Format", result.format_label || result.format],
    ["Codec", `${v.codec}, ${v.sample_rate} Hz, ${channelsText(v.channels)}` + (plan.bitrate ? `, ${Math.round(plan.bitrate / 1000)} kb/s` : "")],
    ["Duration", seconds(v.duration) + (v.start_offset ? ` (starts ${v.start_offset.toFixed(3)} s late, as in the video)` : "")],
    ["Size", humanSize(v.size || 0)],
    ["Verified", verifiedText(v)],
  ];
  if (typeof v.loudness_lufs === "number") facts.push(["Loudness", `${v.loudness_lufs.toFixed(1)} LUFS`]);
  facts.push(["From", `track ${plan.track} of the video, ${result.backend} engine`]);
  return facts;
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

function link(job, name, download = false) {
  const url = (job.links || {})[name];
  return url ? url + (download ? "&download=1" : "") : null;
}

// Fresh signed links for a job (old ones expire): re-renders it and returns the new job.
async function renewLinks(job) {
  const fresh = await api(`/api/jobs/${encodeURIComponent(job.id)}`);
  showJob(fresh);
  return fresh;
}

function player(job, result) {
  const source = result.preview || result.name;
  const audio = el("audio", { preload: "none", src: link(job, source) });
  const time = el("span", { class: "time", text: "" });
  const button = el("button", { type: "button", class: "play", "aria-label": `Play ${result.name}` }, "▶ Play");
  const playing = (on) => {
    button.textContent = on ? "❚❚ Pause" : "▶ Play";
    button.setAttribute("aria-label", `${on ? "Pause" : "Play"} ${result.name}`);
  };
  button.addEventListener("click", () => (audio.paused ? audio.play().catch(() => {}) : audio.pause()));
  audio.addEventListener("play", () => playing(true));
  audio.addEventListener("pause", () => playing(false));
  audio.addEventListener("ended", () => playing(false));
  audio.addEventListener("timeupdate", () => { time.textContent = `${seconds(audio.currentTime)} / ${seconds(audio.duration)}`; });
  audio.addEventListener("error", async () => {  // most likely an expired link: renew it once
    if (audio.dataset.renewed) return;
    audio.dataset.renewed = "1";
    try { const fresh = await renewLinks(job); audio.src = link(fresh, source); } catch (error) { /* the banner says why */ }
  });
  const parts = [el("div", { class: "player" }, button, time, audio)];
  if (result.preview) {
    parts.push(el("p", { class: "hint", text: `Your browser cannot play ${(result.format_label || result.format)} itself, so this plays a stereo preview; the download is the original ${result.name}.` }));
  }
  return parts;
}

function downloadLink(job, result) {
  const anchor = el("a", { class: "button primary download", href: link(job, result.name, true), download: result.name },
    `Download ${result.name}`);
  anchor.addEventListener("click", async (event) => {
    if (Date.now() - (job.seenAt || 0) < LINK_RENEW_MS) return;
    event.preventDefault();
    const fresh = await renewLinks(job);
    const go = el("a", { href: link(fresh, result.name, true), download: result.name });
    document.body.append(go); go.click(); go.remove();
  });
  return anchor;
}

function resultCard(job, result) {
  const lossless = result.lossless_copy;
  const badge = lossless ? "Lossless copy" : result.mode === "copy" ? "Copied" : "Re-encoded";
  const notes = result.notes || [];
  return el("div", { class: "result" },
    el("div", { class: "result-head" }, el("span", { class: "result-name", text: result.name }),
      el("span", { class: `badge ${lossless ? "lossless" : "reencoded"}`, text: badge })),
    el("p", { class: "plain", text: plainSentence(result) }),
    result.waveform && link(job, result.waveform)
      ? el("img", { class: "wave", src: link(job, result.waveform), alt: `Waveform of ${result.name}` }) : null,
    player(job, result),
    downloadLink(job, result),
    el("details", { class: "more" },
      el("summary", { "aria-label": `Details of ${result.name}` }, "Details"),
      el("dl", { class: "facts" }, factsList(result).map(([name, value]) => [el("dt", { text: name }), el("dd", { text: value })])),
      notes.length ? el("ul", { class: "notes" }, notes.map((n) => el("li", { text: n }))) : null));
}
