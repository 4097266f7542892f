"""The web edition: a static site that needs no JavaScript to read, with
offline search (site.py builds it, glossary.py links the glossary's terms,
search.py makes the search index, downloads.py lists the other editions),
and `serve`, a live preview for editors (serve.py)."""

from .site import build_site

__all__ = ["build_site"]

