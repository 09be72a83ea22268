/* Search on the static site: the prebuilt Lunr index of this language (search-index.js,
   window.CMX_SEARCH), queried with words folded and stemmed as cmx built the index.
   Results are built with DOM nodes and textContent: no HTML from the data. */
(function () {
  "use strict";
  var data = window.CMX_SEARCH;
  var form = document.getElementById("search-form");
  var input = document.getElementById("q");
  var statusLine = document.getElementById("search-status");
  var list = document.getElementById("results");
  if (!data || !form || !window.lunr) { return; }
  var index = lunr.Index.load(data.index);
  var keep = new Set(data.keep ? data.keep.split(" ") : []);
  var stop = new Set(data.stop);

  function fold(word) {
    return word.toLowerCase().replace(/œ/g, "oe").replace(/æ/g, "ae").replace(/ß/g, "ss")
      .normalize("NFD").replace(/[\u0300-\u036f]/g, "")
      .replace(/^[^a-z0-9]+|[^a-z0-9]+$/g, "");
  }
  function stem(word) {
    if (Object.prototype.hasOwnProperty.call(data.stems, word)) { return data.stems[word]; }
    if (keep.has(word)) { return word; }
    var stemmer = data.lang === "en" ? lunr.stemmer : (lunr[data.lang] || {}).stemmer;
    return stemmer ? stemmer(new lunr.Token(word)).toString() : word;
  }
  function terms(text) {
    var words = text.split(/[\s\-'’\/]+/).map(fold).filter(Boolean);
    var kept = words.filter(function (w) { return !stop.has(w); });
    return (kept.length ? kept : words).map(function (w) {
      return { word: w, stem: stem(w) };
    });
  }
  function search(text) {
    var wanted = terms(text);
    if (!wanted.length) { return []; }
    var hits = index.query(function (q) {
      wanted.forEach(function (t) {
        q.term(t.stem, { usePipeline: false, boost: 10 });
        q.term(t.word, { usePipeline: false, boost: 1, wildcard: lunr.Query.wildcard.TRAILING });
      });
    });
    return hits.filter(function (hit) {  // every word must match (as a stem or a prefix)
      var found = Object.keys(hit.matchData.metadata);
      return wanted.every(function (t) {
        return found.some(function (m) { return m === t.stem || m.indexOf(t.word) === 0; });
      });
    });
  }
  function show(text) {
    while (list.firstChild) { list.removeChild(list.firstChild); }
    if (!text.trim()) { statusLine.textContent = ""; return; }
    var hits = search(text);
    statusLine.textContent = hits.length ? data.ui.results.replace("{n}", String(hits.length)) : data.ui.none;
    hits.slice(0, 50).forEach(function (hit) {
      var doc = data.docs[hit.ref];
      var li = document.createElement("li");
      var h = document.createElement("h2");
      var a = document.createElement("a");
      a.href = hit.ref;
      a.textContent = doc[0];
      h.appendChild(a);
      var kind = document.createElement("p");
      kind.className = "kind";
      kind.textContent = doc[1];
      var snippet = document.createElement("p");
      snippet.textContent = doc[2] + (doc[2].length >= 180 ? "…" : "");
      li.appendChild(h);
      li.appendChild(kind);
      li.appendChild(snippet);
      list.appendChild(li);
    });
  }
  var query = new URLSearchParams(window.location.search).get("q") || "";
  input.value = query;
  show(query);
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    show(text);
    if (window.history && window.history.replaceState) {
      try { window.history.replaceState(null, "", "?q=" + encodeURIComponent(text)); } catch (e) { /* file:// may refuse */ }
    }
  });
}());
