"""Reading the participant lists that meeting platforms export.

Tencent Meeting, DingTalk, Feishu and Zoom all export one row per join: the person (a nickname,
maybe a user id, a mobile, an e-mail, a department) with when they joined and left. The files
differ in their headers (Chinese or English), in the lines of meeting details above the header
row, in their time formats ("2026-11-20 09:58:03", Feishu's "2026.11.20 09:58:03 (GMT+08:00)",
Zoom's "11/20/2026 09:58:03 AM") and in their encodings (UTF-8 with or without a byte-order
mark, or GB18030 from a Chinese Excel). This module finds the header row, reads every row and
reports every error of every row at once; nothing here touches the database."""

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass, field
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from learntrace.org.xlsx_guard import RejectedSpreadsheet, check_xlsx_archive

MAX_FILE_BYTES = 10 * 1024 * 1024  # a 5 000-person webinar's export is well under 2 MB
MAX_ROWS = 50_000
HEADER_SEARCH_ROWS = 30  # lines of meeting details above the header row (Zoom, Tencent Meeting)
MAX_REPORTED_ERRORS = 1000

# Canonical column -> (label, the headers platforms write, compared without spaces and case).
COLUMNS = {
    "name": (gettext_lazy("name"), ["用户昵称", "昵称", "参会者", "参会人", "参会人员", "姓名", "名称", "用户名称",
                                     "成员名称", "观看者", "name", "name(originalname)", "名称(原始名称)",
                                     "participant", "displayname"]),
    "platform_user_id": (gettext_lazy("platform user id"), ["用户id", "userid", "企业用户id", "成员id", "用户唯一标识",
                                                              "飞书用户id", "钉钉用户id", "userid(企业内)"]),
    "employee_no": (gettext_lazy("employee number"), ["工号", "员工编号", "employeeno", "employeeid"]),
    "department": (gettext_lazy("department"), ["部门", "所属部门", "部门名称", "department"]),
    "mobile": (gettext_lazy("mobile"), ["手机号", "手机", "手机号码", "电话", "mobile", "phone", "phonenumber"]),
    "email": (gettext_lazy("e-mail"), ["邮箱", "电子邮箱", "用户电子邮件", "useremail", "email", "e-mail"]),
    "join": (gettext_lazy("join time"), ["入会时间", "加入时间", "进入时间", "首次入会时间", "开始观看时间",
                                          "jointime"]),
    "leave": (gettext_lazy("leave time"), ["退会时间", "离会时间", "离开时间", "退出时间", "结束观看时间",
                                            "leavetime"]),
}
IDENTITY = ("name", "platform_user_id", "employee_no", "mobile", "email")
FULL_WIDTH = str.maketrans("（）：", "():")
# Feishu appends the zone: "2026.11.20 09:58:03 (GMT+08:00)".
ZONE_SUFFIX = re.compile(r"^(?P<time>.+?)\s*\((?:GMT|UTC)(?P<sign>[+-])(?P<h>\d{1,2}):?(?P<m>\d{2})\)$")
TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M",
                "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M:%S%z",
                "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M")


class ParticipantFileError(Exception):
    """The file as a whole cannot be read: wrong type, too big, damaged, no header row."""


@dataclass
class JoinRow:
    """One join of one person, as the platform listed it."""

    row: int
    name: str = ""
    platform_user_id: str = ""
    employee_no: str = ""
    department: str = ""
    mobile: str = ""
    email: str = ""
    joined: dt.datetime | None = None
    left: dt.datetime | None = None


@dataclass
class Parsed:
    joins: list[JoinRow] = field(default_factory=list)
    errors: list[dict] = field(default_factory=list)  # {"row", "column", "message"}
    error_count: int = 0

    def error(self, row: int, column: str, message) -> None:
        self.error_count += 1
        if len(self.errors) < MAX_REPORTED_ERRORS:
            self.errors.append({"row": row, "column": str(COLUMNS[column][0]) if column in COLUMNS else column,
                                "message": str(message)})


def _header_key(value) -> str | None:
    text = re.sub(r"\s+", "", str(value or "")).translate(FULL_WIDTH).lower().rstrip("*")
    for key, (_label, aliases) in COLUMNS.items():
        if text in aliases:
            return key
    return None


def _find_header(rows: list[list]) -> tuple[int, dict[str, int]]:
    """The index of the header row among the first rows, and each known column's position."""
    for index, values in enumerate(rows[:HEADER_SEARCH_ROWS]):
        positions: dict[str, int] = {}
        for position, value in enumerate(values):
            key = _header_key(value)
            if key and key not in positions:
                positions[key] = position
        if "join" in positions and "leave" in positions and any(k in positions for k in IDENTITY):
            return index, positions
    raise ParticipantFileError(
        _("No header row with the participants' names, join times and leave times was found; export the "
          "participant details (参会明细) from the meeting platform and upload that file unchanged."))


