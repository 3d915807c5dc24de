"""Checking an uploaded XLSX before any XML parser sees it.

An XLSX is a zip archive of XML parts. A small upload can unpack to gigabytes (a zip
bomb), hold millions of empty cells, or declare XML entities that expand or reach out
to other files. The central directory states every member's unpacked size (Python's
zipfile never returns more than that), so the sizes are checked from it first; then
each member is unpacked once as a stream, without parsing, to count cells and to find
document type declarations, which no spreadsheet part ever needs. Even the directory is
bounded before zipfile reads it: a million empty members would cost gigabytes of memory.
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
# A workbook's directory holds tens of entries of about 80 bytes; 4 MB is some 50 000 entries.
MAX_DIRECTORY_BYTES = 4 * 1024 * 1024
END_OF_DIRECTORY = b"PK\x05\x06"
ZIP64_LOCATOR = b"PK\x06\x07"
ZIP64_END_OF_DIRECTORY = b"PK\x06\x06"


class RejectedSpreadsheet(Exception):
    """The archive breaks one of the limits; the message says which, in the current language."""


def check_xlsx_archive(path: Path) -> None:
    """Raise RejectedSpreadsheet unless the archive is within the configured limits."""
    max_bytes = settings.IMPORT_XLSX_MAX_UNPACKED_MB * 1024 * 1024
    max_ratio = settings.IMPORT_XLSX_MAX_RATIO
    max_cells = settings.IMPORT_XLSX_MAX_CELLS
    try:
        if _directory_bytes(path) > MAX_DIRECTORY_BYTES:
            raise RejectedSpreadsheet(_("The XLSX file has far more parts than a spreadsheet; it is refused."))
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
    except RejectedSpreadsheet:
        raise
    except Exception as exc:
        # A truncated archive, a bad checksum, corrupt compressed data, encryption, an unknown method.
        raise RejectedSpreadsheet(_("The XLSX file is damaged or not really an XLSX file.")) from exc


def _directory_bytes(path: Path) -> int:
    """The size of the central directory, as zipfile will read it (from the zip64 record if any)."""
    with path.open("rb") as handle:
        handle.seek(0, 2)
        size = handle.tell()
        start = max(0, size - (22 + 65535))  # the end record and the longest archive comment
        handle.seek(start)
        tail = handle.read()
        end = tail.rfind(END_OF_DIRECTORY)
        if end < 0:
            raise zipfile.BadZipFile("no end of central directory")
        directory_bytes = int.from_bytes(tail[end + 12:end + 16], "little")
        locator = end - 20
        if locator >= 0 and tail[locator:locator + 4] == ZIP64_LOCATOR:
            handle.seek(int.from_bytes(tail[locator + 8:locator + 16], "little"))
            record = handle.read(56)
            if record[:4] == ZIP64_END_OF_DIRECTORY:
                directory_bytes = max(directory_bytes, int.from_bytes(record[40:48], "little"))
    return directory_bytes


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
