"""The workbooks recomputed by a real spreadsheet engine (LibreOffice, headless) against the CSV.

The XLSX carries formulas without cached values, and the ODS cached values are zeroed before the run,
so every figure compared comes from LibreOffice's own recalculation (forced on load by the profile).
Needs Debian's libreoffice-calc-nogui (in the Makefile's DEBIAN_PACKAGES).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

from schoolfleet.billing import exports
from schoolfleet.billing.rules import Billing

from .conftest import MakeRegister
from .test_command import euros, read_csv, run
from .test_exports import many_members

SOFFICE = shutil.which("soffice")
pytestmark = pytest.mark.skipif(
    SOFFICE is None, reason="LibreOffice (libreoffice-calc-nogui) is not installed"
)

# LibreOffice's settings for the run: recalculate every formula on load, XLSX (OOXML) and ODS alike.
RECALCULATE = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse">
<value>0</value></prop></item>
</oor:items>
"""


def recomputed(workbook: Path, work: Path) -> openpyxl.Workbook:
    """The workbook as LibreOffice recalculates it, saved as XLSX with its computed values."""
    profile = work / "profile"
    (profile / "user").mkdir(parents=True, exist_ok=True)
    (profile / "user" / "registrymodifications.xcu").write_text(RECALCULATE, encoding="utf-8")
    out = work / f"out-{workbook.suffix[1:]}"
    assert SOFFICE is not None
    subprocess.run(
        [SOFFICE, "--headless", f"-env:UserInstallation={profile.as_uri()}", "--convert-to", "xlsx",
         "--outdir", str(out), str(workbook)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    return openpyxl.load_workbook(out / f"{workbook.stem}.xlsx", data_only=True)


def zero_cached_values(ods: Path) -> None:
    """Every formula cell of the ODS loses its cached value: only a recalculation can give it back."""
    with zipfile.ZipFile(ods) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    content = members["content.xml"].decode("utf-8")

    def zeroed(match: re.Match[str]) -> str:
        return re.sub(r'office:value="[^"]*"', 'office:value="0"', match.group())

    content, count = re.subn(r"<table:table-cell [^>]*table:formula=[^>]*>", zeroed, content)
    assert count > 0
    members["content.xml"] = content.encode("utf-8")
    with zipfile.ZipFile(ods, "w") as archive:
        # The mimetype entry first and stored, as ODF requires.
        archive.writestr(zipfile.ZipInfo("mimetype"), members.pop("mimetype"))
        for name, data in members.items():
            archive.writestr(name, data, compress_type=zipfile.ZIP_DEFLATED)


def cents(value: object) -> Decimal:
    assert isinstance(value, (int, float)), f"a number expected, got {value!r}"
    return Decimal(str(value)).quantize(Decimal("0.01"))


def check_against(book: openpyxl.Workbook, totals: dict[str, Decimal], lines: dict[str, tuple[int, Decimal]],
                  billing_members: int) -> None:  # fmt: skip
    summary = book[exports.SUMMARY_SHEET]
    rows = list(summary.iter_rows(values_only=True))
    first, total_row, lines_first = (4, 4 + billing_members, 4 + billing_members + 3)
    for row in rows[first - 1 : total_row - 1]:
        code = str(row[0])
        assert cents(row[2]) == totals[code], code
    total = rows[total_row - 1]
    assert (cents(total[2]), cents(total[3])) == (totals["TOTAL billed"], totals["TOTAL authority"])
    for row in rows[lines_first - 1 :]:
        key = f"{row[0]}/{row[1]}"
        if key in lines:
            count, amount = lines[key]
            assert (int(cents(row[2])), cents(row[4])) == (count, amount), key


def csv_figures(path: Path) -> tuple[dict[str, Decimal], dict[str, tuple[int, Decimal]]]:
    rows = read_csv(path)
    totals: dict[str, Decimal] = {}
    lines: dict[str, tuple[int, Decimal]] = {}
    for row in rows[1:]:
        if row[0] == "TOTAL":
            if row[2] == "Total facturé aux membres":
                totals["TOTAL billed"] = euros(row[6])
            elif row[2].startswith("Total pris en charge"):
                totals["TOTAL authority"] = euros(row[6])
            else:
                lines[f"{row[2]}/{row[3]}"] = (int(row[4]), euros(row[6]))
        elif row[2] == "Total facturé au membre":
            totals[row[0]] = euros(row[6])
    return totals, lines


def test_libreoffice_recomputes_both_workbooks_to_the_csv(
    make_register: MakeRegister, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "out"
    assert run(make_register("year2026"), out, "2026") == 0
    capsys.readouterr()
    totals, lines = csv_figures(out / "facturation-2026.csv")
    assert totals["TOTAL billed"] == Decimal("824.00") and len(lines) > 5
    zero_cached_values(out / "facturation-2026.ods")
    for name in ("facturation-2026.xlsx", "facturation-2026.ods"):
        book = recomputed(out / name, tmp_path / name)
        check_against(book, totals, lines, 4)
        # Each member sheet's own totals, recomputed by its SUMIF.
        alpha = book["69001 Alpha"]
        billed = [row for row in alpha.iter_rows(values_only=True) if row[0] == "Total facturé au membre"]
        assert [cents(row[4]) for row in billed] == [Decimal("308.00")]


def test_libreoffice_totals_hold_past_255_members(tmp_path: Path) -> None:
    """A SUM over every member sheet showed Err:512 from 256 members; the detail sheet's ranges do not."""
    billing: Billing = many_members(300)
    ods = tmp_path / "many.ods"
    ods.write_bytes(exports.ods_bytes(billing))
    csv_path = tmp_path / "many.csv"
    csv_path.write_bytes(exports.csv_bytes(exports.csv_text(billing)))
    zero_cached_values(ods)
    totals, lines = csv_figures(csv_path)
    check_against(recomputed(ods, tmp_path / "ods"), totals, lines, 300)
