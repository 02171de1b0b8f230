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

// The agency search beside a list of the agencies near the case (<div data-agency-search>): the
// agency chosen becomes an option of the list (data-target) and is selected. Without this file
// the list alone works; the server checks the agency posted either way.
(function () {
  "use strict";
  function serviceOf(box) {
    var from = box.getAttribute("data-service-from");
    if (from) {
      var field = document.getElementById(from);
      return field ? field.value : "";
    }
    return box.getAttribute("data-service") || "";
  }
  function choose(box, select, agency) {
    var value = String(agency.id);
    var option = Array.prototype.find.call(select.options, function (o) { return o.value === value; });
    if (!option) {
      option = document.createElement("option");
      option.value = value;
      option.textContent = agency.name + " (" + agency.code + ")";
      var service = serviceOf(box);
      var group = service ? select.querySelector('optgroup[data-service="' + service + '"]') : null;
      if (group) option.setAttribute("data-service", service);
      (group || select).appendChild(option);
    }
    select.value = value;
    select.dispatchEvent(new Event("change", { bubbles: true }));
  }
  function setup(box) {
    var select = document.getElementById(box.getAttribute("data-target"));
    var input = box.querySelector("input[type=search]");
    var status = box.querySelector(".form-text");
    var results = box.querySelector("ul");
    if (!select || !input || !window.fetch) return;
    box.hidden = false;
    var timer = null;
    var asked = 0;
    function say(name, extra) {
      status.textContent = (input.getAttribute("data-msg-" + name) || "") + (extra ? " " + extra : "");
    }
    function show(found) {
      results.replaceChildren();
      found.agencies.forEach(function (agency) {
        var item = document.createElement("li");
        item.className = "list-group-item p-0";
        var button = document.createElement("button");
        button.type = "button";
        button.className = "btn btn-link btn-sm text-start w-100 text-decoration-none";
        button.textContent = agency.name + " (" + agency.code + ") — " + agency.region.name;
        button.addEventListener("click", function () {
          choose(box, select, agency);
          results.replaceChildren();
          input.value = "";
          say("chosen", agency.name + " (" + agency.code + ")");
        });
        item.appendChild(button);
        results.appendChild(item);
      });
      if (!found.agencies.length) say("none");
      else if (found.more) say("more");
      else status.textContent = "";
    }
    function search() {
      var text = input.value.trim();
      results.replaceChildren();
      if (text.length < 2) { say(text ? "short" : ""); return; }
      var service = serviceOf(box);
      if (box.hasAttribute("data-service-from") && !service) { say("service"); return; }
      var url = box.getAttribute("data-url") + "?q=" + encodeURIComponent(text);
      if (service) url += "&layanan=" + encodeURIComponent(service);
      var ticket = ++asked;
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (found) { if (ticket === asked) show(found); })
        .catch(function () { if (ticket === asked) say("failed"); });
    }
    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(search, 250);
    });
    input.addEventListener("keydown", function (event) {
      if (event.key === "Enter") { event.preventDefault(); window.clearTimeout(timer); search(); }
    });
  }
  document.querySelectorAll("[data-agency-search]").forEach(setup);
})();

// A table or strip that scrolls sideways on a small screen can be scrolled with the keyboard:
// it takes the focus when it has nothing focusable of its own (WCAG 2.1.1).
(function () {
  "use strict";
  var focusable = "a[href], button, input, select, textarea, summary, [tabindex]";
  document.querySelectorAll(".table-responsive, .overflow-auto").forEach(function (box) {
    if (box.scrollWidth > box.clientWidth && !box.querySelector(focusable)) {
      box.tabIndex = 0;
    }
  });
})();

// A counter under each long text field (<textarea maxlength>): "120 / 10000", so the limit is
// seen while typing, not after sending. The server checks the length anyway.
(function () {
  "use strict";
  // the words come from the page (<body data-chars-left="… {n} …">), in the page's language
  var words = document.body.getAttribute("data-chars-left") || "{n}";
  function live(left) { return words.replace("{n}", String(left)); }
  var count = 0;
  document.querySelectorAll("textarea[maxlength]").forEach(function (field) {
    var max = parseInt(field.getAttribute("maxlength"), 10);
    if (!(max > 0)) return;
    var counter = document.createElement("div");
    counter.className = "char-counter";
    counter.id = (field.id || "textarea-" + (++count)) + "-counter";
    var spoken = document.createElement("span");
    spoken.className = "visually-hidden";
    spoken.setAttribute("aria-live", "polite");
    var shown = document.createElement("span");
    shown.setAttribute("aria-hidden", "true");
    counter.appendChild(shown);
    counter.appendChild(spoken);
    field.insertAdjacentElement("afterend", counter);
    var described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);
    var lastSpoken = null;
    function update() {
      var used = field.value.length;
      var left = Math.max(0, max - used);
      shown.textContent = used + " / " + max;
      counter.classList.toggle("char-counter-near", left <= max * 0.1 && left > 0);
      counter.classList.toggle("char-counter-full", left === 0);
      // spoken only near the limit, not at every key
      var say = left <= max * 0.1 ? live(left) : "";
      if (say !== lastSpoken) { spoken.textContent = say; lastSpoken = say; }
    }
    field.addEventListener("input", update);
    update();
  });
})();
