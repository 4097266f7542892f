"""The print-ready edition (guidepub/pdf/printready.py) and its check
(guidepub/check/print.py): exact boxes, crop marks in the slug beyond the
bleed, PDF/X-4 beside PDF/UA-1, the same bytes from every build; and each
of the check's codes shown failing on a damaged copy."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pikepdf
import pypdfium2 as pdfium
import pytest

from conftest import MINI, ROOT
from guidepub.check.pdf import check_pdf
from guidepub.check.print import check_print, is_print_ready
from guidepub.pdf.printready import MM, xmp_rdf, xmp_value
from guidepub.pdf.tagtree import read_tags
from guidepub.pipeline import Project, build

A4 = [0, 0, 210 * MM, 297 * MM]
BLEED, MEDIA = 3 * MM, 13 * MM


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return build(Project.at(ROOT, MINI, tmp_path_factory.mktemp("printready")), ["screen", "print"])


@pytest.fixture(scope="module")
def printed(built):
    return built.outputs["print"]


def boxes(page, key):
    return [float(v) for v in page.obj[key]]


def test_boxes_are_exact_on_every_page(printed):
    with pikepdf.open(printed) as pdf:
        for page in pdf.pages:
            assert boxes(page, "/TrimBox") == pytest.approx(A4, abs=1e-5)
            grown = [A4[0] - BLEED, A4[1] - BLEED, A4[2] + BLEED, A4[3] + BLEED]
            assert boxes(page, "/BleedBox") == pytest.approx(grown, abs=1e-5)
            grown = [A4[0] - MEDIA, A4[1] - MEDIA, A4[2] + MEDIA, A4[3] + MEDIA]
            assert boxes(page, "/MediaBox") == pytest.approx(grown, abs=1e-5)
            assert "/CropBox" not in page.obj and "/ArtBox" not in page.obj


def render(path, index, dpi=300):
    """Page `index` at `dpi`, the whole MediaBox; and a function from a point
    in PDF user space to that point's pixel."""
    document = pdfium.PdfDocument(str(path))
    page = document[index]
    left, bottom, _, top = page.get_mediabox()
    image = page.render(scale=dpi / 72).to_pil().convert("RGB")
    document.close()
    return image, lambda x, y: image.getpixel((round((x - left) * dpi / 72), round((top - y) * dpi / 72)))


def darkest(pixel_at, points):
    return min(min(pixel_at(x, y)) for x, y in points)


def test_marks_are_visible_in_the_slug_beyond_the_cover_colour(printed):
    """Looked at as a printer would: the cover colour runs 3 mm past the
    trim and stops; white follows; then the crop marks, in line with the
    trim, from 5 to 10 mm out."""
    _, pixel = render(printed, 0)
    blue = pixel(-1.5 * MM, -1.5 * MM)
    assert blue[2] > 150 and blue[0] < 60, blue                       # the bleed: cover colour
    assert pixel(-4 * MM, -4 * MM) == (255, 255, 255)                 # beyond it: paper
    assert pixel(-4 * MM, 0) == (255, 255, 255)                       # before the mark starts
    mark = [(-x * MM, dy) for x in (6, 7.5, 9) for dy in (-0.2, 0, 0.2)]
    assert darkest(pixel, mark) < 120                                 # the mark, on the trim line
    assert pixel(-11 * MM, 0) == (255, 255, 255)                      # and where it ends
    _, pixel = render(printed, 4)                                     # a page of text
    assert pixel(-1.5 * MM, 400) == (255, 255, 255)                   # no colour in its bleed
    assert darkest(pixel, [(A4[2] + 7.5 * MM, A4[3] + dy) for dy in (-0.2, 0, 0.2)]) < 120


def test_content_text_and_tags_do_not_move(built, printed):
    """Every character sits where it sits in the screen edition (the same
    layout), relative to the trim box; the tag tree reads the same."""
    screen = built.outputs["screen"]
    one, other = pdfium.PdfDocument(str(screen)), pdfium.PdfDocument(str(printed))
    try:
        assert len(one) == len(other)
        for a, b in zip(one, other):
            ta, tb = a.get_textpage(), b.get_textpage()
            assert ta.get_text_range() == tb.get_text_range()
            assert [ta.get_charbox(i) for i in range(ta.count_chars())] == \
                   [tb.get_charbox(i) for i in range(tb.count_chars())]
    finally:
        one.close(), other.close()
    roles = [(n.role, n.all_text()) for n in read_tags(screen).walk()]
    assert [(n.role, n.all_text()) for n in read_tags(printed).walk()] == roles
    assert ("Link", "the second chapter") in roles


