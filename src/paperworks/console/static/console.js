// Paperworks console: progressive enhancement only; every page works without this file.
"use strict";

// A <select data-submit-on-change> submits its form when changed (the button stays for keyboards).
document.addEventListener("change", (event) => {
  const select = event.target.closest("select[data-submit-on-change]");
  if (select && select.form) select.form.submit();
});

// A <progress data-job-stream="/console/jobs/ID/stream"> follows its job live (Server-Sent Events)
// and, once the job ends, reloads the page so the result (a download link, an error) shows.
function follow(bar) {
  const status = document.getElementById(bar.dataset.statusId || "");
  const source = new EventSource(bar.dataset.jobStream);
  const show = (job) => {
    bar.value = job.progress ?? bar.value;
    if (status) status.textContent = job.message || job.status || "";
  };
  source.addEventListener("job:progress", (event) => show(JSON.parse(event.data)));
  for (const end of ["job:completed", "job:failed", "job:cancelled", "job:access_ended"]) {
    source.addEventListener(end, (event) => {
      source.close();
      const job = JSON.parse(event.data);
      if (end === "job:completed") bar.value = 100;
      show(job);
      window.setTimeout(() => window.location.reload(), 300);
    });
  }
}
// A browser keeps six connections to a site and each stream holds one: a page of many running jobs
// (a batch's) is reloaded every few seconds instead, so its links and forms still load.
const MAX_STREAMS = 3;
const bars = document.querySelectorAll("progress[data-job-stream]");
if (bars.length <= MAX_STREAMS) bars.forEach(follow);
else window.setTimeout(() => window.location.reload(), 3000);

// A <div data-panel="/path"> shows that page's fragment, fetched again every
// data-refresh-seconds while the page is visible (the assistant's task list, as tasks change), until
// a fragment says it is final (`data-final`: a batch whose booklets have all ended).
async function refresh(panel) {
  if (document.visibilityState === "hidden") return;
  const response = await fetch(panel.dataset.panel, {credentials: "same-origin"});
  if (!response.ok) return;
  panel.innerHTML = await response.text();
  if (panel.querySelector("[data-final]")) window.clearInterval(Number(panel.dataset.timer));
}
document.querySelectorAll("[data-panel]").forEach((panel) => {
  const seconds = Number(panel.dataset.refreshSeconds || 0);
  if (panel.querySelector("[data-final]")) return;
  refresh(panel);
  if (seconds > 0) panel.dataset.timer = String(window.setInterval(() => refresh(panel), seconds * 1000));
});

// A button with data-confirm="question" asks before it submits (deleting a book, a customer).
document.addEventListener("click", (event) => {
  const button = event.target.closest("button[data-confirm]");
  if (button && !window.confirm(button.dataset.confirm)) event.preventDefault();
});

// A <form data-reorder> lists items (<li draggable="true">, each with its hidden id input) that a
// mouse or finger drags into a new order; dropping one submits the form with the order shown.
// Its Up and Down buttons do the same from a keyboard without this script.
function reorderable(form) {
  const list = form.querySelector("ol, ul");
  const order = () => [...list.querySelectorAll("li[draggable]")].map((li) => li.dataset.pageId).join();
  let dragged = null;
  let before = "";
  list.addEventListener("dragstart", (event) => {
    dragged = event.target.closest("li[draggable]");
    if (!dragged) return;
    before = order();
    dragged.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", dragged.dataset.pageId || "");
  });
  list.addEventListener("dragover", (event) => {
    const over = event.target.closest("li[draggable]");
    if (!dragged || !over || over === dragged) return;
    event.preventDefault();
    const box = over.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    list.insertBefore(dragged, after ? over.nextSibling : over);
  });
  list.addEventListener("drop", (event) => event.preventDefault());
  list.addEventListener("dragend", () => {
    if (!dragged) return;
    dragged.classList.remove("dragging");
    dragged = null;
    if (order() !== before) form.requestSubmit(form.querySelector("[data-reorder-save]"));
  });
}
document.querySelectorAll("form[data-reorder]").forEach(reorderable);

// In a <section data-cells>, picking a cell of the grid or its outline on the page marks both
// and says where the cell came from (the grid cell's data-source) in its [data-cell-source].
document.addEventListener("click", (event) => {
  const picked = event.target.closest("[data-cell]");
  const section = picked && picked.closest("[data-cells]");
  if (!section) return;
  const key = picked.dataset.cell;
  section.querySelectorAll(".picked").forEach((element) => element.classList.remove("picked"));
  section.querySelectorAll(`[data-cell="${key}"]`).forEach((element) => element.classList.add("picked"));
  const cell = section.querySelector(`td[data-cell="${key}"]`);
  const said = section.querySelector("[data-cell-source]");
  if (said && cell) said.textContent = `${cell.dataset.source}: “${cell.textContent}”`;
});

// A <form data-chat-stream> (the assistant's message box) sends its message as a fetch that asks
// for Server-Sent Events, and writes the reply out as it streams in; once the reply is complete
// the conversation is shown again with its tool calls. Without this script the form posts and the
// reply shows when it is complete.
function bubble(list, who, text) {
  const item = document.createElement("li");
  item.className = `message ${who === "You" ? "user" : "assistant"}`;
  const name = document.createElement("span");
  name.className = "who";
  name.textContent = who;
  const body = document.createElement("p");
  body.textContent = text;
  item.append(name, body);
  list.append(item);
  return body;
}

function sseEvents(onEvent) {
  let buffer = "";
  return (chunk) => {
    buffer += chunk;
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let type = "message";
      const data = [];
      for (const line of block.split("\n")) {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
      }
      if (data.length) onEvent(type, JSON.parse(data.join("\n")));
    }
  };
}

document.querySelectorAll("form[data-chat-stream]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    const message = form.elements.message.value.trim();
    if (!message) return;
    event.preventDefault();
    const list = document.querySelector(".messages");
    const button = form.querySelector("button[type=submit]");
    const sent = new FormData(form);
    bubble(list, "You", message);
    const reply = bubble(list, "Assistant", "…");
    reply.setAttribute("aria-live", "polite");
    form.elements.message.value = "";
    button.disabled = true;
    let response;
    try {
      response = await fetch(form.action, {
        method: "POST", body: sent, credentials: "same-origin", headers: {Accept: "text/event-stream"},
      });
    } catch {
      response = null;
    }
    if (!response || !response.ok || !(response.headers.get("content-type") || "").startsWith("text/event-stream")) {
      form.elements.message.value = message;
      button.disabled = false;
      form.submit();  // the page says what went wrong, as without this script
      return;
    }
    let written = "";
    const read = sseEvents((type, data) => {
      if (type === "delta") {
        written += data.text;
        reply.textContent = written;
      } else if (type === "reply") {
        const shown = `/assistant/${data.conversationId}`;
        if (window.location.pathname === shown) window.location.reload();
        else window.location.assign(`${shown}#latest`);
      } else if (type === "error") {
        reply.textContent = data.detail || data.title;
        reply.classList.add("error");
        button.disabled = false;
      }
    });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const {value, done} = await reader.read();
      if (done) break;
      read(value);
    }
  });
});
