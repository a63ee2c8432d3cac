// The Emails page: redraws each email's preview as the merchant types, through
// POST /api/admin/notifications/<kind>/preview (the same checks as saving, so a template
// that would be refused shows its message under its field at once). Saving is app.js's
// form handling (PUT). App Bridge adds the session token to these same-origin fetches.
(() => {
  "use strict";

  const admin = window.PerennialAdmin;
  const PREVIEW_DELAY_MS = 300;

  function watch(form) {
    const panel = document.querySelector(`[data-preview-for="${form.id}"]`);
    const subject = panel.querySelector("[data-preview-subject]");
    const body = panel.querySelector("[data-preview-body]");
    const problem = panel.querySelector("[data-preview-error]");
    let timer = null;
    // Only the newest request's answer is drawn: an older one may arrive after it.
    let latest = 0;

    function say(text) {
      problem.textContent = text;
      problem.hidden = !text;
    }

    function draw() {
      const asked = ++latest;
      const draft = { subject: form.elements.subject.value, body: form.elements.body.value };
      admin.fetch(form.dataset.preview, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(draft),
      }).then((response) => response.json().then((answer) => ({ response, answer }), () => ({ response, answer: {} })))
        .then(({ response, answer }) => {
          if (asked !== latest) return;
          admin.clearErrors(form);
          if (response.ok) {
            subject.textContent = answer.subject;
            body.textContent = answer.body;
            say("");
          } else if (response.status === 400 && answer.errors) {
            admin.showErrors(form, answer.errors, true);
            say("The preview shows the last version that could be filled in: correct the fields marked.");
          } else {
            say(`The preview could not be drawn (error ${response.status}); saving still checks the template.`);
          }
        }, () => {
          if (asked === latest) say("The preview could not be drawn: Perennial could not be reached.");
        });
    }

    form.addEventListener("input", (event) => {
      if (!["subject", "body"].includes(event.target.name)) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(draw, PREVIEW_DELAY_MS);
    });
  }

  document.querySelectorAll("form[data-preview]").forEach(watch);
})();
