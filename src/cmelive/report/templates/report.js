// Optional conveniences; the page is complete without them.
(function () {
  "use strict";
  var root = document.documentElement;
  var controls = document.getElementById("controls");
  var findings = Array.prototype.slice.call(document.querySelectorAll(".finding"));

  function filterKey(finding) {
    var status = finding.getAttribute("data-status");
    return status === "fail" ? "fail-" + finding.getAttribute("data-severity") : status;
  }

  function applyFilters() {
    var shown = {};
    controls.querySelectorAll("fieldset input[type=checkbox]").forEach(function (box) {
      shown[box.value] = box.checked;
    });
    findings.forEach(function (finding) {
      finding.classList.toggle("filtered", shown[filterKey(finding)] === false);
    });
    // A family or group left with nothing to show is hidden too, so filtering reads as a list.
    document.querySelectorAll("section.family, .group").forEach(function (block) {
      var visible = block.querySelector(".finding:not(.filtered)");
      block.hidden = !visible;
    });
  }

  function applyDeviceFilter(text) {
    var needle = text.trim().toLowerCase();
    document.querySelectorAll("table.heat tbody tr, section.device").forEach(function (node) {
      var name = node.getAttribute("data-name") || "";
      node.classList.toggle("hidden", needle !== "" && name.indexOf(needle) < 0);
    });
  }

  function setAllDetails(open) {
    document.querySelectorAll("details").forEach(function (details) { details.open = open; });
  }

  // A heat-map link may point into a collapsed <details>: open it so the target is visible.
  function revealHash() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    for (var node = target; node; node = node.parentElement) {
      if (node.tagName === "DETAILS") { node.open = true; }
    }
    if (target) { target.scrollIntoView(); }
  }

  function addCopyButtons() {
    document.querySelectorAll("pre.remediation").forEach(function (pre) {
      var wrap = document.createElement("div");
      wrap.className = "pre-wrap";
      pre.parentNode.insertBefore(wrap, pre);
      wrap.appendChild(pre);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy";
      button.textContent = "Copy";
      button.addEventListener("click", function () {
        var done = function (word) {
          button.textContent = word;
          window.setTimeout(function () { button.textContent = "Copy"; }, 1500);
        };
        var selectIt = function () {
          var range = document.createRange();
          range.selectNodeContents(pre);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          done("Selected");
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(pre.textContent).then(function () { done("Copied"); }, selectIt);
        } else {
          selectIt();
        }
      });
      wrap.appendChild(button);
    });
  }

  // Printing shows everything, whatever is collapsed on screen, then puts it back.
  var openedForPrint = [];
  window.addEventListener("beforeprint", function () {
    openedForPrint = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) {
      return !d.open;
    });
    openedForPrint.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    openedForPrint.forEach(function (d) { d.open = false; });
    openedForPrint = [];
  });

  controls.hidden = false;
  controls.addEventListener("change", applyFilters);
  document.getElementById("device-filter").addEventListener("input", function (event) {
    applyDeviceFilter(event.target.value);
  });
  document.getElementById("expand-all").addEventListener("click", function () { setAllDetails(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { setAllDetails(false); });
  window.addEventListener("hashchange", revealHash);
  addCopyButtons();
  if (window.location.hash) { revealHash(); }
  root.setAttribute("data-js", "ready");
})();
