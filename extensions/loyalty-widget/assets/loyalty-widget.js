/* Perennial rewards widget: opens the panel the Liquid block rendered, and only then asks
   the app (through the shop's app proxy, same origin) for the shopper's account. Texts come
   from the block's JSON island (locales/en.default.json); shopper data is only ever set as
   text, never as HTML. No framework, no build step: docs/widget.md. */
(function () {
  "use strict";
  var root = document.getElementById("prn-loyalty");
  var island = document.getElementById("prn-strings");
  if (!root || !island || root.getAttribute("data-ready")) return;
  root.setAttribute("data-ready", "1");

  var S = JSON.parse(island.textContent);
  var proxy = root.getAttribute("data-proxy") || "/apps/loyalty";
  var launcher = root.querySelector(".prn-launcher");
  var panel = document.getElementById("prn-panel");
  var backdrop = root.querySelector(".prn-backdrop");
  var content = panel.querySelector("[data-prn-content]");
  var summary = panel.querySelector("[data-prn-summary]");
  var live = panel.querySelector("[data-prn-live]");
  var locale = document.documentElement.lang || navigator.language || "en";
  var account = null;
  var loading = false;
  // What the last redemption gave: kept out of `content` (rebuilt on every answer) and last
  // in the panel, sticking to its bottom, so showing it moves nothing else.
  var resultBox = content.parentNode.appendChild(document.createElement("div"));
  resultBox.className = "prn-results";
  var sections = 0;
  var POLL_DELAYS = [1000, 1500, 2000, 3000, 4000, 5000, 6000, 8000];

  function t(key, vars) {
    return (S[key] || "").replace(/\{(\w+)\}/g, function (match, name) {
      return vars && name in vars ? vars[name] : match;
    });
  }
  // Points as Liquid prints them (no grouping), so the numbers the page came with keep
  // their width when the script redraws them.
  function number(value) {
    return String(value);
  }
  function points(count) {
    var rule = new Intl.PluralRules(locale).select(count);
    return t(rule === "one" ? "points_one" : "points_other", { count: number(count) });
  }
  function money(amount) {
    try {
      return new Intl.NumberFormat(locale, { style: "currency", currency: account.currency }).format(+amount);
    } catch (error) {
      return amount + " " + account.currency;
    }
  }
  function date(iso) {
    return new Intl.DateTimeFormat(locale, { dateStyle: "medium" }).format(new Date(iso));
  }
  // A YYYY-MM-DD day is the shop's: shown as written, whatever the browser's timezone.
  function day(iso) {
    return new Intl.DateTimeFormat(locale, { dateStyle: "medium", timeZone: "UTC" }).format(new Date(iso));
  }

  // h("p", {class: "x"}, "text", child, …): an element; strings become text nodes.
  function h(tag, attrs) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) {
      var value = attrs[name];
      if (typeof value === "function") node.addEventListener(name, value);
      else if (value === true) node.setAttribute(name, "");
      else if (value !== false && value != null) node.setAttribute(name, value);
    });
    for (var i = 2; i < arguments.length; i++) {
      var child = arguments[i];
      if (child == null || child === false) continue;
      node.appendChild(typeof child === "object" ? child : document.createTextNode(child));
    }
    return node;
  }
  function section(title) {
    var id = "prn-h-" + (sections += 1);
    var node = h("section", { "aria-labelledby": id }, h("h3", { id: id }, title));
    for (var i = 1; i < arguments.length; i++) if (arguments[i]) node.appendChild(arguments[i]);
    return node;
  }
  function announce(message) {
    live.textContent = "";
    // A fresh text node a moment later, so screen readers read a repeated message again.
    setTimeout(function () { live.textContent = message; }, 50);
  }

  function api(path, options) {
    options = options || {};
    options.credentials = "same-origin";
    options.headers = Object.assign({ Accept: "application/json" }, options.headers);
    return fetch(proxy + path, options).then(function (response) {
      return response.json().then(
        function (data) { return { status: response.status, data: data }; },
        function () { return { status: response.status, data: {} }; }
      );
    });
  }

  // Opening, closing, and keeping focus inside while open.
  function focusables() {
    return Array.prototype.filter.call(
      panel.querySelectorAll("button,a[href],input,select,textarea,[tabindex]:not([tabindex='-1'])"),
      function (node) { return !node.disabled && node.getClientRects().length > 0; }
    );
  }
  function onKey(event) {
    if (event.key === "Escape") {
      event.preventDefault();
      close();
    } else if (event.key === "Tab") {
      var nodes = focusables();
      if (!nodes.length) return event.preventDefault();
      var first = nodes[0];
      var last = nodes[nodes.length - 1];
      // The panel itself (focused on opening) counts as outside: Shift+Tab must not leave.
      var inside = panel.contains(document.activeElement) && document.activeElement !== panel;
      if (event.shiftKey && (document.activeElement === first || !inside)) {
        event.preventDefault();
        last.focus();
      } else if (!event.shiftKey && (document.activeElement === last || !inside)) {
        event.preventDefault();
        first.focus();
      }
    }
  }
  function open() {
    panel.hidden = false;
    backdrop.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    document.addEventListener("keydown", onKey);
    panel.focus();
    if (!account && !loading) load();
  }
  function close() {
    panel.hidden = true;
    backdrop.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    document.removeEventListener("keydown", onKey);
    launcher.focus();
  }
  launcher.addEventListener("click", function () {
    if (panel.hidden) open();
    else close();
  });
  Array.prototype.forEach.call(root.querySelectorAll("[data-prn-close]"), function (node) {
    node.addEventListener("click", close);
  });

  function load() {
    loading = true;
    content.setAttribute("aria-busy", "true");
    if (!account) content.replaceChildren(h("p", { class: "prn-muted" }, t("loading")));
    return api("/api/account")
      .then(function (answer) {
        if (answer.status !== 200) throw new Error(answer.data.error || answer.status);
        account = answer.data;
        render();
      })
      .catch(function () {
        content.replaceChildren(
          h("p", { class: "prn-error", role: "alert" }, t("load_error")),
          h("button", { type: "button", class: "prn-button prn-button--quiet", click: load }, t("retry"))
        );
      })
      .then(function () {
        loading = false;
        content.setAttribute("aria-busy", "false");
      });
  }

  function render() {
    // The launcher's number is the one Liquid drew; none is added where Liquid had none
    // (the metafields not written yet): a wider launcher would move its left edge.
    var launcherPoints = root.querySelector("[data-prn-balance]");
    if (!account.guest) {
      if (launcherPoints && launcherPoints.textContent !== points(account.balance)) {
        // Never narrower than it was: it is anchored to a corner, so a narrower launcher
        // would move its left edge (a layout shift) when points are spent.
        launcher.style.minWidth = launcher.offsetWidth + "px";
        launcherPoints.textContent = points(account.balance);
      }
      if (summary) summary.replaceChildren.apply(summary, summaryNodes());
    }
    var parts = [
      account.guest ? null : tierSection(),
      account.expiring ? h("p", { class: "prn-muted" }, t("expiring", { points: points(account.expiring.points), date: day(account.expiring.on) })) : null,
      rewardsSection(),
      account.guest ? null : codesSection(),
      earnSection(),
      account.guest || account.birthday ? null : birthdaySection(),
      account.referral_url ? referralSection() : null,
      account.guest ? null : activitySection()
    ];
    content.replaceChildren.apply(content, parts.filter(Boolean));
  }

  function summaryNodes() {
    var nodes = [
      h("p", { class: "prn-balance" },
        h("span", { class: "prn-balance__number" }, number(account.balance)),
        h("span", null, t("points_label")))
    ];
    if (account.pending > 0) nodes.push(h("p", { class: "prn-muted" }, t("pending", { count: number(account.pending) })));
    if (account.tier && account.tier.name) nodes.push(h("p", { class: "prn-tier" }, t("tier", { name: account.tier.name })));
    return nodes;
  }

  // Progress to the next tier: below the summary Liquid drew, so drawing it moves nothing.
  function tierSection() {
    var tier = account.tier;
    if (!tier) return null;
    var nodes = [];
    if (tier.next) {
      nodes.push(
        h("progress", {
          max: tier.next.threshold,
          value: Math.max(0, tier.next.threshold - tier.next.remaining),
          "aria-label": t("tier_progress", { name: tier.next.name })
        }),
        // A member below every tier (name null) is told how far the first one is.
        h("p", { class: "prn-muted" }, t(tier.name ? "tier_next" : "tier_first", { points: points(tier.next.remaining), name: tier.next.name }))
      );
    } else {
      nodes.push(h("p", { class: "prn-muted" }, t("tier_top")));
    }
    return h.apply(null, ["section", { class: "prn-progress" }].concat(nodes));
  }

  function describe(reward, value) {
    var amount = value == null ? reward.value : value;
    var text = t("kind_" + reward.kind, { value: reward.kind === "percent_off" ? number(+amount) : money(amount) });
    if (reward.minimum_subtotal) text += " · " + t("minimum", { amount: money(reward.minimum_subtotal) });
    return text;
  }

  function rewardsSection() {
    var list = h("ul");
    account.rewards.forEach(function (reward) {
      list.appendChild(rewardItem(reward));
    });
    return section(t("rewards"), account.rewards.length ? list : h("p", { class: "prn-muted" }, t("no_rewards")));
  }

  function rewardItem(reward) {
    var details = h("div", null,
      h("p", { class: "prn-strong" }, reward.name),
      h("p", { class: "prn-muted" }, points(reward.points_cost) + " · " + describe(reward)));
    var item = h("li", null, details);
    if (account.guest) return item;
    if (!reward.affordable) {
      item.appendChild(h("p", { class: "prn-muted" }, reward.reason === "tier_required"
        ? t("tier_only", { name: reward.minimum_tier })
        : t("need_more", { points: points(reward.points_cost - account.balance) })));
      return item;
    }
    if (reward.variable) return variableReward(reward, item);
    item.appendChild(
      h("button", {
        type: "button",
        class: "prn-button",
        click: function (event) { redeem(reward, null, event.currentTarget); }
      }, t("redeem"), h("span", { class: "prn-sr" }, " " + reward.name))
    );
    return item;
  }

  function variableReward(reward, item) {
    // Any whole number of steps from the reward's points cost up to its cap or the balance.
    var step = reward.variable.points_step;
    var most = Math.min(reward.variable.maximum_points, Math.floor(account.balance / step) * step);
    var id = "prn-points-" + reward.id;
    var least = reward.points_cost;
    var input = h("input", { id: id, type: "range", min: least, max: most, step: step, value: least });
    var shown = h("output", { for: id });
    var button = h("button", { type: "button", class: "prn-button" });
    function update() {
      var chosen = +input.value;
      var value = (chosen / step) * parseFloat(reward.variable.value_step);
      var text = t("choose_value", { points: number(chosen), value: describe(reward, value.toFixed(2)) });
      shown.textContent = text;
      input.setAttribute("aria-valuetext", text);
      button.textContent = t("redeem_points", { points: number(chosen) });
    }
    input.addEventListener("input", update);
    button.addEventListener("click", function () { redeem(reward, +input.value, button); });
    update();
    item.appendChild(
      h("div", { class: "prn-chooser" }, h("label", { for: id }, t("choose_points")), input, shown, button)
    );
    return item;
  }

  function redeem(reward, chosen, button) {
    var body = { reward_id: reward.id };
    if (chosen) body.points = chosen;
    // The label stays (a longer one would move the button); the live region says it.
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    announce(t("redeeming"));
    api("/api/redemptions", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    })
      .then(function (answer) {
        var data = answer.data;
        if (answer.status === 201) {
          account.balance = data.balance;
          return data.code ? showCode(data.code) : showResult(t("credited", { amount: money(data.credited) }));
        }
        if (answer.status === 202) {
          account.balance = data.balance;
          showResult(t("creating"));
          return waitFor(data.id, 0);
        }
        showResult(data.error || t("error"), true);
      })
      .catch(function () { showResult(t("error"), true); });
  }

  // The result of the last redemption, at the top of the panel, with focus moved to it (the
  // button that was pressed goes when the rewards are drawn again).
  function showResult(message, isError) {
    var node = h("p", { class: isError ? "prn-error" : "prn-result", tabindex: "-1" }, message);
    refresh(node, node, message);
  }
  function showCode(code) {
    var message = t("redeemed", { code: code });
    var copy = copyButton(code, t("copy_code", { code: code }), t("copied_code", { code: code }));
    refresh(
      h("div", { class: "prn-result" }, h("p", null, message), h("p", { class: "prn-actions" }, h("code", null, code), copy)),
      copy,
      message
    );
  }
  function refresh(node, focusTarget, message) {
    resultBox.replaceChildren(node);
    render();
    focusTarget.focus();
    announce(message);
    load();
  }

  // 202: the discount is still being made; the account answer shows the code once it is.
  function waitFor(id, attempt) {
    if (attempt >= POLL_DELAYS.length) return showResult(t("still_creating"));
    setTimeout(function () {
      api("/api/account").then(function (answer) {
        if (answer.status === 200) account = answer.data;
        var code = (account.codes || []).filter(function (entry) { return entry.id === id; })[0];
        if (code && code.status === "ready") return showCode(code.code);
        if (code && code.status === "failed") return showResult(t("failed"), true);
        waitFor(id, attempt + 1);
      }, function () { waitFor(id, attempt + 1); });
    }, POLL_DELAYS[attempt]);
  }

  function codesSection() {
    if (!account.codes.length) return null;
    var list = h("ul");
    account.codes.forEach(function (entry) {
      var details = h("div", null,
        h("p", null, entry.code ? h("code", null, entry.code) : null, entry.code ? " · " : "", entry.reward_name),
        h("p", { class: "prn-muted" }, t("status_" + entry.status),
          entry.expires_at && entry.status === "ready" ? " · " + t("expires", { date: date(entry.expires_at) }) : ""));
      list.appendChild(h("li", null, details,
        entry.status === "ready" && entry.code
          ? copyButton(entry.code, t("copy_code", { code: entry.code }), t("copied_code", { code: entry.code }))
          : null));
    });
    return section(t("codes"), list);
  }

  function copyButton(text, label, done) {
    var button = h("button", { type: "button", class: "prn-button prn-button--quiet", "aria-label": label }, t("copy"));
    button.addEventListener("click", function () {
      copy(text).then(function () {
        button.textContent = t("copied");
        announce(done);
        setTimeout(function () { button.textContent = t("copy"); }, 2500);
      }, function () { announce(t("copy_failed")); });
    });
    return button;
  }
  function copy(text) {
    if (navigator.clipboard && window.isSecureContext) {
      return navigator.clipboard.writeText(text).catch(function () { return copyByHand(text); });
    }
    return copyByHand(text);
  }
  // Browsers without the Clipboard API (or refusing it): copy from a selected, off-screen field.
  function copyByHand(text) {
    var active = document.activeElement;
    var field = h("textarea", { readonly: true, class: "prn-sr", "aria-hidden": "true" });
    field.value = text;
    panel.appendChild(field);
    field.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    panel.removeChild(field);
    if (active) active.focus();
    return copied ? Promise.resolve() : Promise.reject(new Error("copy"));
  }

  function earnSection() {
    if (!account.ways_to_earn.length) return null;
    var list = h("ul");
    account.ways_to_earn.forEach(function (way) {
      var vars = { points: points(+(way.points || way.points_per_unit)), bonus: points(way.photo_bonus || 0), amount: money(1) };
      var key = "earn_" + way.key + (way.key === "review" && way.photo_bonus ? "_photo" : "");
      if (S[key]) list.appendChild(h("li", null, t(key, vars)));
    });
    return section(t("earn"), list);
  }

  // Asked once: the section goes when the birthday is saved (docs/dates.md).
  function birthdaySection() {
    var month = h("select", { id: "prn-month" });
    var dayOf = h("select", { id: "prn-day" });
    var name = new Intl.DateTimeFormat(locale, { month: "long", timeZone: "UTC" });
    for (var n = 1; n <= 31; n++) {
      if (n <= 12) month.appendChild(h("option", { value: n }, name.format(Date.UTC(2000, n - 1, 1))));
      dayOf.appendChild(h("option", { value: n }, number(n)));
    }
    var button = h("button", { type: "submit", class: "prn-button" }, t("birthday_save"));
    function save(event) {
      event.preventDefault();
      button.disabled = true;
      api("/api/birthday", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ month: +month.value, day: +dayOf.value })
      })
        .then(function (answer) {
          if (answer.status === 200) return showResult(t("birthday_saved"));
          button.disabled = false;
          showResult(answer.data.error || t("error"), true);
        })
        .catch(function () { button.disabled = false; showResult(t("error"), true); });
    }
    return section(t("birthday"),
      h("p", { class: "prn-muted" }, t("birthday_hint")),
      h("form", { class: "prn-chooser", submit: save },
        h("label", { for: "prn-month" }, t("birthday_month")), month,
        h("label", { for: "prn-day" }, t("birthday_day")), dayOf, button));
  }

  function referralSection() {
    var field = h("input", { class: "prn-url", type: "text", readonly: true, value: account.referral_url, "aria-label": t("referral_link") });
    return section(t("referral"),
      h("p", { class: "prn-muted" }, t("referral_hint")),
      field,
      h("p", { class: "prn-actions" }, copyButton(account.referral_url, t("copy_link"), t("copied_link"))));
  }

  function activitySection() {
    if (!account.activity.length) return section(t("activity"), h("p", { class: "prn-muted" }, t("no_activity")));
    var list = h("ul");
    account.activity.forEach(function (entry) {
      var change = entry.points || entry.pending_points;
      var shown = (change > 0 ? "+" : "") + number(change);
      list.appendChild(h("li", null,
        h("div", null, h("p", null, entry.description), h("p", { class: "prn-muted" }, date(entry.at))),
        h("p", { class: "prn-strong" }, entry.points ? shown : t("pending", { count: shown }))));
    });
    return section(t("activity"), list);
  }
})();
