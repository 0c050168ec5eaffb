// tipline pages: progressive enhancement only. Every form works without this script.
"use strict";
(function () {
  // Ctrl+Enter (⌘+Enter on a Mac) submits the form the focus is in.
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Enter" || !(e.ctrlKey || e.metaKey)) return;
    var form = e.target && e.target.closest ? e.target.closest("form[data-shortcut-submit]") : null;
    if (!form) return;
    e.preventDefault();
    if (form.requestSubmit) form.requestSubmit(); else form.submit();
  });

  // A submitted form's button is disabled so that an impatient second click sends nothing
  // (the server would take it once anyway).
  document.addEventListener("submit", function (e) {
    var buttons = e.target.querySelectorAll("button[type=submit]");
    for (var i = 0; i < buttons.length; i++) {
      buttons[i].disabled = true;
      buttons[i].textContent = "正在提交…";
    }
  });

  // The contact fields only matter when the reporter chooses to leave them.
  var contact = document.getElementById("contact");
  var named = document.getElementById("identity-named");
  if (contact && named) {
    var sync = function () { contact.hidden = !named.checked; };
    var radios = document.querySelectorAll("input[name=identity]");
    for (var i = 0; i < radios.length; i++) radios[i].addEventListener("change", sync);
    sync();
  }

  // Chosen files listed with their sizes; ones over the limit or of another type flagged before
  // sending (the server checks them again, by content).
  var allowed = /\.(jpe?g|png|gif|bmp|webp|pdf)$/i;
  function size(n) {
    if (n < 1024) return n + " 字节";
    if (n < 1048576) return (n / 1024).toFixed(1) + " KB";
    return (n / 1048576).toFixed(1) + " MB";
  }
  var inputs = document.querySelectorAll("input[type=file][data-max-file]");
  for (var k = 0; k < inputs.length; k++) {
    inputs[k].addEventListener("change", function (e) {
      var input = e.target;
      var list = input.parentNode.querySelector(".chosen");
      if (!list) return;
      var max = parseFloat(input.getAttribute("data-max-file")) * 1048576;
      list.textContent = "";
      for (var j = 0; j < input.files.length; j++) {
        var f = input.files[j];
        var li = document.createElement("li");
        var problem = !allowed.test(f.name) ? "（类型不支持）" : (f.size > max ? "（超过大小限制）" : "");
        li.textContent = f.name + " · " + size(f.size) + problem;
        if (problem) li.className = "bad";
        list.appendChild(li);
      }
    });
  }

  // After a refused post, bring the reasons into view and to the screen reader.
  var errors = document.getElementById("errors");
  if (errors) errors.focus();
})();

/* Leadership pages (/search, /stats): a new order re-runs the search at once; "/" focuses the
   search box (as in most search tools). Without script the buttons do the same. */
(function () {
  "use strict";
  var box = document.querySelector("form.searchbox");
  if (!box) return;
  var sort = document.getElementById("sort");
  if (sort) {
    sort.addEventListener("change", function () {
      box.submit();
    });
  }
  var q = document.getElementById("q");
  document.addEventListener("keydown", function (e) {
    var t = e.target;
    var typing = t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
    if (e.key === "/" && !typing && q) {
      e.preventDefault();
      q.focus();
      q.select();
    }
  });
})();

