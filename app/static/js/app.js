// Simpul: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  // Ask before destructive actions: <form data-confirm="message">.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var message = form.getAttribute && form.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });
})();
