// Needle Aftercare, patient pages: check-in.js, once the page is on the screen.
//
// On a slow network a phone shares its link among the files it is fetching:
// check-in.js fetched beside the stylesheet would hold the first paint back
// by the time its own bytes take. So the page asks only for this small file,
// and this file asks for check-in.js (named in its data-src) when the page
// has loaded. Until then the page works as it does without JavaScript: a
// check-in is a plain form post. No inline script (for a strict CSP).
(function () {
  "use strict";

  const loader = document.currentScript;

  function load() {
    const script = document.createElement("script");
    script.src = loader.dataset.src;
    script.dataset.serviceWorker = loader.dataset.serviceWorker;
    // The network dropped just after the page came: try again when it is back.
    script.onerror = function () {
      script.remove();
      window.addEventListener("online", load, { once: true });
    };
    document.head.appendChild(script);
  }

  if (document.readyState === "complete") load();
  else window.addEventListener("load", load, { once: true });
})();
