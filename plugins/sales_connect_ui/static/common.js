// Shared helpers of the Sales Connect pages: the JSON API client (with the CSRF header), safe DOM
// building (text only, never HTML from data) and dates shown in the user's time zone.
"use strict";

const SC = (() => {
  const meta = (name) => document.querySelector(`meta[name="${name}"]`).content;
  const base = meta("sc-base");
  let timeZone = meta("sc-time-zone");

  class ApiError extends Error {
    constructor(status, detail, field) {
      super(detail);
      this.status = status;
      this.field = field;
    }
  }

  async function api(method, path, body) {
    const headers = { Accept: "application/json" };
    if (method !== "GET") headers["X-CSRF-Token"] = meta("sc-csrf-token");
    const init = { method, headers, credentials: "same-origin" };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(`${base}/api${path}`, init);
    if (response.status === 401) {
      window.location.assign(meta("sc-login-url"));
      throw new ApiError(401, "Your Airflow session has ended; signing in again…");
    }
    let data = null;
    try {
      data = await response.json();
    } catch {
      data = null;
    }
    if (!response.ok) {
      throw new ApiError(response.status, (data && data.detail) || `HTTP ${response.status}`, data && data.field);
    }
    return data;
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    }
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** ``zone`` if this browser knows it, else UTC: a zone saved before the server refused such names
   * (e.g. ``localtime``) must not break the page that lets the rep change it. */
  const usableZone = (zone) => {
    try {
      new Intl.DateTimeFormat(undefined, { timeZone: zone });
      return zone;
    } catch {
      return "UTC";
    }
  };
  const dateTimeFormatIn = (zone) => new Intl.DateTimeFormat(undefined, {
    timeZone: usableZone(zone), year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
  let dateTimeFormat = dateTimeFormatIn(timeZone);

  /** Show times in ``zone`` from now on (after the user saved a new time zone). */
  function setTimeZone(zone) {
    if (zone === timeZone) return;
    timeZone = zone;
    dateTimeFormat = dateTimeFormatIn(zone);
    const label = document.getElementById("who-time-zone");
    if (label) label.textContent = zone;
  }
  const dateFormat = new Intl.DateTimeFormat(undefined, {
    timeZone: "UTC", weekday: "short", month: "short", day: "numeric",
  });

  /** An ISO timestamp in the user's time zone. */
  function dateTime(iso) {
    return iso ? dateTimeFormat.format(new Date(iso)) : "—";
  }

  /** A calendar date (YYYY-MM-DD) as "Wed, Nov 25". */
  function date(isoDate) {
    return isoDate ? dateFormat.format(new Date(`${isoDate}T00:00:00Z`)) : "no due date";
  }

  /** Today's date (YYYY-MM-DD) in the user's time zone. */
  function today() {
    const parts = new Intl.DateTimeFormat("en-CA", {
      timeZone: usableZone(timeZone), year: "numeric", month: "2-digit", day: "2-digit",
    });
    return parts.format(new Date());
  }

  function notice(node, text, kind) {
    node.textContent = text;
    node.className = `notice${kind ? ` notice-${kind}` : ""}`;
    node.hidden = !text;
  }

  /** Show an API refusal next to its field when the form has one, else in the notice. */
  function showError(form, messageNode, error) {
    clearErrors(form);
    const slot = error.field && form ? form.querySelector(`.field-error[data-for="${error.field}"]`) : null;
    if (slot) {
      const prefix = `${error.field}: `;  // the API names the field for scripts; the page shows it by place
      slot.textContent = error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message;
      const input = form.querySelector(`[name="${error.field}"]`);
      if (input) {
        input.setAttribute("aria-invalid", "true");
        input.focus();
      }
      notice(messageNode, "Nothing was saved: fix the field marked in red.", "error");
    } else {
      notice(messageNode, error.message, "error");
    }
  }

  function clearErrors(form) {
    if (!form) return;
    form.querySelectorAll(".field-error").forEach((slot) => { slot.textContent = ""; });
    form.querySelectorAll("[aria-invalid]").forEach((input) => input.removeAttribute("aria-invalid"));
  }

  function badge(text, kind) {
    return el("span", { class: `badge${kind ? ` badge-${kind}` : ""}` }, text);
  }

  return { api, el, dateTime, date, today, notice, showError, clearErrors, badge, setTimeZone };
})();
