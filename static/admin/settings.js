// The Settings page: the widget's look with a live preview (saved through
// PUT /api/admin/widget), the review integrations' secret, and the data request exports.
// App Bridge adds the session token to these same-origin fetches (app.js sends the page's
// own id_token when App Bridge did not load).
(() => {
  "use strict";

  // app.js: toasts, the error banner, loading buttons, saved values as the starting point.
  const admin = window.PerennialAdmin;
  const toast = admin.toast;

  async function copy(text, what) {
    try {
      await navigator.clipboard.writeText(text);
      toast(`${what} copied`);
    } catch {
      toast(`Your browser did not allow copying. Select the ${what.toLowerCase()} and copy it.`, true);
    }
  }

  // The widget --------------------------------------------------------------------------

  const form = document.getElementById("widget-form");
  const preview = document.getElementById("widget-preview");
  const HEX = /^#[0-9a-fA-F]{6}$/;
  const COLOURS = {
    accent_color: "--accent",
    accent_text_color: "--accent-text",
    panel_background_color: "--panel",
    panel_text_color: "--panel-text",
  };

  function showPreview() {
    Object.entries(COLOURS).forEach(([name, property]) => {
      const value = form.elements[name].value.trim();
      if (HEX.test(value)) preview.style.setProperty(property, value);
    });
    preview.dataset.position = form.elements.launcher_position.value;
    preview.querySelectorAll("[data-preview-text]").forEach((slot) => {
      slot.textContent = form.elements[`texts.en.${slot.dataset.previewText}`].value;
    });
    form.querySelectorAll("[data-swatch-for]").forEach((swatch) => {
      const value = form.elements[swatch.dataset.swatchFor].value.trim();
      if (HEX.test(value)) swatch.value = value.toLowerCase();
    });
  }

  function widgetDocument() {
    const widget = { launcher_position: form.elements.launcher_position.value, texts: { en: {} } };
    Object.keys(COLOURS).forEach((name) => {
      widget[name] = form.elements[name].value.trim();
    });
    form.querySelectorAll('[name^="texts.en."]').forEach((field) => {
      widget.texts.en[field.name.slice("texts.en.".length)] = field.value;
    });
    return widget;
  }

  function clearErrors() {
    form.querySelectorAll(".field-error").forEach((slot) => {
      slot.hidden = true;
      slot.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach((field) => field.removeAttribute("aria-invalid"));
  }

  function showErrors(errors) {
    Object.entries(errors).forEach(([key, messages]) => {
      const slot =
        form.querySelector(`[data-error-for="${CSS.escape(key)}"]`) ||
        form.querySelector('[data-error-for="body"]');
      slot.textContent = [slot.textContent, ...messages].filter(Boolean).join(" ");
      slot.hidden = false;
      const field = form.elements[key];
      if (field && field.setAttribute) field.setAttribute("aria-invalid", "true");
    });
  }

  async function save(event) {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    admin.setLoading(button, true);
    clearErrors();
    try {
      const response = await admin.fetch("/api/admin/widget", {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(widgetDocument()),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok) {
        admin.hideBanner();
        admin.keepValues(form);
        toast("Widget saved");
      } else if (answer.errors) {
        showErrors(answer.errors);
        toast("Not saved: correct the fields marked.", true);
      } else {
        admin.showBanner(
          `Perennial did not answer properly (error ${response.status}). Nothing was saved. ` +
            "Try again in a minute; your changes are still in the form.",
        );
        toast("Not saved", true);
      }
    } catch {
      admin.showBanner(
        "Perennial could not be reached. Check your internet connection, then try again; " +
          "your changes are still in the form.",
      );
      toast("Not saved", true);
    } finally {
      admin.setLoading(button, false);
    }
  }

  if (form) {
    form.addEventListener("input", (event) => {
      const swatchFor = event.target.dataset.swatchFor;
      if (swatchFor) form.elements[swatchFor].value = event.target.value;
      showPreview();
    });
    form.addEventListener("change", showPreview);
    form.addEventListener("submit", save);
    form.addEventListener("reset", () => {
      clearErrors();
      // The browser restores the fields after this event; the preview follows them.
      setTimeout(showPreview, 0);
    });
    preview.querySelectorAll("[data-view-button]").forEach((button) => {
      button.addEventListener("click", () => {
        preview.dataset.view = button.dataset.viewButton;
        preview.querySelectorAll("[data-view-button]").forEach((other) => {
          other.setAttribute("aria-pressed", String(other === button));
        });
      });
    });
  }

  // Integrations -------------------------------------------------------------------------

  const secretField = document.getElementById("integration-secret");
  const revealButton = document.getElementById("secret-reveal");
  const rotateDialog = document.getElementById("rotate-dialog");
  const MASK = secretField ? secretField.value : "";
  let secret = null;

  async function integrations(method, path) {
    const response = await admin.fetch(path, { method });
    if (!response.ok) throw new Error(`${path} answered ${response.status}`);
    return response.json();
  }

  async function loadSecret() {
    if (secret === null) secret = (await integrations("GET", "/api/admin/integrations")).secret;
    return secret;
  }

  function showSecret(visible) {
    secretField.value = visible ? secret : MASK;
    secretField.dataset.masked = String(!visible);
    revealButton.textContent = visible ? "Hide" : "Reveal";
  }

  if (secretField) {
    revealButton.addEventListener("click", async () => {
      try {
        await loadSecret();
        showSecret(secretField.dataset.masked === "true");
      } catch {
        toast("Perennial could not load the secret. Reload the page and try again.", true);
      }
    });
    document.getElementById("secret-copy").addEventListener("click", async () => {
      try {
        await copy(await loadSecret(), "Secret");
      } catch {
        toast("Perennial could not load the secret. Reload the page and try again.", true);
      }
    });
    document.getElementById("secret-rotate").addEventListener("click", () => {
      rotateDialog.returnValue = "";
      rotateDialog.showModal();
    });
    rotateDialog.addEventListener("close", async () => {
      if (rotateDialog.returnValue !== "rotate") return;
      try {
        secret = (await integrations("POST", "/api/admin/integrations/rotate-secret")).secret;
        showSecret(true);
        toast("Secret rotated: paste the new one into your review app");
      } catch {
        toast("The secret was not rotated: Perennial could not be reached. Try again.", true);
      }
    });
  }

  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.addEventListener("click", () => copy(button.dataset.copy, "Address"));
  });

  // Data request exports -----------------------------------------------------------------

  // A plain link cannot carry the session token, so the file is fetched and handed over.
  document.querySelectorAll("a[data-download]").forEach((link) => {
    link.addEventListener("click", async (event) => {
      event.preventDefault();
      try {
        const response = await admin.fetch(link.href);
        if (!response.ok) throw new Error(`export answered ${response.status}`);
        const disposition = response.headers.get("Content-Disposition") || "";
        const name = /filename="([^"]+)"/.exec(disposition);
        const file = document.createElement("a");
        file.href = URL.createObjectURL(await response.blob());
        file.download = name ? name[1] : "data-request.json";
        file.click();
        setTimeout(() => URL.revokeObjectURL(file.href), 1000);
      } catch {
        toast("The export could not be downloaded. Try again in a moment.", true);
      }
    });
  });
})();
