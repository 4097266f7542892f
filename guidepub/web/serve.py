"""`python build.py serve`: a live preview of the web edition for editors.

It builds the web edition (and any `--variant` named too), serves it on
loopback (127.0.0.1, a free port unless `--port` is given; `--host` to
bind elsewhere), and rebuilds what changed whenever a file under content/,
templates/ or styles/ is saved, through the build cache like `watch`. The
page open in a browser reloads itself after each rebuild: the server adds a
small script to every page it sends (never to the built files) that polls
/__serve/state. A failed build is shown in the page, and in the terminal,
one line a problem with its file:line; the last good site stays served.
When another build writes new PDFs or an EPUB into the output folder, the
site is rebuilt so its download links offer the latest ones. Ctrl+C (or
SIGTERM, SIGHUP) stops it cleanly, during a rebuild too."""

from __future__ import annotations

import html
import json
import posixpath
import threading
import time
import traceback
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable
from urllib.parse import unquote, urlsplit

from watchfiles import DefaultFilter
from watchfiles import watch as watch_files

from ..errors import GuideError
from ..load import load
from ..pipeline import Project, build, choose, output_name

STATE = "/__serve/state"
TYPES = {".html": "text/html; charset=utf-8", ".css": "text/css; charset=utf-8",
         ".js": "text/javascript; charset=utf-8", ".svg": "image/svg+xml", ".png": "image/png",
         ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".woff2": "font/woff2", ".pdf": "application/pdf",
         ".epub": "application/epub+zip", ".json": "application/json", ".ico": "image/x-icon"}
RELOAD = """<script>
/* Added by `build.py serve` only: reload when the guide has been rebuilt. */
(function () {
  var version = %d;
  function poll() {
    fetch("%s", { cache: "no-store" }).then(function (answer) { return answer.json(); })
      .then(function (state) {
        if (state.version !== version) { window.location.reload(); } else { setTimeout(poll, 400); }
      }, function () { setTimeout(poll, 1500); });
  }
  setTimeout(poll, 400);
}());
</script>
"""


@dataclass
class State:
    """What the server shows, changed by the build loop."""

    site: Path | None = None            # the web edition's folder
    version: int = 0                    # goes up after every build, good or bad
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def update(self, site: Path | None = None, errors: list[str] | None = None) -> None:
        with self.lock:
            if site is not None:
                self.site = site
            self.errors = errors or []
            self.version += 1

    def snapshot(self) -> tuple[Path | None, int, list[str]]:
        with self.lock:
            return self.site, self.version, list(self.errors)


def _handler(state: State):
    class Handler(BaseHTTPRequestHandler):
        server_version = "guidepub-serve"

        def log_message(self, *args) -> None:
            pass

        def do_HEAD(self) -> None:
            self.do_GET(body=False)

        def do_GET(self, body: bool = True) -> None:
            site, version, errors = state.snapshot()
            path = unquote(urlsplit(self.path).path)
            if path == STATE:
                return self._send(HTTPStatus.OK, "application/json",
                                  json.dumps({"version": version, "errors": errors}).encode(), body)
            file = _file(site, path)
            if file is None:
                if site is None or not (site / "index.html").is_file():
                    page = _error_page(errors or ["The web edition is being built…"], version)
                    return self._send(HTTPStatus.SERVICE_UNAVAILABLE, TYPES[".html"], page, body)
                return self._send(HTTPStatus.NOT_FOUND, TYPES[".html"],
                                  _with_reload(b"<!DOCTYPE html><html lang=\"en\"><head><title>Not found</title>"
                                               b"</head><body><main><h1>Not found</h1><p><a href=\"/\">The start "
                                               b"page</a></p></main></body></html>", errors, version), body)
            try:
                data = file.read_bytes()
            except OSError:             # replaced by a rebuild just now: the page reloads anyway
                return self._send(HTTPStatus.SERVICE_UNAVAILABLE, "text/plain", b"Rebuilding", body)
            kind = TYPES.get(file.suffix.lower(), "application/octet-stream")
            if file.suffix == ".html":
                data = _with_reload(data, errors, version)
            return self._send(HTTPStatus.OK, kind, data, body)

        def _send(self, status, kind: str, data: bytes, body: bool) -> None:
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            if body:
                self.wfile.write(data)

    return Handler


def _file(site: Path | None, path: str) -> Path | None:
    """The file of the site a request asks for; None for anything outside
    it, hidden, or missing."""
    if site is None:
        return None
    parts = [p for p in posixpath.normpath(path).split("/") if p and p != "."]
    if any(p.startswith(".") or p == ".." for p in parts):
        return None
    file = site.joinpath(*parts) if parts else site
    if file.is_dir():
        file = file / "index.html"
    try:
        resolved = file.resolve()
        if not resolved.is_relative_to(site.resolve()) or not resolved.exists():
            return None
    except OSError:
        return None
    return file


def _errors_html(errors: list[str]) -> str:
    if not errors:
        return ""
    items = "".join(f"<li><code>{html.escape(line)}</code></li>" for line in errors)
    return ('<div role="alert" style="background:#fff;color:#000;border:4px solid #d4351c;margin:0;'
            'padding:1rem 1.25rem;font:1rem/1.5 sans-serif;overflow-wrap:anywhere">'
            '<h2 style="margin:0 0 0.5rem;font-size:1.25rem">The last build failed; this is the last good '
            f'one</h2><ul style="margin:0;padding-left:1.25rem">{items}</ul></div>')


