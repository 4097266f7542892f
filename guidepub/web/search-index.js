// Builds the web edition's search index with lunr, at build time
// (guidepub/web/search.py runs it). Reads {language, docs: [{ref, title,
// page, body}]} as JSON on stdin; writes lunr's serialised index on stdout.
// The same input gives the same output: lunr sorts what it serialises.
"use strict";
const lunr = require("lunr");

let input = "";
process.stdin.setEncoding("utf8");
process.stdin.on("data", (chunk) => { input += chunk; });
process.stdin.on("end", () => {
  const data = JSON.parse(input);
  const english = /^en\b/i.test(data.language || "");
  const index = lunr(function () {
    if (!english) {
      // lunr stems and drops stop words for English only: elsewhere keep whole words.
      this.pipeline.remove(lunr.stemmer);
      this.pipeline.remove(lunr.stopWordFilter);
      this.searchPipeline.remove(lunr.stemmer);
    }
    this.ref("ref");
    this.field("title", { boost: 10 });
    this.field("page", { boost: 2 });
    this.field("body");
    for (const doc of data.docs) {
      this.add(doc);
    }
  });
  process.stdout.write(JSON.stringify(index));
});
