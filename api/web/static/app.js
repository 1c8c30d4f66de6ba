// NestPatrol web map: vanilla JS over the REST API; Leaflet is vendored (no network at run time).
"use strict";

const API = "/api/v1";
const HOURS_BINS = [[2, "#1a9850"], [6, "#91cf60"], [24, "#d9ef8b"], [72, "#fee08b"], [168, "#fc8d59"], [Infinity, "#d73027"]];
const CELL_MIN_ZOOM = 13;
const state = { token: sessionStorage.getItem("np-token"), me: null, map: null, layers: {} };

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
  document.getElementById("app").hidden = true;
  document.getElementById("login").hidden = false;
}

function showView(name) {
  document.querySelectorAll("#tabs button").forEach((b) => b.classList.toggle("active", b.dataset.view === name));
  document.querySelectorAll(".view").forEach((v) => { v.hidden = v.id !== `view-${name}`; });
  if (name === "coverage") loadCoverageTables();
  if (name === "dispatch") loadNestTable();
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
    onEachFeature: (f, l) => l.bindPopup(`<b>${f.properties.cell_id}</b><br>${f.properties.priority}, ${f.properties.jurisdiction}<br>` +
      `last seen: ${f.properties.last_seen || "never"}<br>sightings (24 h): ${f.properties.count}`),
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
  document.querySelectorAll("[data-layer]").forEach((box) => {
    box.onchange = () => (box.checked ? state.layers[box.dataset.layer].addTo(map) : state.layers[box.dataset.layer].remove());
  });
  map.on("moveend", () => loadCoverageLayer().catch((e) => { document.getElementById("status").textContent = e.message; }));
  setLegend();
  await loadCoverageLayer();
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
