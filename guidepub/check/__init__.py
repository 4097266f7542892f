"""Stage 4: prove accessibility. `run()` checks the source, the PDF and the
EPUB, and returns a Report of findings, each with a stable code and a fix hint.

One module a family of checks: content (the source), pdf (PDF/UA-1 structure),
epub (EPUBCheck and Ace by DAISY), parity (the two formats agree), metadata
(the EPUB's accessibility claims are true), web (the web edition in Chromium)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ..outputs import atomic_path


@dataclass
class Finding:
    code: str
    message: str
    hint: str
    where: str = ""            # file:line, "page 3", or a file inside the EPUB

    def __str__(self) -> str:
        place = f"{self.where}: " if self.where else ""
        return f"{place}{self.code} {self.message} — {self.hint}"


@dataclass
class CheckResult:
    name: str                  # content, pdf, epub, parity, metadata
    title: str
    findings: list[Finding] = field(default_factory=list)
    facts: dict = field(default_factory=dict)     # what was measured, for the report

    @property
    def passed(self) -> bool:
        return not self.findings

    def add(self, code: str, message: str, hint: str, where: str = "") -> None:
        self.findings.append(Finding(code, message, hint, where))


@dataclass
class Report:
    results: list[CheckResult]
    checked: tuple = ()      # (guide, outputs, keys): the record the next build's statement reads (record.py)

    @property
    def passed(self) -> bool:
        return all(r.passed for r in self.results)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]

    def to_json(self) -> str:
        return json.dumps({"passed": self.passed,
                           "checks": [asdict(r) | {"passed": r.passed} for r in self.results]},
                          indent=2, ensure_ascii=False) + "\n"

    def to_markdown(self) -> str:
        lines = ["# Accessibility check", "",
                 f"**{'Passed' if self.passed else 'Failed'}**: "
                 f"{len(self.findings)} finding(s).", "",
                 "| check | result | findings |", "|---|---|---|"]
        lines += [f"| {r.title} | {'pass' if r.passed else 'FAIL'} | {len(r.findings)} |"
                  for r in self.results]
        for r in self.results:
            if r.findings:
                lines += ["", f"## {r.title}", ""]
                lines += [f"- `{f.code}` {f.where + ': ' if f.where else ''}{f.message} "
                          f"*Fix:* {f.hint}" for f in r.findings]
        return "\n".join(lines) + "\n"

    def write(self, out: Path) -> tuple[Path, Path]:
        json_path, md_path = out / "check-report.json", out / "check-report.md"
        for path, text in ((json_path, self.to_json()), (md_path, self.to_markdown())):
            with atomic_path(path) as tmp:
                tmp.write_text(text, encoding="utf-8")
        if self.checked:
            from .record import write
            write(out, *self.checked, results=self.results)
        return json_path, md_path


def run(guide, outputs: dict[str, Path], step=lambda _message: None) -> Report:
    """Run every check on a built guide: the content, every PDF variant's
    structure, the EPUB, and the parity of the page-source PDF and the EPUB.
    The metadata check runs after the PDF and EPUB checks: a conformance
    claim is only true when they all passed. The web edition's checks follow
    when it was built (the EPUB's claim is about the EPUB)."""
    from .content import check_content
    from .epub import check_epub
    from .metadata import check_metadata
    from .parity import check_parity
    from .pdf import check_pdf
    from .print import check_print, is_print_ready
    from .sizes import check_text_sizes

    from .record import inputs
    keys = inputs(guide)        # what was built, for the record of this check
    source = guide.page_source.name
    epub = next(outputs[v.name] for v in guide.variants if v.format == "epub" and v.name in outputs)
    step("Checking the content (lint)")
    results = [check_content(guide)]
    trees: dict = {}
    for variant in guide.variants:
        if variant.format == "pdf" and variant.name in outputs:
            step(f"Checking the PDF structure (PDF/UA-1): {variant.title}")
            result = check_text_sizes(check_pdf(outputs[variant.name], guide, epub, trees),
                                      outputs[variant.name], variant)
            if is_print_ready(variant):        # boxes, marks and PDF/X-4 (print.py)
                check_print(outputs[variant.name], result)
            if variant.name != source:
                result.name, result.title = f"pdf-{variant.name}", f"{result.title}: {variant.title}"
            results.append(result)
    if len(trees) > 1:                  # every PDF edition has the same tag tree (check/structure.py)
        from .structure import compare_editions
        pdf_results = [r for r in results if r.name.startswith("pdf")]
        named = {next(v.title for v in guide.variants if outputs.get(v.name) == path): (path, tags)
                 for path, tags in trees.items()}
        compare_editions(named, pdf_results[-1])
    step("Checking the EPUB with EPUBCheck and Ace by DAISY")
    results.append(check_epub(epub))
    step("Checking that the PDF and the EPUB agree, and the metadata")
    results.append(check_parity(outputs[source], epub))
    results.append(check_metadata(epub, other_checks_passed=all(r.passed for r in results)))
    # The web edition, when it was built: in Chromium (web.py), and against the EPUB.
    for variant in guide.variants:
        if variant.format == "web" and variant.name in outputs:
            from .parity import check_web_parity
            from .web import check_web
            step("Checking the web edition in Chromium (axe-core, reflow, text spacing, keyboard)")
            results.append(check_web(outputs[variant.name]))
            results.append(check_web_parity(outputs[variant.name], epub))
    return Report(results, checked=(guide, outputs, keys))
