// Filtering, folding and copying for the kubetriage report. The page reads the same without it.
(function () {
  "use strict";
  var controls = document.getElementById("controls");
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.finding"));

  function filter() {
    var wanted = {};
    controls.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      wanted[box.name + ":" + box.value] = box.checked;
    });
    var shown = 0;
    // children come after their parent in document order: walk backwards so a parent can stay
    // visible (dimmed) for a matching symptom
    cards.slice().reverse().forEach(function (card) {
      var own = wanted["sev:" + card.dataset.sev] && wanted["cat:" + card.dataset.cat];
      var child = card.querySelector("article.finding:not([hidden])") !== null;
      card.hidden = !own && !child;
      card.classList.toggle("dimmed", !own && child);
      if (own) { shown += 1; }
    });
    document.getElementById("shown").textContent = shown + " of " + cards.length + " shown";
  }

  function fold(open) {
    document.querySelectorAll("#findings details").forEach(function (d) { d.open = open; });
  }

  function copy(button) {
    var text = button.parentNode.querySelector("pre").textContent;
    var done = function () { button.textContent = "Copied"; };
    var fallback = function () {
      var range = document.createRange();
      range.selectNodeContents(button.parentNode.querySelector("pre"));
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
      if (document.execCommand("copy")) { done(); }
    };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(done, fallback);
    } else {
      fallback();
    }
  }

  if (controls !== null) {
    controls.hidden = false;
    controls.addEventListener("change", filter);
    document.getElementById("expand").addEventListener("click", function () { fold(true); });
    document.getElementById("collapse").addEventListener("click", function () { fold(false); });
    filter();
  }
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { copy(button); });
  });
})();
