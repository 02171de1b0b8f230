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
