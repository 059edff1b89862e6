"""Password slips as a PDF: ten per A4 page, one class per page run, cut along the dashed lines.

A small PDF writer of our own (standard fonts, WinAnsi text, uncompressed) rather than a PDF library:
the slips need nothing more, and an uncompressed file can be checked by reading it back (read_slips).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

PAGE_W, PAGE_H = 595, 842  # A4 in points
COLUMNS, ROWS = 2, 5
MARGIN = 30


@dataclass(frozen=True)
class Slip:
    school: str
    class_label: str
    name: str
    login: str
    password: str


def pdf_string(value: str) -> str:
    raw = value.encode("cp1252", errors="replace").decode("latin-1")
    return "(" + raw.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)") + ")"


def text(x: float, y: float, font: str, size: int, value: str) -> str:
    return f"BT /{font} {size} Tf {x:.1f} {y:.1f} Td {pdf_string(value)} Tj ET"


def page_content(slips: Sequence[Slip]) -> str:
    cell_w = (PAGE_W - 2 * MARGIN) / COLUMNS
    cell_h = (PAGE_H - 2 * MARGIN) / ROWS
    ops = ["0.6 G [4 3] 0 d 0.5 w"]
    for i in range(1, COLUMNS):
        x = MARGIN + i * cell_w
        ops.append(f"{x:.1f} {MARGIN} m {x:.1f} {PAGE_H - MARGIN} l S")
    for i in range(ROWS + 1):
        y = MARGIN + i * cell_h
        ops.append(f"{MARGIN} {y:.1f} m {PAGE_W - MARGIN} {y:.1f} l S")
    ops.append("0 g")
    for index, slip in enumerate(slips):
        col, row = index % COLUMNS, index // COLUMNS
        x = MARGIN + col * cell_w + 14
        top = PAGE_H - MARGIN - row * cell_h - 24
        ops += [
            text(x, top, "F1", 9, f"{slip.school} - classe {slip.class_label}"),
            text(x, top - 22, "F2", 13, slip.name),
            text(x, top - 50, "F1", 10, "Identifiant :"),
            text(x + 70, top - 50, "F3", 14, slip.login),
            text(x, top - 74, "F1", 10, "Mot de passe :"),
            text(x + 70, top - 74, "F3", 14, slip.password),
            text(
                x,
                top - 104,
                "F1",
                7,
                "Garde ce papier secret. Demande un nouveau mot de passe si tu le perds.",
            ),
        ]
    return "\n".join(ops)


def render(slips: Iterable[Slip]) -> bytes:
    """Slips grouped by class (a class never shares a page with another), in login order."""
    ordered = sorted(slips, key=lambda s: (s.class_label, s.login))
    pages: list[list[Slip]] = []
    for slip in ordered:
        if not pages or len(pages[-1]) == COLUMNS * ROWS or pages[-1][0].class_label != slip.class_label:
            pages.append([])
        pages[-1].append(slip)
    if not pages:
        pages.append([])

    objects: list[bytes] = []
    fonts = {"F1": "Helvetica", "F2": "Helvetica-Bold", "F3": "Courier-Bold"}
    font_ids = {}
    for key, base in fonts.items():
        objects.append(
            f"<< /Type /Font /Subtype /Type1 /BaseFont /{base} /Encoding /WinAnsiEncoding >>".encode()
        )
        font_ids[key] = len(objects) + 2  # objects 1 and 2 are the catalog and the page tree
    resources = " ".join(f"/{key} {num} 0 R" for key, num in font_ids.items())
    kids = []
    for page in pages:
        content = page_content(page).encode("latin-1")
        objects.append(b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream")
        content_id = len(objects) + 2
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_W} {PAGE_H}] "
            f"/Resources << /Font << {resources} >> >> /Contents {content_id} 0 R >>".encode()
        )
        kids.append(len(objects) + 2)
    head = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] /Count {len(kids)} >>".encode(),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(head + objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(offsets) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(offsets) + 1, xref)
    return bytes(out)


def write(path: Path, slips: Iterable[Slip]) -> None:
    """Readable by the admin only: the file holds first passwords until it is printed and deleted."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    path.chmod(0o600)
    path.write_bytes(render(slips))


def read_slips(pdf: bytes) -> list[dict[str, str]]:
    """The slips back from a PDF made by render(): used by the tests and to re-check a print run."""
    found = []
    for page in re.findall(rb"stream\n(.*?)\nendstream", pdf, flags=re.S):
        strings = [
            re.sub(r"\\(.)", r"\1", raw.decode("latin-1").encode("latin-1").decode("cp1252"))
            for raw in re.findall(rb"\((.*?)(?<!\\)\) Tj", page)
        ]
        for i in range(0, len(strings), 7):
            header, name, _, login, _, password, _ = strings[i : i + 7]
            school, _, class_label = header.rpartition(" - classe ")
            found.append(
                {"school": school, "class": class_label, "name": name, "login": login, "password": password}
            )
    return found
