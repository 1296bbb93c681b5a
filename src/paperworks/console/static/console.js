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
document.querySelectorAll("progress[data-job-stream]").forEach(follow);

// A <div data-panel="/path"> shows that page's fragment, fetched again every
// data-refresh-seconds while the page is visible (the assistant's task list, as tasks change).
async function refresh(panel) {
  if (document.visibilityState === "hidden") return;
  const response = await fetch(panel.dataset.panel, {credentials: "same-origin"});
  if (response.ok) panel.innerHTML = await response.text();
}
document.querySelectorAll("[data-panel]").forEach((panel) => {
  refresh(panel);
  const seconds = Number(panel.dataset.refreshSeconds || 0);
  if (seconds > 0) window.setInterval(() => refresh(panel), seconds * 1000);
});