def _with_reload(page: bytes, errors: list[str], version: int) -> bytes:
    """The page with the error list (if any) first in its body and the
    reload script last."""
    text = page.decode("utf-8", "replace")
    script = RELOAD % (version, STATE)
    at = text.rfind("</body>")
    text = text[:at] + script + text[at:] if at >= 0 else text + script
    shown = _errors_html(errors)
    if shown:
        start = text.find("<body")
        end = text.find(">", start) + 1 if start >= 0 else 0
        text = text[:end] + shown + text[end:]
    return text.encode("utf-8")


def _error_page(errors: list[str], version: int) -> bytes:
    return _with_reload(b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\" /><title>Build failed"
                        b"</title></head><body></body></html>", errors, version)


def problem_lines(exc: BaseException, root: Path) -> list[str]:
    """Lines for the terminal and the page, each with its file:line."""
    if isinstance(exc, GuideError):
        return [str(p) for p in exc.problems]
    import jinja2
    if isinstance(exc, jinja2.TemplateSyntaxError):
        return [f"{exc.filename or exc.name}:{exc.lineno}: TEMPLATE {exc.message} — fix the template and save it"]
    if isinstance(exc, jinja2.TemplateError):
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if f.filename.endswith(".j2")]
        where = f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""
        return [f"{where}TEMPLATE {type(exc).__name__}: {exc} — fix the template and save it"]
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if Path(f.filename).is_relative_to(root)]
    where = f"{frames[-1].filename}:{frames[-1].lineno}: " if frames else ""
    return [f"{where}BUILD-ERROR {type(exc).__name__}: {exc} — the build stopped here; the last good site "
            "is still served"]


def run(project: Project, variants: list[str] | None, say: Callable[[str], None], host: str = "127.0.0.1",
        port: int = 0, stop: threading.Event | None = None) -> None:
    """Serve the web edition until `stop` is set or a signal stops it."""
    state = State()
    server = ThreadingHTTPServer((host, port), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="serve", daemon=True)
    thread.start()
    try:
        shown_host = f"[{host}]" if ":" in host else host
        say(f"Serving the web edition at http://{shown_host}:{server.server_address[1]}/ (Ctrl+C stops)")
        if host not in ("127.0.0.1", "localhost", "::1"):
            say(f"Note: bound to {host}, not loopback: anyone who can reach this address can read the guide")
        project.out.mkdir(parents=True, exist_ok=True)
        ours = _rebuild(project, variants, state, say)
        folders = [project.content, project.templates, project.styles, project.out]
        say(f"Watching {', '.join(str(f) for f in folders[:3])} (and new editions in {project.out})")
        for changes in watch_files(*folders, watch_filter=_filter(project.out), stop_event=stop,
                                   debounce=300, raise_interrupt=True):
            paths = {Path(path) for _, path in changes}
            if paths == {project.out / "manifest.json"} and _manifest(project.out) == ours:
                continue                                # our own build's manifest
            say(f"Changed: {', '.join(sorted(p.name for p in paths))}")
            ours = _rebuild(project, variants, state, say)
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def _chosen(project: Project, variants: list[str] | None) -> tuple[list[str], Path]:
    """The guide's web edition and any --variant named too; the site's folder."""
    guide = load(project.content, project.styles / "brand.yaml")
    webs = [v for v in guide.variants if v.format == "web"]
    if not webs:
        raise GuideError.one("VARIANT-UNKNOWN", "this guide builds no web edition",
                             hint="add `web` to `editions` in guide.yaml, or leave `editions` out")
    names = [webs[0].name, *[v for v in (variants or []) if v != webs[0].name]]
    choose(guide, names)                    # an unknown --variant is VARIANT-UNKNOWN
    return names, project.out / output_name(guide.meta.slug, guide.meta.edition.number, webs[0].name, "web")


def _rebuild(project: Project, variants: list[str] | None, state: State, say) -> bytes | None:
    started = time.perf_counter()
    try:
        names, site = _chosen(project, variants)
        built = build(project, names)
    except Exception as exc:          # noqa: BLE001 - an editor's mistake must not stop the preview
        lines = problem_lines(exc, project.root)
        for line in lines:
            say(line)
        say(f"Build failed ({len(lines)} problem(s)); the last good site is still served. Watching…")
        state.update(errors=lines)
        return _manifest(project.out)
    fresh = sorted(set(built.outputs) - built.reused)
    say(f"Rebuilt {', '.join(fresh) or 'nothing (no output affected)'} in "
        f"{time.perf_counter() - started:.1f} s. Watching…")
    state.update(site=site)
    return _manifest(project.out)


def _manifest(out: Path) -> bytes | None:
    try:
        return (out / "manifest.json").read_bytes()
    except OSError:
        return None


def _filter(out: Path):
    """Every saved file under the guide's folders (as watch sees them), and
    only manifest.json in the output folder: a new edition written there."""
    default = DefaultFilter()
    out = out.resolve()

    def keep(change, path: str) -> bool:
        p = Path(path).resolve()
        if p.parent == out:
            return p.name == "manifest.json"
        if out in p.parents:
            return False
        return default(change, path)
    return keep
