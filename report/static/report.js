// The report's only script: the search page. It reads the index files (search-index-N.js,
// data only) and shows matches with DOM methods (textContent), never as HTML.
"use strict";
(function () {
  var LIMIT = 200;
  var OWN_PAGE = /^[a-z]+(-[0-9]+)?\.html(#[A-Za-z0-9_-]+)?$/;

  function external(url) {
    return /^https?:\/\//i.test(url) ? url : null;
  }

  function item(row) {
    var url = row[0], title = row[1], kind = row[2], where = row[3];
    var li = document.createElement("li");
    var head = document.createElement("div");
    var target = external(url);
    var name = document.createElement(target ? "a" : "span");
    name.textContent = title || url;
    if (target) {
      name.href = target;
      name.rel = "noopener noreferrer";
      name.target = "_blank";
    }
    head.appendChild(name);
    li.appendChild(head);
    var meta = document.createElement("div");
    meta.className = "meta";
    var shown = document.createElement("span");
    shown.className = "url";
    shown.textContent = url;
    meta.appendChild(shown);
    if (where && OWN_PAGE.test(where)) {
      meta.appendChild(document.createTextNode(" · shown in "));
      var link = document.createElement("a");
      link.href = where;
      link.textContent = kind;
      meta.appendChild(link);
    }
    li.appendChild(meta);
    return li;
  }

  function search(rows, query, list, status) {
    while (list.firstChild) list.removeChild(list.firstChild);
    var q = query.trim().toLowerCase();
    if (!q) {
      status.textContent = rows.length + " entries. Type a part of a URL or title.";
      return;
    }
    var found = 0;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i];
      if (String(row[0]).toLowerCase().indexOf(q) >= 0 || String(row[1]).toLowerCase().indexOf(q) >= 0) {
        found++;
        if (found <= LIMIT) list.appendChild(item(row));
      }
    }
    status.textContent = found + " match" + (found === 1 ? "" : "es") +
      (found > LIMIT ? ", the first " + LIMIT + " shown" : "") + ".";
  }

  document.addEventListener("DOMContentLoaded", function () {
    var input = document.getElementById("q");
    if (!input) return;
    var list = document.getElementById("results");
    var status = document.getElementById("status");
    var rows = [].concat.apply([], window.reciteIndex || []);
    var params = new URLSearchParams(window.location.search);
    input.value = params.get("q") || "";
    input.addEventListener("input", function () { search(rows, input.value, list, status); });
    search(rows, input.value, list, status);
    document.body.setAttribute("data-search-ready", String(rows.length));
  });
})();
