// NestPatrol web map: vanilla JS over the REST API; Leaflet is vendored (no network at run time).
"use strict";

const API = "/api/v1";
const HOURS_BINS = [[2, "#1a9850"], [6, "#91cf60"], [24, "#d9ef8b"], [72, "#fee08b"], [168, "#fc8d59"], [Infinity, "#d73027"]];
const CELL_MIN_ZOOM = 13;
const OPEN_STATUSES = ["collected", "filed", "dispatched", "handled", "feedback"];
const CLUE_COLOURS = { active: "#dc2626", suppressed: "#6b7280", baseline: "#2563eb", unconfirmed: "#d97706" };
const state = { token: sessionStorage.getItem("np-token"), me: null, map: null, layers: {}, evidence: new Map() };

function colourFor(hours) {
  if (hours === null || hours === undefined) return "#bdbdbd";
  return HOURS_BINS.find(([upper]) => hours < upper)[1];
}

async function api(path, options = {}) {
  const headers = Object.assign({ "Content-Type": "application/json" }, options.headers || {});
  if (state.token) headers.Authorization = `Bearer ${state.token}`;
  const response = await fetch(API + path, Object.assign({}, options, { headers }));
  if (response.status === 401 && path !== "/auth/login") { logout(); throw new Error("session expired"); }
  const body = await response.json();
  if (!response.ok) throw new Error(body.detail || body.title || response.statusText);
  return body;
}

async function login(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  try {
    const body = await api("/auth/login", { method: "POST", body: JSON.stringify(Object.fromEntries(form)) });
    state.token = body.access_token;
    sessionStorage.setItem("np-token", state.token);
    await start();
  } catch (err) {
    document.getElementById("login-error").textContent = err.message;
  }
}

function logout() {
  state.token = null;
  sessionStorage.removeItem("np-token");
  forgetEvidence();
  document.getElementById("app").hidden = true;
  document.getElementById("login").hidden = false;
}

function showView(name) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.view === name));
  document.querySelectorAll(".view").forEach((v) => { v.hidden = v.id !== `view-${name}`; });
  if (name === "coverage") loadCoverageTables();
  if (name === "dispatch") { loadNestTable(); loadTimeline(); }
  if (name === "tickets") loadTickets();
}

function dispatching() {
  return state.me && (state.me.role === "dispatcher" || state.me.role === "admin");
}

// clues are the pipeline's raw output: for dispatchers, planners and admins (officers get tickets)
function reviewing() {
  return state.me && ["dispatcher", "planner", "admin"].includes(state.me.role);
}