def test_links_go_with_their_references_in_the_tag_tree(printed):
    """PDF/X keeps annotations out of the bleed box: the print edition has
    none, and no object reference or parent tree entry points at one."""
    with pikepdf.open(printed) as pdf:
        assert not any("/Annots" in page.obj for page in pdf.pages)
        tree = pdf.Root.StructTreeRoot
        stack, seen = [tree.K], set()
        while stack:
            obj = stack.pop()
            if isinstance(obj, pikepdf.Array):
                stack.extend(obj)
            elif isinstance(obj, pikepdf.Dictionary):
                assert obj.get("/Type") != "/OBJR"
                if obj.is_indirect and obj.objgen in seen:
                    continue
                seen.add(obj.objgen)
                if "/K" in obj and obj.get("/Type") != "/MCR":
                    stack.append(obj.K)
        values = list(tree.ParentTree.Nums)[1::2]
        assert all(isinstance(v, pikepdf.Array) for v in values)      # pages' marked content only


def test_the_file_is_pdfx4_as_well_as_pdfua1(printed):
    with pikepdf.open(printed) as pdf:
        assert pdf.pdf_version == "1.6" and not pdf.is_encrypted and "/ID" in pdf.trailer
        info = pdf.docinfo
        assert info.Trapped == "/False" and info.GTS_PDFXVersion == "PDF/X-4"
        rdf = xmp_rdf(pdf)
        assert xmp_value(rdf, "pdfxid:GTS_PDFXVersion") == "PDF/X-4"
        assert xmp_value(rdf, "pdfuaid:part") == "1"                 # still PDF/UA-1
        assert xmp_value(rdf, "dc:title") == str(info.Title)
        assert xmp_value(rdf, "xmpMM:DocumentID").startswith("uuid:")
        [intent] = pdf.Root.OutputIntents
        assert intent.S == "/GTS_PDFX" and intent.OutputConditionIdentifier == "sRGB IEC61966-2.1"
        profile = intent.DestOutputProfile.read_bytes()
        assert profile[36:40] == b"acsp" and profile[16:20] == b"RGB " and intent.DestOutputProfile.N == 3
        assert "/Filter" not in pdf.Root.Metadata                     # XMP readable as it is
    assert check_print(printed).findings == []


def test_the_print_edition_adds_no_pdfua_finding(built, printed):
    """Whatever check/pdf.py says of the screen edition, it says of this
    one: the boxes, marks and PDF/X identification cost no PDF/UA-1."""
    codes = lambda path: sorted((f.code, f.where) for f in check_pdf(path, built.guide).findings)
    assert codes(printed) == codes(built.outputs["screen"])


def test_two_builds_give_the_same_bytes(printed, tmp_path):
    """In another process, time zone and hash seed (the dates come from
    SOURCE_DATE_EPOCH, set by conftest.py; the ids from the document)."""
    env = dict(os.environ, TZ="Asia/Kolkata", PYTHONHASHSEED="3", LC_ALL="C.UTF-8")
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "-q", "--variant", "print",
                             "--content", str(MINI), "--out", str(tmp_path)], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / printed.name).read_bytes() == printed.read_bytes()


def test_only_the_print_ready_variant_is_checked_as_one(built):
    assert [v.name for v in built.guide.variants if is_print_ready(v)] == ["print"]


# --- each code fails on a damaged copy --------------------------------------------------

def replace_metadata(pdf, old: bytes, new: bytes):
    data = pdf.Root.Metadata.read_bytes()
    assert old in data
    pdf.Root.Metadata = pdf.make_stream(data.replace(old, new), Type=pikepdf.Name.Metadata,
                                        Subtype=pikepdf.Name.XML)


def last_stream(pdf, content: bytes, page=0):
    """Put `content` in place of the page's marks (the stream after its drawing)."""
    page = pdf.pages[page]
    streams = list(page.obj.Contents)
    page.obj.Contents = pikepdf.Array(streams[:-1] + [pdf.make_stream(content)])


WITHOUT_CORNER = None      # filled in by the test: the marks less one corner's


