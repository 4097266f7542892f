/* Offline search for this guide: it enhances the plain form on search.html.
   Without this script the form still works: it reloads search.html, which
   lists every heading of the guide. The index was made when the guide was
   built (search-index.js); nothing is fetched from anywhere. */
(function () {
  "use strict";
  var data = window.guideSearch;
  var form = document.querySelector(".search-page-form");
  var input = document.getElementById("search--q");
  var results = document.getElementById("search--results");
  if (!data || !window.lunr || !form || !input || !results || !window.URLSearchParams) {
    return;
  }
  var index = window.lunr.Index.load(data.index);
  var note = document.getElementById("search--no-script");
  if (note) {
    note.hidden = true;
  }
  // Announced by screen readers when a search finishes.
  var status = document.createElement("p");
  status.className = "search-status visually-hidden";
  status.setAttribute("role", "status");
  results.parentNode.insertBefore(status, results);

  function find(text) {
    var tokens = window.lunr.tokenizer(text);
    if (!tokens.length) {
      return [];
    }
    try {
      return index.query(function (query) {
        tokens.forEach(function (token) {
          var term = token.toString();
          query.term(term, { boost: 10 });
          query.term(term, { usePipeline: false, wildcard: window.lunr.Query.wildcard.TRAILING });
        });
      });
    } catch (error) {
      return [];
    }
  }

  function element(name, className, text) {
    var made = document.createElement(name);
    if (className) {
      made.className = className;
    }
    if (text) {
      made.textContent = text;
    }
    return made;
  }

  function show(text) {
    var found = find(text);
    while (results.firstChild) {
      results.removeChild(results.firstChild);
    }
    var said = found.length === 1 ? "1 result" : found.length + " results";
    var heading = element("h2", "search-results-title", found.length ? said + " for “" + text + "”"
      : "No results for “" + text + "”");
    heading.id = "search--results-title";
    heading.tabIndex = -1;
    results.appendChild(heading);
    if (!found.length) {
      results.appendChild(element("p", "", "Try other or fewer words, or look through every heading below."));
    } else {
      var list = element("ol", "search-result-list");
      found.slice(0, 50).forEach(function (result) {
        var shown = data.store[result.ref] || [result.ref, "", ""];
        var item = element("li", "search-result");
        var link = element("a", "", shown[0]);
        link.href = result.ref;
        item.appendChild(link);
        item.appendChild(element("span", "search-result-page", shown[1]));
        if (shown[2]) {
          item.appendChild(element("p", "search-result-excerpt", shown[2]));
        }
        list.appendChild(item);
      });
      results.appendChild(list);
    }
    status.textContent = heading.textContent;
    return heading;
  }

  var asked = new window.URLSearchParams(window.location.search).get("q");
  if (asked && asked.trim()) {
    input.value = asked;
    show(asked.trim());
  }
  form.addEventListener("submit", function (event) {
    var text = input.value.trim();
    if (!text) {
      return;
    }
    event.preventDefault();
    if (window.history && window.history.replaceState) {
      window.history.replaceState(null, "", "search.html?q=" + encodeURIComponent(text));
    }
    show(text).focus();
  });
}());
