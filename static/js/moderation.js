// Keyboard shortcuts for the moderation queue (progressive enhancement: every action
// is also a plain button). j/k move between comments, a/r/s act on the current one,
// x toggles its checkbox for bulk actions.
(function () {
  "use strict";
  var items = Array.prototype.slice.call(document.querySelectorAll(".queue-item"));
  if (!items.length) { return; }
  var current = -1;

  function focus(index) {
    if (index < 0 || index >= items.length) { return; }
    if (current >= 0) { items[current].classList.remove("queue-item--current"); }
    current = index;
    items[current].classList.add("queue-item--current");
    items[current].focus();
  }

  // The buttons carry their key (data-shortcut), from the server's one list of actions.
  function press(key) {
    if (current < 0) { return false; }
    var button = items[current].querySelector('button[data-shortcut="' + key + '"]');
    if (!button) { return false; }
    button.click();
    return true;
  }

  document.addEventListener("keydown", function (event) {
    if (event.altKey || event.ctrlKey || event.metaKey) { return; }
    var target = event.target;
    if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) {
      return;
    }
    switch (event.key) {
      case "j": focus(current + 1); break;
      case "k": focus(Math.max(current - 1, 0)); break;
      case "x":
        if (current >= 0) { items[current].querySelector(".queue-item__select").click(); }
        break;
      default:
        if (event.key.length !== 1 || !/[a-z]/.test(event.key) || !press(event.key)) { return; }
    }
    event.preventDefault();
  });

  items.forEach(function (item, index) {
    item.addEventListener("focusin", function () {
      if (current !== index) {
        if (current >= 0) { items[current].classList.remove("queue-item--current"); }
        current = index;
        item.classList.add("queue-item--current");
      }
    });
  });
}());