def parse_time(value, zone: dt.tzinfo) -> dt.datetime | None:
    """A moment from a cell: a spreadsheet date, Unix seconds or milliseconds, or one of the platforms'
    texts. Times without a zone are in the organisation's zone. None when it is not a time."""
    if isinstance(value, dt.datetime):
        return value if timezone.is_aware(value) else value.replace(tzinfo=zone)
    text = str(value or "").strip()
    if not text:
        return None
    if re.fullmatch(r"\d{10}", text):
        return dt.datetime.fromtimestamp(int(text), dt.UTC)
    if re.fullmatch(r"\d{13}", text):
        return dt.datetime.fromtimestamp(int(text) / 1000, dt.UTC)
    tz = zone
    suffix = ZONE_SUFFIX.match(text)
    if suffix:
        offset = dt.timedelta(hours=int(suffix["h"]), minutes=int(suffix["m"]))
        tz = dt.timezone(offset if suffix["sign"] == "+" else -offset)
        text = suffix["time"]
    for time_format in TIME_FORMATS:
        try:
            moment = dt.datetime.strptime(text, time_format)  # noqa: DTZ007 - the zone is added below
        except ValueError:
            continue
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)
    return None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # a mobile or an employee number typed as a number
    return str(value).strip()


def read_rows(rows: list[list], zone: dt.tzinfo, first_row_number: int = 1) -> Parsed:
    """Every join in a table whose header row is somewhere in its first lines."""
    header_index, positions = _find_header(rows)
    parsed = Parsed()
    for offset, values in enumerate(rows[header_index + 1:], start=header_index + 1):
        number = first_row_number + offset
        cells = {key: (values[i] if i < len(values) else None) for key, i in positions.items()}
        if not any(_cell(v) for v in values):
            continue
        join = JoinRow(row=number, **{key: _cell(cells.get(key))[:200] for key in
                                       ("name", "platform_user_id", "employee_no", "department", "mobile", "email")})
        if not any(getattr(join, key) for key in IDENTITY):
            parsed.error(number, "name", _("The row names nobody: it has no name, user id, mobile or e-mail."))
        join.joined = parse_time(cells.get("join"), zone)
        join.left = parse_time(cells.get("leave"), zone)
        for key, moment in (("join", join.joined), ("leave", join.left)):
            if moment is None:
                given = _cell(cells.get(key))[:40]
                parsed.error(number, key, _("“%(value)s” is not a date and time.") % {"value": given}
                             if given else _("This time is missing."))
        if join.joined and join.left and join.left < join.joined:
            parsed.error(number, "leave", _("The leave time is before the join time."))
        parsed.joins.append(join)
    if not parsed.joins and not parsed.error_count:
        raise ParticipantFileError(_("The file lists no participants."))
    return parsed


def _csv_rows(data: bytes) -> list[list]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise ParticipantFileError(_("The CSV file is neither UTF-8 nor GB18030 text."))
    try:
        rows = []
        for values in csv.reader(io.StringIO(text, newline="")):
            rows.append(values)
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise ParticipantFileError(_("The file has more than %(limit)d rows.") % {"limit": MAX_ROWS})
        return rows
    except csv.Error as exc:
        raise ParticipantFileError(_("The CSV file cannot be read: %(error)s") % {"error": exc}) from exc


def _xlsx_rows(path: Path) -> list[list]:
    from openpyxl import load_workbook  # imported here: only XLSX files need it

    try:
        check_xlsx_archive(path)
    except RejectedSpreadsheet as exc:
        raise ParticipantFileError(str(exc)) from exc
    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # whatever openpyxl or its XML parser make of a malformed file
        raise ParticipantFileError(_("The XLSX file is damaged or not really an XLSX file.")) from exc
    try:
        rows = []
        for values in workbook.worksheets[0].iter_rows(values_only=True):
            rows.append(list(values))
            if len(rows) > MAX_ROWS + HEADER_SEARCH_ROWS:
                raise ParticipantFileError(_("The file has more than %(limit)d rows.") % {"limit": MAX_ROWS})
        return rows
    except ParticipantFileError:
        raise
    except Exception as exc:
        raise ParticipantFileError(_("The XLSX file is damaged or not really an XLSX file.")) from exc
    finally:
        workbook.close()


def read_file(path: Path, original_name: str, zone: dt.tzinfo) -> Parsed:
    """Every join of an exported participant list (.xlsx or .csv), with every row's errors."""
    size = path.stat().st_size
    if size == 0:
        raise ParticipantFileError(_("The file is empty."))
    if size > MAX_FILE_BYTES:
        raise ParticipantFileError(_("The file is larger than %(limit)d MB; a participant list never is.")
                                   % {"limit": MAX_FILE_BYTES // (1024 * 1024)})
    suffix = Path(original_name).suffix.lower()
    data = path.read_bytes()
    if suffix == ".xlsx":
        if data[:2] != b"PK":
            raise ParticipantFileError(_("The XLSX file is damaged or not really an XLSX file."))
        rows = _xlsx_rows(path)
    elif suffix == ".csv":
        if data[:2] == b"PK" or b"\x00" in data[:4]:
            raise ParticipantFileError(_("This is not a CSV text file."))
        rows = _csv_rows(data)
    else:
        raise ParticipantFileError(_("Only .xlsx and .csv files can be imported (got “%(suffix)s”).")
                                   % {"suffix": suffix or original_name})
    return read_rows(rows, zone)
