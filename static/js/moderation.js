// Keyboard decisions in the moderation queue (progressive enhancement: every action is
// also a plain button and form). The first comment is selected when the queue opens;
// j/k move, a/r/s send the row's own form with fetch (the same POST, answered as JSON),
// the row leaves and the next one is selected at once; u undoes the last decision made
// here, x ticks the row for a bulk action, ? lists the shortcuts. Messages go to the row
// (refusals, conflicts) and to a live region for screen readers.
(function () {
  "use strict";
  var list = document.querySelector("ol.queue");
  if (!list) { return; }
  var tabStatus = list.getAttribute("data-status");
  var notice = document.getElementById("queue-notice");
  var announcer = document.getElementById("queue-announce");
  var help = document.getElementById("shortcuts");
  var bulk = document.getElementById("bulk");
  var current = null;
  var decided = {};       // comment id -> true once sent (never shown again by a refill)
  var undoStack = [];     // {item, url, id}
  var refilling = false;
  var REFILL_BELOW = 8;   // fetch more rows when fewer are left on the page

  function rows() {
    return Array.prototype.filter.call(list.querySelectorAll("li.queue-item"), function (item) {
      return !item.hidden;
    });
  }

  function commentId(item) { return item.id.replace("comment-", ""); }

  function title(item) {
    var heading = item.querySelector(".queue-item__title");
    return heading ? heading.textContent.trim() : item.id;
  }

  function select(item, focus) {
    if (current) { current.classList.remove("queue-item--current"); }
    current = item;
    if (!item) { return; }
    item.classList.add("queue-item--current");
    if (focus !== false) {
      item.focus({ preventScroll: true });
      item.scrollIntoView({ block: "nearest" });
    }
  }

  function move(step) {
    var all = rows();
    var index = current ? all.indexOf(current) : -1;
    var next = all[Math.min(Math.max(index + step, 0), all.length - 1)];
    if (next) { select(next); }
  }

  function say(message, ok) {
    notice.textContent = message;
    notice.className = "notice queue-notice notice--" + (ok ? "success" : "error");
    notice.hidden = false;
    announcer.textContent = "";
    window.setTimeout(function () { announcer.textContent = message; }, 50);
  }

  function rowMessage(item, message) {
    var old = item.querySelector(".queue-item__message");
    if (old) { old.remove(); }
    if (!message) { return; }
    var p = document.createElement("p");
    p.className = "notice notice--error queue-item__message";
    p.setAttribute("role", "alert");
    p.textContent = message;
    item.querySelector(".queue-item__actions").before(p);
  }

  function updateCounts(counts) {
    if (!counts) { return; }
    Object.keys(counts).forEach(function (status) {
      var tab = document.querySelector('.tabs a[data-status="' + status + '"] .count');
      if (tab) { tab.textContent = counts[status]; }
    });
  }

  function token() {
    var input = document.querySelector('input[name="csrf_token"]');
    return input ? input.value : "";
  }

  function send(url, body) {
    return fetch(url, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { Accept: "application/json" }
    }).then(function (response) {
      return response.json().then(function (data) { return data; }, function () {
        return { ok: false, message: "Not saved: the server answered " + response.status + "." };
      });
    }, function () {
      return { ok: false, message: "Not saved: the connection failed. Please try again." };
    });
  }

  function forgetPageId(id) {
    if (!bulk) { return; }
    var input = bulk.querySelector('input[name="page_ids"][value="' + id + '"]');
    if (input) { input.remove(); }
  }

  function decide(key) {
    if (!current) { return false; }
    var item = current;
    var button = item.querySelector('button[data-shortcut="' + key + '"]');
    if (!button) { return false; }
    var form = button.form;
    var id = commentId(item);
    decided[id] = true;
    rowMessage(item, "");
    var all = rows();
    var index = all.indexOf(item);
    var next = all[index + 1] || all[index - 1] || null;
    item.hidden = true;
    select(next);
    send(form.action, new FormData(form)).then(function (data) {
      updateCounts(data.counts);
      if (data.ok) {
        undoStack.push({ item: item, url: data.undo, id: id });
        forgetPageId(id);
        item.remove();
        say(data.message + (current ? " Now on " + title(current) + "." : " Nothing left on this page."), true);
        refill();
        return;
      }
      delete decided[id];
      item.hidden = false;
      rowMessage(item, data.message);
      select(item);
      say(data.message, false);
      if (data.expired) { window.setTimeout(function () { window.location.reload(); }, 1500); }
    });
    return true;
  }

  function undo() {
    var last = undoStack.pop();
    if (!last) {
      say("Nothing to undo on this page.", false);
      return;
    }
    var body = new FormData();
    body.append("csrf_token", token());
    body.append("next", window.location.pathname + window.location.search);
    send(last.url, body).then(function (data) {
      updateCounts(data.counts);
      if (!data.ok) {
        say(data.message, false);
        return;
      }
      delete decided[last.id];
      if (tabStatus === "all" || tabStatus === data.state) {
        list.insertBefore(last.item, current && current.parentNode === list ? current : null);
        last.item.hidden = false;
        if (bulk) {
          var input = document.createElement("input");
          input.type = "hidden";
          input.name = "page_ids";
          input.value = last.id;
          bulk.appendChild(input);
        }
        select(last.item);
      }
      say(data.message, true);
    });
  }

  // Rows leave as they are decided: bring in the queue's next ones, in the page's order,
  // skipping any decided here (their POST may still be on its way).
  function refill() {
    if (refilling || rows().length >= REFILL_BELOW) { return; }
    refilling = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        page.querySelectorAll("ol.queue > li.queue-item").forEach(function (fresh) {
          var id = commentId(fresh);
          if (decided[id] || document.getElementById(fresh.id)) { return; }
          var item = document.importNode(fresh, true);
          list.appendChild(item);
          watch(item);
          if (bulk) {
            var input = document.createElement("input");
            input.type = "hidden";
            input.name = "page_ids";
            input.value = id;
            bulk.appendChild(input);
          }
        });
        var pages = page.querySelector("nav.pagination");
        var here = document.querySelector("nav.pagination");
        if (pages && here) { here.replaceWith(document.importNode(pages, true)); }
        if (!current) { select(rows()[0] || null); }
      })
      .catch(function () { /* the rows on the page still work; the next decision retries */ })
      .then(function () { refilling = false; });
  }

  function watch(item) {
    item.addEventListener("focusin", function () {
      if (current !== item) { select(item, false); }
    });
  }

  function toggleHelp() {
    if (!help || typeof help.showModal !== "function") { return; }
    if (help.open) { help.close(); } else { help.showModal(); }
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    if (help && help.open && event.key !== "?") { return; }
    switch (event.key) {
      case "j": move(1); break;
      case "k": move(-1); break;
      case "u": undo(); break;
      case "?": toggleHelp(); break;
      case "x":
        if (current) { current.querySelector(".queue-item__select").click(); }
        break;
      default:
        if (event.key.length !== 1 || !/[a-z]/.test(event.key) || !decide(event.key)) { return; }
    }
    event.preventDefault();
  });

  if (help) {
    help.querySelector(".shortcuts__close").addEventListener("click", function () { help.close(); });
    help.addEventListener("close", function () { if (current) { current.focus({ preventScroll: true }); } });
  }
  rows().forEach(watch);
  var wanted = window.location.hash ? document.getElementById(window.location.hash.slice(1)) : null;
  var first = wanted && wanted.classList.contains("queue-item") ? wanted : rows()[0];
  if (first) { select(first); }
}());
