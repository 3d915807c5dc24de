"""Checking an uploaded XLSX before any XML parser sees it.

An XLSX is a zip archive of XML parts. A small upload can unpack to gigabytes (a zip
bomb), hold millions of empty cells, or declare XML entities that expand or reach out
to other files. The central directory states every member's unpacked size (Python's
zipfile never returns more than that), so the sizes are checked from it first; then
each member is unpacked once as a stream, without parsing, to count cells and to find
document type declarations, which no spreadsheet part ever needs.
"""

import re
import zipfile
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

# A cell element, with or without a namespace prefix: <c r="A1">, <x:c>, <c/>.
CELL = re.compile(rb"<(?:[A-Za-z_][\w.-]{0,30}:)?c[\s/>]")
OVERLAP = 48  # bytes kept from one chunk to the next: longer than any pattern above
DECLARATIONS = (b"<!DOCTYPE", b"<!ENTITY")
UTF16_STARTS = (b"\xff\xfe", b"\xfe\xff", b"<\x00", b"\x00<")
# Small parts compress very well without being dangerous; the ratio is checked above this size.
RATIO_CHECKED_FROM = 1024 * 1024
READ_BYTES = 1 << 20


class RejectedSpreadsheet(Exception):
    """The archive breaks one of the limits; the message says which, in the current language."""


def check_xlsx_archive(path: Path) -> None:
    """Raise RejectedSpreadsheet unless the archive is within the configured limits."""
    max_bytes = settings.IMPORT_XLSX_MAX_UNPACKED_MB * 1024 * 1024
    max_ratio = settings.IMPORT_XLSX_MAX_RATIO
    max_cells = settings.IMPORT_XLSX_MAX_CELLS
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            total = 0
            for member in members:
                total += member.file_size
                if total > max_bytes:
                    raise RejectedSpreadsheet(
                        _("The XLSX file unpacks to more than %(limit)d MB; split it into smaller files.")
                        % {"limit": settings.IMPORT_XLSX_MAX_UNPACKED_MB})
                ratio = member.file_size / max(member.compress_size, 1)
                if member.file_size > RATIO_CHECKED_FROM and ratio > max_ratio:
                    raise RejectedSpreadsheet(
                        _("The XLSX file is compressed more than %(ratio)d times, which spreadsheets never are; "
                          "it is refused as a possible zip bomb.") % {"ratio": max_ratio})
            cells = 0
            for member in members:
                cells += _scan_member(archive, member)
                if cells > max_cells:
                    raise RejectedSpreadsheet(
                        _("The XLSX file has more than %(limit)d cells; split it into smaller files.")
                        % {"limit": max_cells})
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError, ValueError) as exc:
        # Unknown compression, encryption, a bad checksum, a truncated archive.
        raise RejectedSpreadsheet(_("The XLSX file is damaged or not really an XLSX file.")) from exc


def _scan_member(archive: zipfile.ZipFile, member: zipfile.ZipInfo) -> int:
    """The number of cells in one member; raises on declarations and on UTF-16 XML,
    whose markup a byte scan could not see."""
    cells = 0
    tail = b""
    first = True
    with archive.open(member) as stream:
        while chunk := stream.read(READ_BYTES):
            if first:
                first = False
                if chunk.startswith(UTF16_STARTS):
                    raise RejectedSpreadsheet(
                        _("The XLSX file has parts that are not UTF-8 text; save it again with Excel or WPS."))
            window = tail + chunk
            if any(declaration in window for declaration in DECLARATIONS):
                raise RejectedSpreadsheet(
                    _("The XLSX file declares XML entities or a document type, which spreadsheets never need; "
                      "it is refused."))
            # A match that lies wholly in the tail was counted with the previous chunk.
            cells += sum(1 for match in CELL.finditer(window) if match.end() > len(tail))
            tail = window[-OVERLAP:]
    return cells
