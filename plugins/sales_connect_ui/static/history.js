// Sync history: recent runs with counts by kind and direction and API calls, conflicts with both
// versions side by side, and records that did not go through with a plain-language reason and a retry
// (the only way back for one whose automatic retries stopped).
"use strict";

(() => {
  const { api, el, dateTime, notice, badge } = SC;
  const message = document.getElementById("history-message");
  const KINDS = ["create", "update", "complete", "delete"];
  const FIELDS = ["subject", "description", "due_date", "priority", "status", "task_type", "reminder_at"];

  function num(value) {
    const n = Number(value || 0);
    return el("td", { class: `num${n === 0 ? " zero" : ""}` }, n);
  }

  function runRow(run) {
    const c = run.counts || {};
    return el("tr", {},
      el("td", { class: "nowrap" }, dateTime(run.started_at)),
      el("td", { class: "run-id" }, el("code", {}, run.dag_run_id), run.dry_run ? [" ", badge("dry run")] : "",
        el("div", { class: "muted" }, run.run_type || "")),
      el("td", {}, badge(run.status, run.status), run.message ? el("div", { class: "muted" }, run.message) : ""),
      KINDS.map((k) => num((c.sf_to_sc || {})[k])),
      KINDS.map((k) => num((c.sc_to_sf || {})[k])),
      num(c.skipped_preexisting), num(c.conflicts), num(c.errors), num(run.api_calls));
  }

  function version(title, values, modifiedAt, winner, other) {
    const keys = FIELDS.filter((f) => f in values || f in other);
    return el("div", { class: `version${winner ? " winner" : ""}` },
      el("h3", {}, title, " ", winner ? badge("won", "success") : "",
        el("span", { class: "muted" }, ` changed ${dateTime(modifiedAt)}`)),
      el("dl", {}, keys.map((key) => [
        el("dt", {}, key.replace("_", " ")),
        el("dd", { class: JSON.stringify(values[key]) !== JSON.stringify(other[key]) ? "differs" : "" },
          values[key] === undefined || values[key] === null ? "—" : String(values[key])),
      ])));
  }

  function conflictCard(conflict) {
    const scWon = conflict.winner === "sales_connect";
    return el("div", { class: "conflict" },
      el("div", { class: "conflict-head" },
        el("strong", {}, conflict.sc_version.subject || conflict.sf_version.subject || `Task ${conflict.task_id}`),
        el("span", { class: "muted" }, `detected ${dateTime(conflict.detected_at)}`),
        conflict.sf_id ? el("code", {}, conflict.sf_id) : ""),
      el("div", { class: "versions" },
        version("Sales Connect", conflict.sc_version, conflict.sc_modified_at, scWon, conflict.sf_version),
        version("Salesforce", conflict.sf_version, conflict.sf_modified_at, !scWon, conflict.sc_version)),
      el("div", { class: "rule" }, el("strong", {}, "Rule: "), conflict.rule));
  }

  function errorItem(error) {
    const retry = el("button", { type: "button", class: "btn btn-small" }, "Retry on next run");
    const status = el("span", { class: "muted" }, error.retries_stopped
      ? `retries stopped after ${error.attempts} attempts: fix the cause, then press Retry`
      : `next retry ${dateTime(error.next_retry_at)}`);
    retry.addEventListener("click", async () => {
      retry.disabled = true;
      try {
        const updated = await api("POST", `/errors/${error.id}/retry`);
        status.textContent = `next retry ${dateTime(updated.next_retry_at)} (requested)`;
        notice(message, `The next sync run retries ${error.error_code} for this record.`, "success");
      } catch (failure) {
        notice(message, failure.message, "error");
        retry.disabled = false;
      }
    });
    const direction = error.direction === "sc_to_sf" ? "Sales Connect → Salesforce" : "Salesforce → Sales Connect";
    return el("div", { class: "error-item", dataset: { errorId: error.id } },
      el("div", { class: "error-head" }, badge(error.error_code, "error"),
        el("span", {}, `${direction}, ${error.operation}`),
        error.task_id ? el("span", { class: "muted" }, `task ${error.task_id}`) : "",
        error.sf_id ? el("code", {}, error.sf_id) : "",
        el("span", { class: "muted" }, `${error.attempts} attempt(s), last ${dateTime(error.last_seen_at)}`)),
      el("p", { class: "error-explain" }, error.explanation),
      el("p", { class: "error-sf" }, "Message: ", el("q", {}, error.message)),
      el("div", { class: "actions" }, retry, status));
  }

  async function load() {
    try {
      const history = await api("GET", "/history");
      const body = document.querySelector("#runs-table tbody");
      body.replaceChildren(...(history.runs.length ? history.runs.map(runRow)
        : [el("tr", {}, el("td", { colspan: 15, class: "empty" }, "No sync run has included you yet."))]));
      document.getElementById("errors").replaceChildren(...(history.errors.length ? history.errors.map(errorItem)
        : [el("p", { class: "empty" }, "Every record went through.")]));
      document.getElementById("conflicts").replaceChildren(...(history.conflicts.length
        ? history.conflicts.map(conflictCard) : [el("p", { class: "empty" }, "No conflicts.")]));
    } catch (error) {
      notice(message, error.message, "error");
    }
  }

  load();
})();
