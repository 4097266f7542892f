"""The pull-request job's Python steps, called by scripts/ci.sh:

    python -m guidepub.diff.ci export DIFF_JSON OUT      # the head's cached build into OUT (no second build)
    python -m guidepub.diff.ci summary --check N --diff N --check-report MD --diff-summary MD --out MD
    python -m guidepub.diff.ci comment SUMMARY_MD        # one pull-request comment, updated on every push
    python -m guidepub.diff.ci verdict --check N --diff N   # the job's exit status, and why

The comment needs GITHUB_TOKEN with `pull-requests: write`; a pull request
from a fork gets a read-only token, so there the job summary stands alone
(the comment step says so and does not fail the job)."""

from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

MARKER = "<!-- guidepub: guide diff and accessibility check -->"
COMMENT_LIMIT = 65_000          # GitHub refuses a comment over 65,536 characters
SUMMARY_LIMIT = 900_000         # and a step summary over 1 MiB
CHECK_LIMIT = 40_000            # of the check report, in the comment


def export(diff_json: Path, out: Path) -> int:
    from .revisions import export as copy_build
    data = json.loads(diff_json.read_text(encoding="utf-8"))
    head = data.get("head", {})
    folder, commit = head.get("folder"), head.get("commit")
    if not folder or not commit or not (Path(folder) / "manifest.json").is_file():
        print("No cached head build to reuse; check builds the head itself.")
        return 0
    copied = copy_build(Path(folder), out, commit)
    print(f"Reusing the head build ({head.get('label', commit)}): {len(copied)} file(s) into {out}")
    return 0


def _status_word(status: int | None, passed: str, failed: str) -> str:
    if status is None:
        return "did not run"
    return passed if status == 0 else failed if status == 1 else f"error (exit {status})"


def compose(check_status: int | None, diff_status: int | None, check_report: str, diff_summary: str,
            run_url: str = "", limit: int = SUMMARY_LIMIT, check_limit: int | None = None) -> str:
    """The job summary (and comment): a verdict line, the diff's summary,
    then the check report."""
    fail = verdict(check_status, diff_status)[0]
    lines = [MARKER, f"# Guide pull-request check: {'✅ passed' if fail == 0 else '❌ failed'}", "",
             f"- Accessibility check: **{_status_word(check_status, 'passed', 'failed')}**",
             f"- Diff: **{_status_word(diff_status, 'no change the policy fails on', 'changes the policy fails on')}**"]
    if run_url:
        lines.append(f"- Outputs, `report.html` with page pictures, and `diff.json`: [this run's artifacts]({run_url})")
    lines.append("")
    check_text = check_report.strip() or "_No check report: the check did not run to the end (see the log)._"
    if check_limit is not None and len(check_text) > check_limit:
        check_text = check_text[:check_limit] + "\n\n… cut; the whole report is in the job summary and artifacts."
    diff_text = diff_summary.strip() or "_No diff summary: the diff did not run to the end (see the log)._"
    body = "\n".join(lines) + "\n" + _demote(diff_text) + "\n\n" + _demote(check_text) + "\n"
    if len(body) > limit:
        body = body[:limit - 120] + "\n\n… cut to fit; the artifacts hold every report in full.\n"
    return body


def _demote(markdown: str) -> str:
    """The check report's headings one level down, under this summary's."""
    return "\n".join("#" + line if line.startswith("#") else line for line in markdown.splitlines())


def verdict(check_status: int | None, diff_status: int | None) -> tuple[int, list[str]]:
    """The job fails when the check fails, when the diff finds kinds the
    --fail-on policy names (exit 1), or when either could not run."""
    reasons = []
    if check_status != 0:
        reasons.append("the accessibility check failed" if check_status == 1 else
                       f"the accessibility check did not run to the end (exit {check_status})")
    if diff_status == 1:
        reasons.append("the diff found changes of kinds the --fail-on policy names")
    elif diff_status != 0:
        reasons.append(f"the diff could not be made (exit {diff_status})")
    return (1 if reasons else 0), reasons


# --- the pull-request comment ------------------------------------------------

class GitHub:
    def __init__(self, api: str, token: str, opener=urllib.request.urlopen) -> None:
        self.api, self.token, self.opener = api.rstrip("/"), token, opener

    def call(self, method: str, path: str, body: dict | None = None):
        request = urllib.request.Request(
            self.api + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/vnd.github+json",
                     "X-GitHub-Api-Version": "2022-11-28", "Content-Type": "application/json",
                     "User-Agent": "guidepub-ci"})
        with self.opener(request, timeout=30) as response:
            return json.loads(response.read() or b"null")


