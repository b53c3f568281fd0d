// cloud1 console: live job output (Server-Sent Events). Everything is checked on the server; this only shows.
"use strict";
(function () {
  var out = document.getElementById("output");
  if (!out || out.dataset.live !== "yes" || !window.EventSource) { return; }
  var status = document.getElementById("status");
  var seen = out.textContent.split("\n").filter(function (l) { return l.length; }).length;
  var source = new EventSource("/jobs/" + out.dataset.job + "/events");
  var shown = 0;
  source.addEventListener("line", function (ev) {
    shown += 1;
    if (shown <= seen) { return; }   // already on the page when it was served
    out.textContent += JSON.parse(ev.data).line + "\n";
    out.scrollTop = out.scrollHeight;
    if (status.textContent === "queued") { status.textContent = "running"; status.className = "status running"; }
  });
  source.addEventListener("end", function (ev) {
    var end = JSON.parse(ev.data);
    status.textContent = end.status;
    status.className = "status " + end.status;
    if (end.result && end.result.failed) {
      var failed = document.createElement("span");
      failed.id = "failed"; failed.className = "error"; failed.textContent = end.result.failed;
      status.parentNode.appendChild(failed);
    }
    source.close();
  });
}());

// the balancer's proposals for this account, live (the seed's pop-ups), answered in place as jobs
(function () {
  var box = document.getElementById("proposals");
  if (!box || !window.EventSource) { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]').content;

  function text(tag, value, cls) {
    var el = document.createElement(tag);
    el.textContent = value;
    if (cls) { el.className = cls; }
    return el;
  }

  function answer(form, operation) {
    var body = {operation: operation, id: form.dataset.id};
    var limit = form.querySelector('input[name="limit"]');
    if (operation === "proposal_approve" && limit && limit.value) { body.limit = limit.value; }
    fetch("/api/jobs", {method: "POST", credentials: "same-origin",
                        headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf},
                        body: JSON.stringify(body)})
      .then(function (res) { return res.json().then(function (data) { return [res.status, data]; }); })
      .then(function (r) {
        var note = form.querySelector(".note") || form.appendChild(text("span", "", "note"));
        if (r[0] === 202) {
          note.textContent = "";
          var link = text("a", "job #" + r[1].job);
          link.href = "/jobs/" + r[1].job;
          link.className = "job";
          note.appendChild(link);
          form.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
        } else {
          note.textContent = r[1].error;
          note.className = "note error";
        }
      });
  }

  function render(list) {
    // a card answered on this page stays (with its job's link) after its proposal leaves the pending list
    var answered = {};
    box.querySelectorAll(".proposal").forEach(function (card) {
      if (card.querySelector("a.job")) { answered[card.dataset.proposal] = card; }
    });
    box.textContent = "";
    if (!list.length && !Object.keys(answered).length) {
      box.appendChild(text("p", "No proposals waiting for an answer.", "none"));
      return;
    }
    list.forEach(function (p) {
      if (answered[p.id]) { box.appendChild(answered[p.id]); delete answered[p.id]; return; }
      var card = document.createElement("div");
      card.className = "proposal";
      card.dataset.proposal = p.id;
      card.appendChild(text("p", "#" + p.id + " " + p.kind + " " + p.subject + (p.forced ? " (forced)" : "") +
                                 ": " + p.reason));
      card.appendChild(text("p", JSON.stringify(p.action), "action"));
      var form = document.createElement("form");
      form.className = "inline answer";
      form.dataset.id = p.id;
      if (p.kind === "grow") {
        var label = text("label", "limit ");
        var input = document.createElement("input");
        input.name = "limit"; input.type = "number"; input.min = "1"; input.size = 5;
        label.appendChild(input);
        form.appendChild(label);
      }
      form.appendChild(text("button", "Approve", "approve"));
      form.appendChild(text("button", "Decline", "decline"));
      form.querySelectorAll("button").forEach(function (b) { b.type = "button"; });
      card.appendChild(form);
      box.appendChild(card);
    });
    Object.keys(answered).forEach(function (id) {
      answered[id].classList.add("answered");
      box.appendChild(answered[id]);
    });
  }

  box.addEventListener("click", function (ev) {
    var form = ev.target.closest("form.answer");
    if (!form || ev.target.tagName !== "BUTTON") { return; }
    answer(form, ev.target.classList.contains("approve") ? "proposal_approve" : "proposal_decline");
  });
  var source = new EventSource("/events");
  source.addEventListener("proposals", function (ev) { render(JSON.parse(ev.data)); });
}());

// a migration's progress while its job runs: per cent sent, read on the VM's node every second
(function () {
  var progress = document.getElementById("progress");
  var status = document.getElementById("status");
  if (!progress || !status) { return; }
  var seen = [];
  var timer = setInterval(function () {
    if (["queued", "running"].indexOf(status.textContent) < 0) {
      clearInterval(timer);
      progress.textContent = (seen.length ? "seen " + seen.join("%, ") + "% sent; " : "") +
                             "the result below has its total time and downtime";
      return;
    }
    fetch("/api/vms/" + encodeURIComponent(progress.dataset.vm) + "/progress", {credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (p) {
        if (p.active && p.percent !== null) {
          if (seen[seen.length - 1] !== p.percent) { seen.push(p.percent); }
          progress.textContent = p.percent + " % sent from " + p.node + " (" + Math.round(p.elapsed_s || 0) + " s)";
          progress.dataset.percent = p.percent;
        }
      });
  }, 1000);
}());
