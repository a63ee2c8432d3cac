// The Sync page: Retry sends a failed webhook delivery to be processed again
// (POST /api/admin/deliveries/{id}/replay) and the row says what happened.
// App Bridge adds the session token (app.js sends the page's own id_token without it).
(() => {
  "use strict";

  // app.js: toasts, the error banner, loading buttons.
  const admin = window.PerennialAdmin;

  function settle(row, button, state) {
    row.querySelector("[data-delivery-state]").textContent = state;
    row.classList.add("delivery-retried");
    button.remove();
  }

  async function retry(button) {
    const row = button.closest("tr");
    const topic = row.querySelector("code").textContent;
    admin.setLoading(button, true);
    try {
      const response = await admin.fetch(button.dataset.replay, { method: "POST" });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 202) {
        admin.hideBanner();
        settle(row, button, "Sent again: being processed");
        admin.toast(`${topic} sent to be processed again`);
      } else if (response.status === 409 || response.status === 404) {
        // Processed meanwhile (409) or gone (404): either way nothing is left to retry.
        settle(row, button, Object.values(answer.errors || {}).flat().join(" "));
        admin.toast("Nothing to retry: reload the page to see the latest", true);
      } else {
        admin.showBanner(
          `Perennial did not answer properly (error ${response.status}). The delivery was not ` +
            "retried; try again in a minute.",
        );
        admin.toast("Not retried", true);
      }
    } catch {
      admin.showBanner(
        "Perennial could not be reached. Check your internet connection, then try again; the " +
          "delivery was not retried.",
      );
      admin.toast("Not retried", true);
    } finally {
      admin.setLoading(button, false);
    }
  }

  document.querySelectorAll("button[data-replay]").forEach((button) => {
    button.addEventListener("click", () => retry(button));
  });
})();