DAMAGE = {
    "bleed box as WeasyPrint writes it": (
        lambda pdf: setattr(pdf.pages[1].obj, "BleedBox", pdf.pages[1].obj.MediaBox),
        "PDF-PRINT-BOXES", "not the TrimBox plus exactly 3 mm"),
    "no trim box": (lambda pdf: pdf.pages[2].obj.__delitem__("/TrimBox"), "PDF-PRINT-BOXES", "no TrimBox"),
    "trim box not A4": (lambda pdf: setattr(pdf.pages[0].obj, "TrimBox", pikepdf.Array([0, 0, 612, 792])),
                        "PDF-PRINT-BOXES", "not A4"),
    "media box no larger than the bleed": (
        lambda pdf: setattr(pdf.pages[0].obj, "MediaBox", pdf.pages[0].obj.BleedBox),
        "PDF-PRINT-BOXES", "MediaBox does not leave"),
    "marks removed": (lambda pdf: last_stream(pdf, b"Q\n"), "PDF-PRINT-MARKS", "no printer's marks"),
    "marks inside the bleed": (
        lambda pdf: last_stream(pdf, b"Q\n/Artifact <</Type /Page>> BDC 0.25 w 0 0 m -4 0 l S EMC\n"),
        "PDF-PRINT-MARKS", "reaches into the bleed"),
    "marks outside the media box": (
        lambda pdf: last_stream(pdf, b"Q\n/Artifact <</Type /Page>> BDC 0.25 w -30 0 m -60 0 l S EMC\n"),
        "PDF-PRINT-MARKS", "outside the MediaBox"),
    "marks not a hairline": (
        lambda pdf: last_stream(pdf, b"Q\n/Artifact <</Type /Page>> BDC 2 w -15 0 m -28 0 l S EMC\n"),
        "PDF-PRINT-MARKS", "not a hairline"),
    "marks inside the page's clip": (
        lambda pdf: last_stream(pdf, pdf.pages[0].obj.Contents[-1].read_bytes()[2:]),
        "PDF-PRINT-MARKS", "inside the page's graphics state"),
    "a corner without crop marks": (
        lambda pdf: last_stream(pdf, WITHOUT_CORNER), "PDF-PRINT-MARKS", "lacks a crop mark"),
    "no PDF/X identification in the XMP": (
        lambda pdf: replace_metadata(pdf, b"<pdfxid:GTS_PDFXVersion>PDF/X-4<", b"<pdfxid:GTS_PDFXVersion><"),
        "PDF-X", "pdfxid:GTS_PDFXVersion is ''"),
    "Info and XMP disagree": (
        lambda pdf: pdf.docinfo.__setitem__("/GTS_PDFXVersion", pikepdf.String("PDF/X-3:2002")),
        "PDF-X", "differs from the XMP's"),
    "trapping unknown": (lambda pdf: pdf.docinfo.__setitem__("/Trapped", pikepdf.Name("/Unknown")),
                         "PDF-X", "not /True or /False"),
    "no output intent": (lambda pdf: pdf.Root.__delitem__("/OutputIntents"), "PDF-X", "0 GTS_PDFX output intents"),
    "a link on the page": (
        lambda pdf: setattr(pdf.pages[1].obj, "Annots", pikepdf.Array([pdf.make_indirect(pikepdf.Dictionary(
            Type=pikepdf.Name.Annot, Subtype=pikepdf.Name.Link, Rect=[100, 100, 200, 120],
            A=pikepdf.Dictionary(S=pikepdf.Name.URI, URI="https://example.org/")))])),
        "PDF-X", "lies on the page's bleed"),
    "CMYK paint under an RGB output intent": (
        lambda pdf: last_stream(pdf, pdf.pages[3].obj.Contents[-1].read_bytes() + b"q 0 0 0 1 k 0 0 1 1 re f Q\n", 3),
        "PDF-X", "DeviceCMYK"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_each_code_fails_on_a_damaged_copy(printed, tmp_path, damage):
    global WITHOUT_CORNER
    with pikepdf.open(printed) as pdf:
        marks = pdf.pages[0].obj.Contents[-1].read_bytes()
    # the marks less the two crop marks of the bottom left corner (at trim x 0 and y 0)
    WITHOUT_CORNER = re.sub(rb"-?[\d.]+ 0 m -?[\d.]+ 0 l\n0 -[\d.]+ m 0 -[\d.]+ l\n", b"", marks, count=1)
    assert WITHOUT_CORNER != marks
    change, code, words = DAMAGE[damage]
    broken = tmp_path / "broken.pdf"
    shutil.copy(printed, broken)
    with pikepdf.open(broken, allow_overwriting_input=True) as pdf:
        change(pdf)
        version = "1.7" if damage == "no output intent" else ""       # and the PDF 1.7 header
        pdf.save(broken, force_version=version)
    found = [f for f in check_print(broken).findings if f.code == code]
    assert any(words in f.message for f in found), [str(f) for f in check_print(broken).findings]
    if damage == "no output intent":
        assert any("PDF 1.7" in f.message for f in found)


def test_check_runs_the_print_checks_on_the_print_edition_only(mini, printed, tmp_path):
    """Through `check`'s own entry point: a print edition without marks fails
    under its own result; the screen edition, which has none, is not asked."""
    from guidepub import check
    broken = tmp_path / printed.name
    shutil.copy(printed, broken)
    with pikepdf.open(broken, allow_overwriting_input=True) as pdf:
        last_stream(pdf, b"Q\n")
        pdf.save(broken)
    report = check.run(mini.guide, {**mini.outputs, "print": broken})
    failed = {r.name: sorted({f.code for f in r.findings}) for r in report.results if r.findings}
    # (and the EPUB's conformance claim then stands no more: check/metadata.py)
    assert failed == {"pdf-print": ["PDF-PRINT-MARKS"], "metadata": ["EPUB-META-CLAIM"]}, failed
