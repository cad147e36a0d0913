// The dashboard refreshes itself by short polling and shows how fresh its figures are.
(function () {
  "use strict";
  var POLL_MS = 3000;
  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("dashboard-live"), ago = document.getElementById("updated-ago");
    var fetched = Date.now();
    function refresh() {
      fetch(box.dataset.src, {credentials: "same-origin"}).then(function (r) {
        if (r.status === 200) return r.text();
        throw new Error(String(r.status));
      }).then(function (html) {
        box.innerHTML = html;
        fetched = Date.now();
        if (window.estatedesk) window.estatedesk.tick();
      }).catch(function () {}).then(function () { setTimeout(refresh, POLL_MS); });
    }
    setInterval(function () { ago.textContent = String(Math.round((Date.now() - fetched) / 1000)); }, 1000);
    setTimeout(refresh, POLL_MS);
  });
})();
