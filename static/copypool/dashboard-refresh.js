// The dashboard's tiles and chart refresh on their own: every REFRESH_SECONDS the page is
// fetched again and the parts marked data-refresh are swapped in place. Paused while the tab is
// hidden; a failed fetch keeps what is shown and says so.
(function () {
  "use strict";
  var REFRESH_SECONDS = 30;
  var status = document.querySelector("[data-refresh-status]");
  var busy = false;

  function stamp(text) {
    if (status) status.textContent = text;
  }

  function refresh() {
    if (busy || document.hidden) return;
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Requested-With": "refresh" } })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-refresh]").forEach(function (part) {
          var next = fresh.querySelector('[data-refresh="' + part.dataset.refresh + '"]');
          if (next) part.replaceWith(next);
        });
        stamp("Updated " + new Date().toLocaleTimeString());
      })
      .catch(function () {
        stamp("Could not refresh; showing the figures of " + new Date().toLocaleTimeString());
      })
      .finally(function () {
        busy = false;
      });
  }

  window.setInterval(refresh, REFRESH_SECONDS * 1000);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) refresh();
  });
  window.copypoolDashboardRefresh = refresh;
})();
