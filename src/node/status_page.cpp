#include "node/status_page.hpp"

namespace forestcast::node {

// Element ids and classes (ring, .leaf, .nbr, .route, #leafset-table a.peer) are what the
// browser test looks for: keep them stable.
std::string_view status_page_html() {
  static constexpr std::string_view kPage = R"HTML(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>forestcast node</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:1em 2em;color:#222;background:#fafafa}
h1{font-size:1.3em;margin:.2em 0}code{font-size:.95em}
.row{display:flex;gap:2em;flex-wrap:wrap;align-items:flex-start}
table{border-collapse:collapse;margin:.3em 0 1em}td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #ddd}
th{background:#eee}.muted{color:#888}.err{color:#b00}
#rt td.cell{width:14px;height:14px;padding:0;border:1px solid #fff}
#rt td.full{background:#2a7ab0}#rt td.empty{background:#e4e4e4}#rt td.own{background:#f0b400}
svg text{font:10px monospace}
.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px;border-radius:5px}
</style></head><body>
<h1>forestcast node <code id="node-id">…</code></h1>
<div id="summary" class="muted">loading /status …</div>
<div class="row">
<div>
<svg id="ring" width="460" height="460" viewBox="-230 -230 460 460" role="img" aria-label="ring">
<circle cx="0" cy="0" r="180" fill="none" stroke="#bbb" stroke-width="2"/>
<g id="links"></g><g id="routes"></g><g id="nbrs"></g><g id="leafset"></g><g id="self"></g>
</svg>
<div class="legend"><span style="background:#d33"></span>this node<span style="background:#2a9d3f"></span>leaf set<span style="background:#7a4fc9"></span>neighbourhood<span style="background:#2a7ab0"></span>routing table</div>
</div>
<div>
<h2>Routing table fill</h2><table id="rt"></table>
<h2>Leaf set</h2><table id="leafset-table"></table>
<h2>Neighbourhood set</h2><table id="nbr-table"></table>
</div></div>
<h2>Streams</h2><div id="streams"><span class=muted>none</span></div>
<h2>Counters</h2><table id="counters"></table>
<script>
"use strict";
const NS = "http://www.w3.org/2000/svg", R = 180;
// Position on the ring from the id's top 52 bits: enough precision to place a dot.
function angle(hex) { return parseInt(hex.slice(0, 13), 16) / Math.pow(2, 52) * 2 * Math.PI; }
function xy(hex, r) { const a = angle(hex); return [r * Math.sin(a), -r * Math.cos(a)]; }
function el(tag, attrs, parent) {
  const e = document.createElementNS(NS, tag);
  for (const k in attrs) e.setAttribute(k, attrs[k]);
  if (parent) parent.appendChild(e);
  return e;
}
function clear(id) { const g = document.getElementById(id); while (g.firstChild) g.removeChild(g.firstChild); return g; }
function pageOf(h) { return h.admin ? "http://" + h.admin + "/" : null; }
function dot(group, h, r, color, cls, size) {
  const [x, y] = xy(h.node_id, r);
  const a = pageOf(h) ? el("a", {href: pageOf(h)}, group) : group;
  const c = el("circle", {cx: x, cy: y, r: size, fill: color, class: cls, "data-id": h.node_id}, a);
  el("title", {}, c).textContent = h.node_id + " " + h.addr;
}
function peerTable(id, handles) {
  const t = document.getElementById(id);
  t.innerHTML = "<tr><th>node id</th><th>address</th><th>page</th></tr>";
  for (const h of handles) {
    const tr = t.insertRow();
    tr.insertCell().innerHTML = "<code>" + h.node_id.slice(0, 12) + "…</code>";
    tr.insertCell().textContent = h.addr;
    const cell = tr.insertCell();
    if (pageOf(h)) {
      const a = document.createElement("a");
      a.href = pageOf(h); a.className = "peer"; a.textContent = h.admin;
      cell.appendChild(a);
    } else cell.innerHTML = "<span class=muted>unknown</span>";
  }
}
function draw(s) {
  document.getElementById("node-id").textContent = s.node_id;
  document.getElementById("summary").className = "";
  document.getElementById("summary").textContent =
    s.state + " · udp " + s.advertised + " · leaf set " + s.leaf_set.length +
    " · routing table " + s.routing_table_entries + " entries in " + s.routing_table_rows +
    " rows · neighbourhood " + s.neighborhood_set + " · up " + s.uptime_s.toFixed(0) + " s";
  const links = clear("links");
  const [sx, sy] = xy(s.node_id, R);
  for (const h of s.leaf_set) {
    const [x, y] = xy(h.node_id, R);
    el("line", {x1: sx, y1: sy, x2: x, y2: y, stroke: "#2a9d3f", "stroke-opacity": 0.35}, links);
  }
  const routes = clear("routes");
  for (const row of s.routing_table) for (const h of row) if (h) dot(routes, h, R + 24, "#2a7ab0", "route", 3);
  const nbrs = clear("nbrs");
  for (const h of s.neighborhood) dot(nbrs, h, R - 24, "#7a4fc9", "nbr", 3.5);
  const leaves = clear("leafset");
  for (const h of s.leaf_set) dot(leaves, h, R, "#2a9d3f", "leaf", 5);
  const self = clear("self");
  el("circle", {cx: sx, cy: sy, r: 8, fill: "#d33", id: "self-dot"}, self);
  el("text", {x: sx * 1.12, y: sy * 1.12, "text-anchor": "middle"}, self).textContent = s.node_id.slice(0, 8);
  const rt = document.getElementById("rt");
  rt.innerHTML = "";
  const hdr = rt.insertRow(); hdr.insertCell().textContent = "row";
  for (let c = 0; c < 16; c++) hdr.insertCell().textContent = c.toString(16);
  s.routing_table.forEach((row, r) => {
    const tr = rt.insertRow(); tr.insertCell().textContent = r;
    const own = parseInt(s.node_id[r], 16);
    row.forEach((h, c) => {
      const td = tr.insertCell();
      td.className = "cell " + (h ? "full" : c === own ? "own" : "empty");
      if (h) td.title = h.node_id;
    });
  });
  peerTable("leafset-table", s.leaf_set);
  peerTable("nbr-table", s.neighborhood);
  drawStreams(s.streams || []);
  const ct = document.getElementById("counters");
  ct.innerHTML = "";
  for (const k of Object.keys(s.counters)) {
    if (!s.counters[k]) continue;
    const tr = ct.insertRow(); tr.insertCell().textContent = k; tr.insertCell().textContent = s.counters[k];
  }
}
// Each stream this node publishes, views or relays: its stripe trees around this node (parent,
// children, packets). Names come from the wire: text only, never markup.
function drawStreams(streams) {
  const box = clear("streams");
  const html = (tag, parent) => parent.appendChild(document.createElement(tag));
  if (!streams.length) { html("span", box).textContent = "none"; return; }
  const short = h => h ? h.node_id.slice(0, 8) : "—";
  for (const st of streams) {
    html("h3", box).textContent = (st.name || "(relayed stripes)") + " — " + st.role +
        (st.group_id ? " — group " + st.group_id.slice(0, 12) + "…" : "");
    const t = html("table", box);
    const hdr = t.insertRow();
    for (const c of ["stripe", "parent", "children", "packets", "last packet ms", "repairs"])
      hdr.insertCell().textContent = c;
    for (const x of st.stripes) {
      const tr = t.insertRow();
      tr.insertCell().textContent = x.index !== undefined ? x.index : x.stripe_id.slice(0, 8);
      tr.insertCell().textContent = x.root ? "root" : short(x.parent);
      tr.insertCell().textContent = (x.children || []).map(short).join(" ");
      tr.insertCell().textContent = x.packets_received !== undefined ? x.packets_received : "";
      const age = x.last_receive_age_ms;
      tr.insertCell().textContent = age === undefined || age === null ? "" : Math.round(age);
      tr.insertCell().textContent = x.repairs !== undefined ? x.repairs : "";
    }
  }
}
let refreshes = 0;
async function refresh() {
  try {
    const r = await fetch("/status", {cache: "no-store"});
    draw(await r.json());
    document.body.dataset.refreshes = ++refreshes;
  } catch (e) {
    const d = document.getElementById("summary");
    d.className = "err"; d.textContent = "cannot read /status: " + e;
  }
  setTimeout(refresh, 2000);
}
refresh();
</script></body></html>
)HTML";
  return kPage;
}

}  // namespace forestcast::node
