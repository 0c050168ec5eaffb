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
