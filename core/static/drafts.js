// The case form keeps a draft while she types (plugins/cases/drafts.py): every few seconds,
// if anything changed, the form as it is goes to its data-autosave address, with its CSRF
// token. Without JavaScript the "Save draft" button does the same. No inline script (CSP).
(function () {
  "use strict";
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) { return; }
  var status = form.querySelector(".draft-state");
  var draft = form.querySelector("input[name=draft]");
  var changed = false, sending = false, EVERY = 5000;
  form.addEventListener("input", function () { changed = true; });
  form.addEventListener("change", function () { changed = true; });
  function save() {
    if (!changed || sending) { return; }
    var data = new FormData(form);
    data.set("case", form.getAttribute("data-case") || "");
    changed = false;
    sending = true;
    fetch(form.getAttribute("data-autosave"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: {"Accept": "application/json"}
    }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
      return response.json();
    }).then(function (answer) {
      if (answer.saved) {
        draft.value = answer.draft;
        form.setAttribute("data-draft-saved", answer.at);
        if (status) { status.textContent = form.getAttribute("data-saved") + " " + answer.at; }
      }
    }).catch(function () {
      changed = true;  // try again at the next tick (a session that ended is kept on submit)
    }).then(function () { sending = false; });
  }
  window.setInterval(save, EVERY);
  form.addEventListener("submit", function () { changed = false; });
})();
