// The live view: listens to the server's event stream (view/live.rs: `Shown`) and draws
// each network's counters, phase by phase, and the nodes that come and go. The server sends
// the whole picture at every change, so the page keeps no state of its own: each message is
// drawn from scratch.
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const dash = "–";
  const ratio = (a, b, digits) => (b > 0 ? (a / b).toFixed(digits) : dash);
  const percent = (share) => `${(100 * share).toFixed(0)}%`;

  // Each column: its heading, the name a test finds its cells by, and what it shows.
  const columns = [
    ["phase", "label", (c) => c.label],
    ["peers up", "peers", (c) => c.live_peers],
    ["queries", "queries", (c) => c.queries],
    ["found", "found", (c) => `${c.found}/${c.findable}`],
    ["success", "success", (c) => (c.findable > 0 ? percent(c.found / c.findable) : dash)],
    ["messages per query", "per_query", (c) => ratio(c.search_messages, c.queries, 1)],
    ["upkeep messages", "upkeep", (c) => c.upkeep_messages],
    ["hops", "hops", (c) => ratio(c.hops, c.hop_queries, 2)],
    ["busiest node", "busiest",
      (c) => (c.busiest_share === null ? dash : `${percent(c.busiest_share)} ${c.busiest_node}`)],
  ];

  function element(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined) e.textContent = text;
    if (cls) e.className = cls;
    return e;
  }

  function row(counters, cls) {
    const tr = element("tr", undefined, cls);
    tr.dataset.phase = counters.label;
    for (const [, name, show] of columns) {
      const td = element("td", show(counters));
      td.dataset.counter = name;
      tr.appendChild(td);
    }
    return tr;
  }

  function network(n) {
    const section = element("section", undefined, "network");
    section.dataset.network = n.network;
    section.appendChild(element("h2", n.network));
    section.appendChild(element("p",
      `up ${n.up} · joined ${n.joined} · left ${n.left} · crashed ${n.crashed}`, "members"));
    const table = element("table");
    const head = element("tr");
    for (const [heading] of columns) head.appendChild(element("th", heading));
    table.appendChild(head);
    for (const phase of n.phases) table.appendChild(row(phase, "phase"));
    table.appendChild(row(n.overall, "overall"));
    section.appendChild(table);
    return section;
  }

  function status(shown) {
    if (shown.outcome !== null) return `over: ${shown.outcome}`;
    if (shown.done) return "over: writing the report";
    const lost = shown.lost > 0 ? ` (${shown.lost} events came too fast to show)` : "";
    return (shown.started ? "running on real sockets" : "waiting to start") + lost;
  }

  function draw(shown) {
    $("title").textContent = shown.title;
    $("status").textContent = status(shown);
    $("networks").replaceChildren(...shown.networks.map(network));
    $("recent").replaceChildren(...shown.recent.map((line) => element("li", line)));
  }

  // The page's own token, from its URL, opens the event stream (an EventSource sends no
  // headers of its own choosing).
  const token = new URLSearchParams(location.search).get("token") ?? "";
  const events = new EventSource(`/events?token=${encodeURIComponent(token)}`);
  events.onmessage = (e) => draw(JSON.parse(e.data));
  events.onerror = () => { $("status").textContent = "the view's server is gone"; };
})();
