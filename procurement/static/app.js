// The app's only script (CSP forbids inline scripts): confirmations and small conveniences.
document.addEventListener("submit", function (event) {
  const button = event.submitter;
  const message = (button && button.dataset.confirm) || event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});

// Filter forms submit when a select changes, so officers need not hunt for the button.
document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
  select.addEventListener("change", function () { select.form.requestSubmit(); });
});

// "Select all" checkboxes: <input type="checkbox" data-check-all="name">
document.querySelectorAll("input[data-check-all]").forEach(function (box) {
  box.addEventListener("change", function () {
    document.querySelectorAll('input[type="checkbox"][name="' + box.dataset.checkAll + '"]').forEach(function (other) {
      if (!other.disabled) { other.checked = box.checked; }
    });
  });
});

// --- import jobs (supervision/import_job.html) ---
// An element with data-refresh="N" reloads the page after N seconds (the progress of a running import).
(function () {
  const element = document.querySelector("[data-refresh]");
  const seconds = element ? parseFloat(element.dataset.refresh) : NaN;
  if (seconds > 0) {
    window.setTimeout(function () { window.location.reload(); }, seconds * 1000);
  }
})();
// --- end of import jobs ---
