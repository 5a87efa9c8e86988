// Parties' pages. On /access: a link `/access#<token>` (or `?token=`) fills the access form and
// posts it, so the token travels in a POST body and the fragment never reaches any server; the
// address bar is cleaned so the token is not left in the history. Nothing else runs inline (CSP).
(function () {
  "use strict";
  function start() {
    var form = document.getElementById("access-form");
    if (!form) { return; }
    var field = form.querySelector("textarea[name=code]");
    var fromFragment = window.location.hash.length > 1 ? window.location.hash.slice(1) : "";
    if (fromFragment.indexOf("token=") === 0) { fromFragment = fromFragment.slice(6); }
    var clean = window.location.pathname;
    var next = new URLSearchParams(window.location.search).get("next");
    if (next) { clean += "?next=" + encodeURIComponent(next); }
    if (fromFragment) {
      field.value = decodeURIComponent(fromFragment);
    }
    if (fromFragment || form.dataset.autosubmit === "true") {
      window.history.replaceState(null, "", clean);
      if (field.value) { form.requestSubmit ? form.requestSubmit() : form.submit(); }
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