function esc(text) {
  return String(text ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
}

async function loadTimeline() {
  const [sorties, nests] = await Promise.all([api("/sorties"), api("/nests")]);
  const now = Date.now();
  const span = 24 * 3600 * 1000;
  const byNest = {};
  nests.features.forEach((f) => { byNest[f.id] = []; });
  sorties.features.forEach((f) => { (byNest[f.properties.nest_id] = byNest[f.properties.nest_id] || []).push(f.properties); });
  const rows = Object.keys(byNest).sort().map((nest) => {
    const bars = byNest[nest].map((s) => {
      const start = Math.max(0, (Date.parse(s.start) - now) / span);
      const end = Math.min(1, (Date.parse(s.end) - now) / span);
      if (end <= 0 || start >= 1) return "";
      return `<div class="bar" title="${esc(s.sortie_id)} ${esc(s.start)}" style="left:${(100 * start).toFixed(2)}%;width:${Math.max(0.3, 100 * (end - start)).toFixed(2)}%"></div>`;
    }).join("");
    return `<div class="timeline-row"><span class="label">${esc(nest)}</span><div class="track">${bars}</div></div>`;
  });
  const hint = sorties.features.length ? "" : "<p class=muted>No schedule stored: run <code>nestpatrol plan schedule</code>.</p>";
  document.getElementById("timeline").innerHTML = hint + rows.join("");
}

async function respondAt(latlng) {
  const box = document.getElementById("respond-result");
  box.textContent = "asking…";
  try {
    const answer = await api("/respond", { method: "POST", body: JSON.stringify({ lon: latlng.lng, lat: latlng.lat }) });
    if (state.layers.response) state.layers.response.remove();
    if (!answer.best) { box.textContent = `No drone can go: ${answer.reason}`; return; }
    state.layers.response = L.geoJSON(answer.path, { style: { color: "#d7301f", weight: 3, dashArray: "6 4" } }).addTo(state.map);
    const pre = answer.best.preempts.length ? answer.best.preempts.join(", ") : "nothing scheduled";
    box.innerHTML = `<p><b>${esc(answer.best.nest_id)}</b> arrives in <b id="eta">${Math.round(answer.best.eta_s)} s</b> ` +
      `(${Math.round(answer.best.path_m)} m)<br>pre-empts: ${esc(pre)}</p>`;
  } catch (err) {
    box.textContent = err.message;
  }
}

// Evidence crops need the bearer token, so <img src> cannot fetch them: each is fetched once,
// kept as a blob URL for the session (the server marks them immutable) and revoked at logout.
// Tickets cite a crop as `crop_sha256`, clues as `sha256`.
function evidenceShas(item) {
  return (item.evidence || []).map((e) => e.crop_sha256 || e.sha256).filter((sha) => /^[0-9a-f]{64}$/.test(sha || ""));
}

function evidenceThumbs(item, max = 3) {
  const shas = evidenceShas(item);
  if (!shas.length) return "";
  const more = shas.length > max ? `<span class="muted">+${shas.length - max}</span>` : "";
  return `<div class="evidence">${shas.slice(0, max).map((sha) =>
    `<img class="evidence-thumb" data-sha="${sha}" alt="evidence photo ${sha.slice(0, 8)}" title="evidence ${sha.slice(0, 12)}…">`).join("")}${more}</div>`;
}

function evidenceUrl(sha) {
  if (!state.evidence.has(sha)) {
    const pending = fetch(`${API}/evidence/${sha}`, { headers: { Authorization: `Bearer ${state.token}` } })
      .then(async (response) => {
        if (!response.ok) {
          const body = await response.json().catch(() => ({}));
          throw new Error(body.detail || `evidence ${sha.slice(0, 8)}: HTTP ${response.status}`);
        }
        return URL.createObjectURL(await response.blob());
      });
    pending.catch(() => state.evidence.delete(sha));  // a failed fetch may be retried later
    state.evidence.set(sha, pending);
  }
  return state.evidence.get(sha);
}

function loadEvidence(root) {
  root.querySelectorAll("img.evidence-thumb:not([data-state])").forEach((img) => {
    img.dataset.state = "loading";
    evidenceUrl(img.dataset.sha).then((url) => {
      img.src = url;
      img.dataset.state = "loaded";
      img.addEventListener("click", () => showEvidence(url, img.alt));
    }).catch((err) => {
      img.dataset.state = "failed";
      img.title = err.message;
    });
  });
}

function showEvidence(url, alt) {
  let viewer = document.getElementById("evidence-viewer");
  if (!viewer) {
    viewer = document.createElement("div");
    viewer.id = "evidence-viewer";
    viewer.addEventListener("click", () => { viewer.hidden = true; });
    document.body.appendChild(viewer);
  }
  viewer.innerHTML = `<img src="${url}" alt="${esc(alt)}"><p>Click anywhere to close.</p>`;
  viewer.hidden = false;
}

function forgetEvidence() {
  state.evidence.forEach((pending) => pending.then((url) => URL.revokeObjectURL(url)).catch(() => {}));
  state.evidence.clear();
}

function ticketPopup(t) {
  return `<b>#${t.id}</b> ${esc(t.category_name)}<br><span class="status">${esc(t.status)}</span>` +
    `${t.overdue ? ' <b class="overdue-flag">overdue</b>' : ""} · ${esc(t.jurisdiction)}<br>` +
    `<span class="muted">due ${esc(t.sla_deadline)}</span>${evidenceThumbs(t)}`;
}

async function loadTicketLayer() {
  const layer = state.layers.tickets;
  const b = state.map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
  const statuses = OPEN_STATUSES.map((s) => `&status=${s}`).join("");
  const body = await api(`/tickets?bbox=${bbox}${statuses}&limit=500`);
  layer.clearLayers();
  body.features.forEach((f) => {
    const [lon, lat] = f.geometry.coordinates;
    const marker = L.circleMarker([lat, lon], {
      pane: "tickets", renderer: state.ticketRenderer, radius: 7, color: "#fff", weight: 2, fillOpacity: 1, fillColor: f.properties.overdue ? "#d73027" : "#f97316",
      bubblingMouseEvents: false,  // a dispatcher opening a ticket is not asking for a drone
    }).bindPopup(ticketPopup(f.properties), { minWidth: 200 });
    marker.ticketId = f.id;
    // thumbnails have a fixed size, so the open pop-up need not be laid out again (update()
    // would also re-render its content and drop the loaded images)
    marker.on("popupopen", (e) => loadEvidence(e.popup.getElement()));
    layer.addLayer(marker);
  });
}

function cluePopup(c) {
  const rules = (c.rules || []).map((r) => `<li><b>${esc(r.rule)}</b>: ${esc(r.reason)}</li>`).join("");
  const ticket = c.ticket_id ? ` · ticket #${c.ticket_id}` : "";
  return `<b>Clue #${c.id}</b> ${esc(c.detection_class)}<br>` +
    `<span class="status clue-${esc(c.status)}">${esc(c.status)}</span> · confidence ${Math.round(100 * c.confidence)} % · ` +
    `${c.sighting_count} sighting${c.sighting_count === 1 ? "" : "s"}${ticket}<br>` +
    `<span class="muted">last seen ${esc(c.last_seen_at)}</span>` +
    `${rules ? `<ul class="rules">${rules}</ul>` : ""}${evidenceThumbs(c, 6)}`;
}

async function loadClueLayer() {
  if (!reviewing()) return;
  const layer = state.layers.clues;
  const b = state.map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
  const body = await api(`/clues?bbox=${bbox}&limit=500`);
  layer.clearLayers();
  body.features.forEach((f) => {
    const [lon, lat] = f.geometry.coordinates;
    const colour = CLUE_COLOURS[f.properties.status] || "#6b7280";
    // a ring: a ticket made from the clue sits at its centre and stays clickable
    const marker = L.circleMarker([lat, lon], {
      pane: "clues", renderer: state.clueRenderer, radius: 11, color: colour, weight: 3, fillColor: colour, fillOpacity: 0.2,
      bubblingMouseEvents: false,
    }).bindPopup(cluePopup(f.properties), { minWidth: 220 });
    marker.clueId = f.id;
    marker.on("popupopen", (e) => loadEvidence(e.popup.getElement()));
    layer.addLayer(marker);
  });
}

async function loadTickets() {
  const list = document.getElementById("tickets-list");
  const body = await api("/tickets?limit=200");
  document.getElementById("tickets-scope").textContent = state.me.role === "officer"
    ? `Your jurisdictions: ${state.me.jurisdictions.join(", ")}` : "All jurisdictions";
  const canAct = state.me.role === "officer" || state.me.role === "dispatcher" || state.me.role === "admin";
  list.innerHTML = body.features.length ? body.features.map((f) => {
    const t = f.properties;
    const actions = canAct ? `<div class="actions">
        <button data-act="handle" data-id="${t.id}">Handle</button>
        <button data-act="feedback" data-id="${t.id}">Feed back</button>
        <button data-act="reject" data-id="${t.id}">Reject…</button></div>` : "";
    return `<div class="ticket ${t.overdue ? "overdue" : ""}" data-ticket="${t.id}">
      <div>#${t.id} <span class="status">${esc(t.status)}</span> · ${esc(t.category_name)} (${esc(t.major_code)}-${esc(t.minor_code)})</div>
      <div class="muted">${esc(t.jurisdiction)} · due ${esc(t.sla_deadline)} · ${t.evidence.length} evidence item(s)</div>
      <div>${esc(t.description)}</div>${evidenceThumbs(t, 6)}${actions}</div>`;
  }).join("") : "<p class=muted>No tickets.</p>";
  loadEvidence(list);
  list.querySelectorAll("button[data-act]").forEach((b) => b.addEventListener("click", () => act(b.dataset.id, b.dataset.act)));
}

async function act(id, action) {
  const body = { action };
  if (action === "reject") {
    body.reason = window.prompt("Why is this a false positive?") || "";
    if (!body.reason) return;
  }
  try {
    await api(`/tickets/${id}/actions`, { method: "POST", body: JSON.stringify(body) });
  } catch (err) {
    window.alert(err.message);
  }
  await loadTickets();
}

function table(el, headers, rows) {
  el.innerHTML = `<tr>${headers.map((h, i) => `<th class="${i ? "num" : ""}">${h}</th>`).join("")}</tr>` +
    rows.map((r) => `<tr>${r.map((c, i) => `<td class="${i ? "num" : ""}">${c}</td>`).join("")}</tr>`).join("");
}

async function loadCoverageTables() {
  const stats = await api("/coverage/stats");
  const row = (r) => [r.key, r.cells.toLocaleString(), `${(100 * r.within_target).toFixed(1)} %`, r.worst_gap_h.toFixed(1)];
  const headers = ["", "cells", "within target", "worst gap (h)"];
  table(document.getElementById("coverage-class"), ["class"].concat(headers.slice(1)), stats.by_priority.map(row));
  table(document.getElementById("coverage-jurisdiction"), ["jurisdiction"].concat(headers.slice(1)), stats.by_jurisdiction.map(row));
}

async function loadNestTable() {
  const nests = await api("/nests");
  table(document.getElementById("nests-table"), ["nest", "status", "battery", "reach (m)"],
    nests.features.map((f) => [f.id, f.properties.status, f.properties.battery_mode, Math.round(f.properties.reach_radius_m)]));
}

function setLegend() {
  const items = HOURS_BINS.map(([upper, colour], i) => {
    const lower = i ? HOURS_BINS[i - 1][0] : 0;
    const label = upper === Infinity ? `≥ ${lower} h` : `${lower}–${upper} h`;
    return `<div><span class="legend-swatch" style="background:${colour}"></span>${label}</div>`;
  });
  items.push(`<div><span class="legend-swatch" style="background:#bdbdbd"></span>never seen</div>`);
  if (reviewing()) {
    items.push("<h3>Clues</h3>", ...Object.entries(CLUE_COLOURS).map(([status, colour]) =>
      `<div><span class="legend-swatch legend-ring" style="border-color:${colour}"></span>${status}</div>`));
  }
  document.getElementById("legend").innerHTML = `<h3>Hours since last seen</h3>${items.join("")}`;
}

async function loadCoverageLayer() {
  const layer = state.layers.coverage;
  layer.clearLayers();
  const status = document.getElementById("status");
  if (state.map.getZoom() < CELL_MIN_ZOOM) {
    status.textContent = `Zoom in (level ${CELL_MIN_ZOOM}+) to see cells.`;
    return;
  }
  const b = state.map.getBounds();
  const bbox = [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()].map((v) => v.toFixed(5)).join(",");
  const cells = await api(`/coverage/cells?bbox=${bbox}`);
  layer.addData(cells);
  document.getElementById("export-coverage").href = `${API}/coverage/cells?bbox=${bbox}`;
  status.textContent = `${cells.features.length.toLocaleString()} cells in view.`;
}

async function buildMap() {
  if (state.map) { state.map.remove(); }
  const renderer = L.canvas({ padding: 0.2 });
  const map = L.map("map", { renderer, zoomControl: true, preferCanvas: true });
  state.map = map;
  const config = await api("/ui-config");
  if (config.tile_url) L.tileLayer(config.tile_url, { maxZoom: 19, attribution: config.tile_attribution || "" }).addTo(map);
  const boundary = await api("/geography/boundary");
  const outline = L.geoJSON(boundary, { style: { color: "#111", weight: 2, fill: false } }).addTo(map);
  map.fitBounds(outline.getBounds());
  state.layers.jurisdictions = L.geoJSON(await api("/geography/jurisdictions"), {
    style: { color: "#555", weight: 1, fill: false, dashArray: "4 3" },
    onEachFeature: (f, l) => l.bindTooltip(`${f.properties.code} ${f.properties.name}`),
  }).addTo(map);
  state.layers.nofly = L.geoJSON(await api("/geography/nofly"), {
    style: { color: "#000", weight: 1.5, fillColor: "#000", fillOpacity: 0.15 },
    onEachFeature: (f, l) => l.bindPopup(`<b>No-fly</b><br>${f.properties.name || ""}`),
  }).addTo(map);
  state.layers.coverage = L.geoJSON(null, {
    style: (f) => ({ color: colourFor(f.properties.hours_since_seen), weight: 0.3, fillOpacity: 0.55 }),
    // dispatchers click the map to send a drone: cell popups would swallow those clicks
    onEachFeature: (f, l) => dispatching() || l.bindPopup(`<b>${esc(f.properties.cell_id)}</b><br>${esc(f.properties.priority)}, ${esc(f.properties.jurisdiction)}<br>` +
      `last seen: ${esc(f.properties.last_seen || "never")}<br>sightings (24 h): ${f.properties.count}`),
  }).addTo(map);
  const nests = await api("/nests");
  state.layers.nests = L.layerGroup(nests.features.map((f) => {
    const [lon, lat] = f.geometry.coordinates;
    return L.layerGroup([
      L.circle([lat, lon], { radius: f.properties.reach_radius_m, color: "#1d4ed8", weight: 1, fillOpacity: 0.04 }),
      L.circleMarker([lat, lon], { radius: 6, color: "#fff", weight: 2, fillColor: "#1d4ed8", fillOpacity: 1 })
        .bindTooltip(`${f.id} (${f.properties.status})`),
    ]);
  })).addTo(map);
  // tickets get their own pane above the coverage canvas, drawn in SVG: a click on a ticket
  // reaches the ticket (and its pop-up), not the cell underneath
  map.createPane("tickets").style.zIndex = 450;
  state.ticketRenderer = L.svg({ pane: "tickets" });
  state.layers.tickets = L.layerGroup().addTo(map);
  // clues (dispatchers, planners, admins) in a pane just below the tickets
  map.createPane("clues").style.zIndex = 440;
  state.clueRenderer = L.svg({ pane: "clues" });
  state.layers.clues = L.layerGroup();
  const clueBox = document.querySelector("[data-layer=clues]");
  clueBox.closest("label").hidden = !reviewing();
  if (reviewing() && clueBox.checked) state.layers.clues.addTo(map);
  document.querySelectorAll("[data-layer]").forEach((box) => {
    box.onchange = () => (box.checked ? state.layers[box.dataset.layer].addTo(map) : state.layers[box.dataset.layer].remove());
  });
  if (dispatching()) {
    map.on("click", (e) => { showView("dispatch"); respondAt(e.latlng); });
  }
  map.on("moveend", () => loadCoverageLayer().catch((e) => { document.getElementById("status").textContent = e.message; }));
  map.on("moveend", () => loadTicketLayer().catch((e) => { document.getElementById("status").textContent = e.message; }));
  map.on("moveend", () => loadClueLayer().catch((e) => { document.getElementById("status").textContent = e.message; }));
  setLegend();
  await Promise.all([loadCoverageLayer(), loadTicketLayer(), loadClueLayer()]);
}

async function start() {
  state.me = await api("/me");
  document.getElementById("login").hidden = true;
  document.getElementById("app").hidden = false;
  document.getElementById("whoami").textContent = `${state.me.name} (${state.me.role})`;
  await buildMap();
  document.body.dataset.ready = "true";
}

document.getElementById("login-form").addEventListener("submit", login);
document.getElementById("logout").addEventListener("click", logout);
document.querySelectorAll("#tabs button").forEach((b) => b.addEventListener("click", () => showView(b.dataset.view)));
if (state.token) start().catch(logout);
