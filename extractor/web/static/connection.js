// The page's line to vax serve: the access token, JSON requests, and the live event stream.
//
// The token arrives once in the URL that `vax serve` printed. It is kept in this origin's
// localStorage (another port of 127.0.0.1 is another origin and cannot read it) and sent as a
// header, never as a cookie: browsers send cookies for 127.0.0.1 to every port of it.
"use strict";

const TOKEN_KEY = "vax-token";
const connection = { token: null, offline: false, locked: false, handlers: {} };

function takeToken() {
  const params = new URLSearchParams(location.search);
  const fromUrl = params.get("token");
  if (fromUrl) {
    localStorage.setItem(TOKEN_KEY, fromUrl);
    history.replaceState(null, "", location.pathname);
  }
  connection.token = localStorage.getItem(TOKEN_KEY);
  return connection.token;
}

// The server does not know this page's token: it was restarted with a new one, or the link is old.
function showLocked(why) {
  if (connection.locked) return;
  connection.locked = true;
  document.getElementById("banner").hidden = true;  // connected, only the key is wrong
  document.body.classList.add("locked");
  const gate = document.getElementById("gate");
  gate.hidden = false;
  document.getElementById("gate-why").textContent = why;
  document.getElementById("gate-title").focus();
}

function setOffline(offline) {
  if (connection.offline === offline) return;
  connection.offline = offline;
  const banner = document.getElementById("banner");
  if (offline) {
    banner.className = "banner offline";
    banner.textContent = "Lost the connection to vax serve. Trying again… (is it still running in its terminal?)";
    banner.hidden = false;
  } else {
    banner.className = "banner back";
    banner.textContent = "Connected to vax serve again.";
    setTimeout(() => { if (!connection.offline) banner.hidden = true; }, 4000);
  }
}

class PageError extends Error {}

async function api(path, options = {}) {
  const init = { method: options.method || "GET", headers: { "X-Vax-Token": connection.token || "" } };
  if (options.body !== undefined) {
    init.method = options.method || "POST";
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(options.body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch (error) {
    setOffline(true);
    throw new PageError("vax serve cannot be reached right now; try again when the page says it is connected.");
  }
  let data = null;
  try { data = await response.json(); } catch (error) { data = { message: response.statusText }; }
  if (response.status === 403 && data && data.error === "bad token") {
    showLocked("vax serve does not know this page's key: it was probably restarted, which gives it a new one.");
  }
  if (!response.ok) throw new PageError(data.message || `the server answered ${response.status}`);
  return data;
}

// Server-sent events over fetch, because EventSource cannot send the token header.
async function listen(onReconnect) {
  let delay = 250, first = true;
  while (!connection.locked) {
    try {
      const response = await fetch("/api/events", { headers: { "X-Vax-Token": connection.token || "" } });
      if (response.status === 403) { showLocked("vax serve does not know this page's key: it was probably restarted, which gives it a new one."); return; }
      if (!response.ok) throw new Error(`events: ${response.status}`);
      if (connection.offline || !first) { setOffline(false); await onReconnect(); }
      first = false;
      delay = 250;
      await readEvents(response.body);
      continue;  // the stream ended on schedule: open the next one at once
    } catch (error) {
      setOffline(true);
      first = false;
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 1000);  // a local server: asking often costs nothing
  }
}

async function readEvents(body) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return;
    buffer += value;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let kind = "message", data = "";
      for (const line of block.split("\n")) {
        if (line.startsWith("event: ")) kind = line.slice(7);
        else if (line.startsWith("data: ")) data += line.slice(6);
      }
      const handler = connection.handlers[kind];
      if (handler && data) handler(JSON.parse(data));
    }
  }
}