// ---- Operator desk (/desk): live preview while the operator types, the repeat caller's earlier
// calls, a place candidate picked with Ctrl+Alt+digit (Alt+digit are the fields' access keys), focus back on the first field.
(function () {
  var form = document.getElementById("desk-form");
  var pv = document.getElementById("pv");
  var callers = document.getElementById("callers");
  if (!form || !pv || !callers) return;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var status = document.getElementById("preview-status");
  function val(name) { var f = form.elements[name]; return f ? f.value.trim() : ""; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = text;
    return e;
  }
  function receivedAt() {
    var t = val("started_at");
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(t)) return null;
    return t + ":00+08:00";
  }
  function row(dl, label, id, fill) {
    dl.appendChild(el("dt", null, label));
    var dd = el("dd");
    dd.id = id;
    fill(dd);
    dl.appendChild(dd);
  }
  function pick(name) {
    form.elements.address.value = name;
    form.elements.address.focus();
    schedule();
  }
  function render(p) {
    var labels = p.labels || {};
    var dl = el("dl", "pv");
    var locus = p.locus || {};
    row(dl, "发生地", "pv-locus", function (dd) {
      if (locus.name) dd.appendChild(el("bdi", null, locus.name));
      else dd.appendChild(el("span", "warn", "未能确定，请询问来电人具体地点"));
    });
    // The places still in question: all candidates when none was decided, else the others.
    var cands = (locus.candidates || []).filter(function (c) {
      return !locus.code || c.split(" ")[0] !== locus.code;
    });
    if (cands.length) {
      row(dl, locus.code ? "其他可能" : "可能的地点", "pv-candidates", function (dd) {
        if (!locus.code) dd.appendChild(el("p", "warn", "地点未能确定，请向来电人确认："));
        var ul = el("ul", "candidates");
        cands.slice(0, 9).forEach(function (c, i) {
          var sp = c.indexOf(" ");
          var code = sp > 0 ? c.slice(0, sp) : "", name = sp > 0 ? c.slice(sp + 1) : c;
          var b = el("button", "pick");
          b.type = "button";
          b.setAttribute("data-pick", name);
          b.appendChild(el("kbd", null, "Ctrl+Alt+" + (i + 1)));
          b.appendChild(document.createTextNode(" "));
          b.appendChild(el("bdi", null, name));
          b.appendChild(document.createTextNode(" "));
          b.appendChild(el("span", "muted", code));
          var li = el("li");
          li.appendChild(b);
          ul.appendChild(li);
        });
        dd.appendChild(ul);
      });
    }
    row(dl, "被举报对象", "pv-subject", function (dd) {
      if (p.subject_name) dd.appendChild(el("bdi", null, p.subject_name)); else dd.textContent = "—";
    });
    row(dl, "对象类别", "pv-kind", function (dd) { dd.textContent = labels.subject_kind || "—"; });
    row(dl, "问题类别", "pv-categories", function (dd) {
      var cats = p.categories || [];
      if (!cats.length) dd.textContent = "—";
      cats.forEach(function (c) {
        dd.appendChild(el("span", "tag", c + " " + ((labels.categories || {})[c] || "")));
        dd.appendChild(document.createTextNode(" "));
      });
    });
    row(dl, "承办单位", "pv-handling", function (dd) { dd.textContent = labels.handling || "—"; });
    if (labels.transfer) {
      row(dl, "转办", "pv-transfer", function (dd) {
        dd.appendChild(document.createTextNode("转 "));
        dd.appendChild(el("bdi", null, labels.transfer));
      });
    }
    row(dl, "移送", "pv-referrals", function (dd) {
      var refs = p.referrals || [];
      if (!refs.length) dd.textContent = "—";
      refs.forEach(function (r) {
        var t = el("span", "tag", ((labels.referrals || {})[r.code] || r.code) + "：");
        t.appendChild(el("bdi", null, r.body));
        dd.appendChild(t);
        dd.appendChild(document.createTextNode(" "));
      });
    });
    row(dl, "可能重复", "pv-duplicate", function (dd) {
      var d = p.duplicate;
      if (!d) { dd.textContent = "未发现"; return; }
      var a = el("a", null, d.case_no);
      a.href = "/cases/" + encodeURIComponent(d.case_id);
      dd.appendChild(a);
      dd.appendChild(document.createTextNode(" "));
      dd.appendChild(el("bdi", null, d.subject_name || ""));
      dd.appendChild(document.createTextNode("——是否同一件事？"));
    });
    pv.textContent = "";
    pv.appendChild(dl);
    var reasons = locus.reasons || [];
    if (reasons.length) {
      var det = el("details", "why");
      det.appendChild(el("summary", null, "判断依据"));
      var ul = el("ul");
      reasons.forEach(function (r) { var li = el("li"); li.appendChild(el("bdi", null, r)); ul.appendChild(li); });
      det.appendChild(ul);
      pv.appendChild(det);
    }
  }
  var seq = 0;
  function refresh() {
    var text = val("notes");
    if (!text) return;
    var mine = ++seq;
    var body = {
      text: text, address: val("address") || null, subject_name: val("subject_name") || null,
      subject_kind: val("subject_kind") || null, phone: val("caller_number") || null,
      received_at: receivedAt()
    };
    if (status) status.textContent = "正在研判…";
    fetch("/api/v1/triage/preview", {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(body)
    }).then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (p) {
        if (mine !== seq) return;
        render(p);
        if (status) status.textContent = "已更新";
      })
      .catch(function () { if (mine === seq && status) status.textContent = "暂时无法预览（可按“预览研判”）"; });
  }
  var lastPhone = null;
  function refreshCallers() {
    var phone = val("caller_number");
    if (phone === lastPhone) return;
    lastPhone = phone;
    if (!phone) return;
    fetch("/api/v1/callers/" + encodeURIComponent(phone) + "/calls", { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
      .then(function (j) {
        if (phone !== val("caller_number")) return;
        callers.textContent = "";
        var calls = j.calls || [];
        if (!calls.length) { callers.appendChild(el("p", "muted", "没有查到该号码此前的来电。")); return; }
        var table = el("table", "calls");
        table.id = "callers-table";
        var head = el("tr");
        ["案件编号", "来电时间", "状态", "被举报对象"].forEach(function (h) {
          var th = el("th", null, h); th.scope = "col"; head.appendChild(th);
        });
        var thead = el("thead"); thead.appendChild(head); table.appendChild(thead);
        var tbody = el("tbody");
        calls.forEach(function (c) {
          var tr = el("tr"), td = el("td"), a = el("a", null, c.case_no);
          a.href = "/cases/" + encodeURIComponent(c.case_id);
          td.appendChild(a); tr.appendChild(td);
          tr.appendChild(el("td", null, beijing(c.received_at)));
          tr.appendChild(el("td", null, c.state_label));
          var s = el("td"); s.appendChild(el("bdi", null, c.subject_name || "")); tr.appendChild(s);
          tbody.appendChild(tr);
        });
        table.appendChild(tbody);
        callers.appendChild(table);
      })
      .catch(function () {});
  }
  // The list shows Beijing time like the server's pages: 2024年5月6日 09:12.
  function beijing(iso) {
    var d = new Date(iso);
    if (isNaN(d)) return iso || "";
    var b = new Date(d.getTime() + 8 * 3600 * 1000);
    function two(n) { return (n < 10 ? "0" : "") + n; }
    return b.getUTCFullYear() + "年" + (b.getUTCMonth() + 1) + "月" + b.getUTCDate() + "日 " +
      two(b.getUTCHours()) + ":" + two(b.getUTCMinutes());
  }
  var timer = null, phoneTimer = null;
  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 350);
  }
  form.addEventListener("input", function (e) {
    if (e.target && e.target.name === "caller_number") {
      clearTimeout(phoneTimer);
      phoneTimer = setTimeout(refreshCallers, 350);
    }
    schedule();
  });
  form.addEventListener("change", schedule);
  pv.addEventListener("click", function (e) {
    var b = e.target.closest ? e.target.closest("[data-pick]") : null;
    if (!b) return;
    e.preventDefault();
    pick(b.getAttribute("data-pick"));
  });
  document.addEventListener("keydown", function (e) {
    if (!e.altKey || !e.ctrlKey || !/^Digit[1-9]$/.test(e.code || "")) return;
    var picks = pv.querySelectorAll("[data-pick]");
    var n = parseInt(e.code.slice(5), 10) - 1;
    if (!picks[n]) return;
    e.preventDefault();
    pick(picks[n].getAttribute("data-pick"));
  });
  // A call just logged: the next call starts at the first field.
  if (document.getElementById("logged")) form.elements.caller_number.focus();
  if (val("caller_number")) lastPhone = val("caller_number");
})();
