// livematch console: small enhancements on top of htmx. Everything works
// without this file; it only makes some things nicer.
(function () {
  "use strict";
  // Weight sliders show their value next to them.
  function syncOutputs(root) {
    root.querySelectorAll("input[type=range][data-output]").forEach(function (el) {
      var out = document.getElementById(el.dataset.output);
      if (out) { out.value = el.value; }
    });
  }
  document.addEventListener("input", function (e) {
    var el = e.target;
    if (el.matches && el.matches("input[type=range][data-output]")) {
      var out = document.getElementById(el.dataset.output);
      if (out) { out.value = el.value; }
    }
  });
  // Uploads show their progress while the file travels.
  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (!form.matches || !form.matches("form[data-upload]") || !window.FormData || !window.XMLHttpRequest) { return; }
    var bar = document.getElementById(form.dataset.upload);
    if (!bar) { return; }
    e.preventDefault();
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (ev) {
      if (ev.lengthComputable) { bar.max = ev.total; bar.value = ev.loaded; }
    });
    bar.hidden = false;
    xhr.onload = function () {
      if (xhr.status >= 200 && xhr.status < 400 && xhr.responseURL) {
        window.location.assign(xhr.responseURL);
      } else {
        bar.hidden = true; form.submit();
      }
    };
    xhr.onerror = function () { bar.hidden = true; form.submit(); };
    xhr.send(new FormData(form));
  });
  document.addEventListener("DOMContentLoaded", function () { syncOutputs(document); });
  document.addEventListener("htmx:afterSwap", function (e) { syncOutputs(e.target); });
})();
