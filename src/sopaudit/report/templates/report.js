(function () {
  "use strict";
  // Data is read with JSON.parse and written with textContent only: nothing from the exports
  // is ever parsed as HTML.
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var L = data.labels;

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return values[k] === undefined ? m : String(values[k]); });
  }
  function num(n) { return n.toLocaleString(data.lang); }

  // --- maps: zoom, pan and a full-size view ---------------------------------------------------
  // A map opens at the width of its box unless its smallest text would then be under 10 px: it
  // is then drawn larger, inside its own scrolling box (drag to pan).
  var MIN_TEXT = 10;
  var full = document.getElementById("map-full"), fullView = document.getElementById("map-full-view");
  var fullMap = null;  // the map whose drawing is in the full-size view

  function natural(svg) {
    var vb = svg.viewBox && svg.viewBox.baseVal;
    var w = vb && vb.width ? vb.width : svg.width.baseVal.value, h = vb && vb.height ? vb.height : svg.height.baseVal.value;
    return {w: w || 1, h: h || 1};
  }
  function smallestText(svg) {
    var least = Infinity;
    Array.prototype.forEach.call(svg.querySelectorAll("text"), function (el) {
      var size = parseFloat(window.getComputedStyle(el).fontSize);
      if (size > 0 && size < least) { least = size; }
    });
    return least === Infinity ? 12 : least;
  }
  function setScale(map, scale) {
    map.scale = Math.max(0.1, Math.min(4, scale));
    var size = natural(map.svg);
    map.svg.style.width = Math.ceil(size.w * map.scale * 10) / 10 + "px";
    map.svg.style.height = Math.ceil(size.h * map.scale * 10) / 10 + "px";
    map.svg.style.maxWidth = "none";
    map.label.textContent = Math.round(map.scale * 100) + "%";
  }
  function fitScale(map, box) {
    var size = natural(map.svg);
    return Math.min(1, Math.max(0.05, (box.clientWidth - 4) / size.w));
  }
  function readableScale(map) {
    return Math.min(1, Math.max(fitScale(map, map.view), MIN_TEXT / map.minText));
  }
  // A drawing wider than its box opens at its left edge (title and legend) when its first box
  // (the start of the process) is visible from there; otherwise with that box in the middle.
  function startAtTop(map) {
    var view = map.view, first = null;
    if (view.scrollWidth <= view.clientWidth) { return; }
    Array.prototype.forEach.call(map.svg.querySelectorAll("g.node"), function (g) {
      var r = g.getBoundingClientRect();
      if (!first || r.top < first.top - 1) { first = r; }
    });
    var left = view.getBoundingClientRect().left - view.scrollLeft;
    if (first && first.right - left + 8 <= view.clientWidth) { view.scrollLeft = 0; return; }
    var x = first ? first.left - left + first.width / 2 : view.scrollWidth / 2;
    view.scrollLeft = Math.max(0, x - view.clientWidth / 2);
  }
  function pannable(view) {
    var start = null;
    view.addEventListener("pointerdown", function (ev) {
      if (ev.button !== 0) { return; }
      start = {x: ev.clientX, y: ev.clientY, left: view.scrollLeft, top: view.scrollTop};
      view.classList.add("panning");
    });
    view.addEventListener("pointermove", function (ev) {
      if (!start) { return; }
      view.scrollLeft = start.left - (ev.clientX - start.x);
      view.scrollTop = start.top - (ev.clientY - start.y);
    });
    ["pointerup", "pointerleave", "pointercancel"].forEach(function (name) {
      view.addEventListener(name, function () { start = null; view.classList.remove("panning"); });
    });
  }
  function closeFull() {
    if (!fullMap) { return; }
    fullMap.view.appendChild(fullMap.svg);
    setScale(fullMap, fullMap.before);
    fullMap = null;
    full.hidden = true;
    document.body.classList.remove("full-open");
  }
  function openFull(map) {
    closeFull();
    fullMap = map;
    map.before = map.scale;
    fullView.appendChild(map.svg);
    full.hidden = false;
    document.body.classList.add("full-open");
    setScale(map, 1);
    fullView.scrollLeft = 0;
    fullView.scrollTop = 0;
    document.getElementById("map-full-title").textContent = map.title;
    document.getElementById("map-full-close").focus();
  }
  function zoom(map, how) {
    if (how === "in") { setScale(map, map.scale * 1.25); }
    else if (how === "out") { setScale(map, map.scale / 1.25); }
    else if (how === "fit") { setScale(map, fitScale(map, fullMap === map ? fullView : map.view)); }
    else if (how === "full") { openFull(map); }
    else if (how === "close") { closeFull(); }
    map.auto = false;
  }
  var maps = Array.prototype.map.call(document.querySelectorAll(".map-box"), function (box) {
    var view = box.querySelector(".map"), svg = view.querySelector("svg");
    if (!svg) { return null; }
    var map = {box: box, view: view, svg: svg, label: box.querySelector(".map-scale"), auto: true,
               title: box.dataset.title || "", minText: smallestText(svg)};
    box.querySelector(".map-tools").hidden = false;
    box.querySelector(".map-tools").addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-zoom]");
      if (b) { zoom(map, b.dataset.zoom); }
    });
    pannable(view);
    setScale(map, readableScale(map));
    startAtTop(map);
    box.dataset.scale = String(map.scale);
    return map;
  }).filter(Boolean);
  if (full) {
    pannable(fullView);
    full.addEventListener("click", function (ev) {
      var b = ev.target.closest("button[data-zoom]");
      if (b && fullMap) { zoom(fullMap, b.dataset.zoom); }
    });
    document.addEventListener("keydown", function (ev) { if (ev.key === "Escape") { closeFull(); } });
  }
  window.addEventListener("resize", function () {
    maps.forEach(function (map) { if (map.auto && map !== fullMap) { setScale(map, readableScale(map)); } });
  });
  window.addEventListener("beforeprint", closeFull);

  // --- findings: filtered over all of them, drawn a page at a time ----------------------------
  var F = data.findings;
  var kind = document.getElementById("f-kind"), step = document.getElementById("f-step");
  var officer = document.getElementById("f-officer"), kase = document.getElementById("f-case");
  var counter = document.getElementById("f-count"), body = document.querySelector("#findings-table tbody");
  var panel = document.getElementById("case-panel");
  if (!kind || !F) { return; }  // no findings: no list to filter
  // Row: [case, kind index, step index, detail index, event row, time, officer index, evidence,
  //       accepted reason index (-1: not accepted), has drill-down (1/0)]
  var matches = [], page = 0;
  var size = document.getElementById("pg-size"), info = document.getElementById("pg-info");
  var prev = document.getElementById("pg-prev"), next = document.getElementById("pg-next");

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
  }

  function draw() {
    var per = parseInt(size.value, 10) || 50;
    var pages = Math.max(1, Math.ceil(matches.length / per));
    page = Math.min(Math.max(0, page), pages - 1);
    var from = page * per, to = Math.min(matches.length, from + per);
    var rows = document.createDocumentFragment();
    for (var i = from; i < to; i += 1) {
      var r = F.rows[matches[i]], k = F.kinds[r[1]], s = F.steps[r[2]];
      var tr = document.createElement("tr");
      var td = document.createElement("td");
      if (r[9]) {
        var b = document.createElement("button");
        b.type = "button";
        b.className = "case-link";
        b.dataset.case = r[0];
        b.textContent = r[0];
        td.appendChild(b);
      } else {
        td.textContent = r[0];
      }
      tr.appendChild(td);
      td = cell(tr, k[1], "kind-" + k[0]);
      if (r[8] >= 0) {
        var badge = document.createElement("span");
        badge.className = "badge";
        badge.title = F.texts[r[8]];
        badge.textContent = L.accepted;
        td.appendChild(document.createTextNode(" "));
        td.appendChild(badge);
      }
      cell(tr, s[1]);
      td = cell(tr, F.texts[r[3]]);
      if (r[7]) {
        var note = document.createElement("span");
        note.className = "note";
        note.textContent = "(" + fmt(L.evidence, {rows: r[7]}) + ")";
        td.appendChild(document.createTextNode(" "));
        td.appendChild(note);
      }
      cell(tr, r[4], "n");
      cell(tr, r[5], "time");
      cell(tr, r[6] >= 0 ? F.officers[r[6]] : "");
      rows.appendChild(tr);
    }
    body.textContent = "";
    body.appendChild(rows);
    info.textContent = matches.length ? fmt(L.page, {from: num(from + 1), to: num(to), n: num(matches.length),
                                                     page: num(page + 1), pages: num(pages)}) : "";
    prev.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }

  function apply() {
    var k = kind.value, s = step.value, o = officer.value, c = kase.value.trim().toLowerCase();
    var ki = -1, si = -1, oi = -1;
    F.kinds.forEach(function (x, i) { if (x[0] === k) { ki = i; } });
    F.steps.forEach(function (x, i) { if (x[0] === s) { si = i; } });
    oi = o ? F.officers.indexOf(o) : -1;
    matches = [];
    for (var i = 0; i < F.rows.length; i += 1) {
      var r = F.rows[i];
      if ((k && r[1] !== ki) || (s && r[2] !== si) || (o && r[6] !== oi) ||
          (c && r[0].toLowerCase().indexOf(c) < 0)) { continue; }
      matches.push(i);
    }
    page = 0;
    counter.textContent = fmt(L.shown, {n: num(matches.length), total: num(F.rows.length)});
    draw();
  }

  function showCase(id) {
    var c = Object.prototype.hasOwnProperty.call(data.cases, id) ? data.cases[id] : null;
    panel.textContent = "";
    panel.hidden = false;
    var head = document.createElement("h3");
    head.textContent = id;
    panel.appendChild(head);
    var close = document.createElement("button");
    close.type = "button";
    close.id = "case-close";
    close.textContent = L.close;
    close.addEventListener("click", function () { panel.hidden = true; });
    if (!c) {
      var p = document.createElement("p");
      p.textContent = fmt(L.no_case, {id: id});
      panel.appendChild(p);
      panel.appendChild(close);
      return;
    }
    if (c.status) {
      var st = document.createElement("p");
      st.textContent = L.status + ": " + c.status;
      panel.appendChild(st);
    }
    var hits = {}, evidence = {};
    var ul = document.createElement("ul");
    c.f.forEach(function (f) {
      var li = document.createElement("li");
      var b = document.createElement("strong");
      b.className = "kind-" + f[0];
      b.textContent = f[1];
      li.appendChild(b);
      li.appendChild(document.createTextNode(" — " + f[2] + ": " + f[3] + (f[4] ? " (" + L.row + " " + f[4] + ")" : "")));
      ul.appendChild(li);
      if (f[4]) { hits[f[4]] = true; }
      f[5].forEach(function (r) { evidence[r] = true; });
    });
    var h4 = document.createElement("h4");
    h4.textContent = L.findings;
    panel.appendChild(h4);
    panel.appendChild(ul);
    var wrap = document.createElement("div");
    wrap.className = "wide";
    var table = document.createElement("table");
    table.id = "case-events";
    var thead = document.createElement("thead"), tr = document.createElement("tr");
    [L.row, L.time, L.recorded, L.step, L.officer].forEach(function (h) {
      var th = document.createElement("th");
      th.textContent = h;
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    table.appendChild(thead);
    var tbody = document.createElement("tbody");
    c.e.forEach(function (e) {
      var r = document.createElement("tr");
      if (hits[e[0]]) { r.className = "hit"; } else if (evidence[e[0]]) { r.className = "evidence"; }
      cell(r, e[0], "n"); cell(r, e[1]); cell(r, e[2]); cell(r, e[3]); cell(r, e[4]);
      tbody.appendChild(r);
    });
    table.appendChild(tbody);
    wrap.appendChild(table);
    panel.appendChild(wrap);
    if (c.more) {
      var more = document.createElement("p");
      more.className = "note";
      more.textContent = fmt(L.more_events, {n: num(c.more)});
      panel.appendChild(more);
    }
    panel.appendChild(close);
    panel.scrollIntoView({block: "nearest"});
  }

  [kind, step, officer].forEach(function (el) { el.addEventListener("change", apply); });
  kase.addEventListener("input", apply);
  kase.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); showCase(kase.value.trim()); }
  });
  size.addEventListener("change", function () { page = 0; draw(); });
  prev.addEventListener("click", function () { page -= 1; draw(); });
  next.addEventListener("click", function () { page += 1; draw(); });
  document.getElementById("findings-table").addEventListener("click", function (ev) {
    var target = ev.target.closest("button.case-link");
    if (target) { showCase(target.dataset.case); }
  });
  apply();
})();
