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

  // Print buttons (the patient's record): shown only where script can press them.
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.classList.remove("d-none");
    button.addEventListener("click", function () { window.print(); });
  });

  // "Open the patient's page here" (session page, development only): in a
  // window the size of a phone. Without script the link opens a new tab.
  document.querySelectorAll("[data-phone-window]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var opened = window.open(link.href, "patient-page", "popup,width=390,height=844");
      if (!opened) return;
      opened.opener = null;
      event.preventDefault();
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

  // Live lists: <div data-live data-live-seconds="60"> is fetched again every
  // so often and swapped in, with the page's title (Today counts its open
  // urgent alerts there), so a new alert shows without a reload. Skipped while
  // someone is typing in it, or the tab is hidden; the page's own "Refresh"
  // link does the same without JavaScript.
  var live = document.querySelector("[data-live]");
  if (live && window.fetch && window.DOMParser) {
    var seconds = parseInt(live.dataset.liveSeconds, 10) || 60;
    var busy = function () {
      var active = document.activeElement;
      return active && live.contains(active) && /^(INPUT|TEXTAREA|SELECT)$/.test(active.tagName);
    };
    var refresh = function () {
      if (document.hidden || busy()) return;
      fetch(window.location.href, { credentials: "same-origin", headers: { "X-Live-Refresh": "1" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (!html || busy()) return;
          var fresh = new DOMParser().parseFromString(html, "text/html");
          var region = fresh.querySelector("[data-live]");
          if (!region) return;
          live.innerHTML = region.innerHTML;
          document.title = fresh.title;
        })
        .catch(function () { /* offline for a moment: the next round tries again */ });
    };
    window.setInterval(refresh, seconds * 1000);
  }
})();