def upsert_comment(body: str, env: dict | None = None, opener=urllib.request.urlopen) -> str:
    """Create the pull request's one comment, or update it: the comment that
    starts with MARKER. Returns what was done, in a sentence."""
    env = os.environ if env is None else env
    token, repo = env.get("GITHUB_TOKEN", ""), env.get("GITHUB_REPOSITORY", "")
    event_path = env.get("GITHUB_EVENT_PATH", "")
    if not token or not repo or not event_path or not Path(event_path).is_file():
        return "No comment: not a GitHub pull-request run with a token (the job summary has the reports)."
    event = json.loads(Path(event_path).read_text(encoding="utf-8"))
    pr = event.get("pull_request") or {}
    if not pr.get("number"):
        return "No comment: this run is not for a pull request."
    head_repo = ((pr.get("head") or {}).get("repo") or {}).get("full_name")
    if head_repo != repo:
        return (f"No comment: the pull request comes from a fork ({head_repo or 'deleted'}), whose token "
                "cannot write comments; the job summary has the reports.")
    if not body.startswith(MARKER):
        body = MARKER + "\n" + body
    if len(body) > COMMENT_LIMIT:
        body = body[:COMMENT_LIMIT - 100] + "\n\n… cut to fit a comment; the job summary has the rest.\n"
    github = GitHub(env.get("GITHUB_API_URL", "https://api.github.com"), token, opener)
    number = pr["number"]
    try:
        existing = None
        for page in range(1, 21):
            comments = github.call("GET", f"/repos/{repo}/issues/{number}/comments?per_page=100&page={page}")
            existing = next((c for c in comments or [] if (c.get("body") or "").startswith(MARKER)), None)
            if existing or not comments or len(comments) < 100:
                break
        if existing:
            github.call("PATCH", f"/repos/{repo}/issues/comments/{existing['id']}", {"body": body})
            return f"Updated the pull request's comment {existing['id']}."
        made = github.call("POST", f"/repos/{repo}/issues/{number}/comments", {"body": body})
        return f"Commented on the pull request ({(made or {}).get('id', '?')})."
    except urllib.error.HTTPError as exc:
        if exc.code in (401, 403, 404):
            return (f"No comment: the token may not write to the pull request (HTTP {exc.code}); the job summary "
                    "has the reports.")
        return f"No comment: GitHub answered HTTP {exc.code}; the job summary has the reports."
    except (urllib.error.URLError, OSError, ValueError) as exc:
        return f"No comment: GitHub could not be reached ({exc}); the job summary has the reports."


def _read(path: str | None) -> str:
    if not path:
        return ""
    try:
        return Path(path).read_text(encoding="utf-8")
    except OSError:
        return ""


def _status(text: str | None) -> int | None:
    return int(text) if text not in (None, "") else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m guidepub.diff.ci")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export")
    p.add_argument("diff_json", type=Path)
    p.add_argument("out", type=Path)
    for name in ("summary", "verdict"):
        p = sub.add_parser(name)
        p.add_argument("--check", default=None)
        p.add_argument("--diff", default=None)
        if name == "summary":
            p.add_argument("--check-report")
            p.add_argument("--diff-summary")
            p.add_argument("--out", type=Path, required=True)
    p = sub.add_parser("comment")
    p.add_argument("summary", type=Path)
    args = parser.parse_args(argv)
    if args.command == "export":
        return export(args.diff_json, args.out)
    if args.command == "verdict":
        status, reasons = verdict(_status(args.check), _status(args.diff))
        print("The job passes." if status == 0 else "The job fails: " + "; ".join(reasons) + ".")
        return status
    if args.command == "summary":
        env = os.environ
        run_url = (f"{env['GITHUB_SERVER_URL']}/{env['GITHUB_REPOSITORY']}/actions/runs/{env['GITHUB_RUN_ID']}"
                   if all(env.get(k) for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID")) else "")
        check, diff = _status(args.check), _status(args.diff)
        text = compose(check, diff, _read(args.check_report), _read(args.diff_summary), run_url)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text, encoding="utf-8")
        comment = compose(check, diff, _read(args.check_report), _read(args.diff_summary), run_url,
                          limit=COMMENT_LIMIT, check_limit=CHECK_LIMIT)
        args.out.with_suffix(".comment.md").write_text(comment, encoding="utf-8")
        if env.get("GITHUB_STEP_SUMMARY"):
            with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as handle:
                handle.write(text)
            print(f"Wrote the job summary ({len(text):,} characters).")
        return 0
    body = _read(str(args.summary))
    print(upsert_comment(body))
    return 0


if __name__ == "__main__":
    sys.exit(main())
