// Comments on the publisher's other sites. On a page of an allowed origin (EMBED_ORIGINS):
//   <div id="discussion" data-url="https://www.example.org/story"></div>
//   <script src="https://COMMENTS-HOST/embed.js" async></script>
// shows the page's thread in a frame (isolated from the page's styles and scripts; it
// grows with its content), and every element with data-discussion-count (and a data-url
// or data-slug) gets "N comments", all counted in one request. To fit the thread to the
// site: data-accent="#0a5c36" (links and buttons) and data-font="serif" or "sans".
// The page's CSP needs script-src, frame-src and connect-src for COMMENTS-HOST.
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || !script.src) return;
  var host = new URL(script.src).origin;

  function thread() {
    var box = document.getElementById("discussion");
    if (!box || box.querySelector("iframe[data-discussion]")) return;
    var url = box.getAttribute("data-url") || "";
    if (!url) {
      var canonical = document.querySelector('link[rel="canonical"]');
      url = canonical ? canonical.href : window.location.href.split("#")[0];
    }
    var title = box.getAttribute("data-title") || document.title || "";
    var look = { url: url, title: title };
    ["accent", "font"].forEach(function (name) {
      var value = box.getAttribute("data-" + name);
      if (value) look[name] = value;
    });
    var frame = document.createElement("iframe");
    frame.setAttribute("data-discussion", "");
    frame.title = box.getAttribute("data-frame-title") || "Comments";
    frame.src = host + "/embed/thread?" + new URLSearchParams(look);
    frame.loading = "lazy";
    frame.referrerPolicy = "strict-origin-when-cross-origin";
    frame.style.width = "100%";
    frame.style.border = "0";
    frame.style.minHeight = "20rem";
    frame.style.display = "block";
    box.appendChild(frame);
    window.addEventListener("message", function (event) {
      if (event.origin !== host || event.source !== frame.contentWindow) return;
      var data = event.data || {};
      if (data.discussion === "height" && typeof data.height === "number") {
        frame.style.height = Math.max(0, Math.min(data.height, 100000)) + "px";
      }
    });
  }

  function counts() {
    var marked = Array.prototype.slice.call(document.querySelectorAll("[data-discussion-count]"));
    if (!marked.length) return;
    for (var start = 0; start < marked.length; start += 100) {
      ask(marked.slice(start, start + 100));
    }
  }

  function ask(elements) {
    var query = new URLSearchParams();
    elements.forEach(function (el) {
      if (el.getAttribute("data-slug")) query.append("slug", el.getAttribute("data-slug"));
      else if (el.getAttribute("data-url")) query.append("url", el.getAttribute("data-url"));
    });
    fetch(host + "/api/v1/counts?" + query, { credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (found) {
        if (!found) return;
        elements.forEach(function (el) {
          var slug = el.getAttribute("data-slug");
          var n = slug ? found.slugs[slug] : found.urls[el.getAttribute("data-url")];
          if (typeof n !== "number") n = 0;
          el.textContent = n === 1 ? "1 comment" : n + " comments";
        });
      })
      .catch(function () { /* the links keep their own text */ });
  }

  function start() { thread(); counts(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
