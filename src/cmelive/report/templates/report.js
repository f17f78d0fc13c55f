// Optional conveniences; the page is complete without them.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");  // hides the "needs JavaScript" notes
  var controls = document.getElementById("controls");

  // --- device details, drawn on demand ----------------------------------------------------------
  // The page carries each device's facts and findings as data (one JSON block: distinct strings
  // in DATA.s, distinct findings in DATA.r, each device's details in DATA.d by its id), and draws
  // them into the device's div.details when it comes near the screen, is linked to, or is printed.
  // Only textContent and attributes are set: no markup is ever parsed from the data.
  var dataNode = document.getElementById("report-data");
  var DATA = null, S = [], R = [];

  // Parsed when the first device is drawn: the page opens on its summary and heat map, which need
  // none of it (at 2,000 devices its objects were ~10 MB of the page's memory from the start).
  function loadData() {
    if (!DATA) {
      DATA = dataNode ? JSON.parse(dataNode.textContent) : {s: [], r: [], d: {}};
      S = DATA.s;
      R = DATA.r;
    }
    return DATA;
  }
  var STATUS_LABEL = {pass: "PASS", na: "N/A", unknown: "UNKNOWN", waived: "WAIVED"};
  var expandAll = false;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function add(parent) {
    for (var i = 1; i < arguments.length; i++) {
      var child = arguments[i];
      parent.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    }
    return parent;
  }

  function badge(kind, severity) {
    return kind === "fail" ? el("span", "badge sev-" + severity, severity.toUpperCase())
      : el("span", "badge st-" + kind, STATUS_LABEL[kind] || kind.toUpperCase());
  }

  function findingNode(tag, kind, severity) {
    var node = el(tag, "finding " + kind);
    node.setAttribute("data-status", kind);
    node.setAttribute("data-severity", severity);
    return node;
  }

  function kvList(className, pairs) {
    var dl = el("dl", className);
    pairs.forEach(function (pair) { add(dl, el("dt", "", S[pair[0]]), el("dd", "", S[pair[1]])); });
    return dl;
  }

  function waiverBlock(waiver) {
    var expired = S[waiver[0]] === "1", expiry = S[waiver[1]];
    var box = el("div", expired ? "waiver expired" : "waiver"), head = el("p", "waiver-head");
    if (expired) {
      add(head, el("span", "badge st-expired", "EXPIRED WAIVER"),
          " The waiver expired" + (expiry ? " on " + expiry : "") + " and no longer applies: this failure counts again.");
    } else {
      head.textContent = "Waived until " + (expiry ? expiry + "." : "further notice (no expiry date).");
    }
    return add(box, head, kvList("kv", waiver[2]));
  }

  function block(label, pre) {
    return add(el("div", "block"), el("p", "label", label), pre);
  }

  // A finding: [kind, severity, check, title, message, waiver, evidence, remediation, reference].
  function article(finding) {
    var kind = S[finding[0]], severity = S[finding[1]];
    var node = findingNode("article", kind, severity), h5 = add(el("h5"), badge(kind, severity));
    if (kind !== "fail") { add(h5, " ", el("span", "sev-text", severity)); }
    add(h5, " ", el("code", "id", S[finding[2]]), " ", el("span", "title", S[finding[3]]));
    add(node, h5, el("p", "message", S[finding[4]]));
    if (finding[5].length) { node.appendChild(waiverBlock(finding[5])); }
    if (finding[6].length) {
      var pre = el("pre", "evidence");
      finding[6].forEach(function (line) {
        // The newline inside each line's span keeps the lines apart when copied or read without CSS.
        pre.appendChild(add(el("span", "ev"), el("span", "where", S[line[0]]), " " + S[line[1]] + "\n"));
      });
      node.appendChild(block("Evidence", pre));
    }
    if (S[finding[7]]) { node.appendChild(block("Remediation", el("pre", "remediation", S[finding[7]]))); }
    if (S[finding[8]]) { node.appendChild(el("p", "ref", "Guide: " + S[finding[8]])); }
    return node;
  }

  function quietRow(finding) {
    var kind = S[finding[0]], severity = S[finding[1]];
    return add(findingNode("li", kind, severity), badge(kind, severity), " ", el("code", "id", S[finding[2]]), " ",
               el("span", "title", S[finding[3]]), " ", el("span", "message", "\u2014 " + S[finding[4]]));
  }

  function familyCount(families) {
    return families.reduce(function (sum, family) { return sum + family[3].length; }, 0);
  }

  function renderDetails(anchor, details) {
    var out = document.createDocumentFragment(), anchored = {};
    // A family's id goes on its first (worst) group, so a heat-map cell lands on what made it red.
    function familySection(family, body) {
      var section = el("section", "family"), code = S[family[0]], title = S[family[1]];
      if (!anchored[code]) {
        anchored[code] = true;
        section.id = anchor + "--" + S[family[2]];
      }
      var h4 = add(el("h4"), el("span", "fam", code));
      if (title) { add(h4, " " + title); }
      return add(section, h4, body);
    }
    out.appendChild(kvList("facts kv", details[0]));
    if (S[details[1]]) { out.appendChild(add(el("p", "warning"), el("strong", "", "Damage:"), " " + S[details[1]])); }
    var commands = details[2];
    if (commands.length) {
      var table = el("table", "data commands"), head = el("tr"), body = el("tbody");
      ["Command", "Status", "Detail", "Time"].forEach(function (name) {
        var th = el("th", "", name);
        th.setAttribute("scope", "col");
        head.appendChild(th);
      });
      commands.forEach(function (c) {
        body.appendChild(add(el("tr"), add(el("td"), el("code", "", S[c[0]])),
                             add(el("td"), el("span", "badge cmd", S[c[1]])),
                             add(el("td"), el("code", "", S[c[2]])), el("td", "num", S[c[3]])));
      });
      add(out, el("h3", "", "Commands that did not complete (" + commands.length + ")"),
          el("p", "hint", "Checks that need these outputs are unknown, unless they do not apply to this router."),
          add(table, add(el("thead"), head), body));
    }
    details[3].forEach(function (group) {
      var div = add(el("div", "group " + S[group[0]]),
                    el("h3", "", S[group[1]] + " (" + familyCount(group[2]) + ")"));
      group[2].forEach(function (family) {
        var articles = document.createDocumentFragment();
        family[3].forEach(function (index) { articles.appendChild(article(R[index])); });
        div.appendChild(familySection(family, articles));
      });
      out.appendChild(div);
    });
    if (details[4].length) {
      var passes = add(el("details", "group passes"),
                       el("summary", "", "Passed and not applicable (" + familyCount(details[4]) + ")"));
      details[4].forEach(function (family) {
        var list = el("ul", "quiet");
        family[3].forEach(function (index) { list.appendChild(quietRow(R[index])); });
        passes.appendChild(familySection(family, list));
      });
      out.appendChild(passes);
    }
    return out;
  }

  // Draws a device's details once; returns its section.
  function renderDevice(section) {
    if (!section || section.getAttribute("data-drawn")) { return section; }
    section.setAttribute("data-drawn", "1");
    var holder = section.querySelector("div.details"), details = loadData().d[section.id];
    if (!holder) { return section; }
    holder.textContent = "";
    if (details) { holder.appendChild(renderDetails(section.id, details)); }
    applyFilters(holder);
    addCopyButtons(holder);
    if (expandAll) { holder.querySelectorAll("details").forEach(function (d) { d.open = true; }); }
    if (observer) { observer.unobserve(section); }
    return section;
  }

  // The device section an id belongs to: the device's own id, its heading's (id-h), or one of its
  // families' (id--FAMILY). The number in "dev-<number>-<name>" is unique to one device.
  function sectionOf(id) {
    var match = /^dev-(\d+)-/.exec(id), section = match ? sectionByNumber[match[1]] : null;
    return section && (id === section.id || id.indexOf(section.id + "-") === 0) ? section : null;
  }

  function renderAll() {
    devices.forEach(drawRow);
    deviceSections.forEach(renderDevice);
    root.setAttribute("data-details", "all");
  }

  function filterKey(finding) {
    var status = finding.getAttribute("data-status");
    return status === "fail" ? "fail-" + finding.getAttribute("data-severity") : status;
  }

  // Applies the result checkboxes to the findings drawn in `scope` (the whole page by default).
  function applyFilters(scope) {
    var within = scope && scope.querySelectorAll ? scope : document;
    var shown = {};
    controls.querySelectorAll("fieldset input[type=checkbox]").forEach(function (box) {
      shown[box.value] = box.checked;
    });
    within.querySelectorAll(".finding").forEach(function (finding) {
      finding.classList.toggle("filtered", shown[filterKey(finding)] === false);
    });
    // A family or group left with nothing to show is hidden too, so filtering reads as a list.
    within.querySelectorAll("section.family, .group").forEach(function (block) {
      var visible = block.querySelector(".finding:not(.filtered)");
      block.hidden = !visible;
    });
  }

  // --- devices: sort and filter ---------------------------------------------------------------
  // The state lives in the URL fragment (#sort=name&status=partial&model=2811&family=GUI&q=br), so
  // a filtered view can be shared as a link; a fragment without "=" is an anchor, as before.
  // Each device's keys come from its heat-map row's data; its section is found by id. Rows and
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
  var deviceSections = Array.prototype.slice.call(document.querySelectorAll("section.device"));
  var sectionByNumber = {};
  deviceSections.forEach(function (section) {
    var match = /^dev-(\d+)-/.exec(section.id);
    if (match) { sectionByNumber[match[1]] = section; }
  });
  // Draws a device as it comes near the screen (a hidden one never does).
  var observer = window.IntersectionObserver ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) { if (entry.isIntersecting) { renderDevice(entry.target); } });
  }, {rootMargin: "600px 0px"}) : null;
  // --- heat map rows, drawn on demand ---------------------------------------------------------------
  // Each device's row is data (HEAT, from #heat-data, worst first: [anchor, name, status, fails, worst,
  // model, failing families, total, total's title, cells]); the table holds one empty <tr> per
  // device, which sorting moves and filtering hides, and a row's cells are made when it comes near
  // the screen, is printed, or every device is drawn. 2,000 rows of 20 linked cells written out
  // were most of the page (bytes and DOM); a screen shows a few dozen.
  var heatData = document.getElementById("heat-data");
  var HEAT = heatData ? JSON.parse(heatData.textContent) : [];
  var FAMILIES = Array.prototype.map.call(document.querySelectorAll("table.heat thead th[data-family]"),
                                          function (th) { return th.getAttribute("data-family"); });
  // A cell's counts: failures by severity (worst first), then these statuses (see html.py, _cell_vector).
  var SEVERITIES = ["critical", "high", "medium", "low", "info"];
  var OTHER_KINDS = [["unknown", "unknown"], ["waived", "waived"], ["pass", "pass"], ["na", "not applicable"]];
  var CELL_LABELS = {"fail-critical": "CRIT", "fail-high": "HIGH", "fail-medium": "MED", "fail-low": "LOW",
                     "fail-info": "INFO", unknown: "UNKN", waived: "WAIVED", pass: "PASS", na: "N/A",
                     error: "ERROR", none: "\u2014"};
  var FIRST_ROWS = 60;  // drawn at once: more than a tall screen shows above the observer's margin

  function familyAnchor(anchor, family) { return anchor + "--" + family.replace(/[^A-Za-z0-9_-]+/g, "-"); }

  // One cell: its class and label name the worst status in it, its link's title gives the counts.
  function heatCell(anchor, family, counts) {
    var kind = "error", title = family + ": not audited", target = anchor, fails = 0;
    if (counts) {
      var parts = [], bySeverity = [], i;
      kind = "none";
      for (i = 0; i < SEVERITIES.length; i++) {
        if (counts[i]) {
          if (!fails) { kind = "fail-" + SEVERITIES[i]; }
          fails += counts[i];
          bySeverity.push(counts[i] + " " + SEVERITIES[i]);
        }
      }
      if (fails) { parts.push(fails + " fail (" + bySeverity.join(", ") + ")"); }
      for (i = 0; i < OTHER_KINDS.length; i++) {
        var count = counts[SEVERITIES.length + i];
        if (count) {
          if (kind === "none") { kind = OTHER_KINDS[i][0]; }
          parts.push(count + " " + OTHER_KINDS[i][1]);
        }
      }
      title = family + ": " + (parts.join(", ") || "no result");
      if (counts.length) { target = familyAnchor(anchor, family); }
    }
    var link = el("a", "", CELL_LABELS[kind]);
    link.href = "#" + target;
    link.title = title;
    if (fails) { link.appendChild(el("span", "n", String(fails))); }
    return add(el("td", "cell " + kind), link);
  }

  function drawRow(device) {
    if (!device || device.drawn) { return; }
    device.drawn = true;
    var data = device.data, row = device.row, anchor = data[0];
    var link = el("a", "", data[1]);
    link.href = "#" + anchor;
    link.title = data[1];
    var th = add(el("th"), link, " ", el("span", "badge dev-" + data[2], data[2].toUpperCase()));
    th.setAttribute("scope", "row");
    th.setAttribute("data-device", data[1]);
    var cells = document.createDocumentFragment();
    cells.appendChild(th);
    FAMILIES.forEach(function (family, i) { cells.appendChild(heatCell(anchor, family, data[9] && data[9][i])); });
    var total = el("td", "total", data[7]);
    total.title = data[8];
    cells.appendChild(total);
    row.appendChild(cells);
    if (rowObserver) { rowObserver.unobserve(row); }
  }

  var deviceOfRow = new Map();
  var rowObserver = window.IntersectionObserver ? new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) { if (entry.isIntersecting) { drawRow(deviceOfRow.get(entry.target)); } });
  }, {rootMargin: "600px 0px"}) : null;
  // A small page has its rows written out as well (html.py, HEATMAP_ON_DEMAND_FROM), one per entry
  // of the data, in its order: they are taken as drawn, never drawn again.
  var writtenRows = heatBody && heatBody.rows.length ? Array.prototype.slice.call(heatBody.rows) : null;
  if (writtenRows && (writtenRows.length !== HEAT.length ||
      !writtenRows.every(function (row, i) { return row.getAttribute("data-anchor") === HEAT[i][0]; }))) {
    // Not the data's rows (never written so by html.py): drawn from the data instead, as on a large page.
    heatBody.textContent = "";
    writtenRows = null;
  }
  var devices = HEAT.map(function (data, position) {
    var row, number = /^dev-(\d+)-/.exec(data[0]);
    if (writtenRows) {
      row = writtenRows[position];
    } else {
      row = document.createElement("tr");
      row.setAttribute("data-anchor", data[0]);
      row.setAttribute("data-name", data[1].toLowerCase());
    }
    var device = {
      row: row,
      data: data,
      drawn: !!writtenRows,
      section: document.getElementById(data[0]),
      position: position,  // the page's own order: worst first
      name: data[1].toLowerCase(),
      index: number ? parseInt(number[1], 10) - 1 : 0,
      status: data[2],
      fails: data[3],
      model: data[5],
      failing: data[6]
    };
    deviceOfRow.set(row, device);
    return device;
  });
  if (heatBody && !writtenRows) {
    var rows = document.createDocumentFragment();
    devices.forEach(function (device) { rows.appendChild(device.row); });
    heatBody.appendChild(rows);
  }

  // The first rows the reader sees, in the current order, now; the rest as they come near.
  function drawFirstRows() {
    var shown = 0;
    for (var row = heatBody ? heatBody.firstElementChild : null; row && shown < FIRST_ROWS; row = row.nextElementSibling) {
      if (!row.classList.contains("hidden")) {
        drawRow(deviceOfRow.get(row));
        shown += 1;
      }
    }
    devices.forEach(function (device) {
      if (device.drawn) { return; }
      if (rowObserver) { rowObserver.observe(device.row); } else { drawRow(device); }
    });
  }

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
  // "#details=all" (alone or with a view) draws every device: a link to a page ready to search or print.
  function wantsAll(hash) { return /(^#|&)details=all(&|$)/.test(hash); }

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
    expandAll = open;  // devices drawn later open theirs too
    document.querySelectorAll("details").forEach(function (details) { details.open = open; });
  }

  // A heat-map link may point into a collapsed <details>: open it so the target is visible.
  // A fragment holding a view (sort=...) sets the device controls instead.
  function revealHash() {
    if (isStateFragment(window.location.hash)) {
      stateFromFragment(window.location.hash);
      applyDeviceView(false);
      if (wantsAll(window.location.hash)) { renderAll(); }
      return;
    }
    var id = hashId(window.location.hash);
    renderDevice(sectionOf(id));
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

  function hashId(hash) {
    try { return decodeURIComponent(hash.replace(/^#/, "")); } catch (error) { return ""; }
  }

  function addCopyButtons(scope) {
    scope.querySelectorAll("pre.remediation").forEach(function (pre) {
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
    renderAll();
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
  drawFirstRows();
  // A link inside the page to a device not drawn yet: draw it first, so the browser finds the
  // target (a second click on the same link fires no hashchange).
  document.addEventListener("click", function (event) {
    var link = event.target.closest ? event.target.closest("a[href^='#']") : null;
    if (link) { renderDevice(sectionOf(hashId(link.getAttribute("href")))); }
  }, true);
  if (observer) { deviceSections.forEach(function (section) { observer.observe(section); }); }
  document.getElementById("show-all").addEventListener("click", renderAll);
  if (wantsAll(window.location.hash)) { renderAll(); }
  document.getElementById("expand-all").addEventListener("click", function () { setAllDetails(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { setAllDetails(false); });
  window.addEventListener("hashchange", revealHash);
  if (window.location.hash && !isStateFragment(window.location.hash)) { revealHash(); }
  root.setAttribute("data-js", "ready");
})();
