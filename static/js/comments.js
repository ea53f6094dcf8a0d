// The article's comments, enhanced (everything works without this file):
// - a comment opened by its link (#comment-N) takes focus, so keyboard and screen reader
//   users start there;
// - a character counter under comment boxes that have a limit (data-maxlength);
// - the draft of a new comment kept in this browser while typing (data-draft), restored
//   after an accidental reload, forgotten once sent;
// - "N new comments — show": the page asks every few seconds how many comments readers
//   can see (a tiny shared response, asked without cookies so caches answer it) and, when
//   asked to, puts the fresh thread in place without moving what the reader is reading.
(function () {
  "use strict";

  // ---- focus the linked comment ----
  function focusTarget() {
    var id = window.location.hash.slice(1);
    if (!/^comment-\d+$/.test(id)) { return; }
    var target = document.getElementById(id);
    if (target) { target.focus({ preventScroll: true }); target.scrollIntoView({ block: "start" }); }
  }
  focusTarget();
  window.addEventListener("hashchange", focusTarget);

  // ---- character counter ----
  function counter(box) {
    var limit = parseInt(box.getAttribute("data-maxlength"), 10);
    if (!limit) { return; }
    var note = document.createElement("p");
    note.className = "field__counter";
    note.id = box.id + "-counter";
    note.setAttribute("aria-live", "polite");
    box.insertAdjacentElement("afterend", note);
    var described = box.getAttribute("aria-describedby");
    box.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
    function update() {
      // The server counts a line break as one character, as the browser's value does.
      var left = limit - box.value.length;
      note.textContent = left >= 0
        ? left + " of " + limit + " characters left"
        : (-left) + " characters over the limit of " + limit;
      note.classList.toggle("field__counter--over", left < 0);
    }
    box.addEventListener("input", update);
    update();
  }
  Array.prototype.forEach.call(document.querySelectorAll("textarea[data-maxlength]"), counter);

  // ---- the draft, kept in this browser ----
  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }
  var box = document.querySelector("textarea[data-draft]");
  var store = storage();
  if (box && store) {
    var key = "comment-draft:" + box.getAttribute("data-draft");
    if (!box.value) {
      var kept = store.getItem(key);
      if (kept) {
        box.value = kept;
        box.dispatchEvent(new Event("input"));
      }
    }
    var timer = null;
    box.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        try {
          if (box.value) { store.setItem(key, box.value); } else { store.removeItem(key); }
        } catch (e) { /* storage full or refused: the text is still in the box */ }
      }, 300);
    });
    box.form.addEventListener("submit", function (event) {
      var by = event.submitter;
      if (!by || by.name !== "preview") {
        window.clearTimeout(timer);
        store.removeItem(key);
      }
    });
  }

  // ---- new comments without reloading ----
  var section = document.getElementById("comments");
  if (!section || !section.getAttribute("data-live-url") || !window.fetch) { return; }
  var url = section.getAttribute("data-live-url");
  var every = Math.max(2, parseInt(section.getAttribute("data-poll-seconds"), 10) || 10) * 1000;
  var shown = parseInt(section.getAttribute("data-count"), 10) || 0;
  var busy = false;

  function offer(count) {
    var line = section.querySelector(".thread-live");
    if (!line) { return; }
    var fresh = count - shown;
    if (fresh <= 0) { line.hidden = true; return; }
    var button = line.querySelector("button");
    if (!button) {
      button = document.createElement("button");
      button.type = "button";
      button.className = "button button--secondary thread-live__show";
      button.addEventListener("click", show);
      line.appendChild(button);
    }
    button.textContent = fresh + " new comment" + (fresh === 1 ? "" : "s") + " — show";
    line.hidden = false;
  }

  function poll() {
    if (busy || document.hidden) { return; }
    busy = true;
    // Without cookies: every reader asks the same question, which shared caches answer.
    window.fetch(url, { credentials: "omit", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) { if (data && typeof data.count === "number") { offer(data.count); } })
      .catch(function () { /* offline for a moment: ask again later */ })
      .then(function () { busy = false; });
  }

  // The first comment at or below the top of the window: it stays where it is.
  function anchorComment() {
    var comments = section.querySelectorAll("#thread .comment");
    for (var i = 0; i < comments.length; i++) {
      var top = comments[i].getBoundingClientRect().top;
      if (top >= 0) { return { id: comments[i].id, top: top }; }
    }
    return null;
  }

  function show() {
    var here = anchorComment();
    window.fetch(window.location.pathname + window.location.search, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("thread");
        var freshSection = page.getElementById("comments");
        var thread = document.getElementById("thread");
        if (!fresh || !freshSection || !thread) { return; }
        thread.replaceWith(document.importNode(fresh, true));
        shown = parseInt(freshSection.getAttribute("data-count"), 10) || shown;
        section.setAttribute("data-count", String(shown));
        var title = document.getElementById("comments-title");
        var freshTitle = page.getElementById("comments-title");
        if (title && freshTitle) { title.textContent = freshTitle.textContent; }
        if (here) {
          var same = document.getElementById(here.id);
          if (same) { window.scrollBy(0, same.getBoundingClientRect().top - here.top); }
        }
      })
      .catch(function () { /* the button stays; the reader can try again */ });
  }

  window.setInterval(poll, every);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { poll(); } });
}());
