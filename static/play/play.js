/* CopyStake player page: lobby, broadcast and leaderboard over the player API (no framework).
 *
 * The player token comes from the page's config, rendered by the server from the page's own
 * cookie (the `?token=` of the URL that `init` returned is exchanged for it by a redirect, so
 * no URL carries it); it is kept in memory and in this tab's sessionStorage, and sent as
 * `Authorization: Bearer`.
 * Amounts are handled as decimal strings (BigInt for sums), never as floats.
 */
(function () {
  "use strict";

  var STORAGE_KEY = "copypool.play";
  var INVITE_KEY = "copypool.invite";
  var REFRESH_MS = 3000;
  var AMOUNT_RE = /^\d{1,12}(\.\d{1,8})?$/;

  // Translations: Django's JavaScriptCatalog (``/play/i18n/<language>.js``, loaded before this
  // file); without it, the English text as written.
  var gettext = window.gettext || function (text) { return text; };
  var ngettext = window.ngettext || function (one, many, n) { return n === 1 ? one : many; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\(\w+\)s/g, function (match) { return String(values[match.slice(2, -2)]); });
  };
  function fmt(format, values) { return interpolate(format, values, true); }

  var config = JSON.parse(document.getElementById("play-config").textContent);
  var features = config.features || {};
  var state = { lobby: [], positions: [], view: "lobby", streamerId: null, timer: null, busy: false,
                streamOpened: false, stopped: false, panel: null, dialog: null, nav: {},
                seen: null, records: {}, recordWindow: "30d", names: {},
                board: { window: "7d", sort: "roi", rows: null, key: "", at: 0, loading: false } };
  var SEEN_KEY = "copypool.seen";
  var NAV_REFRESH_MS = 15000;
  // Track records change every few minutes (the server's statistics run): asked again at most
  // this often.
  var RECORD_REFRESH_MS = 60000;

  // --- storage (may be unavailable in a third-party iframe) -----------------------------
  function storageSave(value) {
    try { window.sessionStorage.setItem(STORAGE_KEY, JSON.stringify(value)); } catch (e) { /* ignore */ }
  }
  function storageLoad() {
    try { return JSON.parse(window.sessionStorage.getItem(STORAGE_KEY) || "null"); } catch (e) { return null; }
  }

  if (config.token) {
    storageSave(config);
  } else if (config.fromStorage) {
    var saved = storageLoad();
    if (saved && saved.token) {
      var streamId = config.streamId, invite = config.invite;
      config = saved;
      config.streamId = streamId || "";
      config.invite = invite || "";
    }
  }

  // An invite link opened without a session is kept (this browser, a day) and redeemed when
  // the player next arrives from their casino.
  var INVITE_KEEP_MS = 24 * 3600 * 1000;
  function inviteKeep(code) {
    try { window.localStorage.setItem(INVITE_KEY, JSON.stringify({ code: code, at: Date.now() })); } catch (e) { /* ignore */ }
  }
  function inviteTake() {
    try {
      var kept = JSON.parse(window.localStorage.getItem(INVITE_KEY) || "null");
      window.localStorage.removeItem(INVITE_KEY);
      return kept && kept.code && Date.now() - kept.at < INVITE_KEEP_MS ? String(kept.code) : "";
    } catch (e) { return ""; }
  }

  // --- exact decimals -------------------------------------------------------------------
  function toScaled(text, scale) {
    var s = String(text == null ? "0" : text).trim();
    var negative = s.charAt(0) === "-";
    if (negative) s = s.slice(1);
    var parts = s.split(".");
    var frac = ((parts[1] || "") + "0".repeat(scale)).slice(0, scale);
    var value = BigInt(parts[0] || "0") * (10n ** BigInt(scale)) + BigInt(frac || "0");
    return negative ? -value : value;
  }
  function fromScaled(value, scale) {
    var negative = value < 0n;
    if (negative) value = -value;
    var digits = value.toString().padStart(scale + 1, "0");
    var text = digits.slice(0, digits.length - scale) + "." + digits.slice(digits.length - scale);
    return (negative ? "-" : "") + text;
  }
  function group(integer) {
    return integer.replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  }
  // Amounts: 2 decimals (truncated, never rounded up), thousands grouped; the exact value
  // goes in the element's title (``moneyEl``).
  function money(text) {
    if (text == null || text === "") return "—";
    var s = String(text).trim();
    var negative = s.charAt(0) === "-";
    if (negative) s = s.slice(1);
    var parts = s.split(".");
    var frac = ((parts[1] || "") + "00").slice(0, 2);
    var zero = /^0*$/.test(parts[0] || "0") && frac === "00";
    return (negative && !zero ? "−" : "") + group((parts[0] || "0").replace(/^0+(?=\d)/, "")) + "." + frac;
  }
  // The exact amount, for a title: plain, trailing zeros beyond the cents dropped.
  function exact(text) {
    if (text == null || text === "") return "";
    var parts = String(text).split(".");
    var frac = (parts[1] || "").replace(/0+$/, "");
    while (frac.length < 2) frac += "0";
    return parts[0] + "." + frac;
  }
  function moneyEl(tag, text, attrs) {
    var el = h(tag, attrs || null);
    el.textContent = money(text);
    el.title = exact(text);
    return el;
  }
  // A result as a percent of what went in, to hundredths (truncated toward zero).
  function percent(result, base) {
    if (base <= 0n) return "";
    var bp = (result * 10000n) / base;
    var text = fromScaled(bp < 0n ? -bp : bp, 2) + "%";
    return (bp > 0n ? "+" : bp < 0n ? "−" : "") + text;
  }
  // Big figures (pool values): cents only, truncated; the exact value is in the tooltip.
  function moneyShort(text) {
    if (text == null || text === "") return "—";
    var parts = String(text).split(".");
    return group(parts[0] || "0") + "." + ((parts[1] || "") + "00").slice(0, 2);
  }
  function nav(text) {
    if (text == null || text === "") return "1.000000";
    var parts = String(text).split(".");
    return parts[0] + "." + ((parts[1] || "") + "000000").slice(0, 6);
  }
  function signed(scaled) {
    var text = money(fromScaled(scaled, 8));
    return scaled > 0n ? "+" + text : text;
  }
  // A result in money and in percent: "+1.50 (+15.00%)", the exact amount in the title.
  function resultEl(result, base, testid) {
    return h("span", { className: "result " + (result > 0n ? "up" : result < 0n ? "down" : "muted"),
                       "data-testid": testid || "position-result", title: exact(fromScaled(result, 8)) },
      signed(result) + (base > 0n ? " (" + percent(result, base) + ")" : ""));
  }

  // Ratios (the API's fractions to 12 places) as percents to hundredths, truncated toward
  // zero: "0.125000000000" is "12.50%" (signed: "+12.50%"); the exact percent in the title.
  function ratioPercent(text, withSign) {
    if (text == null || text === "") return "—";
    var bp = toScaled(text, 4);  // hundredths of a percent
    var body = fromScaled(bp < 0n ? -bp : bp, 2) + "%";
    if (bp < 0n) return "−" + body;
    return (withSign && bp > 0n ? "+" : "") + body;
  }
  function ratioExact(text) {
    if (text == null || text === "") return "";
    var digits = fromScaled(toScaled(text, 12), 10).replace(/0+$/, "").replace(/\.$/, "");
    return digits + "%";
  }
  function ratioEl(text, attrs, withSign) {
    var el = h("span", attrs || null);
    el.textContent = ratioPercent(text, withSign);
    el.title = ratioExact(text);
    if (withSign && text != null) {
      var scaled = toScaled(text, 4);
      el.classList.add(scaled > 0n ? "up" : scaled < 0n ? "down" : "muted");
    }
    return el;
  }

  // --- DOM helpers ----------------------------------------------------------------------
  function $(id) { return document.getElementById(id); }
  function h(tag, attrs) {
    var el = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (key) {
        var value = attrs[key];
        if (value == null || value === false) return;
        if (key === "text") el.textContent = value;
        else if (key === "className") el.className = value;
        else if (key.slice(0, 2) === "on") el.addEventListener(key.slice(2), value);
        else el.setAttribute(key, value === true ? "" : value);
      });
    }
    var append = function (child) {
      if (child == null || child === false) return;
      if (Array.isArray(child)) child.forEach(append);
      else el.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    };
    for (var i = 2; i < arguments.length; i++) append(arguments[i]);
    return el;
  }
  function setText(id, text) { var el = $(id); if (el) el.textContent = text; }
  function replaceChildren(el, children) {
    while (el.firstChild) el.removeChild(el.firstChild);
    children.forEach(function (child) { el.appendChild(child); });
  }

  var toastTimer = null;
  function toast(text) {
    var el = $("toast");
    el.textContent = text;
    el.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { el.hidden = true; }, 5000);
  }
  // What the player reads for an error code: a sentence in their language; for a code not
  // here, what the server said; never the bare code.
  var MESSAGES = {
    ERR_INSUFFICIENT_BALANCE: gettext("Not enough money in your casino balance."),
    ERR_CONTRIBUTION_LIMIT: gettext("That amount is outside this pool's limits."),
    ERR_FOLLOWER_LIMIT: gettext("This pool has all the followers it takes. Try again later."),
    ERR_POOL_CAPACITY: gettext("This pool is full: that amount would take it over its capacity."),
    ERR_FOLLOWER_BLOCKED: gettext("Your account may not join pools. Contact your casino's support."),
    ERR_STREAMER_SUSPENDED: gettext("This streamer is suspended: the pool takes no joins."),
    ERR_STREAMER_PRIVATE: gettext("This streamer's pool is by invitation only."),
    ERR_INVITE_INVALID: gettext("This invite link cannot be used: it has expired, was revoked or is used up."),
    ERR_STREAM_ENDED: gettext("This broadcast has ended."),
    ERR_STREAMER_OFFLINE: gettext("This broadcast has ended."),
    ERR_STREAM_NOT_LIVE: gettext("That broadcast is not live any more: here is who is live now."),
    ERR_POOL_CLOSED: gettext("This pool is closed."),
    ERR_POOL_BUST: gettext("This pool is bust: it takes no joins."),
    ERR_POSITION_NOT_ACTIVE: gettext("This position is not active any more."),
    ERR_POSITION_NOT_FOUND: gettext("This position was not found."),
    ERR_WALLET_UNAVAILABLE: gettext("Your casino wallet did not answer. Please try again in a moment."),
    ERR_INVALID_TOKEN: gettext("Your casino session is over: open CopyStake again from your casino."),
    ERR_SESSION_EXPIRED: gettext("Your session has expired: open CopyStake again from your casino."),
    ERR_UNAUTHORIZED: gettext("You are not signed in: open CopyStake again from your casino."),
    ERR_COPYSTAKE_OFF: gettext("CopyStake is switched off at your casino right now."),
    ERR_THROTTLED: gettext("Too many requests: wait a moment and try again."),
    ERR_INVALID_AMOUNT: gettext("Enter a positive amount with at most 8 decimals."),
    ERR_VALIDATION: gettext("Please check what you entered."),
    ERR_IDEMPOTENCY_KEY_REUSED: gettext("That request was already sent. Refresh to see where it stands."),
    ERR_NETWORK: gettext("Could not reach CopyStake. Retrying…"),
    ERR_JOIN_FAILED: gettext("The join failed. Nothing was taken from your balance."),
  };
  function errorText(body) {
    var code = body && body.errorCode;
    if (code && MESSAGES[code]) return MESSAGES[code];
    if (body && body.errorMessage) return body.errorMessage;
    return gettext("Something went wrong. Please try again.");
  }
  function showError(body) {
    var el = $("alert");
    var message = el.querySelector(".alert-message");
    message.textContent = errorText(body);
    message.title = (body && body.errorCode) || "";
    el.setAttribute("data-code", (body && body.errorCode) || "");
    el.hidden = false;
  }
  function clearError() { $("alert").hidden = true; }

  // --- the player API -------------------------------------------------------------------
  function randomKey() {
    var bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return b.toString(16).padStart(2, "0"); }).join("");
  }

  function api(method, path, body, headers) {
    var init = {
      method: method,
      credentials: "omit",
      cache: "no-store",
      headers: Object.assign({ "Authorization": "Bearer " + config.token, "Accept": "application/json" }, headers || {}),
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(config.apiBase + path, init).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
        if (!response.ok) {
          var error = new Error((data && data.errorMessage) || ("HTTP " + response.status));
          error.status = response.status;
          error.body = data && data.errorCode ? data
            : { errorCode: "ERR_HTTP_" + response.status,
                errorMessage: fmt(gettext("The server answered %(status)s. Please try again."), { status: response.status }) };
          throw error;
        }
        return { status: response.status, data: data };
      });
    }, function () {
      var error = new Error("network");
      error.status = 0;
      error.body = { errorCode: "ERR_NETWORK", errorMessage: "" };
      throw error;
    });
  }

  // --- state ----------------------------------------------------------------------------
  // The lobby lists live streams, then upcoming ones (`status: "upcoming"`, no pool yet).
  function isUpcoming(entry) { return entry.status === "upcoming"; }
  function liveEntries() { return state.lobby.filter(function (e) { return !isUpcoming(e); }); }
  function upcomingEntries() { return state.lobby.filter(isUpcoming); }
  function entryFor(streamerId) {
    var live = liveEntries();
    for (var i = 0; i < live.length; i++) {
      if (live[i].streamerId === streamerId) return live[i];
    }
    return null;
  }
  var MEMBER = { joining: true, active: true, leaving: true };

  function refresh() {
    if (state.stopped) return Promise.resolve();
    return Promise.all([api("GET", "lobby"), api("GET", "positions")]).then(function (answers) {
      state.lobby = answers[0].data || [];
      state.positions = answers[1].data || [];
      notePayouts(state.positions);
      if (!state.streamOpened && config.streamId) {
        state.streamOpened = true;
        var wanted = state.lobby.filter(function (e) { return e.streamId === config.streamId; })[0];
        if (wanted && !isUpcoming(wanted)) {
          go("streamer/" + wanted.streamerId);
          return;
        }
        if (wanted) toast(fmt(gettext("That broadcast starts %(when)s. Here is who is live now."), { when: when(wanted.scheduledStart) }));
        else showError({ errorCode: "ERR_STREAM_NOT_LIVE" });
      }
      render();
    }, function (error) {
      showError(error.body);
      if (error.status === 401 || error.status === 403) stop();
    });
  }
  function stop() {
    state.stopped = true;
    clearInterval(state.timer);
    $("join-button").disabled = true;
  }

  // --- the wallet balance (header) ------------------------------------------------------
  function refreshWallet() {
    if (!features.wallet || state.stopped) return Promise.resolve();
    return api("GET", "wallet").then(function (answer) {
      var data = answer.data || {};
      var el = $("wallet-balance");
      el.textContent = money(data.balance) + " " + (data.currency || config.currency || "");
      el.title = exact(data.balance);
      el.classList.remove("muted");
      $("wallet").hidden = false;
    }, function (error) {
      // The balance is only shown: a wallet that does not answer is said quietly, here.
      var el = $("wallet-balance");
      el.textContent = gettext("unavailable");
      el.title = errorText(error.body);
      el.classList.add("muted");
      $("wallet").hidden = false;
    });
  }

  // --- payouts the follower did not ask for (stream end, bust, limits, staff) -----------
  var PAYOUT_NOTICES = {
    stream_end: gettext("The stream ended: your position in %(name)s's pool was paid out %(amount)s."),
    bust: gettext("%(name)s's pool went bust: your position was paid out %(amount)s."),
    stop_loss: gettext("Your stop-loss was reached: your position in %(name)s's pool was paid out %(amount)s."),
    take_profit: gettext("Your take-profit was reached: your position in %(name)s's pool was paid out %(amount)s."),
    staff: gettext("The casino's staff closed your position in %(name)s's pool: paid out %(amount)s."),
  };
  function seenLoad() {
    try { return JSON.parse(window.sessionStorage.getItem(SEEN_KEY) || "null"); } catch (e) { return null; }
  }
  function seenSave(seen) {
    try { window.sessionStorage.setItem(SEEN_KEY, JSON.stringify(seen)); } catch (e) { /* ignore */ }
  }
  function notePayouts(positions) {
    if (state.seen === null) state.seen = seenLoad();
    var first = state.seen === null;
    var seen = {};
    positions.forEach(function (p) {
      var before = first ? null : state.seen[p.id];
      seen[p.id] = p.status;
      if (!first && before && MEMBER[before] && p.status === "closed" && PAYOUT_NOTICES[p.leaveReason]) {
        notice(fmt(PAYOUT_NOTICES[p.leaveReason], {
          name: streamerName(p),
          amount: money(p.payout) + " " + (p.currency || config.currency || ""),
        }), p.leaveReason);
      }
    });
    state.seen = seen;
    seenSave(seen);
  }
  function notice(text, reason) {
    var item = h("div", { className: "notice-item", role: "status", "data-testid": "payout-notice", "data-reason": reason },
      h("span", { text: text }),
      h("button", { type: "button", className: "alert-close", "aria-label": gettext("Dismiss"), text: "×",
                    onclick: function () { item.parentNode && item.parentNode.removeChild(item); } }));
    $("notices").appendChild(item);
    refreshWallet();
  }

  // --- rendering ------------------------------------------------------------------------
  // A start time in the player's own time zone and language: "Sat 14 Jun, 20:00".
  function when(iso) {
    var date = iso ? new Date(iso) : null;
    if (!date || isNaN(date.getTime())) return "soon";
    try {
      return date.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short",
                                              hour: "2-digit", minute: "2-digit" });
    } catch (e) {
      return date.toString();
    }
  }
  function titleOf(entry) {
    return [entry.title || (isUpcoming(entry) ? gettext("Stream") : gettext("Live stream")), entry.game].filter(Boolean).join(" · ");
  }
  // Only an https URL is ever framed (the server accepts nothing else either).
  function embedOf(entry) {
    return entry && typeof entry.embedUrl === "string" && /^https:\/\//i.test(entry.embedUrl) ? entry.embedUrl : "";
  }
  // The join limits of the pool shown: the streamer's own, else the operator's (the lobby says).
  function limitsOf(entry) {
    return (entry && entry.limits) || {};
  }

  function initials(name) {
    return String(name || "?").split(/\s+/).map(function (w) { return w.charAt(0); }).join("").slice(0, 2).toUpperCase();
  }

  function lobbyCard(entry) {
    var pool = entry.pool;
    var open = function () { go("streamer/" + entry.streamerId); };
    return h("article", { className: "card", "data-testid": "streamer-card", "data-streamer": entry.streamerId, onclick: open },
      h("div", { className: "card-head" },
        h("div", { className: "avatar", text: initials(entry.name) }),
        h("div", null, h("div", { className: "card-name", text: entry.name }),
          h("div", { className: "card-title", text: titleOf(entry) })),
        h("span", { className: "live-dot", text: "● " + gettext("LIVE") })),
      h("div", { className: "kv" },
        h("div", null, h("span", { className: "k", text: gettext("Pool") }),
          h("span", { className: "v", title: pool ? exact(pool.balance) : "", text: pool ? moneyShort(pool.balance) : "—" })),
        h("div", null, h("span", { className: "k", text: gettext("NAV") }), h("span", { className: "v", text: nav(entry.nav) })),
        h("div", null, h("span", { className: "k", text: gettext("Followers") }),
          h("span", { className: "v", "data-testid": "card-followers", text: String(pool ? pool.followers : 0) }))),
      cardRecord(entry.record),
      pool && pool.isBust ? h("div", { className: "bust", text: gettext("Bust") }) : null,
      h("button", { type: "button", className: "btn primary", text: gettext("Watch & copy") }));
  }

  // The streamer's last 7 days (the lobby's ``record``): ROI and drawdown (the card shows the
  // pool's followers above), or "New" while the record is too young to rank.
  function cardRecord(record) {
    if (record && record.isNew) {
      return h("div", { className: "card-record", "data-testid": "card-record" },
        h("span", { className: "badge new", "data-testid": "card-new", text: gettext("New") }),
        h("span", { className: "muted small", text: gettext("Not enough history to rank yet") }));
    }
    return h("div", { className: "kv card-record", "data-testid": "card-record" },
      h("div", null, h("span", { className: "k", text: gettext("ROI 7 days") }),
        record ? ratioEl(record.roi, { className: "v", "data-testid": "card-roi" }, true)
          : h("span", { className: "v muted", "data-testid": "card-roi", text: "—" })),
      h("div", null, h("span", { className: "k", text: gettext("Max drawdown") }),
        record ? ratioEl(record.maxDrawdown, { className: "v", "data-testid": "card-drawdown" })
          : h("span", { className: "v muted", "data-testid": "card-drawdown", text: "—" })));
  }

  function upcomingRow(entry) {
    return h("li", { className: "upcoming-item", "data-testid": "upcoming-stream", "data-stream": entry.streamId },
      h("time", { className: "upcoming-when", datetime: entry.scheduledStart || "", "data-testid": "upcoming-when",
                  text: when(entry.scheduledStart) }),
      h("div", { className: "upcoming-what" },
        h("div", { className: "upcoming-name", text: entry.name }),
        h("div", { className: "upcoming-title muted", text: titleOf(entry) })));
  }

  var STATUS_LABELS = {
    joining: gettext("joining"), active: gettext("active"), leaving: gettext("leaving"),
    closed: gettext("closed"), failed: gettext("failed"),
  };
  // The streamer's name: the position keeps it (``streamerName``), so a closed position is
  // named even while that streamer's stream has ended or restarted.
  function streamerName(position) {
    var entry = entryFor(position.streamerId);
    return position.streamerName || (entry && entry.name) || fmt(gettext("Streamer #%(id)s"), { id: position.streamerId });
  }
  // What a position made: its value (or payout) less what it put in; null when not known yet.
  function positionResult(position) {
    var contributed = toScaled(position.contributed, 8);
    if (position.status === "active" || position.status === "joining") return toScaled(position.value, 8) - contributed;
    if (position.status === "closed" || (position.status === "leaving" && position.payout != null)) {
      return toScaled(position.payout, 8) - contributed;
    }
    return null;
  }

  // A performance fee rate as people write it: "20 %", "12.5 %" (the API gives 4 places).
  function feeRate(text) {
    var parts = String(text == null ? "0" : text).split(".");
    var frac = (parts[1] || "").replace(/0+$/, "");
    return parts[0] + (frac ? "." + frac : "") + " %";
  }
  function hasFee(text) { return text != null && toScaled(text, 8) > 0n; }
  // What the streamer kept of a position that left (all or part): "performance fee 12.40
  // USD, 20 % above your high-water mark", the exact fee in the title.
  function feeLine(position) {
    if (!hasFee(position.feesPaid)) return null;
    return h("div", { className: "fee muted small", "data-testid": "position-fee", title: exact(position.feesPaid),
      text: fmt(gettext("performance fee %(amount)s, %(rate)s above your high-water mark"),
                { amount: money(position.feesPaid) + " " + (position.currency || config.currency || ""),
                  rate: feeRate(position.performanceFeePercent) }) });
  }

  function positionRow(position, showStreamer) {
    var contributed = toScaled(position.contributed, 8);
    var nums = [h("span", null, gettext("In") + " ", moneyEl("strong", position.contributed))];
    var status = position.status;
    var result = positionResult(position);
    if (status === "active" || status === "joining") {
      nums.push(h("span", null, gettext("Value") + " ", moneyEl("strong", position.value, { "data-testid": "position-value" })));
      if (status === "active") nums.push(resultEl(result, contributed));
    } else if (status === "leaving") {
      nums.push(h("span", null, position.payout != null ? gettext("Payout") + " " : gettext("Payout pending"),
        position.payout != null ? moneyEl("strong", position.payout) : null));
    } else if (status === "closed") {
      nums.push(h("span", null, gettext("Paid out") + " ", moneyEl("strong", position.payout, { "data-testid": "position-payout" })));
      nums.push(resultEl(result, contributed));
    } else if (status === "failed") {
      nums.push(h("span", { className: "down failure", title: position.failureCode || "",
                            text: errorText({ errorCode: position.failureCode }) }));
    }
    var limits = [];
    if (position.stopLoss) limits.push(fmt(gettext("Stop-loss %(value)s"), { value: money(position.stopLoss) }));
    if (position.takeProfit) limits.push(fmt(gettext("Take-profit %(value)s"), { value: money(position.takeProfit) }));
    var who = showStreamer ? h("div", { className: "who", "data-testid": "position-streamer", text: streamerName(position) }) : null;
    var actions = status === "active" ? positionActions(position) : h("span");
    var open = state.panel && state.panel.id === position.id ? positionPanel(position, state.panel.kind) : null;
    return h("div", { className: "position", "data-testid": "position", "data-status": status, "data-id": position.id },
      h("span", { className: "status " + status, "data-testid": "position-status", text: STATUS_LABELS[status] || status }),
      h("div", { className: "position-main" }, who, h("div", { className: "nums" }, nums), feeLine(position),
        limits.length ? h("div", { className: "muted small", "data-testid": "position-limits", text: limits.join(" · ") }) : null),
      actions,
      open);
  }

  function positionActions(position) {
    var toggle = function (kind) {
      return function (event) {
        event.stopPropagation();
        state.panel = state.panel && state.panel.id === position.id && state.panel.kind === kind ? null : { id: position.id, kind: kind };
        render();
        var list = state.view === "broadcast" ? "#b-positions" : "#all-positions";
        var input = document.querySelector(list + ' [data-panel="' + kind + '"] input');
        if (input) input.focus();
      };
    };
    return h("div", { className: "actions" },
      features.topUp ? h("button", { type: "button", className: "btn small-btn", "data-testid": "top-up-button",
                                     text: gettext("Top up"), onclick: toggle("top-up") }) : null,
      features.limits ? h("button", { type: "button", className: "btn small-btn", "data-testid": "limits-button",
                                      text: gettext("Limits"), onclick: toggle("limits") }) : null,
      h("button", { type: "button", className: "btn danger small-btn", "data-testid": "leave-button", text: gettext("Leave"),
                    onclick: function (event) { event.stopPropagation(); openLeave(position); } }));
  }

  // The open form under a position: a top-up amount, or its stop-loss and take-profit.
  function positionPanel(position, kind) {
    var values = state.panel.values || (state.panel.values = {});
    var field = function (name, label, placeholder, testid) {
      var id = "panel-" + name;
      return h("label", { className: "field", "for": id }, h("span", { text: label }),
        h("input", { id: id, name: name, inputmode: "decimal", autocomplete: "off", placeholder: placeholder,
                     "data-testid": testid, value: values[name] != null ? values[name] : "",
                     oninput: function (event) { values[name] = event.currentTarget.value; } }));
    };
    if (kind === "top-up") {
      return h("form", { className: "panel-form", "data-panel": "top-up", "data-for": position.id, "data-testid": "top-up-form", novalidate: true,
                         onsubmit: function (event) { event.preventDefault(); topUp(position, values.amount || ""); } },
        field("amount", fmt(gettext("Add to this position (%(currency)s)"), { currency: position.currency || config.currency || "" }),
              "10.00", "top-up-amount"),
        h("div", { className: "panel-actions" },
          h("button", { type: "submit", className: "btn primary", "data-testid": "top-up-submit", text: gettext("Top up") })));
    }
    if (values.stopLoss == null) values.stopLoss = position.stopLoss ? exact(position.stopLoss) : "";
    if (values.takeProfit == null) values.takeProfit = position.takeProfit ? exact(position.takeProfit) : "";
    return h("form", { className: "panel-form", "data-panel": "limits", "data-for": position.id, "data-testid": "limits-form", novalidate: true,
                       onsubmit: function (event) { event.preventDefault(); saveLimits(position, values); } },
      h("p", { className: "muted small", text: gettext("Leave on its own when the value falls to the stop-loss or rises to the take-profit: an amount (80.50) or a percent of what you put in (20%). Empty: none.") }),
      h("div", { className: "field-row" },
        field("stopLoss", gettext("Stop-loss"), "80.00 / 20%", "stop-loss"),
        field("takeProfit", gettext("Take-profit"), "150.00 / 50%", "take-profit")),
      h("div", { className: "panel-actions" },
        h("button", { type: "submit", className: "btn primary", "data-testid": "limits-submit", text: gettext("Save limits") })));
  }

  function renderPositions(container, positions, showStreamer, emptyText) {
    // Open positions first (newest first within each group, as the API orders them); failed
    // joins folded away under one line.
    // A form being filled in is not redrawn under the player's fingers (the page refreshes
    // every few seconds); it is when another one was asked for.
    var shown = state.panel && container.querySelector('[data-panel="' + state.panel.kind + '"][data-for="' + state.panel.id + '"]');
    if (shown && shown.contains(document.activeElement)) return;
    var open = positions.filter(function (p) { return MEMBER[p.status]; });
    var done = positions.filter(function (p) { return !MEMBER[p.status] && p.status !== "failed"; });
    var failed = positions.filter(function (p) { return p.status === "failed"; });
    var rows = open.concat(done).slice(0, 50).map(function (p) { return positionRow(p, showStreamer); });
    if (failed.length) {
      var fold = h("details", { className: "failed-fold", "data-testid": "failed-attempts" },
        h("summary", { className: "muted small",
                       text: fmt(ngettext("%(count)s failed attempt", "%(count)s failed attempts", failed.length), { count: failed.length }) }),
        h("div", { className: "positions" }, failed.slice(0, 50).map(function (p) { return positionRow(p, showStreamer); })));
      var wasOpen = container.querySelector("details.failed-fold");
      if (wasOpen && wasOpen.open) fold.open = true;
      rows.push(fold);
    }
    if (!rows.length) rows = [h("div", { className: "empty", text: emptyText })];
    replaceChildren(container, rows);
  }

  // Totals of the positions given: what went in (failed joins took nothing), what they made.
  function renderTotals(el, positions) {
    var base = 0n, result = 0n, counted = 0;
    positions.forEach(function (p) {
      var r = positionResult(p);
      if (r === null) return;
      base += toScaled(p.contributed, 8);
      result += r;
      counted += 1;
    });
    el.hidden = counted === 0;
    if (!counted) return;
    replaceChildren(el, [h("span", { className: "muted", text: gettext("Total result") + " " }),
      resultEl(result, base, "total-result"),
      h("span", { className: "muted", text: " " + fmt(gettext("on %(amount)s in"), { amount: money(fromScaled(base, 8)) }) })]);
  }

  function renderLobby() {
    var live = liveEntries(), upcoming = upcomingEntries();
    replaceChildren($("lobby-grid"), live.map(lobbyCard));
    $("lobby-empty").hidden = live.length > 0;
    replaceChildren($("upcoming-list"), upcoming.map(upcomingRow));
    $("upcoming").hidden = upcoming.length === 0;
    renderPositions($("all-positions"), state.positions, true, gettext("You have not joined a pool yet."));
    renderTotals($("all-totals"), state.positions);
  }

  // The stream's video player fills the screen; made only when there is one (an empty
  // iframe is a frame all the same), and replaced only when its URL changes: a new src
  // reloads the player, and the page refreshes every few seconds.
  function showEmbed(url) {
    var screen = $("b-screen");
    var frame = $("b-embed");
    if (frame && frame.getAttribute("src") === url) return;
    if (frame) screen.removeChild(frame);
    screen.classList.toggle("has-embed", !!url);
    if (!url) return;
    screen.insertBefore(h("iframe", {
      id: "b-embed", className: "screen-embed", title: gettext("Live video"), "data-testid": "embed",
      sandbox: "allow-scripts allow-same-origin allow-presentation", referrerpolicy: "no-referrer",
      allow: "autoplay; fullscreen; picture-in-picture", allowfullscreen: true, src: url,
    }), screen.firstChild);
  }

  function renderBroadcast() {
    var id = state.streamerId;
    var entry = entryFor(id);
    var mine = state.positions.filter(function (p) { return p.streamerId === id; });
    var pool = entry && entry.pool;
    var embed = embedOf(entry);
    showEmbed(embed);
    $("b-live").hidden = !entry || entry.status !== "live";
    var caption = entry ? (embed ? [entry.title, entry.name, entry.game] : [entry.game ? fmt(gettext("Playing %(game)s"), { game: entry.game }) : ""]) : [];
    setText("b-game", caption.filter(Boolean).join(" · "));
    $("b-game").hidden = !$("b-game").textContent;
    var limits = limitsOf(entry);
    var cur = " " + (config.currency || "");
    setText("join-limits", limits.minContribution
      ? fmt(gettext("From %(min)s to %(max)s per join."), { min: money(limits.minContribution), max: money(limits.maxContribution) + cur })
        + (limits.maxPoolValue ? " " + fmt(gettext("Pool capacity %(capacity)s."), { capacity: moneyShort(limits.maxPoolValue) + cur }) : "")
      : "");
    var rate = entry && entry.performanceFeePercent;
    setText("join-fee", hasFee(rate)
      ? fmt(gettext("%(rate)s performance fee above your high-water mark: on leaving, the streamer keeps that share of what your position gained above what you put in."), { rate: feeRate(rate) })
      : "");
    $("join-fee").hidden = !hasFee(rate);
    var ended = mine.length ? mine[0].streamerName : "";
    if (entry) {
      setText("b-title", entry.title || gettext("Live stream"));
      setText("b-name", entry.name);
      setText("b-value", pool ? moneyShort(pool.balance) + " " + entry.currency : "—");
      $("b-value").title = pool ? exact(pool.balance) : "";
      setText("b-nav", nav(entry.nav));
      setText("b-followers", String(pool ? pool.followers : 0));
    } else {
      var known = state.names[id];
      setText("b-title", !ended && known ? gettext("Not live right now") : gettext("This broadcast has ended"));
      setText("b-name", ended || known || "");
      setText("b-value", "—");
      setText("b-nav", "—");
      setText("b-followers", "—");
    }
    $("b-bust").hidden = !(pool && pool.isBust);
    var units = 0n, value = 0n;
    mine.forEach(function (p) {
      if (MEMBER[p.status] && pool && p.poolId === pool.poolId) {
        units += toScaled(p.units, 18);
        value += toScaled(p.value, 8);
      }
    });
    var total = pool ? toScaled(pool.totalUnits, 18) : 0n;
    var share = "0%";
    if (total > 0n && units > 0n) {
      var basisPoints = (units * 10000n) / total; // hundredths of a percent, truncated
      share = basisPoints === 0n ? "<0.01%" : fromScaled(basisPoints, 2) + "%";
    }
    setText("b-share", share);
    setText("b-share-value", money(fromScaled(value, 8)));
    $("b-share-value").title = exact(fromScaled(value, 8));
    $("join-button").disabled = state.busy || state.stopped || !entry || !!(pool && pool.isBust);
    renderPositions($("b-positions"), mine, false, gettext("No positions in this pool yet."));
    renderTotals($("b-totals"), mine);
    renderChart(pool, entry);
    renderRecord();
  }

  // --- the pool's NAV chart (inline SVG: no chart library, nothing from elsewhere) ------
  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs) {
    var el = document.createElementNS(SVG, tag);
    Object.keys(attrs || {}).forEach(function (key) { el.setAttribute(key, attrs[key]); });
    return el;
  }
  function loadNav(poolId) {
    var kept = state.nav[poolId];
    if (kept && (kept.loading || Date.now() - kept.at < NAV_REFRESH_MS)) return;
    state.nav[poolId] = { at: Date.now(), points: kept ? kept.points : [], loading: true };
    api("GET", "pools/" + poolId + "/nav?points=60").then(function (answer) {
      state.nav[poolId] = { at: Date.now(), points: answer.data || [], loading: false };
      if (state.view === "broadcast") render();
    }, function () { state.nav[poolId].loading = false; });
  }
  function renderChart(pool, entry) {
    var box = $("b-chart");
    if (!features.navChart || !pool) { box.hidden = true; return; }
    loadNav(pool.poolId);
    // The readings, then the NAV now; drawn with floats: a picture, not an amount.
    var points = ((state.nav[pool.poolId] || {}).points || []).map(function (p) { return Number(p.nav); });
    if (entry && entry.nav != null) points.push(Number(entry.nav));
    points = points.filter(function (n) { return isFinite(n); });
    box.hidden = points.length < 2;
    if (points.length < 2) return;
    var width = 300, height = 80, pad = 4;
    var lowest = Math.min.apply(null, points), highest = Math.max.apply(null, points);
    var low = lowest, high = highest;
    if (high - low < 1e-9) { high += 0.005; low -= 0.005; }  // a flat line, drawn mid-height
    var x = function (i) { return (pad + (i * (width - 2 * pad)) / (points.length - 1)).toFixed(1); };
    var y = function (n) { return (pad + ((high - n) * (height - 2 * pad)) / (high - low)).toFixed(1); };
    var line = points.map(function (n, i) { return x(i) + "," + y(n); }).join(" ");
    var rising = points[points.length - 1] >= points[0];
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, preserveAspectRatio: "none",
                             role: "img", "aria-label": gettext("NAV over time"), "data-testid": "nav-chart-svg" });
    chart.appendChild(svg("line", { x1: 0, x2: width, y1: y(1), y2: y(1), "class": "chart-par" }));
    chart.appendChild(svg("polyline", { points: line, "class": "chart-line " + (rising ? "up" : "down") }));
    replaceChildren($("b-chart-svg"), [chart]);
    setText("b-chart-range", lowest === highest ? nav(String(lowest)) : nav(String(lowest)) + " – " + nav(String(highest)));
  }

  // A line of ``values`` (floats: a picture, not an amount) with a dashed line at ``par``.
  function lineChart(values, par, label, testid) {
    var width = 300, height = 80, pad = 4;
    var low = Math.min.apply(null, values.concat([par])), high = Math.max.apply(null, values.concat([par]));
    if (high - low < 1e-9) { high += 0.005; low -= 0.005; }
    var x = function (i) { return (pad + (i * (width - 2 * pad)) / (values.length - 1)).toFixed(1); };
    var y = function (n) { return (pad + ((high - n) * (height - 2 * pad)) / (high - low)).toFixed(1); };
    var rising = values[values.length - 1] >= values[0];
    var chart = svg("svg", { viewBox: "0 0 " + width + " " + height, preserveAspectRatio: "none",
                             role: "img", "aria-label": label, "data-testid": testid });
    chart.appendChild(svg("line", { x1: 0, x2: width, y1: y(par), y2: y(par), "class": "chart-par" }));
    chart.appendChild(svg("polyline", { points: values.map(function (n, i) { return x(i) + "," + y(n); }).join(" "),
                                        "class": "chart-line " + (rising ? "up" : "down") }));
    return chart;
  }

  // --- the streamer's track record (broadcast) ------------------------------------------
  function chipsOn(containerId, attribute, value) {
    Array.prototype.forEach.call($(containerId).querySelectorAll("[" + attribute + "]"), function (chip) {
      var on = chip.getAttribute(attribute) === value;
      chip.classList.toggle("on", on);
      chip.setAttribute("aria-pressed", on ? "true" : "false");
    });
  }
  function loadRecord(id, window_) {
    var key = id + "/" + window_, kept = state.records[key];
    if (kept && (kept.loading || Date.now() - kept.at < RECORD_REFRESH_MS)) return;
    state.records[key] = { at: Date.now(), data: kept ? kept.data : null, loading: true };
    api("GET", "streamers/" + id + "/stats?window=" + encodeURIComponent(window_)).then(function (answer) {
      state.records[key] = { at: Date.now(), data: answer.data, loading: false };
      if (answer.data && answer.data.name) state.names[id] = answer.data.name;
      if (state.view === "broadcast" && state.streamerId === id) renderBroadcast();
    }, function (error) {
      state.records[key] = { at: Date.now(), data: null, loading: false, error: error };
      if (state.view === "broadcast" && state.streamerId === id) renderRecord();
    });
  }
  var WINDOW_NAMES = {
    "24h": gettext("the last 24 hours"), "7d": gettext("the last 7 days"), "30d": gettext("the last 30 days"),
    "90d": gettext("the last 90 days"), all: gettext("all time"),
  };
  function figure(label, value, testid) {
    if (typeof value === "string") value = h("span", { text: value });
    value.setAttribute("data-testid", testid);
    return h("div", { className: "figure" }, h("dt", { text: label }), h("dd", null, value));
  }
  function renderRecord() {
    var id = state.streamerId, window_ = state.recordWindow;
    var box = $("b-record");
    if (id == null) { box.hidden = true; return; }
    loadRecord(id, window_);
    var kept = state.records[id + "/" + window_] || {};
    chipsOn("b-record-windows", "data-window", window_);
    var r = kept.data;
    // Another operator's or a private streamer's record is not found: no panel at all.
    box.hidden = !r && !!(kept.error && kept.error.status === 404);
    $("b-record-new").hidden = !(r && r.isNew);
    if (!r) {
      setText("b-record-note", kept.error ? errorText(kept.error.body) : gettext("Loading the track record…"));
      replaceChildren($("b-record-figures"), []);
      $("b-record-chart").hidden = true;
      return;
    }
    var cur = " " + (r.currency || "");
    var net = toScaled(r.netResult, 8);
    setText("b-record-note", (r.isNew ? gettext("New streamer: not ranked until the record is old enough.") + " " : "")
      + fmt(gettext("Over %(period)s, from the pool's balance history."), { period: WINDOW_NAMES[r.window] || r.window }));
    replaceChildren($("b-record-figures"), [
      figure(gettext("ROI"), ratioEl(r.roi, null, true), "record-roi"),
      figure(gettext("Max drawdown"), ratioEl(r.maxDrawdown), "record-drawdown"),
      figure(gettext("Pool value"), moneyEl("span", r.aum), "record-aum"),
      figure(gettext("Peak pool value"), moneyEl("span", r.aumPeak), "record-aum-peak"),
      figure(gettext("Followers now"), String(r.followersNow), "record-followers"),
      figure(gettext("Followers in the period"), String(r.followersDistinct), "record-followers-distinct"),
      figure(gettext("Joined"), moneyEl("span", r.joined), "record-joined"),
      figure(gettext("Paid out"), moneyEl("span", r.paidOut), "record-paid-out"),
      figure(gettext("Followers' result"),
        h("span", { className: net > 0n ? "up" : net < 0n ? "down" : "muted", title: exact(r.netResult) }, signed(net)),
        "record-net-result"),
      figure(gettext("Streams"), String(r.streams), "record-streams"),
      figure(gettext("Hours live"), r.hoursLive, "record-hours"),
      figure(gettext("Streamer's own share"), ratioEl(r.streamerShare), "record-share"),
    ]);
    Array.prototype.forEach.call($("b-record-figures").querySelectorAll('[data-testid="record-aum"], [data-testid="record-aum-peak"], [data-testid="record-joined"], [data-testid="record-paid-out"], [data-testid="record-net-result"]'),
      function (el) { el.appendChild(document.createTextNode(cur)); });
    // The index is 1 when the window starts; then its value at each bucket's close.
    var values = [1].concat((r.series || []).map(function (p) { return Number(p.index); }))
      .filter(function (n) { return isFinite(n); });
    $("b-record-chart").hidden = values.length < 2;
    if (values.length < 2) return;
    replaceChildren($("b-record-svg"), [lineChart(values, 1, gettext("NAV index over the period"), "record-chart-svg")]);
    var lowest = Math.min.apply(null, values), highest = Math.max.apply(null, values);
    setText("b-record-range", nav(String(lowest)) + " – " + nav(String(highest)));
  }

  // --- the leaderboard ------------------------------------------------------------------
  function loadBoard(force) {
    var b = state.board, key = b.window + "/" + b.sort;
    if (!force && b.key === key && (b.loading || Date.now() - b.at < RECORD_REFRESH_MS)) return;
    b.key = key;
    b.at = Date.now();
    b.loading = true;
    api("GET", "leaderboard?window=" + encodeURIComponent(b.window) + "&sort=" + encodeURIComponent(b.sort))
      .then(function (answer) {
        if (b.key !== key) return;  // the player switched again meanwhile
        b.rows = answer.data || [];
        b.loading = false;
        b.rows.forEach(function (row) { state.names[row.streamerId] = row.name; });
        if (state.view === "leaderboard") renderBoard();
      }, function (error) {
        b.loading = false;
        showError(error.body);
      });
  }
  function boardRow(row) {
    var sorted = state.board.sort;
    var fig = function (name, label, value) {
      return h("span", { className: "board-fig" + (name === sorted ? " sorted" : "") },
        h("span", { className: "k", text: label }), value);
    };
    return h("li", { className: "board-row", "data-testid": "board-row", "data-streamer": row.streamerId,
                     "data-rank": row.rank == null ? "" : String(row.rank), tabindex: "0",
                     onclick: function () { go("streamer/" + row.streamerId); },
                     onkeydown: function (event) { if (event.key === "Enter") go("streamer/" + row.streamerId); } },
      h("span", { className: "board-rank", "data-testid": "board-rank", text: row.rank == null ? "–" : String(row.rank) }),
      h("div", { className: "board-who" },
        h("span", { className: "board-name", "data-testid": "board-name", text: row.name }),
        row.live ? h("span", { className: "live-dot", text: "● " + gettext("LIVE") }) : null,
        row.isNew ? h("span", { className: "badge new", "data-testid": "board-new", text: gettext("New") }) : null),
      h("div", { className: "board-figs" },
        fig("roi", gettext("ROI"), ratioEl(row.roi, { className: "v", "data-testid": "board-roi" }, true)),
        fig("drawdown", gettext("Drawdown"), ratioEl(row.maxDrawdown, { className: "v", "data-testid": "board-drawdown" })),
        fig("aum", gettext("Pool"), h("span", { className: "v" }, moneyEl("span", row.aum, { "data-testid": "board-aum" }),
          " " + (row.currency || ""))),
        fig("followers", gettext("Followers"), h("span", { className: "v", "data-testid": "board-followers", text: String(row.followersNow) }))));
  }
  function renderBoard() {
    var b = state.board;
    loadBoard(false);
    chipsOn("board-sorts", "data-sort", b.sort);
    chipsOn("board-windows", "data-window", b.window);
    var rows = b.rows || [];
    replaceChildren($("board-list"), rows.map(boardRow));
    $("board-empty").hidden = b.rows === null || rows.length > 0;
    // The pooled value of the streamers listed, per currency (exact sums, BigInt).
    var sums = {}, order = [];
    rows.forEach(function (row) {
      if (!(row.currency in sums)) { sums[row.currency] = 0n; order.push(row.currency); }
      sums[row.currency] += toScaled(row.aum, 8);
    });
    $("board-totals").hidden = rows.length === 0;
    replaceChildren($("board-totals"), rows.length ? [h("span", { className: "muted", text: gettext("Pooled in total") + " " })].concat(
      order.map(function (currency, i) {
        return h("span", null, i ? " · " : "", moneyEl("strong", fromScaled(sums[currency], 8), { "data-testid": "board-total" }), " " + currency);
      })) : []);
  }

  function render() {
    if (state.view === "broadcast") renderBroadcast();
    else if (state.view === "leaderboard") renderBoard();
    else renderLobby();
  }

  // --- navigation -----------------------------------------------------------------------
  function go(route) {
    if (location.hash !== "#" + route) location.hash = route;
    else route_();
  }
  function route_() {
    var match = /^#streamer\/(\d+)$/.exec(location.hash);
    state.view = match ? "broadcast" : location.hash === "#leaderboard" ? "leaderboard" : "lobby";
    state.panel = null;
    state.streamerId = match ? Number(match[1]) : null;
    $("lobby").hidden = state.view !== "lobby";
    $("leaderboard").hidden = state.view !== "leaderboard";
    $("broadcast").hidden = state.view !== "broadcast";
    Array.prototype.forEach.call(document.querySelectorAll(".tab[data-tab]"), function (tab) {
      var on = tab.getAttribute("data-tab") === state.view;
      tab.classList.toggle("on", on);
      if (on) tab.setAttribute("aria-current", "page");
      else tab.removeAttribute("aria-current");
    });
    render();
  }

  // --- actions --------------------------------------------------------------------------
  function join(event) {
    event.preventDefault();
    clearError();
    var amount = $("join-amount").value.trim().replace(",", ".");
    if (!AMOUNT_RE.test(amount) || toScaled(amount, 8) <= 0n) {
      showError({ errorCode: "ERR_INVALID_AMOUNT" });
      return;
    }
    var entry = entryFor(state.streamerId);
    var limits = limitsOf(entry);
    if (limits.minContribution && toScaled(amount, 8) < toScaled(limits.minContribution, 8)
        || limits.maxContribution && toScaled(amount, 8) > toScaled(limits.maxContribution, 8)) {
      showError({ errorMessage: fmt(gettext("Amount must be between %(min)s and %(max)s."), { min: money(limits.minContribution), max: money(limits.maxContribution) }) });
      return;
    }
    state.busy = true;
    $("join-button").disabled = true;
    $("join-button").textContent = gettext("Joining…");
    api("POST", "pools/join", { streamerId: state.streamerId, amount: amount }, { "Idempotency-Key": randomKey() })
      .then(function (answer) {
        if (answer.status === 201) toast(fmt(gettext("You joined %(name)s with %(amount)s"), { name: entry ? entry.name : gettext("the pool"), amount: money(amount) + " " + (config.currency || "") }));
        else toast(gettext("Your join is being processed…"));
      }, function (error) { showError(error.body); })
      .then(function () {
        state.busy = false;
        $("join-button").textContent = gettext("Join pool");
        return Promise.all([refresh(), refreshWallet()]);
      });
  }

  // Leaving asks first, in a small dialog: how much (25, 50, 100% or the slider, when the API
  // takes a part) and about what it pays at the pool's value now.
  function openLeave(position) {
    clearError();
    state.dialog = { position: position, percent: 100 };
    $("dialog-fractions").hidden = !features.partialLeave;
    setText("dialog-what", fmt(gettext("Your position in %(name)s's pool is worth %(value)s now."),
      { name: streamerName(position), value: money(position.value) + " " + (position.currency || config.currency || "") }));
    leavePercent(100);
    $("dialog").hidden = false;
    $("dialog-cancel").focus();
  }
  function leavePercent(value) {
    var pct = Math.max(1, Math.min(100, Math.round(Number(value) || 100)));
    var d = state.dialog;
    if (!d) return;
    d.percent = pct;
    $("dialog-slider").value = String(pct);
    setText("dialog-percent", pct + "%");
    Array.prototype.forEach.call(document.querySelectorAll(".chip[data-fraction]"), function (chip) {
      chip.classList.toggle("on", Number(chip.getAttribute("data-fraction")) === pct);
    });
    var gross = (toScaled(d.position.value, 8) * BigInt(pct)) / 100n;
    // The performance fee on the part above the share of the high-water mark it carries.
    var profit = gross - (toScaled(d.position.highWaterMark, 8) * BigInt(pct)) / 100n;
    var fee = profit > 0n ? (profit * toScaled(d.position.performanceFeePercent, 4)) / 1000000n : 0n;
    var cur = " " + (d.position.currency || config.currency || "");
    setText("dialog-estimate", fee > 0n
      ? fmt(gettext("You get about %(amount)s after a performance fee of about %(fee)s (the pool's value when the leave is priced decides)."),
          { amount: money(fromScaled(gross - fee, 8)) + cur, fee: money(fromScaled(fee, 8)) + cur })
      : fmt(gettext("You get about %(amount)s (the pool's value when the leave is priced decides)."),
          { amount: money(fromScaled(gross, 8)) + cur }));
    setText("dialog-confirm", pct === 100 ? gettext("Leave") : fmt(gettext("Leave %(percent)s"), { percent: pct + "%" }));
  }
  function closeDialog() {
    state.dialog = null;
    $("dialog").hidden = true;
  }
  function confirmLeave() {
    var d = state.dialog;
    if (!d) return;
    closeDialog();
    var body = d.percent < 100 ? { fraction: fromScaled(BigInt(d.percent), 2) } : undefined;
    api("POST", "positions/" + encodeURIComponent(d.position.id) + "/leave", body)
      .then(function (answer) {
        var p = answer.data || {};
        if (answer.status === 200 && p.status === "closed") {
          toast(fmt(gettext("You left the pool: paid out %(amount)s"), { amount: money(p.payout) + " " + (config.currency || "") }));
        } else if (answer.status === 200) {
          toast(fmt(gettext("You left %(percent)s of your position."), { percent: d.percent + "%" }));
        } else toast(gettext("Leaving… your payout is on its way."));
      }, function (error) { showError(error.body); })
      .then(function () { return Promise.all([refresh(), refreshWallet()]); });
  }

  function topUp(position, raw) {
    clearError();
    var amount = String(raw).trim().replace(",", ".");
    if (!AMOUNT_RE.test(amount) || toScaled(amount, 8) <= 0n) {
      showError({ errorCode: "ERR_INVALID_AMOUNT" });
      return;
    }
    api("POST", "positions/" + encodeURIComponent(position.id) + "/top-up", { amount: amount }, { "Idempotency-Key": randomKey() })
      .then(function (answer) {
        state.panel = null;
        render();
        if (answer.status === 201) toast(fmt(gettext("You added %(amount)s to your position."), { amount: money(amount) + " " + (config.currency || "") }));
        else toast(gettext("Your top-up is being processed…"));
      }, function (error) { showError(error.body); })
      .then(function () { return Promise.all([refresh(), refreshWallet()]); });
  }

  // A limit as the API takes it: "80.5", "20%", or null (none).
  var LIMIT_RE = /^(\d{1,12}(\.\d{1,8})?|\d{1,3}(\.\d{1,4})?%)$/;
  function limitValue(raw) {
    var text = String(raw == null ? "" : raw).trim().replace(",", ".").replace(/\s+%$/, "%");
    if (!text) return null;
    return LIMIT_RE.test(text) ? text : undefined;
  }
  function saveLimits(position, values) {
    clearError();
    var stopLoss = limitValue(values.stopLoss), takeProfit = limitValue(values.takeProfit);
    if (stopLoss === undefined || takeProfit === undefined) {
      showError({ errorMessage: gettext("Enter an amount such as 80.50 or a percent such as 20%, or leave it empty.") });
      return;
    }
    api("PUT", "positions/" + encodeURIComponent(position.id) + "/limits", { stopLoss: stopLoss, takeProfit: takeProfit })
      .then(function () {
        state.panel = null;
        render();
        toast(gettext("Your limits are saved."));
      }, function (error) { showError(error.body); })
      .then(refresh);
  }

  // --- invite links ---------------------------------------------------------------------
  function dropInviteFromUrl() {
    try {
      var url = new URL(window.location.href);
      if (!url.searchParams.has("invite")) return;
      url.searchParams.delete("invite");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    } catch (e) { /* ignore */ }
  }
  function redeemInvite(code) {
    return api("POST", "invites/redeem", { code: code }).then(function (answer) {
      var granted = answer.data || {};
      toast(fmt(gettext("You are invited: you can now join %(name)s's pool."), { name: granted.name || gettext("this streamer") }));
      return refresh().then(function () {
        if (entryFor(granted.streamerId)) go("streamer/" + granted.streamerId);
      });
    }, function (error) { showError(error.body); });
  }

  // --- start ----------------------------------------------------------------------------
  function start() {
    $("alert").querySelector(".alert-close").addEventListener("click", clearError);
    var invite = config.invite || "";
    dropInviteFromUrl();
    if (!config.token) {
      $("nosession").hidden = false;
      if (invite) {
        inviteKeep(invite);
        $("nosession-invite").hidden = false;
      }
      return;
    }
    invite = invite || inviteTake();
    $("demo-banner").hidden = !config.demo;
    document.body.classList.toggle("is-demo", !!config.demo);
    if (!$("player").textContent.trim() && config.player) {
      replaceChildren($("player"), [h("span", { className: "player-name", text: config.player }),
        h("span", { className: "player-currency", text: config.currency || "" })]);
    }
    Array.prototype.forEach.call(document.querySelectorAll(".cur"), function (el) { el.textContent = config.currency || ""; });
    $("join-form").addEventListener("submit", join);
    Array.prototype.forEach.call(document.querySelectorAll(".chip[data-amount]"), function (chip) {
      chip.addEventListener("click", function () { $("join-amount").value = chip.getAttribute("data-amount"); });
    });
    $("dialog-cancel").addEventListener("click", closeDialog);
    $("dialog-confirm").addEventListener("click", confirmLeave);
    $("dialog-slider").addEventListener("input", function (event) { leavePercent(event.currentTarget.value); });
    $("dialog").addEventListener("click", function (event) { if (event.target === $("dialog")) closeDialog(); });
    document.addEventListener("keydown", function (event) { if (event.key === "Escape" && state.dialog) closeDialog(); });
    Array.prototype.forEach.call(document.querySelectorAll(".chip[data-fraction]"), function (chip) {
      chip.addEventListener("click", function () { leavePercent(chip.getAttribute("data-fraction")); });
    });
    Array.prototype.forEach.call($("b-record-windows").querySelectorAll("[data-window]"), function (chip) {
      chip.addEventListener("click", function () { state.recordWindow = chip.getAttribute("data-window"); renderRecord(); });
    });
    Array.prototype.forEach.call($("board-sorts").querySelectorAll("[data-sort]"), function (chip) {
      chip.addEventListener("click", function () { state.board.sort = chip.getAttribute("data-sort"); loadBoard(true); renderBoard(); });
    });
    Array.prototype.forEach.call($("board-windows").querySelectorAll("[data-window]"), function (chip) {
      chip.addEventListener("click", function () { state.board.window = chip.getAttribute("data-window"); loadBoard(true); renderBoard(); });
    });
    window.addEventListener("hashchange", route_);
    route_();
    if (invite) redeemInvite(invite);
    else refresh();
    refreshWallet();
    state.timer = setInterval(function () { if (!document.hidden) refresh(); }, REFRESH_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
