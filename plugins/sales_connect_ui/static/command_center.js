// Command Center: open tasks due today and tomorrow (in the user's time zone), with create, edit,
// complete, re-open and delete; each task shows whether it is linked to Salesforce and its sync state.
"use strict";

(() => {
  const { api, el, dateTime, date, today, notice, showError, clearErrors, badge } = SC;
  const ccMessage = document.getElementById("cc-message");
  const createForm = document.getElementById("create-form");
  const createMessage = document.getElementById("create-message");
  const dialog = document.getElementById("edit-dialog");
  const editForm = document.getElementById("edit-form");
  const editMessage = document.getElementById("edit-message");
  let editing = null;

  const TYPES = { call: "Call", email: "Email", meeting: "Meeting", todo: "To-do", other: "Other" };

  function syncBadges(task) {
    const sync = task.sync;
    const badges = [];
    if (sync.linked) {
      badges.push(badge(`Linked · ${sync.state}`, sync.state));
      if (sync.changes_pending) badges.push(badge("changes pending", "pending"));
    } else {
      badges.push(badge("Not linked"));
    }
    if (sync.error) badges.push(badge(`Sync error: ${sync.error.error_code}`, "error"));
    return badges;
  }

  function act(label, handler, extraClass) {
    return el("button", { type: "button", class: `btn btn-small${extraClass ? ` ${extraClass}` : ""}`, onclick: handler },
      label);
  }

  function taskItem(task) {
    const done = task.status === "completed";
    const actions = done
      ? [act("Re-open", () => change(task, "POST", `/tasks/${task.id}/reopen`, { version: task.version }, "Re-opened"))]
      : [
        act("Complete", () => change(task, "POST", `/tasks/${task.id}/complete`, { version: task.version }, "Completed")),
        act("Edit", () => openEditor(task)),
        act("Delete", () => {
          if (window.confirm(`Delete “${task.subject}”?`)) {
            change(task, "DELETE", `/tasks/${task.id}?version=${task.version}`, undefined, "Deleted");
          }
        }, "btn-danger"),
      ];
    return el("li", { class: "task", dataset: { taskId: task.id } },
      el("div", { class: "task-subject" }, task.subject),
      el("div", { class: "task-actions" }, actions),
      el("div", { class: "task-meta" },
        task.priority !== "normal" ? badge(task.priority, task.priority) : "",
        task.task_type ? el("span", {}, TYPES[task.task_type] || task.task_type) : "",
        done ? el("span", {}, `done ${dateTime(task.completed_at)}`) : el("span", {}, date(task.due_date)),
        syncBadges(task)),
      task.description ? el("div", { class: "task-description" }, task.description) : "",
      task.sync.error ? el("div", { class: "task-error" }, task.sync.error.explanation) : "");
  }

  function fill(listId, tasks, emptyText) {
    const list = document.getElementById(listId);
    list.replaceChildren(...(tasks.length ? tasks.map(taskItem) : [el("li", { class: "empty" }, emptyText)]));
  }

  async function load() {
    try {
      const [cc, completed] = await Promise.all([api("GET", "/command-center"), api("GET", "/tasks?status=completed")]);
      document.getElementById("today-date").textContent = date(cc.today);
      document.getElementById("tomorrow-date").textContent = date(cc.tomorrow);
      fill("tasks-today", cc.tasks.filter((t) => t.due_date === cc.today), "Nothing due today.");
      fill("tasks-tomorrow", cc.tasks.filter((t) => t.due_date === cc.tomorrow), "Nothing due tomorrow.");
      completed.sort((a, b) => (b.completed_at || "").localeCompare(a.completed_at || ""));
      fill("tasks-done", completed.slice(0, 10), "No completed tasks.");
    } catch (error) {
      notice(ccMessage, error.message, "error");
    }
  }

  async function change(task, method, path, body, verb) {
    try {
      await api(method, path, body);
      notice(ccMessage, `${verb}: “${task.subject}”.`, "success");
    } catch (error) {
      notice(ccMessage, error.status === 409 ? `${error.message}` : `Not saved: ${error.message}`, "error");
    }
    await load();
  }

  function formValues(form) {
    const value = (name) => form.elements[name].value;
    return {
      subject: value("subject"),
      due_date: value("due_date").trim() === "" ? null : value("due_date").trim(),
      priority: value("priority"),
      task_type: value("task_type") === "" ? null : value("task_type"),
      description: value("description") === "" ? null : value("description"),
    };
  }

  createForm.elements.due_date.value = today();
  createForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(createForm);
    try {
      const task = await api("POST", "/tasks", formValues(createForm));
      notice(createMessage, `Added “${task.subject}”.`, "success");
      createForm.elements.subject.value = "";
      createForm.elements.description.value = "";
      await load();
    } catch (error) {
      showError(createForm, createMessage, error);
    }
  });

  function openEditor(task) {
    editing = task;
    clearErrors(editForm);
    notice(editMessage, "");
    editForm.elements.subject.value = task.subject;
    editForm.elements.due_date.value = task.due_date || "";
    editForm.elements.priority.value = task.priority;
    editForm.elements.task_type.value = task.task_type || "";
    editForm.elements.description.value = task.description || "";
    dialog.showModal();
  }

  document.getElementById("edit-cancel").addEventListener("click", () => dialog.close());
  editForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors(editForm);
    try {
      const task = await api("PATCH", `/tasks/${editing.id}`, { version: editing.version, ...formValues(editForm) });
      dialog.close();
      notice(ccMessage, `Saved “${task.subject}”.`, "success");
      await load();
    } catch (error) {
      showError(editForm, editMessage, error);
    }
  });

  load();
})();
