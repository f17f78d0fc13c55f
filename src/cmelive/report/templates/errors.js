// Runs first, in <head>: records every script error, unhandled rejection, failed resource load,
// Content-Security-Policy violation and console.error call in <html data-errors="[...]">, so a
// headless browser's --dump-dom shows whether the page ran cleanly.
(function () {
  "use strict";
  var root = document.documentElement;
  var errors = [];
  function record(message) {
    errors.push(String(message));
    root.setAttribute("data-errors", JSON.stringify(errors));
  }
  root.setAttribute("data-errors", "[]");
  window.addEventListener("error", function (event) {
    var target = event.target;
    if (target && target !== window && target.tagName) {
      record("failed to load <" + target.tagName.toLowerCase() + "> " + (target.src || target.href || ""));
    } else {
      record((event.message || "error") + " at " + (event.filename || "?") + ":" + (event.lineno || 0));
    }
  }, true);
  window.addEventListener("unhandledrejection", function (event) {
    record("unhandled rejection: " + event.reason);
  });
  document.addEventListener("securitypolicyviolation", function (event) {
    record("CSP violation: " + event.violatedDirective + " " + (event.blockedURI || ""));
  });
  var consoleError = console.error;
  console.error = function () {
    record("console.error: " + Array.prototype.join.call(arguments, " "));
    return consoleError.apply(console, arguments);
  };
})();
