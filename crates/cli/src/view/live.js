// The view's page: draws each network's counters, phase by phase, the nodes that come and
// go, and (from a simulated run) a snapshot of its nodes — every node, or distributions of a
// large network — with one node's neighbourhood on demand. The server sends the whole
// picture (view/live.rs: `Shown`), so the page keeps no state of its own: each picture is
// drawn from scratch. Two sources feed it: a live run's event stream, or a replay, whose
// controls ask the server for the picture at any step of the log (view/replay.rs).
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  const svgNS = "http://www.w3.org/2000/svg";
  // The page's own token, from its URL, goes with every request (an EventSource sends no
  // headers of its own choosing).
  const token = encodeURIComponent(new URLSearchParams(location.search).get("token") ?? "");
  const seconds = (us) => `${(us / 1e6).toFixed(3)} s`;
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

  function svg(tag, attrs, title) {
    const e = document.createElementNS(svgNS, tag);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    if (title !== undefined) e.appendChild(svg("title", {})).textContent = title;
    return e;
  }

  function figure(caption, picture) {
    const f = element("figure");
    f.appendChild(picture);
    f.appendChild(element("figcaption", caption));
    return f;
  }

  // A small network: every node a dot on a circle (grey when down); a click zooms in.
  function dots(n) {
    const list = n.world.dots;
    const picture = svg("svg", { viewBox: "0 0 220 220", width: 220, height: 220, class: "dots" });
    const r = list.length > 100 ? 2 : 4;
    list.forEach((d, place) => {
      const a = (2 * Math.PI * place) / list.length - Math.PI / 2;
      const g = svg("g", { class: `node ${d.up ? "up" : "down"}`, "data-place": place });
      g.appendChild(svg("circle", { cx: 110 + 95 * Math.cos(a), cy: 110 + 95 * Math.sin(a), r },
        `${d.name}: ${d.degree} links${d.up ? "" : ", down"}`));
      g.addEventListener("click", () => zoom(n.network, place));
      picture.appendChild(g);
    });
    return figure(`every node (${n.world.up} of ${n.world.nodes} up); click one`, picture);
  }

  // A distribution: one bar per range of values, as tall as the nodes in it.
  function histogram(name, h, what) {
    const picture = svg("svg", { viewBox: "0 0 200 60", width: 200, height: 60, "data-histogram": name });
    const most = Math.max(1, ...h.counts);
    const w = 200 / Math.max(1, h.counts.length);
    h.counts.forEach((count, k) => {
      const lo = h.min + k * h.width;
      const tall = (56 * count) / most;
      picture.appendChild(svg("rect", { class: "bar", x: k * w + 0.5, y: 60 - tall, width: w - 1,
        height: tall, "data-count": count }, `${lo}–${lo + h.width - 1} ${what}: ${count} nodes`));
    });
    const top = h.min + h.counts.length * h.width - 1;
    return figure(`${what} per node, ${h.min}–${top}`, picture);
  }

  // Nodes up at each phase's end, over the run's time.
  function history(n) {
    const points = n.history;
    const first = points[0][0], span = Math.max(1, points[points.length - 1][0] - first);
    const most = Math.max(1, ...points.map(([, up]) => up));
    const picture = svg("svg", { viewBox: "0 0 200 60", width: 200, height: 60 });
    const xy = points.map(([t, up]) => `${(200 * (t - first)) / span},${58 - (54 * up) / most}`);
    picture.appendChild(svg("polyline", { class: "history", points: xy.join(" ") }));
    return figure(`nodes up at each phase's end, ${seconds(first)} to ${seconds(first + span)}`, picture);
  }

  // A large network: distributions instead of its nodes, and a node to zoom into.
  function aggregates(n) {
    const form = element("form");
    const input = element("input");
    Object.assign(input, { type: "number", min: 0, max: n.world.nodes - 1, value: n.world.busiest ?? 0 });
    input.className = "place";
    form.append(`${n.world.nodes} nodes, ${n.world.up} up: too many to draw. Node `, input,
      element("button", "zoom in"));
    form.addEventListener("submit", (e) => { e.preventDefault(); zoom(n.network, Number(input.value)); });
    return [histogram("degree", n.world.degree, "links"), histogram("load", n.world.load, "messages"), form];
  }

  function picture(n) {
    const div = element("div", undefined, "picture");
    if (n.history.length > 1) div.appendChild(history(n));
    if (n.world) {
      div.dataset.mode = n.world.dots ? "dots" : "aggregate";
      div.append(...(n.world.dots ? [dots(n)] : aggregates(n)));
    }
    return div;
  }

  // One node's neighbourhood, as the server's snapshot has it: the node in the middle, the
  // nodes it links to around it, one colour a role; any of them can be zoomed into next.
  let zoomed = null;
  async function zoom(network, place) {
    zoomed = { network, place };
    const answer = await fetch(`/node?network=${network}&place=${place}&step=${step}&token=${token}`);
    if (!answer.ok) { $("zoom-title").textContent = await answer.text(); return; }
    const hood = await answer.json();
    zoomed.at = hood.at_us;
    const all = hood.roles.flatMap((r) => r.nodes.map((m) => [r.role, m]));
    const picture = $("zoom-picture");
    picture.replaceChildren();
    const spot = (m, x, y, cls) => {
      const g = svg("g", { class: `node ${m.up ? "up" : "down"} ${cls}`, "data-place": m.place });
      g.appendChild(svg("circle", { cx: x, cy: y, r: 5 }, `${m.name}: ${m.messages} messages`));
      g.addEventListener("click", () => zoom(network, m.place));
      picture.appendChild(g);
    };
    all.forEach(([role, m], k) => {
      const a = (2 * Math.PI * k) / all.length - Math.PI / 2;
      const [x, y] = [130 + 110 * Math.cos(a), 130 + 110 * Math.sin(a)];
      picture.appendChild(svg("line", { x1: 130, y1: 130, x2: x, y2: y, class: role }));
      spot(m, x, y, role);
    });
    spot(hood.node, 130, 130, "origin");
    $("zoom-title").textContent =
      `${network}: ${hood.node.name}, ${hood.node.messages} messages (snapshot at ${seconds(hood.at_us)})`;
    $("zoom-roles").replaceChildren(...hood.roles.map((r) => {
      const li = element("li", `${r.role}: `);
      li.dataset.role = r.role;
      r.nodes.forEach((m, k) => {
        const name = element("span", m.up ? m.name : `${m.name} (down)`);
        name.dataset.place = m.place;
        name.addEventListener("click", () => zoom(network, m.place));
        li.append(k > 0 ? ", " : "", name);
      });
      return li;
    }));
    $("zoom").hidden = false;
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
    // A snapshot alone (a ring the simulator built) has no joins to count: it says its size.
    const members = n.world && n.joined === 0
      ? `${n.world.up} of ${n.world.nodes} up in the snapshot`
      : `up ${n.up} · joined ${n.joined} · left ${n.left} · crashed ${n.crashed}`;
    section.appendChild(element("p", members, "members"));
    section.appendChild(picture(n));
    if (n.phases.length === 0 && n.world) return section;
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
    if (replaying) {
      const lost = shown.lost > 0 ? ` (the log left out ${shown.lost} events past its bound)` : "";
      const over = shown.outcome !== null ? ` · over: ${shown.outcome}` : "";
      return `replay: step ${shown.step} of ${shown.steps}, at ${seconds(shown.at_us)} virtual${over}${lost}`;
    }
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

  const replaying = document.body.dataset.source === "replay";
  // The step shown (events of the log folded), the one asked for, and how many there are.
  let step = 0, wanted = 0, steps = 0, asking = false;

  // Asks the server for the picture at step `k` (clamped to the log); while an answer is on
  // its way, only the newest wish is kept, so a fast replay skips steps instead of queueing.
  async function show(k) {
    wanted = Math.max(0, Math.min(k, steps || k));
    if (asking) return;
    asking = true;
    let shown;
    do {
      shown = await (await fetch(`/shown?step=${wanted}&token=${token}`)).json();
      step = shown.step;
      steps = shown.steps;
      wanted = Math.min(wanted, steps);
      Object.assign($("timeline"), { max: steps, value: step });
      draw(shown);
    } while (wanted !== step);
    asking = false;
    // A zoomed node is drawn again when its network's snapshot changed.
    const world = zoomed && shown.networks.find((n) => n.network === zoomed.network)?.world;
    if (world && world.at_us !== zoomed.at) zoom(zoomed.network, zoomed.place);
  }

  // Playing moves `speed` events a second, frame by frame, until the log's end.
  let playing = false, from = 0, began = 0;
  function frame(now) {
    if (!playing) return;
    const target = from + Math.floor(((now - began) * Number($("speed").value)) / 1000);
    if (target !== wanted) show(target);
    if (target >= steps) return pause();
    requestAnimationFrame(frame);
  }
  function pause() { playing = false; $("play").textContent = "play"; }
  function play() {
    if (playing) return pause();
    from = wanted >= steps ? 0 : wanted;
    began = performance.now();
    playing = true;
    $("play").textContent = "pause";
    requestAnimationFrame(frame);
  }

  if (replaying) {
    $("controls").hidden = false;
    $("play").addEventListener("click", play);
    const jump = (k) => { pause(); show(k); };
    $("start").addEventListener("click", () => jump(0));
    $("back").addEventListener("click", () => jump(wanted - 1));
    $("forward").addEventListener("click", () => jump(wanted + 1));
    $("end").addEventListener("click", () => jump(steps));
    $("timeline").addEventListener("input", () => jump(Number($("timeline").value)));
    $("speed").addEventListener("change", () => { if (playing) { from = wanted; began = performance.now(); } });
    show(0);
  } else {
    const events = new EventSource(`/events?token=${token}`);
    events.onmessage = (e) => draw(JSON.parse(e.data));
    events.onerror = () => { $("status").textContent = "the view's server is gone"; };
  }
})();
