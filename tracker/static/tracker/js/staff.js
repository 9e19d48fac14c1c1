// Small enhancements for staff pages; every page works without them.
(function () {
  "use strict";

  // Copy buttons: <button data-copy="#input-id">.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.dataset.copy);
      if (!input) return;
      input.select();
      var done = function () { button.textContent = button.dataset.copied || "Copied"; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(done, function () { document.execCommand("copy"); done(); });
      } else {
        document.execCommand("copy");
        done();
      }
    });
  });

  // A muscle over the chest wall, neck, shoulder girdle or upper back ticks
  // the risk box at once (the server sets it on save whatever happens here).
  var chestWall = document.querySelector("[data-chest-wall-muscles]");
  if (chestWall) {
    var muscles = chestWall.dataset.chestWallMuscles.split(" ");
    document.addEventListener("change", function (event) {
      var select = event.target;
      if (select.name && /^sites-\d+-muscle$/.test(select.name) && muscles.indexOf(select.value) !== -1) {
        chestWall.checked = true;
      }
    });
  }

  // Error summary: a link to a field puts the cursor in it, with its label in
  // view (without this, the browser only scrolls the field to the very top).
  document.querySelectorAll(".error-summary a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var field = document.getElementById(link.hash.slice(1));
      if (!field) return;
      event.preventDefault();
      var label = document.querySelector("label[for='" + field.id + "']");
      (label || field).scrollIntoView({ block: "center" });
      field.focus({ preventScroll: true });
    });
  });

  // Needled sites formset: add a row from the empty-form template.
  var add = document.getElementById("add-site");
  var template = document.getElementById("site-row-template");
  var rows = document.getElementById("site-rows");
  var total = document.getElementById("id_sites-TOTAL_FORMS");
  if (add && template && rows && total) {
    add.classList.remove("d-none");
    add.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var first = rows.lastElementChild.querySelector("select, input");
      if (first) first.focus();
    });
  }
})();
