// The trace player: draws the network of one traced search and replays its messages one
// at a time. Everything comes from the JSON block the page embeds (see player/mod.rs:
// `Data`); nothing is fetched, so the page works offline, opened straight from a file.
//
// The state is one number, `shown`: how many messages have arrived so far. Every control
// changes it, and `show()` redraws from it — arrows, node marks, counters, the list.
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("trace").textContent);
  const SVG = "http://www.w3.org/2000/svg";
  const $ = (id) => document.getElementById(id);
  const messages = data.messages;
  const label = (i) => data.nodes[i].label;

  function element(name, attrs, parent) {
    const e = document.createElementNS(SVG, name);
    for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
    parent.appendChild(e);
    return e;
  }

  // `to` moved `by` towards `from`, and the segment shifted sideways by `side`: an arrow that
  // stops at the nodes' rims, answers beside their questions.
  function segment(a, b, side) {
    const dx = b.x - a.x, dy = b.y - a.y;
    const len = Math.hypot(dx, dy) || 1;
    const ux = dx / len, uy = dy / len, r = data.layout.node_radius + 1;
    const sx = -uy * side, sy = ux * side;
    return {
      x1: a.x + ux * r + sx, y1: a.y + uy * r + sy,
      x2: b.x - ux * r + sx, y2: b.y - uy * r + sy,
    };
  }

  // The part of the SVG picture's canvas the network covers (the player draws no heading or
  // legend there), with room for the labels: x, y, width, height.
  function frame() {
    const outer = Math.max(0, ...data.layout.guides.map(([r]) => r));
    const xs = [centre[0] - outer, centre[0] + outer, ...data.nodes.map((n) => n.x)];
    const ys = [centre[1] - outer, centre[1] + outer, ...data.nodes.map((n) => n.y)];
    if (data.key) { xs.push(data.key.label_at[0]); ys.push(data.key.label_at[1]); }
    const pad = 40, x = Math.min(...xs) - pad, y = Math.min(...ys) - pad;
    return [x, y, Math.max(...xs) + pad - x, Math.max(...ys) + pad - y];
  }

  // The picture: guides, links, fingers and key under the arrows, nodes on top.
  const svg = $("picture");
  const { centre } = data.layout;
  // Past this many nodes their labels would cover each other: only the nodes that matter
  // now (the searcher, holders, the current message's ends, the lookup's path) keep theirs.
  const CROWDED = 100;
  svg.classList.toggle("crowded", data.nodes.length > CROWDED);
  svg.setAttribute("viewBox", frame().join(" "));
  const defs = element("defs", {}, svg);
  for (const role of ["ask", "answer", "duplicate"]) {
    const m = element("marker", {
      id: `head-${role}`, viewBox: "0 0 10 10", refX: 9, refY: 5,
      markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse", class: role,
    }, defs);
    element("path", { d: "M 0 0 L 10 5 L 0 10 z" }, m);
  }
  const layer = (name) => element("g", { class: name }, svg);
  const [guides, links, arrows, nodes] = ["guides", "links", "arrows", "nodes"].map(layer);
  for (const [r, text] of data.layout.guides) {
    element("circle", { cx: centre[0], cy: centre[1], r }, guides);
    element("text", { x: centre[0] + 4, y: centre[1] - r - 4 }, guides).textContent = text;
  }
  const line = (a, b, cls, parent) => element("line", {
    x1: a.x, y1: a.y, x2: b.x, y2: b.y, class: cls,
  }, parent);
  for (const [a, b] of data.links) line(data.nodes[a], data.nodes[b], "link", links);
  for (const f of data.fingers) line(data.nodes[data.origin], data.nodes[f], "finger", links);
  if (data.key) {
    const [x, y] = data.key.at;
    element("path", { d: `M ${x - 8} ${y} L ${x} ${y - 8} L ${x + 8} ${y} L ${x} ${y + 8} z`,
      class: "key" }, links);
    const [lx, ly] = data.key.label_at;
    element("text", { x: lx, y: ly, class: "key" }, links).textContent = data.key.label;
  }
  const arrowOf = messages.map((m, i) => {
    const side = m.role === "answer" ? 4 : 0;
    const a = element("line", {
      ...segment(data.nodes[m.from], data.nodes[m.to], side),
      class: `arrow ${m.role}`, "marker-end": `url(#head-${m.role})`,
      "data-kind": m.kind, "data-from": label(m.from), "data-to": label(m.to),
    }, arrows);
    a.addEventListener("click", () => detail(i));
    return a;
  });
  const nodeOf = data.nodes.map((n, i) => {
    const g = element("g", { class: "node" }, nodes);
    g.classList.toggle("origin", i === data.origin);
    g.classList.toggle("holder", n.holder);
    element("circle", { cx: n.x, cy: n.y, r: data.layout.node_radius }, g);
    element("text", { x: n.x, y: n.y - data.layout.node_radius - 3 }, g).textContent = n.label;
    return g;
  });

  // The list of messages, the same lines `p2plab trace` prints.
  const mark = { ask: "", answer: "  <-", duplicate: "  (dup)" };
  const itemOf = messages.map((m, i) => {
    const li = document.createElement("li");
    li.className = m.role;
    li.textContent = `${m.sent} → ${m.delivered} ms  ${label(m.from)} → ${label(m.to)}  `
      + `${m.summary}${mark[m.role]}`;
    li.addEventListener("click", () => detail(i));
    $("messages").appendChild(li);
    return li;
  });

  function detail(i) {
    const m = messages[i];
    const box = $("detail");
    box.replaceChildren();
    const add = (tag, text, cls) => {
      const e = document.createElement(tag);
      e.textContent = text;
      if (cls) e.className = cls;
      box.appendChild(e);
    };
    add("h2", `#${i + 1} ${m.kind}: ${label(m.from)} → ${label(m.to)}`);
    add("p", `sent at ${m.sent} ms, delivered at ${m.delivered} ms, ${m.hex.length / 2} bytes`);
    add("p", m.why, "why");
    add("pre", m.dump, "dump");
    itemOf[selected]?.classList.remove("selected");
    itemOf[i].classList.add("selected");
    selected = i;
  }

  // Redraws everything from `shown`. A step touches only what it changes — the arrows and
  // lines between the last current message and the new one, the nodes whose marks differ —
  // so a network of a thousand nodes and thousands of messages still plays smoothly.
  let shown = 0, selected = -1;
  let drawnNow = messages.length; // the message last drawn as current: all, the first time
  const nodeMarks = data.nodes.map(() => "");
  function show(n) {
    shown = Math.max(0, Math.min(messages.length, n));
    const now = shown - 1;
    const reached = new Map([[data.origin, 0]]);
    const duplicated = new Set(), asked = [], counts = { ask: 0, answer: 0, duplicate: 0 };
    let bytes = 0;
    messages.slice(0, shown).forEach((m) => {
      counts[m.role] += 1;
      bytes += m.hex.length / 2;
      if (m.role === "duplicate") duplicated.add(m.to);
      else if (m.hop !== null && m.role === "ask") {
        if (!reached.has(m.to)) reached.set(m.to, m.hop);
        if (data.network === "chord") asked.push(m);
      }
    });
    const front = Math.max(...reached.values());
    const lo = Math.max(0, Math.min(drawnNow, now)), hi = Math.min(messages.length - 1,
      Math.max(drawnNow, now));
    for (let i = lo; i <= hi; i++) {
      arrowOf[i].classList.toggle("past", i < now);
      arrowOf[i].classList.toggle("current", i === now);
      itemOf[i].classList.toggle("future", i > now);
      itemOf[i].classList.toggle("current", i === now);
    }
    drawnNow = now;
    nodeOf.forEach((g, i) => {
      const hop = reached.get(i);
      const marks = {
        reached: hop !== undefined && i !== data.origin,
        front: hop === front && front > 0,
        dup: duplicated.has(i),
        active: now >= 0 && (messages[now].from === i || messages[now].to === i),
      };
      const key = `${Object.values(marks)} ${hop ?? 0}`;
      if (key === nodeMarks[i]) return;
      nodeMarks[i] = key;
      for (const [mark, on] of Object.entries(marks)) g.classList.toggle(mark, on);
      g.style.setProperty("--hop", hop ?? 0);
    });
    counters(counts, bytes, front, asked.length);
    path(asked);
    $("timeline").value = shown;
    if (now >= 0) {
      detail(now);
      const list = $("messages"), li = itemOf[now];
      list.scrollTop = li.offsetTop - list.clientHeight / 2;
    }
  }

  function counters(counts, bytes, front, jumps) {
    const rows = [["messages", `${shown} of ${messages.length}`],
      ["questions", counts.ask], ["answers", counts.answer]];
    if (messages.some((m) => m.role === "duplicate")) rows.push(["duplicates", counts.duplicate]);
    rows.push(["bytes", bytes]);
    if (data.network === "gnutella") rows.push(["deepest hop", front]);
    if (data.network === "chord") rows.push(["lookup hops", `${jumps} (${data.routing})`]);
    rows.push(["upkeep meanwhile", `${data.upkeep} (not replayed)`]);
    $("counters").replaceChildren(...rows.map(([k, v]) => {
      const tr = document.createElement("tr");
      tr.innerHTML = "<th></th><td></td>";
      tr.cells[0].textContent = k;
      tr.cells[1].textContent = v;
      return tr;
    }));
  }

  // Chord: the lookup's path so far, one line per node the searcher asked (iterative) or the
  // lookup was passed on to (recursive).
  function path(asked) {
    $("path").replaceChildren(...asked.map((m) => {
      const li = document.createElement("li");
      li.dataset.node = label(m.to);
      li.textContent = m.why;
      return li;
    }));
    onPath.forEach((i) => nodeOf[i].classList.remove("on-path"));
    onPath = asked.map((m) => m.to);
    onPath.forEach((i) => nodeOf[i].classList.add("on-path"));
  }
  let onPath = [];

  // Playing: `speed` messages a second, paced by the browser's frames.
  let playing = false, last = 0, owed = 0;
  function tick(t) {
    if (!playing) return;
    owed += ((t - last) / 1000) * Number($("speed").value);
    last = t;
    if (owed >= 1) {
      show(shown + Math.floor(owed));
      owed %= 1;
    }
    if (shown === messages.length) pause();
    else requestAnimationFrame(tick);
  }
  function play() {
    if (shown === messages.length) show(0);
    playing = true;
    owed = 1;
    $("play").textContent = "pause";
    requestAnimationFrame((t) => { last = t; tick(t); });
  }
  function pause() {
    playing = false;
    $("play").textContent = "play";
  }

  $("title").textContent = data.title;
  $("timeline").max = messages.length;
  $("timeline").addEventListener("input", (e) => { pause(); show(Number(e.target.value)); });
  $("play").addEventListener("click", () => (playing ? pause() : play()));
  $("forward").addEventListener("click", () => { pause(); show(shown + 1); });
  $("back").addEventListener("click", () => { pause(); show(shown - 1); });
  document.addEventListener("keydown", (e) => {
    const key = { ArrowRight: "forward", ArrowLeft: "back", " ": "play" }[e.key];
    if (key) { e.preventDefault(); $(key).click(); }
  });
  show(0);
})();
