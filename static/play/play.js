/* CopyStake player page: lobby and broadcast over the player API (no framework).
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

  var config = JSON.parse(document.getElementById("play-config").textContent);
  var state = { lobby: [], positions: [], view: "lobby", streamerId: null, timer: null, busy: false,
                streamOpened: false, stopped: false };

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
  // Amounts: at least 2 decimals, up to 8, thousands grouped; nothing is rounded away.
  function money(text) {
    if (text == null || text === "") return "—";
    var s = String(text);
    var negative = s.charAt(0) === "-";
    if (negative) s = s.slice(1);
    var parts = s.split(".");
    var frac = (parts[1] || "").replace(/0+$/, "");
    while (frac.length < 2) frac += "0";
    return (negative ? "−" : "") + group(parts[0] || "0") + "." + frac;
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
  function showError(body) {
    var el = $("alert");
    el.querySelector(".alert-code").textContent = (body && body.errorCode) || "ERR_UNKNOWN";
    el.querySelector(".alert-message").textContent =
      (body && body.errorMessage) || "Something went wrong. Please try again.";
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
            : { errorCode: "ERR_HTTP_" + response.status, errorMessage: "The server answered " + response.status };
          throw error;
        }
        return { status: response.status, data: data };
      });
    }, function () {
      var error = new Error("network");
      error.status = 0;
      error.body = { errorCode: "ERR_NETWORK", errorMessage: "Could not reach CopyStake. Retrying…" };
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
      if (!state.streamOpened && config.streamId) {
        state.streamOpened = true;
        var wanted = state.lobby.filter(function (e) { return e.streamId === config.streamId; })[0];
        if (wanted && !isUpcoming(wanted)) {
          go("streamer/" + wanted.streamerId);
          return;
        }
        if (wanted) toast("That broadcast starts " + when(wanted.scheduledStart) + ". Here is who is live now.");
        else showError({ errorCode: "ERR_STREAM_NOT_LIVE", errorMessage: "That broadcast is not live any more: here is who is live now." });
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
    return [entry.title || (isUpcoming(entry) ? "Stream" : "Live stream"), entry.game].filter(Boolean).join(" · ");
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
        h("span", { className: "live-dot", text: "● LIVE" })),
      h("div", { className: "kv" },
        h("div", null, h("span", { className: "k", text: "Pool" }),
          h("span", { className: "v", title: pool ? pool.balance : "", text: pool ? moneyShort(pool.balance) : "—" })),
        h("div", null, h("span", { className: "k", text: "NAV" }), h("span", { className: "v", text: nav(entry.nav) })),
        h("div", null, h("span", { className: "k", text: "Followers" }), h("span", { className: "v", text: String(pool ? pool.followers : 0) }))),
      pool && pool.isBust ? h("div", { className: "bust", text: "Bust" }) : null,
      h("button", { type: "button", className: "btn primary", text: "Watch & copy" }));
  }

  function upcomingRow(entry) {
    return h("li", { className: "upcoming-item", "data-testid": "upcoming-stream", "data-stream": entry.streamId },
      h("time", { className: "upcoming-when", datetime: entry.scheduledStart || "", "data-testid": "upcoming-when",
                  text: when(entry.scheduledStart) }),
      h("div", { className: "upcoming-what" },
        h("div", { className: "upcoming-name", text: entry.name }),
        h("div", { className: "upcoming-title muted", text: titleOf(entry) })));
  }

  function positionRow(position, showStreamer) {
    var contributed = toScaled(position.contributed, 8);
    var nums = [h("span", null, "In ", h("strong", { text: money(position.contributed) }))];
    var status = position.status;
    if (status === "active" || status === "joining") {
      var value = toScaled(position.value, 8);
      nums.push(h("span", null, "Value ", h("strong", { "data-testid": "position-value", text: money(position.value) })));
      if (status === "active") {
        var diff = value - contributed;
        nums.push(h("span", { className: diff > 0n ? "up" : diff < 0n ? "down" : "muted", text: signed(diff) }));
      }
    } else if (status === "leaving") {
      nums.push(h("span", null, position.payout != null ? "Payout " : "Payout pending",
        position.payout != null ? h("strong", { text: money(position.payout) }) : null));
    } else if (status === "closed") {
      var paid = toScaled(position.payout, 8);
      var result = paid - contributed;
      nums.push(h("span", null, "Paid out ", h("strong", { "data-testid": "position-payout", text: money(position.payout) })));
      nums.push(h("span", { className: result > 0n ? "up" : result < 0n ? "down" : "muted", text: signed(result) }));
    } else if (status === "failed") {
      nums.push(h("span", { className: "down", text: position.failureCode || "failed" }));
    }
    var who = null;
    if (showStreamer) {
      var entry = entryFor(position.streamerId);
      who = h("div", { className: "who", text: entry ? entry.name : "Streamer #" + position.streamerId });
    }
    var action = status === "active"
      ? h("button", { type: "button", className: "btn danger", "data-testid": "leave-button", text: "Leave",
          onclick: function (event) { event.stopPropagation(); leave(position.id, event.currentTarget); } })
      : h("span");
    return h("div", { className: "position", "data-testid": "position", "data-status": status, "data-id": position.id },
      h("span", { className: "status " + status, "data-testid": "position-status", text: status }),
      h("div", null, who, h("div", { className: "nums" }, nums)),
      action);
  }

  function renderPositions(container, positions, showStreamer, emptyText) {
    // Open positions first (newest first within each group, as the API orders them).
    var open = positions.filter(function (p) { return MEMBER[p.status]; });
    var done = positions.filter(function (p) { return !MEMBER[p.status]; });
    var rows = open.concat(done).slice(0, 50).map(function (p) { return positionRow(p, showStreamer); });
    if (!rows.length) rows = [h("div", { className: "empty", text: emptyText })];
    replaceChildren(container, rows);
  }

  function renderLobby() {
    var live = liveEntries(), upcoming = upcomingEntries();
    replaceChildren($("lobby-grid"), live.map(lobbyCard));
    $("lobby-empty").hidden = live.length > 0;
    replaceChildren($("upcoming-list"), upcoming.map(upcomingRow));
    $("upcoming").hidden = upcoming.length === 0;
    renderPositions($("all-positions"), state.positions, true, "You have not joined a pool yet.");
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
      id: "b-embed", className: "screen-embed", title: "Live video", "data-testid": "embed",
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
    $("b-live").hidden = !entry;
    var caption = entry ? (embed ? [entry.title, entry.name, entry.game] : [entry.game ? "Playing " + entry.game : ""]) : [];
    setText("b-game", caption.filter(Boolean).join(" · "));
    $("b-game").hidden = !$("b-game").textContent;
    var limits = limitsOf(entry);
    var cur = " " + (config.currency || "");
    setText("join-limits", limits.minContribution
      ? "From " + money(limits.minContribution) + " to " + money(limits.maxContribution) + cur + " per join."
        + (limits.maxPoolValue ? " Pool capacity " + moneyShort(limits.maxPoolValue) + cur + "." : "")
      : "");
    if (entry) {
      setText("b-title", entry.title || "Live stream");
      setText("b-name", entry.name);
      setText("b-value", pool ? moneyShort(pool.balance) + " " + entry.currency : "—");
      $("b-value").title = pool ? pool.balance : "";
      setText("b-nav", nav(entry.nav));
      setText("b-followers", String(pool ? pool.followers : 0));
    } else {
      setText("b-title", "This broadcast has ended");
      setText("b-name", "");
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
    $("join-button").disabled = state.busy || state.stopped || !entry || !!(pool && pool.isBust);
    renderPositions($("b-positions"), mine, false, "No positions in this pool yet.");
  }

  function render() {
    if (state.view === "broadcast") renderBroadcast();
    else renderLobby();
  }

  // --- navigation -----------------------------------------------------------------------
  function go(route) {
    if (location.hash !== "#" + route) location.hash = route;
    else route_();
  }
  function route_() {
    var match = /^#streamer\/(\d+)$/.exec(location.hash);
    state.view = match ? "broadcast" : "lobby";
    state.streamerId = match ? Number(match[1]) : null;
    $("lobby").hidden = state.view !== "lobby";
    $("broadcast").hidden = state.view !== "broadcast";
    render();
  }

  // --- actions --------------------------------------------------------------------------
  function join(event) {
    event.preventDefault();
    clearError();
    var amount = $("join-amount").value.trim().replace(",", ".");
    if (!AMOUNT_RE.test(amount) || toScaled(amount, 8) <= 0n) {
      showError({ errorCode: "ERR_INVALID_AMOUNT", errorMessage: "Enter a positive amount with at most 8 decimals." });
      return;
    }
    var entry = entryFor(state.streamerId);
    var limits = limitsOf(entry);
    if (limits.minContribution && toScaled(amount, 8) < toScaled(limits.minContribution, 8)
        || limits.maxContribution && toScaled(amount, 8) > toScaled(limits.maxContribution, 8)) {
      showError({ errorCode: "ERR_CONTRIBUTION_LIMIT",
        errorMessage: "Amount must be between " + money(limits.minContribution) + " and " + money(limits.maxContribution) + "." });
      return;
    }
    state.busy = true;
    $("join-button").disabled = true;
    $("join-button").textContent = "Joining…";
    api("POST", "pools/join", { streamerId: state.streamerId, amount: amount }, { "Idempotency-Key": randomKey() })
      .then(function (answer) {
        if (answer.status === 201) toast("You joined " + (entry ? entry.name : "the pool") + " with " + money(amount) + " " + (config.currency || ""));
        else toast("Your join is being processed…");
      }, function (error) { showError(error.body); })
      .then(function () {
        state.busy = false;
        $("join-button").textContent = "Join pool";
        return refresh();
      });
  }

  function leave(positionId, button) {
    clearError();
    if (button) { button.disabled = true; button.textContent = "Leaving…"; }
    api("POST", "positions/" + encodeURIComponent(positionId) + "/leave")
      .then(function (answer) {
        var p = answer.data || {};
        if (answer.status === 200) toast("You left the pool: paid out " + money(p.payout) + " " + (config.currency || ""));
        else toast("Leaving… your payout is on its way.");
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
      toast("You are invited: you can now join " + (granted.name || "this streamer") + "'s pool.");
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
    window.addEventListener("hashchange", route_);
    route_();
    if (invite) redeemInvite(invite);
    else refresh();
    state.timer = setInterval(function () { if (!document.hidden) refresh(); }, REFRESH_MS);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
