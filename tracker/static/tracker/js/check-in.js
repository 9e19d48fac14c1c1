// Needle Aftercare, patient pages: a check-in survives a poor network.
//
// Every patient page works without this file. With it:
// - A check-in form marked `data-offline-form` is sent with fetch(). When the
//   phone has no network, the answers are kept in localStorage (one entry per
//   form URL) and sent again when the network returns: on the "online" event,
//   when the page is shown again, on load, and every 30 s while one waits.
//   The hidden idempotency key travels with them, so however many times the
//   same answers arrive, the server stores one report.
// - What the server answers is shown as the browser would show it without
//   this file: the page a redirect led to (the "done" page, which fetch()
//   has already followed and read: it is not asked for a second time) with
//   its address, or any other page (the form with its error messages, a
//   closed link) in place of this one.
// - A service worker (/f/sw.js) keeps this link's pages so that a visited
//   check-in opens again offline.
// Plain ES2017, no build step, no inline script (for a strict CSP).
(function () {
  "use strict";

  const OUTBOX = "needle-aftercare:outbox:";
  const RETRY_MS = 30000;
  // "/f/<token>/": the link every patient page of one session lives under.
  const LINK_ROOT = /^\/f\/[^/]+\//;

  let sending = false;
  let retryTimer = null;

  function linkRoot() {
    const match = location.pathname.match(LINK_ROOT);
    return match ? location.origin + match[0] : null;
  }

  function withoutHash(url) {
    const parsed = new URL(url, location.href);
    parsed.hash = "";
    return parsed.href;
  }

  // ---- The outbox: answers kept on this phone until the server has them -----

  function keep(entry) {
    try {
      localStorage.setItem(OUTBOX + entry.url, JSON.stringify(entry));
      return true;
    } catch (error) {
      return false; // storage full or disabled
    }
  }

  function forget(url) {
    try {
      localStorage.removeItem(OUTBOX + url);
    } catch (error) {
      // Nothing was kept.
    }
  }

  function waiting() {
    const root = linkRoot();
    const entries = [];
    if (!root) return entries;
    try {
      for (let i = 0; i < localStorage.length; i++) {
        const key = localStorage.key(i);
        if (key.indexOf(OUTBOX + root) !== 0) continue;
        const entry = JSON.parse(localStorage.getItem(key));
        if (entry && entry.url && typeof entry.body === "string") entries.push(entry);
      }
    } catch (error) {
      // No storage: nothing can be waiting.
    }
    return entries;
  }

  // ---- What the patient sees -------------------------------------------------

  // Which guidance answers with warning signs call for: "emergency" (call the
  // emergency number now), "infection" (a doctor today) or null.
  function warningIn(body) {
    const flags = new URLSearchParams(body).getAll("red_flags").filter(function (flag) {
      return flag && flag !== "none";
    });
    if (!flags.length) return null;
    return flags.some(function (flag) { return flag !== "rf_infection"; }) ? "emergency" : "infection";
  }

  // The guidance comes first, before any news about sending: it must not wait
  // for a network, and the page already holds its words.
  function warningBanner(region, warning) {
    const banner = document.createElement("div");
    banner.className = "alert mb-3 " + (warning === "emergency" ? "alert-danger border-danger border-2" : "alert-warning");
    banner.setAttribute("data-warning-banner", warning);
    const title = document.createElement("p");
    title.className = "h5 mb-2";
    title.textContent = region.dataset[warning + "Title"];
    banner.appendChild(title);
    const text = document.createElement("p");
    text.className = "mb-2";
    text.textContent = region.dataset[warning + "Text"];
    banner.appendChild(text);
    if (warning === "emergency" && region.dataset.emergencyTel) {
      const call = document.createElement("a");
      call.className = "btn btn-danger btn-lg w-100";
      call.href = "tel:" + region.dataset.emergencyTel;
      call.textContent = region.dataset.emergencyCall;
      banner.appendChild(call);
    }
    return banner;
  }

  // The live region is always in the page and empty until there is news, so
  // that screen readers announce what is put into it.
  function showStatus(state) {
    const region = document.querySelector("[data-offline-status]");
    if (!region) return;
    region.textContent = "";
    if (!state) return;
    const warnings = state === "pending" ? waiting().map(function (entry) { return warningIn(entry.body); }) : [];
    const warning = warnings.indexOf("emergency") !== -1 ? "emergency"
      : warnings.indexOf("infection") !== -1 ? "infection" : null;
    if (warning) region.appendChild(warningBanner(region, warning));
    const banner = document.createElement("div");
    // Each class spelled in full: tools/patient_css.py keeps the rules of the classes it finds.
    banner.className = state === "sending" ? "offline-banner offline-banner-sending"
      : "offline-banner offline-banner-pending";
    const title = document.createElement("p");
    title.className = "offline-banner-title";
    title.textContent = state === "sending" ? region.dataset.sendingText : region.dataset.pendingText;
    banner.appendChild(title);
    if (state === "pending" && region.dataset.pendingHint) {
      const hint = document.createElement("p");
      hint.className = "offline-banner-hint";
      hint.textContent = region.dataset.pendingHint;
      banner.appendChild(hint);
    }
    region.appendChild(banner);
  }

  function showPending(scroll) {
    showStatus("pending");
    // The region sits under the page's heading: show both, as a new page would be.
    if (scroll) window.scrollTo(0, 0);
    if (!retryTimer) retryTimer = setInterval(flush, RETRY_MS);
  }

  function stopRetrying() {
    if (retryTimer) clearInterval(retryTimer);
    retryTimer = null;
  }

  // Show a page the server sent in answer to a POST, as a plain form post would.
  function showPage(html) {
    const page = new DOMParser().parseFromString(html, "text/html");
    document.title = page.title;
    document.documentElement.lang = page.documentElement.lang;
    // Scripts parsed by DOMParser never run; this file's listeners are on the document.
    document.body.replaceWith(document.adoptNode(page.body));
    window.scrollTo(0, 0);
    const first = document.querySelector('[role="alert"]') || document.querySelector("h1");
    if (first) {
      first.setAttribute("tabindex", "-1");
      first.focus({ preventScroll: true });
    }
  }

  // ---- Sending ----------------------------------------------------------------

  // Resolves to true once the server has answered (and what it said is shown).
  async function send(entry, options) {
    const interactive = Boolean(options && options.interactive);
    if (sending) return false;
    if (!navigator.onLine) {
      showPending(interactive);
      return false;
    }
    sending = true;
    if (!interactive) showStatus("sending");
    let response = null;
    let html = null;
    try {
      response = await fetch(entry.url, {
        method: "POST",
        body: new URLSearchParams(entry.body),
        redirect: "follow",
        credentials: "same-origin",
      });
      // Gateways answer 502-504 while the app cannot be reached, and 429 asks
      // to slow down (many phones behind one clinic address): try again later.
      if (response.status === 429 || (response.status >= 502 && response.status <= 504)) response = null;
      else html = await response.text();
    } catch (error) {
      response = null; // no network, or it dropped on the way
    } finally {
      sending = false;
    }
    if (!response) {
      showPending(interactive);
      return false;
    }
    forget(entry.url);
    stopRetrying();
    if (response.redirected) {
      // Where a form post would have landed. Replaced rather than pushed: Back
      // then leaves the link instead of showing the form just sent.
      history.replaceState(null, "", response.url);
    }
    showPage(html);
    if (response.redirected && response.ok) keepShownPage(html);
    return true;
  }

  function flush() {
    const entries = waiting();
    if (!entries.length) {
      stopRetrying();
      return;
    }
    if (!navigator.onLine) {
      showPending(false);
      return;
    }
    // One at a time: the first answer that comes back may navigate away.
    entries.reduce(function (previous, entry) {
      return previous.then(function (done) {
        return done ? true : send(entry);
      });
    }, Promise.resolve(false));
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (event.defaultPrevented || !form.matches("[data-offline-form]")) return;
    event.preventDefault();
    if (sending) return; // a second tap while the first is on its way
    const body = new URLSearchParams(new FormData(form));
    if (event.submitter && event.submitter.name) body.append(event.submitter.name, event.submitter.value);
    // getAttribute: a field named "action" would shadow form.action.
    const url = withoutHash(form.getAttribute("action") || location.href);
    const entry = { url: url, body: body.toString(), savedAt: new Date().toISOString() };
    // Kept before sending, so that answers survive a page closed mid-request.
    if (!keep(entry)) {
      form.submit(); // nowhere to keep them: let the browser try, as without JavaScript
      return;
    }
    const button = event.submitter;
    if (button) button.disabled = true;
    send(entry, { interactive: true }).then(function () {
      if (button) button.disabled = false;
    });
  });

  // Ticking a warning sign shows what to do at once, before anything is sent.
  document.addEventListener("change", function (event) {
    const input = event.target;
    if (input.name !== "red_flags" || !input.form) return;
    const warning = warningIn(new URLSearchParams(new FormData(input.form)).toString());
    document.querySelectorAll("[data-warning-now]").forEach(function (box) {
      box.hidden = box.dataset.warningNow !== warning;
    });
  });

  window.addEventListener("online", flush);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) flush();
  });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") flush();
  });

  if (waiting().length) {
    showPending(false);
    flush();
  }

  // ---- Service worker: open this link's pages again without a network ------

  const script = document.currentScript;
  const workerUrl = (script && script.dataset.serviceWorker) || "/f/sw.js";
  // Read now: once the worker claims this page, `controller` is set even
  // though the page itself was loaded (and so kept) without it.
  const loadedByWorker = Boolean("serviceWorker" in navigator && navigator.serviceWorker.controller);

  function rememberThisLink(registration) {
    const worker = registration.active;
    const root = linkRoot();
    if (!worker || !root) return;
    const urls = [];
    document.querySelectorAll('link[rel~="stylesheet"][href], link[rel~="icon"][href], script[src]')
      .forEach(function (element) {
        urls.push(element.href || element.src);
      });
    // The first visit was not seen by the worker; later ones are kept as they load.
    if (!loadedByWorker) urls.push(withoutHash(location.href));
    // After a check-in is sent, the check-in page kept offline is out of date.
    if (withoutHash(location.href) !== root) urls.push(root);
    worker.postMessage({ type: "cache", urls: urls });
  }

  // A page shown from a fetch() answer was not loaded through the worker as a
  // page: hand it over to be kept as it is, and have the link's check-in page,
  // answered now, fetched again.
  function keepShownPage(html) {
    const worker = "serviceWorker" in navigator && navigator.serviceWorker.controller;
    const root = linkRoot();
    if (!worker || !root) return;
    const here = withoutHash(location.href);
    worker.postMessage({ type: "keep", url: here, html: html });
    if (here !== root) worker.postMessage({ type: "cache", urls: [root] });
  }

  if ("serviceWorker" in navigator && window.isSecureContext) {
    navigator.serviceWorker
      .register(workerUrl, { scope: workerUrl.replace(/[^/]*$/, "") })
      .then(function () {
        return navigator.serviceWorker.ready;
      })
      .then(rememberThisLink)
      .catch(function () {
        // No worker (private mode, old browser): the pages still work online.
      });
  }

  // From here on a check-in is sent by this file (load.js brings it in after the page).
  document.documentElement.dataset.checkIn = "ready";
})();
