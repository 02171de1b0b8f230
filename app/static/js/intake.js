// The intake form: small conveniences. The form works the same without this file.
(function () {
  "use strict";
  // Ticking a case type opens the sections it needs (AMPK, TPPO) in every victim card.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches("input[type=checkbox][data-case-type]") || !box.checked) {
      return;
    }
    var sections = document.querySelectorAll('details[data-case-type="' + box.value + '"]');
    for (var i = 0; i < sections.length; i++) {
      sections[i].open = true;
    }
  });
  // Someone other than the victim reports: their details are asked for (quick intake).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[name=reporter_kind]") || input.value === "korban") {
      return;
    }
    var details = input.form && input.form.querySelector("details[data-reporter-details]");
    if (details) {
      details.open = true;
    }
  });
  // A link from the case's "still to complete" list (``/kasus/<id>/ubah#victims-0-nik``): the
  // field may sit in a folded section — open it and bring the field into view.
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var field = id ? document.getElementById(id) : null;
    if (!field) {
      return;
    }
    for (var d = field.closest("details"); d; d = d.parentElement && d.parentElement.closest("details")) {
      d.open = true;
    }
    field.scrollIntoView({ block: "center" });
  }
  openTarget();
  window.addEventListener("hashchange", openTarget);
  // After htmx brought the form back, show what the server asked to focus (a new row, the
  // duplicate question) in the middle of the screen, where a thumb and an eye find it.
  document.addEventListener("htmx:afterSettle", function () {
    var wanted = document.querySelector("#intake-form [autofocus]");
    if (wanted) {
      wanted.focus({ preventScroll: true });
      wanted.scrollIntoView({ block: "center" });
    }
  });
})();
