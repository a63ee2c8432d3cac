// The Members page's exports and the Import members page.
// A plain link cannot carry the session token, so the exports are fetched (App Bridge adds
// the token; app.js sends the page's own id_token without it) and read chunk by chunk into
// a Blob, handed to the browser as a file under the name the API gives. The import uploads
// the file to POST /api/admin/imports/members and follows GET /api/admin/imports/{id}.
(() => {
  "use strict";

  // app.js: toasts, the error banner, loading buttons.
  const admin = window.PerennialAdmin;
  const toast = admin.toast;
  const POLL_MS = 1000;

  // Exports --------------------------------------------------------------------------------

  const exportState = document.getElementById("export-state");

  function megabytes(bytes) {
    return (bytes / (1024 * 1024)).toFixed(1);
  }

  // Reads the body as it arrives, so a large export shows its progress and the page stays
  // responsive; the chunks become one Blob at the end.
  async function readBody(response) {
    if (!response.body || !response.body.getReader) return response.blob();
    const reader = response.body.getReader();
    const chunks = [];
    let received = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      chunks.push(value);
      received += value.length;
      exportState.textContent = `Preparing the file: ${megabytes(received)} MB received…`;
    }
    return new Blob(chunks, { type: response.headers.get("Content-Type") || "text/csv" });
  }

  function saveFile(blob, name) {
    const file = document.createElement("a");
    file.href = URL.createObjectURL(blob);
    file.download = name;
    document.body.appendChild(file);
    file.click();
    file.remove();
    setTimeout(() => URL.revokeObjectURL(file.href), 1000);
  }

  async function download(url, button, fallbackName) {
    admin.setLoading(button, true);
    exportState.textContent = "Preparing the file…";
    try {
      const response = await admin.fetch(url, { headers: { Accept: "text/csv" } });
      if (!response.ok) {
        const answer = await response.json().catch(() => ({}));
        const messages = Object.values(answer.errors || {}).flat();
        throw new Error(messages.length ? messages.join(" ") : `error ${response.status}`);
      }
      const disposition = response.headers.get("Content-Disposition") || "";
      const name = /filename="([^"]+)"/.exec(disposition);
      saveFile(await readBody(response), name ? name[1] : fallbackName);
      admin.hideBanner();
      exportState.textContent = "";
      toast("Export downloaded");
    } catch (error) {
      exportState.textContent = "";
      admin.showBanner(
        `The export could not be downloaded (${error.message}). Check your connection and ` +
          "try again; if it keeps failing, export a shorter range of dates.",
      );
      toast("Export failed", true);
    } finally {
      admin.setLoading(button, false);
    }
  }

  const membersButton = document.getElementById("export-members");
  if (membersButton) {
    membersButton.addEventListener("click", () =>
      download(membersButton.dataset.export, membersButton, "members.csv"),
    );
  }

  // How far the wall clock in `zone` is ahead of UTC at `moment` (ms since the epoch).
  function zoneOffset(moment, zone) {
    const format = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
    });
    const wall = Object.fromEntries(format.formatToParts(new Date(moment)).map((p) => [p.type, p.value]));
    return (
      Date.UTC(wall.year, wall.month - 1, wall.day, wall.hour, wall.minute, wall.second) - moment
    );
  }

  // The start of `day` (YYYY-MM-DD) plus `days` in the shop's timezone, in UTC ISO 8601:
  // the export's days are then the shop's days, as on the Dashboard.
  function shopMidnight(day, days, zone) {
    const wall = new Date(`${day}T00:00:00Z`);
    wall.setUTCDate(wall.getUTCDate() + days);
    let moment = wall.getTime() - zoneOffset(wall.getTime(), zone);
    // Again from the first answer: across a daylight saving change the offset differs.
    moment = wall.getTime() - zoneOffset(moment, zone);
    return new Date(moment).toISOString();
  }

  const ledgerForm = document.getElementById("export-ledger");
  if (ledgerForm) {
    ledgerForm.addEventListener("submit", (event) => {
      event.preventDefault();
      const zone = ledgerForm.dataset.timezone;
      // The API's `to` is excluded: the midnight after the last day asked for.
      const query = new URLSearchParams({
        from: shopMidnight(ledgerForm.elements.from.value, 0, zone),
        to: shopMidnight(ledgerForm.elements.to.value, 1, zone),
      });
      const button = ledgerForm.querySelector('button[type="submit"]');
      download(`${ledgerForm.getAttribute("action")}?${query}`, button, "ledger.csv");
    });
  }

  // Import ---------------------------------------------------------------------------------

  const importForm = document.getElementById("import-form");
  if (!importForm) return;
  const fileField = importForm.elements.file;
  const fileError = document.getElementById("import-file-error");
  const section = document.getElementById("import-progress-section");
  const summary = document.getElementById("import-summary");
  const bar = document.getElementById("import-bar");
  const rejectedPart = document.getElementById("import-rejected");
  const doneLink = document.getElementById("import-done-link");

  function showFileError(messages) {
    fileError.textContent = messages.join(" ");
    fileError.hidden = false;
    fileField.setAttribute("aria-invalid", "true");
    fileField.setAttribute("aria-describedby", "import-file-hint import-file-error");
    fileField.focus();
  }

  function clearFileError() {
    fileError.textContent = "";
    fileError.hidden = true;
    fileField.removeAttribute("aria-invalid");
    fileField.setAttribute("aria-describedby", "import-file-hint");
  }

  function plural(count, one, many) {
    return `${count.toLocaleString("en-US")} ${count === 1 ? one : many}`;
  }

  function showRejected(progress) {
    rejectedPart.hidden = progress.rejected.length === 0;
    const body = rejectedPart.querySelector("tbody");
    body.replaceChildren(
      ...progress.rejected.map((rejected) => {
        const row = document.createElement("tr");
        const number = document.createElement("td");
        number.className = "number";
        number.textContent = rejected.row;
        const errors = document.createElement("td");
        errors.textContent = rejected.errors.join(" ");
        row.append(number, errors);
        return row;
      }),
    );
    const note = document.getElementById("import-rejected-note");
    note.textContent =
      progress.rejected_count > progress.rejected.length
        ? `The first ${plural(progress.rejected.length, "rejected row", "rejected rows")} of ` +
          `${progress.rejected_count.toLocaleString("en-US")}:`
        : "Rejected rows: fix them in the file and import it again.";
  }

  function counts(progress) {
    return (
      `${progress.imported.toLocaleString("en-US")} imported, ` +
      `${progress.rejected_count.toLocaleString("en-US")} rejected`
    );
  }

  // Shows one answer of GET /api/admin/imports/{id}; true once the import has finished.
  function showProgress(progress) {
    bar.max = Math.max(progress.total, 1);
    bar.value = progress.processed;
    section.dataset.status = progress.status;
    showRejected(progress);
    if (progress.status === "queued") {
      summary.textContent = `Waiting to start: ${plural(progress.total, "member", "members")} in the file.`;
    } else if (progress.status === "running") {
      summary.textContent =
        `Importing: ${progress.processed.toLocaleString("en-US")} of ` +
        `${progress.total.toLocaleString("en-US")} rows, ${counts(progress)}.`;
    } else if (progress.status === "done") {
      bar.value = bar.max;
      summary.textContent = `Finished: ${counts(progress)}.`;
      doneLink.hidden = false;
      toast(`Import finished: ${counts(progress)}`);
      return true;
    } else {
      summary.textContent =
        `The import stopped after ${plural(progress.processed, "row", "rows")} ` +
        `(${counts(progress)}). Import the file again: members already imported are not added twice.`;
      toast("The import stopped", true);
      return true;
    }
    return false;
  }

  function wait(ms) {
    return new Promise((resolve) => setTimeout(resolve, ms));
  }

  async function follow(importId) {
    let failures = 0;
    for (;;) {
      try {
        const response = await admin.fetch(`/api/admin/imports/${importId}`);
        if (response.status === 401 || response.status === 404) {
          // Asking again would get the same answer.
          admin.showBanner(
            response.status === 401
              ? "Your Shopify session has ended, so the progress cannot be shown. The import " +
                  "carries on: reload Perennial from Shopify admin and look for the members."
              : "This import is no longer there. Reload the page and import the file again.",
          );
          return;
        }
        if (!response.ok) throw new Error(`error ${response.status}`);
        failures = 0;
        admin.hideBanner();
        if (showProgress(await response.json())) return;
      } catch {
        failures += 1;
        // The import runs on without this page; keep asking, and say so after a few misses.
        if (failures === 3) {
          admin.showBanner(
            "Perennial could not be reached to show the import's progress. The import carries " +
              "on; this page keeps trying, or reload it later.",
          );
        }
      }
      await wait(failures ? POLL_MS * Math.min(failures + 1, 10) : POLL_MS);
    }
  }

  importForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearFileError();
    if (!fileField.files.length) {
      showFileError(["Choose the CSV file to import."]);
      return;
    }
    const button = importForm.querySelector('button[type="submit"]');
    const upload = new FormData();
    upload.append("file", fileField.files[0]);
    admin.setLoading(button, true);
    try {
      const response = await admin.fetch(importForm.getAttribute("action"), {
        method: "POST",
        body: upload,
      });
      const answer = await response.json().catch(() => ({}));
      if (response.status === 202) {
        admin.hideBanner();
        section.hidden = false;
        doneLink.hidden = true;
        summary.textContent = "Uploaded; waiting to start…";
        importForm.reset();
        await follow(answer.id);
      } else if (answer.errors) {
        showFileError(Object.values(answer.errors).flat());
        toast("Not imported: see the message under the file.", true);
      } else {
        admin.showBanner(
          `Perennial did not answer properly (error ${response.status}). Nothing was imported; ` +
            "try again in a minute.",
        );
        toast("Not imported", true);
      }
    } catch {
      admin.showBanner(
        "Perennial could not be reached. Check your internet connection, then try again; " +
          "nothing was imported.",
      );
      toast("Not imported", true);
    } finally {
      admin.setLoading(button, false);
    }
  });
})();
