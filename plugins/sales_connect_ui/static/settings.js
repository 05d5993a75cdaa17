// Settings page: save the sync checkbox, owner id and time zone; follow the sync run that switching
// sync on starts (queued -> running -> done, with its counts); preview the first sync.
"use strict";

(() => {
  const { api, el, dateTime, notice, showError, clearErrors } = SC;
  const form = document.getElementById("settings-form");
  const message = document.getElementById("settings-message");
  const syncNow = document.getElementById("sync-now");
  const previewCard = document.getElementById("preview-card");
  const POLL_MS = 2000;

  function showFacts(settings) {
    SC.setTimeZone(settings.time_zone);
    document.getElementById("fact-sync").textContent = settings.sync_enabled ? "On" : "Off";
    document.getElementById("fact-enabled-at").textContent = settings.sync_enabled ? dateTime(settings.enabled_at) : "—";
    document.getElementById("fact-last-synced").textContent = settings.last_synced_at
      ? dateTime(settings.last_synced_at) : "never";
    syncNow.hidden = !settings.sync_enabled;
    previewCard.hidden = settings.sync_enabled;
  }

  function countsGrid(summary) {
    const cell = (value, label) => el("div", { class: "count" }, el("b", {}, value), el("span", {}, label));
    return el("div", { class: "counts" },
      cell(summary.imported, "imported"),
      cell(summary.updated, "updated"),
      cell(summary.pushed, "pushed"),
      cell(summary.deleted, "deleted"),
      cell(summary.conflicts, "conflicts"),
      cell(summary.errors, "errors"));
  }

  function showSteps(panel, airflowState, done) {
    const order = ["queued", "running", "done"];
    const reached = done ? 2 : Math.max(0, order.indexOf(airflowState === "success" || airflowState === "failed"
      ? "running" : airflowState || "queued"));
    panel.querySelectorAll(".steps li").forEach((li, i) => {
      li.className = i <= reached ? "reached" : "";
      if (i === reached) li.classList.add("current");
      if (done && airflowState === "failed" && i === 2) li.classList.add("failed");
    });
  }

  /** Follow one sync run until Airflow has finished it and the history row is final. */
  async function follow(start, { panel, messageNode, onDone, noun = "Sync" }) {
    panel.hidden = false;
    panel.querySelector("code").textContent = start.dag_run_id || "";
    panel.querySelector(".steps").hidden = !start.dag_run_id;
    const counts = panel.querySelector("[data-counts]") || panel.querySelector("#run-counts");
    showSteps(panel, start.state, false);  // a new run: forget the previous one's progress and counts
    counts.replaceChildren();
    notice(messageNode, start.message, start.problem ? "warning" : "");
    if (!start.dag_run_id) {
      showSteps(panel, null, false);
      return;
    }
    for (;;) {
      let status;
      try {
        status = await api("GET", `/sync/runs/${encodeURIComponent(start.dag_run_id)}`);
      } catch (error) {
        notice(messageNode, `Could not read the run's state: ${error.message}`, "error");
        return;
      }
      showSteps(panel, status.airflow_state, status.done);
      const run = status.sync_run;
      if (!status.done) {
        const waiting = status.airflow_state === "queued" && start.problem === "dag_paused";
        notice(messageNode, waiting ? start.message : `${noun} ${status.airflow_state || "starting"}…`,
          waiting ? "warning" : "");
      } else {
        const ok = status.airflow_state !== "failed" && (!run || run.status === "success");
        const what = `${noun} finished: ${run ? run.status : status.airflow_state}.`;
        notice(messageNode, run && run.message ? `${what} ${run.message}` : what,
          ok ? "success" : (run && run.status === "partial" ? "warning" : "error"));
      }
      counts.replaceChildren(run ? countsGrid(run.summary) : "");
      if (status.done) {
        if (onDone) onDone(status);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }

  async function refreshFacts() {
    showFacts(await api("GET", "/settings"));
  }

  const runPanel = document.getElementById("run-panel");
  const runMessage = document.getElementById("run-message");

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(form);
    const button = document.getElementById("save-settings");
    button.disabled = true;
    const owner = form.sf_owner_id.value.trim();
    try {
      const saved = await api("PUT", "/settings", {
        sync_enabled: form.sync_enabled.checked,
        sf_owner_id: owner === "" ? null : owner,
        time_zone: form.time_zone.value.trim(),
      });
      showFacts(saved.settings);
      notice(message, saved.message, saved.sync && saved.sync.problem ? "warning" : "success");
      // With no run started the message above already says why; a run is followed live.
      if (saved.sync && saved.sync.dag_run_id) {
        follow(saved.sync, { panel: runPanel, messageNode: runMessage, onDone: refreshFacts });
      }
    } catch (error) {
      showError(form, message, error);
    } finally {
      button.disabled = false;
    }
  });

  syncNow.addEventListener("click", async () => {
    syncNow.disabled = true;
    try {
      const start = await api("POST", "/sync/runs");
      await follow(start, { panel: runPanel, messageNode: runMessage, onDone: refreshFacts });
    } catch (error) {
      notice(runMessage, error.message, "error");
      runPanel.hidden = false;
    } finally {
      syncNow.disabled = false;
    }
  });

  // --- first-sync preview -------------------------------------------------------
  const previewButton = document.getElementById("preview-button");
  const previewMessage = document.getElementById("preview-message");
  const previewResult = document.getElementById("preview-result");
  const previewDetails = document.getElementById("preview-details");

  function renderPreview(preview) {
    const imports = preview.import || [];
    const leftAlone = preview.left_alone_sc || [];
    previewDetails.replaceChildren(
      el("h3", {}, `Would import ${imports.length} Salesforce task${imports.length === 1 ? "" : "s"}`),
      imports.length
        ? el("table", { class: "data" },
          el("thead", {}, el("tr", {}, el("th", {}, "Subject"), el("th", {}, "Due"), el("th", {}, "Last modified"),
            el("th", {}, "Salesforce id"))),
          el("tbody", {}, imports.map((t) => el("tr", {},
            el("td", {}, t.subject || ""), el("td", {}, SC.date(t.due_date)), el("td", {}, dateTime(t.last_modified)),
            el("td", {}, el("code", {}, t.sf_id))))))
        : el("p", { class: "empty" }, "No Salesforce task of yours changed in the last 24 hours."),
      preview.truncated ? el("p", { class: "help" }, "The list is cut short; the sync itself imports all of them.") : "",
      el("p", {}, `${preview.not_imported_older || 0} older Salesforce task(s) would not be imported.`),
      el("h3", {}, `${leftAlone.length} task(s) here would be left alone (never sent to Salesforce)`),
      leftAlone.length
        ? el("ul", { class: "preview-list" }, leftAlone.map((t) => el("li", {}, t.subject)))
        : "",
    );
  }

  previewButton.addEventListener("click", async () => {
    previewButton.disabled = true;
    previewResult.replaceChildren();
    previewDetails.replaceChildren();
    try {
      const start = await api("POST", "/sync/preview");
      const panel = el("div", { class: "run-panel" },
        el("div", { class: "run-head" }, el("span", {}, "Preview run"), el("code", {})),
        el("ol", { class: "steps" }, el("li", {}, "Queued"), el("li", {}, "Running"), el("li", {}, "Done")),
        el("div", { dataset: { counts: "" } }));
      previewResult.replaceChildren(panel);
      await follow(start, {
        panel,
        noun: "Preview",
        messageNode: previewMessage,
        onDone: (status) => {
          const preview = status.sync_run && status.sync_run.counts.preview;
          if (preview) renderPreview(preview);
          else notice(previewMessage, "The preview run finished without a preview; see Sync history.", "warning");
        },
      });
    } catch (error) {
      notice(previewMessage, error.message, "error");
    } finally {
      previewButton.disabled = false;
    }
  });

  // --- time zone suggestions ------------------------------------------------------
  api("GET", "/time-zones").then((zones) => {
    document.getElementById("time-zones").replaceChildren(...zones.map((zone) => el("option", { value: zone })));
  });

  document.querySelectorAll("[data-iso]").forEach((node) => {
    if (node.dataset.iso) node.textContent = dateTime(node.dataset.iso);
  });
})();
