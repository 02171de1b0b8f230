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

// The intervention plan: offer only the providers of the chosen service (<form data-providers>).
(function () {
  "use strict";
  function filter(form) {
    var service = form.querySelector("select[name=service_type]");
    var provider = form.querySelector("select[name=provider]");
    if (!service || !provider) return;
    var chosen = service.value;
    provider.querySelectorAll("optgroup").forEach(function (group) {
      var show = group.getAttribute("data-service") === chosen;
      group.hidden = !show;
      group.disabled = !show;
    });
    var selected = provider.options[provider.selectedIndex];
    if (selected && selected.parentElement.tagName === "OPTGROUP" && selected.parentElement.disabled) {
      provider.value = "";
    }
  }
  document.querySelectorAll("form[data-providers]").forEach(function (form) {
    filter(form);
    form.addEventListener("change", function (event) {
      if (event.target.name === "service_type") filter(form);
    });
  });
})();
