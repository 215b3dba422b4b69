// Parcours pages: the live alert stream. No inline script anywhere (strict CSP); this file
// only adds what the server-rendered page cannot do alone: new alerts without a reload.
(function () {
  "use strict";
  function text(tag, content, className) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    node.textContent = content;
    return node;
  }
  function actionForm(alertId, step, label, csrf) {
    var form = document.createElement("form");
    form.method = "post";
    form.action = "/alertes/" + alertId + "/" + step;
    form.className = "inline";
    var token = document.createElement("input");
    token.type = "hidden"; token.name = "csrf"; token.value = csrf;
    form.appendChild(token);
    var button = text("button", label);
    button.type = "submit";
    form.appendChild(button);
    return form;
  }
  function start() {
    var live = document.getElementById("alertes-live");
    if (!live || !window.EventSource) { return; }
    var list = document.getElementById("liste-alertes");
    var announce = document.getElementById("alertes-annonce");
    var csrfMeta = document.querySelector('meta[name="csrf-token"]');
    var csrf = csrfMeta ? csrfMeta.getAttribute("content") : "";
    var source = new EventSource(live.getAttribute("data-stream"));
    source.addEventListener("alert", function (message) {
      var doc = JSON.parse(message.data);
      var alert = doc.alert;
      if (doc.alert_status !== "open" ||
          list.querySelector('[data-alert-id="' + alert.alert_id + '"]')) { return; }
      var empty = list.querySelector(".empty");
      if (empty) { empty.remove(); }
      var item = document.createElement("li");
      item.className = "alert fresh sev-" + alert.severity;
      item.setAttribute("data-alert-id", alert.alert_id);
      var title = text("h2", " " + alert.title, "alert-title");
      title.insertBefore(text("span", alert.rule, "rule"), title.firstChild);
      item.appendChild(title);
      item.appendChild(text("p", alert.message));
      var meta = text("p", "Nouvelle alerte · ", "meta");
      var link = text("a", "Ouvrir le dossier");
      link.href = "/dossiers/" + alert.pathway_id;
      meta.appendChild(link);
      item.appendChild(meta);
      item.appendChild(actionForm(alert.alert_id, "prise-en-compte", "Prendre en compte", csrf));
      list.insertBefore(item, list.firstChild);
      if (announce) { announce.textContent = "Nouvelle alerte " + alert.rule + " : " + alert.title; }
    });
    source.addEventListener("closed", function (message) {
      // The server ended the stream for a reason (session over, newer stream): say it,
      // and do not reconnect on a session that no longer opens anything.
      source.close();
      if (announce) { announce.textContent = JSON.parse(message.data).message; }
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else { start(); }
})();
