// The Program page: builds the program document from the form, previews what an example
// order earns as the merchant types, and saves through PUT /api/admin/program.
// App Bridge adds the session token to these same-origin fetches (app.js sends the page's
// own id_token when App Bridge did not load).
(() => {
  "use strict";

  const form = document.getElementById("program-form");
  if (!form) return;
  // Errors may belong to the form or to the example order beside it.
  const page = form.closest(".program-layout");
  const tierRows = document.getElementById("tier-rows");
  const tierTemplate = document.getElementById("tier-row-template");
  const PREVIEW_DELAY_MS = 300;
  let saved = JSON.parse(document.getElementById("program-document").textContent);
  let previewTimer = null;
  let previewRequest = 0;

  // app.js: toasts, the error banner, loading buttons, saved values as the starting point.
  const admin = window.PerennialAdmin;

  // A whole number typed as digits is sent as a number; anything else is sent as typed, so
  // the API names the field and says what it wants (one set of rules, on the server).
  function wholeNumber(text) {
    const trimmed = text.trim();
    return /^[0-9]{1,15}$/.test(trimmed) ? Number(trimmed) : trimmed;
  }

  function fieldValue(input) {
    switch (input.dataset.kind) {
      case "bool":
        return input.checked;
      case "int":
        return wholeNumber(input.value);
      case "int-or-null":
        return input.value.trim() === "" ? null : wholeNumber(input.value);
      default:
        return input.value.trim();
    }
  }

  function friendReward() {
    const part = (name) => form.querySelector(`[data-reward="${name}"]`).value.trim();
    if (part("kind") === "") return null;
    const reward = { kind: part("kind") };
    if (part("value") !== "") reward.value = part("value");
    reward.minimum_subtotal = part("minimum_subtotal") || null;
    reward.expires_after_days =
      part("expires_after_days") === "" ? null : wholeNumber(part("expires_after_days"));
    return reward;
  }

  function tiers() {
    return Array.from(tierRows.querySelectorAll(".tier-row")).map((row) => {
      const part = (name) => row.querySelector(`[data-tier="${name}"]`).value.trim();
      return {
        name: part("name"),
        threshold: wholeNumber(part("threshold")),
        multiplier: part("multiplier"),
        entry_points: part("entry_points") === "" ? 0 : wholeNumber(part("entry_points")),
      };
    });
  }

  function draft() {
    const program = {};
    form.querySelectorAll("[name][data-kind]").forEach((input) => {
      program[input.name] = fieldValue(input);
    });
    program.tiers = tiers();
    program.referral_friend_reward = friendReward();
    return program;
  }

  // Errors --------------------------------------------------------------------------------

  function clearErrors() {
    page.querySelectorAll(".field-error").forEach((slot) => {
      slot.hidden = true;
      slot.textContent = "";
    });
    page.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
  }

  function slotFor(key) {
    const tier = /^tiers\[(\d+)\]\.(\w+)$/.exec(key);
    if (tier) {
      const row = tierRows.querySelectorAll(".tier-row")[Number(tier[1])];
      const slot = row && row.querySelector(`[data-error-part="${tier[2]}"]`);
      if (slot) return slot;
    }
    const exact = page.querySelector(`[data-error-for="${CSS.escape(key)}"]`);
    if (exact) return exact;
    // "tiers[2]" or "referral_friend_reward.kind" without a slot of its own: the group's.
    const group = key.split(/[.[]/)[0];
    return page.querySelector(`[data-error-for="${CSS.escape(group)}"]`) ||
      page.querySelector('[data-error-for="body"]');
  }

  function showErrors(errors, prefix) {
    Object.entries(errors).forEach(([key, messages]) => {
      const name = prefix && key.startsWith(prefix) ? key.slice(prefix.length) : key;
      const slot = slotFor(name);
      slot.textContent = [slot.textContent, ...messages].filter(Boolean).join(" ");
      slot.hidden = false;
      const input = slot.parentElement.querySelector("input, select");
      if (input) input.setAttribute("aria-invalid", "true");
    });
  }

  // Preview -------------------------------------------------------------------------------

  const previewSubtotal = document.getElementById("preview-subtotal");
  const previewSource = document.getElementById("preview-source");

  // Worded as the page first draws it (pages_program.preview_texts).
  const NUMBER = new Intl.NumberFormat("en-US");
  function pointsText(points) {
    return `${NUMBER.format(points)} ${points === 1 ? "point" : "points"}`;
  }

  function renderPreview(answer) {
    const currency = document.getElementById("preview-amount").textContent.split(" ")[0];
    document.getElementById("preview-amount").textContent =
      `${currency} ${previewSubtotal.value.trim()}`;
    document.getElementById("preview-points").textContent = pointsText(answer.points);
    document.getElementById("preview-pending").textContent = answer.pending_days
      ? `, spendable after ${answer.pending_days} ${answer.pending_days === 1 ? "day" : "days"}.`
      : ", spendable at once.";
    const list = document.getElementById("preview-tiers");
    list.replaceChildren(
      ...answer.by_tier.map((tier) => {
        const item = document.createElement("li");
        item.textContent = `${tier.tier} members earn ${pointsText(tier.points)}`;
        return item;
      }),
    );
  }

  async function preview() {
    const request = ++previewRequest;
    const body = {
      program: draft(),
      order: { subtotal: previewSubtotal.value.trim(), source: previewSource.value },
    };
    let response;
    try {
      response = await admin.fetch("/api/admin/program/preview", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(body),
      });
    } catch {
      return; // The preview is a help, not a step: saving still reports being offline.
    }
    // A slower answer to an older draft must not overwrite a newer one.
    if (request !== previewRequest) return;
    const answer = await response.json().catch(() => ({}));
    clearErrors();
    if (response.ok) {
      renderPreview(answer);
    } else if (answer.errors) {
      document.getElementById("preview-points").textContent = "…";
      showErrors(answer.errors, "program.");
    }
  }

  function previewSoon() {
    clearTimeout(previewTimer);
    previewTimer = setTimeout(preview, PREVIEW_DELAY_MS);
  }

  // Tiers ---------------------------------------------------------------------------------

  function tierEmptyState() {
    document.getElementById("tiers-empty").hidden = tierRows.children.length > 0;
  }

  function addTier(tier) {
    const row = tierTemplate.content.firstElementChild.cloneNode(true);
    if (tier) {
      // Default values, so that a form reset keeps them.
      row.querySelector('[data-tier="name"]').defaultValue = tier.name;
      row.querySelector('[data-tier="threshold"]').defaultValue = tier.threshold;
      row.querySelector('[data-tier="multiplier"]').defaultValue = tier.multiplier;
    }
    tierRows.append(row);
    tierEmptyState();
    return row;
  }

  document.getElementById("tier-add").addEventListener("click", () => {
    addTier(null).querySelector("input").focus();
    changed();
  });

  tierRows.addEventListener("click", (event) => {
    const remove = event.target.closest(".tier-remove");
    if (!remove) return;
    remove.closest(".tier-row").remove();
    tierEmptyState();
    changed();
  });

  // Save bar ------------------------------------------------------------------------------

  // The save bar is driven from the program document rather than by data-save-bar, which
  // compares each field with its initial value: adding or removing a tier row is a change
  // too, and typing a value back to what was saved is not.
  const SAVE_BAR = "program-save-bar";
  let savedDraft = JSON.stringify(draft());

  function updateSaveBar() {
    const bar = window.shopify && window.shopify.saveBar;
    if (!bar) return;
    if (JSON.stringify(draft()) === savedDraft) {
      bar.hide(SAVE_BAR);
    } else {
      bar.show(SAVE_BAR);
    }
  }

  function changed() {
    updateSaveBar();
    previewSoon();
  }

  document.getElementById("program-save-bar-save").addEventListener("click", () => {
    form.requestSubmit();
  });
  document.getElementById("program-save-bar-discard").addEventListener("click", () => {
    form.reset();
  });

  // Save and discard ----------------------------------------------------------------------

  async function save(event) {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    admin.setLoading(button, true);
    clearErrors();
    try {
      const response = await admin.fetch("/api/admin/program", {
        method: "PUT",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(draft()),
      });
      const answer = await response.json().catch(() => ({}));
      if (response.ok) {
        saved = answer;
        admin.hideBanner();
        admin.keepValues(form);
        savedDraft = JSON.stringify(draft());
        updateSaveBar();
        admin.toast("Program saved");
        // Saving the program is the first step of the onboarding checklist. The program is
        // saved either way; if this tick is lost, the next save makes it.
        admin.fetch("/api/admin/onboarding/program-reviewed", { method: "POST" }).catch(() => {});
      } else if (answer.errors) {
        showErrors(answer.errors, "");
        admin.toast("Not saved: correct the fields marked.", true);
      } else {
        admin.showBanner(
          `Perennial did not answer properly (error ${response.status}). Nothing was saved. ` +
            "Try again in a minute; your changes are still in the form.",
        );
        admin.toast("Not saved", true);
      }
    } catch {
      admin.showBanner(
        "Perennial could not be reached. Check your internet connection, then try again; " +
          "your changes are still in the form.",
      );
      admin.toast("Not saved", true);
    } finally {
      admin.setLoading(button, false);
    }
  }

  form.addEventListener("submit", save);
  form.addEventListener("reset", () => {
    // The browser restores the fields; the tier rows come back from the saved program.
    tierRows.replaceChildren();
    saved.tiers.forEach((tier) => addTier(tier));
    tierEmptyState();
    clearErrors();
    // The browser restores the fields after this event.
    setTimeout(() => {
      updateSaveBar();
      preview();
    }, 0);
  });
  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  previewSubtotal.addEventListener("input", previewSoon);
  previewSource.addEventListener("change", previewSoon);
})();
