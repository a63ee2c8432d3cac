/*
 * The Shopify stand-in's App Bridge: a small subset of the `shopify` global that
 * https://cdn.shopify.com/shopifycloud/app-bridge.js gives an embedded app, for pages
 * loaded from the local stand-in instead of Shopify admin (docs/standin.md).
 *
 * - shopify.idToken(): a session token for the shop in the page's URL, signed with the
 *   app's secret by the stand-in (GET <stand-in>/_standin/cdn/id-token, CORS).
 * - fetch() to the app's own origin gets `Authorization: Bearer <token>`, and a 401 that
 *   carries X-Shopify-Retry-Invalid-Session-Request is retried once with a fresh token.
 * - The bounce page: `shopify-reload` is opened with a fresh `id_token`.
 * - shopify.toast, shopify.saveBar with <ui-save-bar> and <form data-save-bar>,
 *   shopify.loading, <ui-nav-menu> and <ui-title-bar>. Shopify draws these in its own
 *   chrome outside the app's iframe; the stand-in has no chrome, so it draws them plainly
 *   at the top and bottom of the page itself.
 */
(function () {
  "use strict";
  if (window.shopify) return;

  var script = document.currentScript;
  var standinOrigin = new URL(script.src).origin;
  var params = new URLSearchParams(window.location.search);
  var apiKeyMeta = document.querySelector('meta[name="shopify-api-key"]');
  var shop = params.get("shop") || "";
  var RETRY_HEADER = "X-Shopify-Retry-Invalid-Session-Request";
  var SUB_KEY = "standin-staff-user:" + shop;
  var nativeFetch = window.fetch.bind(window);
  var cached = null;

  // The staff member is whoever the launch URL's token named (the stand-in's
  // /admin/apps/<key>?sub= launch); later pages of the same tab keep them.
  function rememberStaffUser() {
    var token = params.get("id_token");
    if (!token) return;
    try {
      var claims = JSON.parse(atob(token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/")));
      if (claims.sub) window.sessionStorage.setItem(SUB_KEY, claims.sub);
    } catch (error) {
      // A malformed token names nobody; the stand-in's default staff user stands in.
    }
  }

  function staffUser() {
    return window.sessionStorage.getItem(SUB_KEY) || "1";
  }

  function idToken(fresh) {
    if (!fresh && cached && cached.expires > Date.now()) return Promise.resolve(cached.token);
    var url = standinOrigin + "/_standin/cdn/id-token?shop=" + encodeURIComponent(shop) +
      "&sub=" + encodeURIComponent(staffUser());
    return nativeFetch(url, { credentials: "omit" }).then(function (response) {
      if (!response.ok) throw new Error("the stand-in refused a session token: " + response.status);
      return response.json();
    }).then(function (body) {
      // Tokens live 60 s; use one for 50 at most, so none expires in flight.
      cached = { token: body.token, expires: Date.now() + 50000 };
      return body.token;
    });
  }

  function isAppRequest(url) {
    return url.origin === window.location.origin;
  }

  function authenticatedFetch(input, init) {
    var request = new Request(input, init);
    if (!isAppRequest(new URL(request.url))) return nativeFetch(request);
    var retry = request.clone();
    return idToken(false).then(function (token) {
      request.headers.set("Authorization", "Bearer " + token);
      return nativeFetch(request);
    }).then(function (response) {
      if (response.status !== 401 || !response.headers.has(RETRY_HEADER)) return response;
      return idToken(true).then(function (token) {
        retry.headers.set("Authorization", "Bearer " + token);
        return nativeFetch(retry);
      });
    });
  }

  // --- plain stand-ins for what Shopify draws in its own chrome -------------------------

  function element(tag, attributes, text) {
    var node = document.createElement(tag);
    Object.keys(attributes || {}).forEach(function (name) {
      node.setAttribute(name, attributes[name]);
    });
    if (text) node.textContent = text;
    return node;
  }

  var chrome = element("div", { "class": "standin-chrome", "data-standin": "chrome" });
  var toasts = element("div", { "class": "standin-toasts", role: "status", "aria-live": "polite" });
  var saveBarSlot = element("div", { "class": "standin-save-bars" });
  var style = element("style");
  style.textContent = [
    ".standin-chrome{font:14px/1.4 system-ui,sans-serif;background:#1a1a1a;color:#e3e3e3;",
    "padding:8px 16px;display:flex;flex-wrap:wrap;gap:16px;align-items:center}",
    ".standin-chrome a{color:#fff;text-decoration:none}",
    ".standin-chrome a[aria-current=page]{text-decoration:underline}",
    ".standin-chrome .standin-title{font-weight:650;margin-left:auto}",
    ".standin-chrome .standin-loading{color:#9ad}",
    ".standin-toasts{position:fixed;bottom:16px;left:50%;transform:translateX(-50%);",
    "display:flex;flex-direction:column;gap:8px;z-index:1000}",
    ".standin-toast{background:#303030;color:#fff;padding:10px 16px;border-radius:8px;",
    "font:14px system-ui,sans-serif;box-shadow:0 4px 12px rgba(0,0,0,.25)}",
    ".standin-toast[data-error]{background:#8e1f0b}",
    ".standin-save-bar{position:sticky;top:0;z-index:900;display:flex;gap:8px;",
    "align-items:center;background:#303030;color:#fff;padding:8px 16px;",
    "font:14px system-ui,sans-serif}",
    ".standin-save-bar span{margin-right:auto;font-weight:650}",
    ".standin-save-bar[hidden],.standin-loading[hidden]{display:none}",
    "ui-nav-menu,ui-title-bar,ui-save-bar{display:none !important}"
  ].join("");

  function mountChrome() {
    document.head.appendChild(style);
    document.body.prepend(saveBarSlot);
    document.body.prepend(chrome);
    document.body.appendChild(toasts);
  }

  function renderChrome() {
    chrome.textContent = "";
    var menu = document.querySelector("ui-nav-menu");
    if (menu) {
      var nav = element("nav", { "aria-label": "App navigation" });
      Array.prototype.forEach.call(menu.querySelectorAll("a"), function (link) {
        var copy = element("a", { href: link.getAttribute("href") }, link.textContent.trim());
        var path = new URL(link.href).pathname;
        var here = window.location.pathname;
        if (path === here || (path !== "/" && here.indexOf(path + "/") === 0)) {
          copy.setAttribute("aria-current", "page");
        }
        nav.appendChild(copy);
        nav.appendChild(document.createTextNode(" "));
      });
      chrome.appendChild(nav);
    }
    var bar = document.querySelector("ui-title-bar");
    var title = element("span", { "class": "standin-title" },
      (bar && bar.getAttribute("title")) || document.title);
    chrome.appendChild(title);
    if (bar) {
      Array.prototype.forEach.call(bar.querySelectorAll("button, a"), function (action) {
        var copy = element("button", { type: "button" }, action.textContent.trim());
        copy.addEventListener("click", function () { action.click(); });
        chrome.appendChild(copy);
      });
    }
  }

  var toastCount = 0;
  var toast = {
    show: function (message, options) {
      options = options || {};
      var id = "standin-toast-" + (++toastCount);
      var node = element("div", { "class": "standin-toast", id: id }, message);
      if (options.isError) node.setAttribute("data-error", "");
      toasts.appendChild(node);
      window.setTimeout(function () { toast.hide(id); }, options.duration || 5000);
      return id;
    },
    hide: function (id) {
      var node = document.getElementById(id);
      if (node) node.remove();
    }
  };

  // <ui-save-bar id=…> with <button variant="primary"> (save) and <button> (discard).
  function saveBarFor(id, form) {
    var existing = saveBarSlot.querySelector('[data-for="' + id + '"]');
    if (existing) return existing;
    var bar = element("div", { "class": "standin-save-bar", "data-for": id, role: "region",
      "aria-label": "Unsaved changes", hidden: "" });
    bar.appendChild(element("span", {}, "Unsaved changes"));
    var discard = element("button", { type: "button", "data-action": "discard" }, "Discard");
    var save = element("button", { type: "button", "data-action": "save" }, "Save");
    bar.appendChild(discard);
    bar.appendChild(save);
    if (form) {
      discard.addEventListener("click", function () { form.reset(); });
      save.addEventListener("click", function () { form.requestSubmit(); });
    } else {
      var source = document.getElementById(id);
      Array.prototype.forEach.call(source.querySelectorAll("button"), function (button) {
        var target = button.getAttribute("variant") === "primary" ? save : discard;
        target.textContent = button.textContent.trim() || target.textContent;
        target.addEventListener("click", function () { button.click(); });
      });
    }
    saveBarSlot.appendChild(bar);
    return bar;
  }

  var saveBar = {
    show: function (id) { saveBarFor(id).hidden = false; return Promise.resolve(); },
    hide: function (id) { saveBarFor(id).hidden = true; return Promise.resolve(); },
    toggle: function (id) {
      var bar = saveBarFor(id);
      bar.hidden = !bar.hidden;
      return Promise.resolve();
    },
    leaveConfirmation: function () {
      var open = saveBarSlot.querySelector(".standin-save-bar:not([hidden])");
      if (!open || window.confirm("Leave the page? Your unsaved changes will be lost.")) {
        return Promise.resolve();
      }
      return new Promise(function () {});
    }
  };

  // A form differs from its initial state when any control's value differs from the
  // value the page was loaded (or last saved) with: the DOM's default values.
  function isDirty(form) {
    return Array.prototype.some.call(form.elements, function (field) {
      if (field.type === "checkbox" || field.type === "radio") {
        return field.checked !== field.defaultChecked;
      }
      if (field.tagName === "SELECT") {
        return Array.prototype.some.call(field.options, function (option) {
          return option.selected !== option.defaultSelected;
        });
      }
      return "defaultValue" in field && field.value !== field.defaultValue;
    });
  }

  var formCount = 0;
  function watchForm(form) {
    var id = form.id || (form.id = "standin-form-" + (++formCount));
    var bar = saveBarFor("form:" + id, form);
    var update = function () { bar.hidden = !isDirty(form); };
    form.addEventListener("input", update);
    form.addEventListener("change", update);
    // Shopify: the save bar hides when the form is submitted or reset.
    form.addEventListener("submit", function () { bar.hidden = true; });
    form.addEventListener("reset", function () { bar.hidden = true; });
  }

  var loadingNode = element("span", { "class": "standin-loading", role: "progressbar",
    "aria-label": "Loading", hidden: "" }, "Loading…");

  window.shopify = {
    config: {
      apiKey: apiKeyMeta ? apiKeyMeta.content : "",
      shop: shop,
      host: params.get("host") || "",
      locale: params.get("locale") || "en"
    },
    idToken: function () { return idToken(false); },
    toast: toast,
    saveBar: saveBar,
    loading: function (isLoading) { loadingNode.hidden = !isLoading; }
  };
  window.fetch = authenticatedFetch;
  rememberStaffUser();

  ["ui-nav-menu", "ui-title-bar", "ui-save-bar"].forEach(function (name) {
    if (!window.customElements.get(name)) {
      window.customElements.define(name, class extends HTMLElement {});
    }
  });

  function start() {
    var reload = params.get("shopify-reload");
    if (reload) {
      var target = new URL(reload, window.location.href);
      // Like App Bridge, only ever reload into the app itself.
      if (target.origin !== window.location.origin) return;
      idToken(true).then(function (token) {
        target.searchParams.set("id_token", token);
        window.location.replace(target.toString());
      });
      return;
    }
    mountChrome();
    renderChrome();
    chrome.appendChild(loadingNode);
    Array.prototype.forEach.call(document.querySelectorAll("form[data-save-bar]"), watchForm);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
