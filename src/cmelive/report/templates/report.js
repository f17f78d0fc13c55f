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

  // --- devices: sort and filter ---------------------------------------------------------------
  // The state lives in the URL fragment (#sort=name&status=partial&model=2811&family=GUI&q=br), so
  // a filtered view can be shared as a link; a fragment without "=" is an anchor, as before.
  // Each heat-map row carries its device's keys (data-*); its section is found by id. Rows and
  // sections are reordered once each, through a DocumentFragment, and hidden by one class each:
  // no layout is read in between, so 1,000 devices cost one style and layout pass.
  var DEVICE_CONTROLS = {sort: "device-sort", status: "device-status", model: "device-model",
                         family: "device-family", q: "device-filter"};
  var STATUS_RANK = {error: 4, interrupted: 3, not_started: 2, partial: 1, ok: 0};
  var ORDER_TEXT = {
    severity: document.getElementById("device-order") ? document.getElementById("device-order").textContent : "",
    name: "Devices by name.",
    status: "Devices by status: not audited first, then partial, then ok; worst first within each.",
    inventory: "Devices in inventory order."
  };
  var heatBody = document.querySelector("table.heat tbody");
  var deviceList = document.querySelector("section.devices");
  var devices = (heatBody ? Array.prototype.slice.call(heatBody.rows) : []).map(function (row, position) {
    return {
      row: row,
      section: document.getElementById(row.getAttribute("data-anchor") || ""),
      position: position,  // the page's own order: worst first
      name: row.getAttribute("data-name") || "",
      index: parseInt(row.getAttribute("data-index"), 10) || 0,
      status: row.getAttribute("data-status") || "",
      fails: parseInt(row.getAttribute("data-fails"), 10) || 0,
      model: row.getAttribute("data-model") || "",
      failing: row.getAttribute("data-failing") || "||"
    };
  });
  var currentSort = "severity";

  function control(key) { return document.getElementById(DEVICE_CONTROLS[key]); }

  function readState() {
    var state = {};
    Object.keys(DEVICE_CONTROLS).forEach(function (key) {
      var node = control(key);
      state[key] = node ? node.value : "";
    });
    if (!state.sort) { state.sort = "severity"; }
    return state;
  }

  function isStateFragment(hash) { return hash.indexOf("=") >= 0; }

  // Sets the controls from a fragment; a value a select does not offer falls back to its first.
  function stateFromFragment(hash) {
    var given = {};
    hash.replace(/^#/, "").split("&").forEach(function (pair) {
      var at = pair.indexOf("=");
      if (at <= 0) { return; }
      try {
        given[decodeURIComponent(pair.slice(0, at))] = decodeURIComponent(pair.slice(at + 1).replace(/\+/g, " "));
      } catch (error) { /* a malformed escape: ignore that pair */ }
    });
    Object.keys(DEVICE_CONTROLS).forEach(function (key) {
      var node = control(key);
      if (!node) { return; }
      node.value = given[key] || "";
      if (node.tagName === "SELECT" && node.selectedIndex < 0) { node.selectedIndex = 0; }
    });
  }

  function fragmentOf(state) {
    return Object.keys(DEVICE_CONTROLS).filter(function (key) {
      return state[key] && !(key === "sort" && state[key] === "severity");
    }).map(function (key) {
      return key + "=" + encodeURIComponent(state[key]);
    }).join("&");
  }

  function writeFragment(state) {
    var fragment = fragmentOf(state);
    var current = window.location.hash;
    // An anchor fragment (a heat-map link) stays until the view is changed.
    if (!fragment && !isStateFragment(current)) { return; }
    var url = window.location.href.split("#")[0] + (fragment ? "#" + fragment : "");
    try {
      window.history.replaceState(null, "", url);
    } catch (error) {
      window.location.hash = fragment;  // replaceState refused (some browsers on file://)
    }
  }

  function compareBy(sort) {
    if (sort === "name") {
      return function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : a.index - b.index; };
    }
    if (sort === "status") {
      return function (a, b) {
        return (STATUS_RANK[b.status] || 0) - (STATUS_RANK[a.status] || 0) || a.position - b.position;
      };
    }
    if (sort === "inventory") {
      return function (a, b) { return a.index - b.index; };
    }
    return function (a, b) { return a.position - b.position; };
  }

  function sortDevices(sort) {
    if (sort === currentSort) { return; }
    var ordered = devices.slice().sort(compareBy(sort));
    var rows = document.createDocumentFragment(), sections = document.createDocumentFragment();
    ordered.forEach(function (device) {
      rows.appendChild(device.row);
      if (device.section) { sections.appendChild(device.section); }
    });
    heatBody.appendChild(rows);
    if (deviceList) { deviceList.appendChild(sections); }
    currentSort = sort;
  }

  function markSortedColumn(sort) {
    var byName = document.getElementById("sort-name"), bySeverity = document.getElementById("sort-severity");
    var marks = [[byName, sort === "name" ? "ascending" : sort === "status" ? "other" : ""],
                 [bySeverity, sort === "severity" ? "descending" : ""]];
    marks.forEach(function (mark) {
      if (!mark[0]) { return; }
      if (mark[1]) { mark[0].setAttribute("aria-sort", mark[1]); } else { mark[0].removeAttribute("aria-sort"); }
      var button = mark[0].querySelector("button.sort");
      if (button) { button.setAttribute("aria-pressed", mark[1] ? "true" : "false"); }
    });
    var note = document.getElementById("device-order");
    if (note) { note.textContent = ORDER_TEXT[sort] || ORDER_TEXT.severity; }
  }

  function filterDevices(state) {
    var needle = state.q.trim().toLowerCase(), shown = 0;
    var family = state.family ? "|" + state.family + "|" : "";
    devices.forEach(function (device) {
      var visible = (needle === "" || device.name.indexOf(needle) >= 0)
        && (state.status === "" || (state.status === "failures" ? device.fails > 0 : device.status === state.status))
        && (state.model === "" || device.model === (state.model === "-" ? "" : state.model))
        && (family === "" || device.failing.indexOf(family) >= 0);
      device.row.classList.toggle("hidden", !visible);
      if (device.section) { device.section.classList.toggle("hidden", !visible); }
      if (visible) { shown += 1; }
    });
    var count = document.getElementById("device-count");
    if (count) { count.textContent = shown + " of " + devices.length + " device" + (devices.length === 1 ? "" : "s"); }
    root.setAttribute("data-devices-shown", String(shown));
  }

  function applyDeviceView(write) {
    var state = readState();
    sortDevices(state.sort);
    markSortedColumn(state.sort);
    filterDevices(state);
    root.setAttribute("data-view", fragmentOf(state));
    if (write) { writeFragment(state); }
  }

  // Column headers that sort (buttons inside the <th>, whose aria-sort says the order).
  function addSortButtons() {
    [["sort-name", "name", "Sort devices by name"], ["sort-severity", "severity", "Sort devices worst first"]]
      .forEach(function (spec) {
        var th = document.getElementById(spec[0]);
        if (!th) { return; }
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort";
        button.title = spec[2];
        button.setAttribute("aria-label", th.textContent + ": " + spec[2].toLowerCase());
        button.textContent = th.textContent;
        th.textContent = "";
        th.appendChild(button);
        button.addEventListener("click", function () {
          control("sort").value = spec[1];
          applyDeviceView(true);
        });
      });
  }

  function setAllDetails(open) {
    document.querySelectorAll("details").forEach(function (details) { details.open = open; });
  }

  // A heat-map link may point into a collapsed <details>: open it so the target is visible.
  // A fragment holding a view (sort=...) sets the device controls instead.
  function revealHash() {
    if (isStateFragment(window.location.hash)) {
      stateFromFragment(window.location.hash);
      applyDeviceView(false);
      return;
    }
    var id = "";
    try { id = decodeURIComponent(window.location.hash.slice(1)); } catch (error) { id = ""; }
    var target = id ? document.getElementById(id) : null;
    // A link to a device the filters hide (from the roll-up, the summary) shows every device again.
    if (target && target.closest("section.device.hidden, tr.hidden")) {
      stateFromFragment("#sort=" + readState().sort);
      applyDeviceView(false);
    }
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
  // The sticky bar wraps onto more lines on a narrow window: a link's target must land below it.
  // (A CSSOM property, which the page's Content-Security-Policy allows, unlike a style attribute.)
  function syncControlsHeight() {
    root.style.setProperty("--controls-height", controls.offsetHeight + "px");
  }
  syncControlsHeight();
  if (window.ResizeObserver) { new ResizeObserver(syncControlsHeight).observe(controls); }
  controls.querySelector("fieldset").addEventListener("change", applyFilters);
  Object.keys(DEVICE_CONTROLS).forEach(function (key) {
    var node = control(key);
    if (node) { node.addEventListener(node.tagName === "SELECT" ? "change" : "input", function () { applyDeviceView(true); }); }
  });
  addSortButtons();
  if (isStateFragment(window.location.hash)) { stateFromFragment(window.location.hash); }
  applyDeviceView(false);
  document.getElementById("expand-all").addEventListener("click", function () { setAllDetails(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { setAllDetails(false); });
  window.addEventListener("hashchange", revealHash);
  addCopyButtons();
  if (window.location.hash && !isStateFragment(window.location.hash)) { revealHash(); }
  root.setAttribute("data-js", "ready");
})();
