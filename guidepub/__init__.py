"""guidepub: publish a resource guide written in YAML and Markdown as an
accessible PDF (PDF/UA-1) and EPUB 3.

The stages, in the order data flows:

    load    content/ -> validated Guide (model.py)
    render  Guide -> semantic HTML/XHTML through Jinja templates
    pdf     HTML -> PDF/UA-1 with WeasyPrint (guidepub/pdf/: layout, tags, fix-ups)
    epub    XHTML -> EPUB 3 with ebooklib
    check   prove accessibility of the outputs (check/)
    diff    show what a change did to the outputs (diff/)

`pipeline.build()` tells the story of a build in one function.
"""

__version__ = "0.1.0"
