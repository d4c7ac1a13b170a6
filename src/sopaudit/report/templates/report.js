(function () {
  "use strict";
  // Data is read with JSON.parse and written with textContent only: nothing from the exports
  // is ever parsed as HTML.
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var L = data.labels;
  var kind = document.getElementById("f-kind"), step = document.getElementById("f-step");
  var officer = document.getElementById("f-officer"), kase = document.getElementById("f-case");
  var counter = document.getElementById("f-count");
  var rows = Array.prototype.slice.call(document.querySelectorAll("#findings-table tbody tr"));
  var panel = document.getElementById("case-panel");
  if (!kind) { return; }  // no findings: no list to filter

  function fmt(template, values) {
    return template.replace(/\{(\w+)\}/g, function (m, k) { return values[k] === undefined ? m : String(values[k]); });
  }

  function apply() {
    var k = kind.value, s = step.value, o = officer.value, c = kase.value.trim().toLowerCase();
    var visible = 0;
    rows.forEach(function (r) {
      var ok = (!k || r.dataset.kind === k) && (!s || r.dataset.step === s) &&
        (!o || r.dataset.officer === o) && (!c || r.dataset.case.toLowerCase().indexOf(c) >= 0);
      r.hidden = !ok;
      if (ok) { visible += 1; }
    });
    counter.textContent = fmt(L.shown, {n: visible.toLocaleString(data.lang), total: rows.length.toLocaleString(data.lang)});
  }

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    td.textContent = text;
    if (cls) { td.className = cls; }
    tr.appendChild(td);
    return td;
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
    panel.appendChild(table);
    if (c.more) {
      var more = document.createElement("p");
      more.className = "note";
      more.textContent = fmt(L.more_events, {n: c.more.toLocaleString(data.lang)});
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
  document.getElementById("findings-table").addEventListener("click", function (ev) {
    var target = ev.target.closest("button.case-link");
    if (target) { showCase(target.dataset.case); }
  });
  apply();
})();
