// The monthly report page: follow the job's progress (#report-job[data-status-url]) until it is
// done or failed. Without this file the page offers a refresh link.
(function () {
  "use strict";
  var box = document.getElementById("report-job");
  if (!box || !window.fetch) return;
  var url = box.getAttribute("data-status-url");
  function part(name) {
    return box.querySelector("[data-field=" + name + "]");
  }
  function show(status) {
    part("state").textContent = status.state_label;
    part("progress").value = status.progress;
    part("progress").textContent = status.progress + "%";
    part("message").textContent = status.message || "";
    var download = part("download");
    if (status.download_url) {
      download.href = status.download_url;
      download.hidden = false;
    }
    part("retry").hidden = !status.can_retry;
    part("reload").hidden = status.done;
    return status.done;
  }
  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(response.status);
        return response.json();
      })
      .then(function (status) {
        if (!show(status)) window.setTimeout(poll, 2000);
      })
      .catch(function () {
        window.setTimeout(poll, 10000);
      });
  }
  poll();
})();
