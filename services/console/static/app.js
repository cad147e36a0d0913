// Shared by every page: SLA countdowns (elements with data-due) and the unread badge.
(function () {
  "use strict";
  var zh = document.body.dataset.lang === "zh-CN";

  function span(seconds) {
    var s = Math.abs(Math.round(seconds)), d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600),
        m = Math.floor(s % 3600 / 60);
    if (zh) return (d ? d + "天" : "") + (d || h ? h + "小时" : "") + m + "分";
    return (d ? d + "d " : "") + (d || h ? h + "h " : "") + m + "m";
  }

  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-due]").forEach(function (el) {
      if (el.dataset.state === "met") return;
      var left = (Date.parse(el.dataset.due) - now) / 1000;
      var state = el.dataset.state === "breached" || left < 0 ? "breached" : el.dataset.state;
      el.className = "countdown sla-" + state;
      el.textContent = left < 0 ? (zh ? "已超时 " : "overdue by ") + span(left)
                                : (zh ? "剩余 " : "") + span(left) + (zh ? "" : " left");
    });
  }

  function badge() {
    var el = document.getElementById("unread-badge");
    if (!el) return;
    fetch("/inbox/unread.json", {credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (data) {
      if (!data) return;
      el.dataset.count = data.unread;
      el.textContent = data.unread ? String(data.unread) : "";
    }).catch(function () {});
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    badge();
    setInterval(tick, 1000);
    setInterval(badge, 5000);
  });
  window.estatedesk = {tick: tick};
})();
