/*
 * Perennial's embedded admin: forms that save through the JSON API (/api/admin/…).
 *
 * A <form data-api-form action="/api/admin/…" data-method="POST|PATCH|DELETE"> is sent as
 * JSON with fetch(). App Bridge adds the session token to fetches to the app's origin
 * (and retries once on a 401 asking for a fresh one); if App Bridge did not load, the
 * page's own id_token is sent instead, which lasts about a minute.
 *
 * Field conventions: name="…" is the API key; data-type="int" sends a whole number,
 * data-type="bool" sends true/false (checkboxes always do); an empty field is left out,
 * or sent as null with data-empty="null". data-send="changed" sends only the fields that
 * differ from the page's values (PATCH). data-idempotent adds an Idempotency-Key that
 * stays the same when the same values are sent again. data-saved is the toast on
 * success; data-next="<url>" opens that page after success, otherwise the page reloads.
 * data-confirm asks first. Errors from {"errors": {field: [messages]}} are shown next to
 * their fields.
 */
(function () {
  "use strict";

  var FLASH_KEY = "perennial-flash";
  var params = new URLSearchParams(window.location.search);

  function appBridge() {
    return window.shopify && typeof window.shopify.idToken === "function" ? window.shopify : null;
  }

  function toast(message, isError) {
    var bridge = appBridge();
    if (bridge && bridge.toast) {
      bridge.toast.show(message, { isError: Boolean(isError), duration: 5000 });
      return;
    }
    var status = document.getElementById("app-status");
    if (!status) return;
    var line = document.createElement("p");
    line.textContent = message;
    if (isError) line.className = "error";
    status.appendChild(line);
    window.setTimeout(function () { line.remove(); }, 5000);
  }

  function showBanner(message) {
    var banner = document.getElementById("app-error");
    if (!banner) return;
    banner.querySelector("[data-app-error-message]").textContent = message;
    banner.hidden = false;
    banner.scrollIntoView({ block: "nearest" });
  }

  function hideBanner() {
    var banner = document.getElementById("app-error");
    if (banner) banner.hidden = true;
  }

  function setLoading(button, isLoading) {
    var bridge = appBridge();
    if (bridge && bridge.loading) bridge.loading(isLoading);
    if (!button) return;
    button.disabled = isLoading;
    if (isLoading) {
      button.setAttribute("aria-busy", "true");
    } else {
      button.removeAttribute("aria-busy");
    }
  }

  function fieldValue(field) {
    if (field.type === "checkbox") return field.checked;
    var text = field.value.trim();
    if (field.dataset.type === "bool") return text === "true";
    if (field.dataset.type === "int" && /^[-+]?\d+$/.test(text)) return parseInt(text, 10);
    // Anything else is sent as typed, so the API names what is wrong with it.
    return text;
  }

  function isChanged(field) {
    if (field.type === "checkbox") return field.checked !== field.defaultChecked;
    if (field.tagName === "SELECT") {
      return Array.prototype.some.call(field.options, function (option) {
        return option.selected !== option.defaultSelected;
      });
    }
    return field.value !== field.defaultValue;
  }

  function formBody(form) {
    var body = {};
    var onlyChanged = form.dataset.send === "changed";
    Array.prototype.forEach.call(form.elements, function (field) {
      if (!field.name || field.disabled || field.type === "submit") return;
      if (onlyChanged && field.type !== "hidden" && !isChanged(field)) return;
      if (field.type !== "checkbox" && field.value.trim() === "") {
        if (field.dataset.empty === "null") body[field.name] = null;
        if (field.dataset.empty === "string") body[field.name] = "";
        return;
      }
      body[field.name] = fieldValue(field);
    });
    return body;
  }

  function clearErrors(form) {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error, .form-error"), function (node) {
      node.remove();
    });
    Array.prototype.forEach.call(form.querySelectorAll("[aria-invalid]"), function (field) {
      field.removeAttribute("aria-invalid");
      field.removeAttribute("aria-describedby");
    });
  }

  // keepFocus: errors found while the merchant types (a live preview) must not move them.
  function showErrors(form, errors, keepFocus) {
    var unplaced = [];
    Object.keys(errors).forEach(function (name) {
      var messages = [].concat(errors[name]);
      var field = form.elements.namedItem(name);
      if (!field || !field.name || field.type === "hidden") {
        unplaced.push.apply(unplaced, messages);
        return;
      }
      var note = document.createElement("p");
      note.className = "field-error";
      note.id = (form.id || "form") + "-" + name + "-error";
      note.textContent = messages.join(" ");
      var wrapper = field.closest(".app-field, .app-check") || field;
      wrapper.appendChild(note);
      field.setAttribute("aria-invalid", "true");
      field.setAttribute("aria-describedby", note.id);
    });
    if (unplaced.length) {
      var summary = document.createElement("p");
      summary.className = "form-error";
      summary.setAttribute("role", "alert");
      summary.textContent = unplaced.join(" ");
      form.prepend(summary);
    }
    var first = form.querySelector("[aria-invalid]");
    if (first && !keepFocus) first.focus();
  }

  // After a save, the saved values are the form's starting point: Discard returns to them.
  function keepValues(form) {
    Array.prototype.forEach.call(form.elements, function (field) {
      if (field.type === "checkbox" || field.type === "radio") {
        field.defaultChecked = field.checked;
      } else if (field.tagName === "SELECT") {
        Array.prototype.forEach.call(field.options, function (option) {
          option.defaultSelected = option.selected;
        });
      } else if ("defaultValue" in field) {
        field.defaultValue = field.value;
      }
    });
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  function send(form, body) {
    var headers = { Accept: "application/json" };
    var method = (form.dataset.method || "POST").toUpperCase();
    var init = { method: method, headers: headers };
    if (method !== "DELETE") {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    if (form.hasAttribute("data-idempotent")) {
      form.dataset.key = form.dataset.key || newKey();
      headers["Idempotency-Key"] = form.dataset.key;
    }
    if (!appBridge() && params.get("id_token")) {
      headers.Authorization = "Bearer " + params.get("id_token");
    }
    return window.fetch(form.getAttribute("action"), init);
  }

  function readErrors(response) {
    return response.json().then(function (document) {
      return (document && document.errors) || {};
    }, function () { return {}; });
  }

  function succeeded(form, response) {
    hideBanner();
    delete form.dataset.key;
    keepValues(form);
    var message = form.dataset.saved || "Saved";
    var next = form.dataset.next;
    try {
      window.sessionStorage.setItem(FLASH_KEY, message);
    } catch (error) {
      toast(message);
    }
    if (next) {
      window.location.assign(next);
    } else {
      window.location.reload();
    }
    return response;
  }

  function failed(form, response) {
    if (response.status === 400 || response.status === 404) {
      return readErrors(response).then(function (errors) {
        showErrors(form, errors);
        toast(response.status === 404 ? "It is no longer there; reload the page."
          : "Not saved: correct the fields marked.", true);
      });
    }
    if (response.status === 401) {
      showBanner("Your Shopify session has ended. Reload Perennial from Shopify admin " +
        "(Apps, then Perennial) and try again; nothing was saved.");
    } else {
      showBanner("Perennial did not answer properly (error " + response.status + "). " +
        "Nothing was saved. Try again in a minute; your changes are still in the form.");
    }
    toast("Not saved", true);
    return null;
  }

  function submit(event) {
    var form = event.target;
    if (!form.matches || !form.matches("form[data-api-form]")) return;
    event.preventDefault();
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) return;
    var button = event.submitter || form.querySelector("[type=submit]");
    clearErrors(form);
    setLoading(button, true);
    send(form, formBody(form)).then(function (response) {
      return response.ok ? succeeded(form, response) : failed(form, response);
    }, function () {
      showBanner("Perennial could not be reached. Check your internet connection, then " +
        "try again; nothing was saved and your changes are still in the form.");
      toast("Not saved", true);
    }).then(function () { setLoading(button, false); });
  }

  function changed(event) {
    var form = event.target.form;
    // New values are a new request: a retry only reuses the key for the same values.
    if (form && form.hasAttribute("data-idempotent")) delete form.dataset.key;
  }

  function start() {
    document.addEventListener("submit", submit);
    document.addEventListener("input", changed);
    var flash = null;
    try {
      flash = window.sessionStorage.getItem(FLASH_KEY);
      window.sessionStorage.removeItem(FLASH_KEY);
    } catch (error) {
      flash = null;
    }
    if (flash) toast(flash);
    if (!appBridge()) {
      showBanner("Shopify's App Bridge script did not load, so this page cannot stay signed " +
        "in. You can read it, and save for about a minute; then reload Perennial from " +
        "Shopify admin. If this keeps happening, allow cdn.shopify.com in your browser " +
        "or network.");
    }
  }

  // fetch() for the pages' own scripts: App Bridge adds the session token; without it the
  // page's own id_token is sent, as send() does.
  function apiFetch(url, init) {
    var options = Object.assign({}, init);
    var headers = Object.assign({ Accept: "application/json" }, options.headers);
    if (!appBridge() && params.get("id_token")) {
      headers.Authorization = "Bearer " + params.get("id_token");
    }
    options.headers = headers;
    return window.fetch(url, options);
  }

  // The pages with forms of their own (program.js, settings.js, notifications.js) report
  // the same way.
  window.PerennialAdmin = {
    fetch: apiFetch,
    toast: toast,
    showBanner: showBanner,
    hideBanner: hideBanner,
    setLoading: setLoading,
    keepValues: keepValues,
    showErrors: showErrors,
    clearErrors: clearErrors,
  };

  start();
})();
