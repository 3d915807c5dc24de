"""Participant lists shaped like the meeting platforms' exports (written for these tests from the
platforms' documented and observed layouts): Tencent Meeting's XLSX with meeting details above
the header, DingTalk's CSV in GB18030 from a Chinese Excel, Feishu's XLSX with zone-suffixed
times and masked mobiles, Zoom's CSV with its meeting summary first (English and Chinese)."""

import csv
import io

import xlsxwriter

# The meeting of these tests: 2026-11-20 10:00-11:00 in Asia/Shanghai.
DAY = "2026-11-20"


def xlsx(rows: list[list]) -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("Sheet1")
    for number, row in enumerate(rows):
        sheet.write_row(number, 0, row)
    workbook.close()
    return buffer.getvalue()


def csv_text(rows: list[list]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def tencent(joins: list[tuple]) -> bytes:
    """joins: (nickname, mobile, e-mail, "HH:MM:SS" join, "HH:MM:SS" leave)."""
    rows = [["会议主题", "月度护理质控线上会"], ["会议号", "123 456 789"], ["预定开始时间", f"{DAY} 10:00"], [],
            ["序号", "用户昵称", "手机号", "邮箱", "入会时间", "退会时间", "参会时长(分钟)", "身份"]]
    for number, (name, mobile, email, joined, left) in enumerate(joins, start=1):
        rows.append([number, name, mobile, email, f"{DAY} {joined}", f"{DAY} {left}", "", "参会者"])
    return xlsx(rows)


def dingtalk(joins: list[tuple]) -> bytes:
    """joins: (name, department, user id, join, leave); GB18030 as a Chinese Excel saves it."""
    rows = [["姓名", "部门", "用户ID", "入会时间", "离会时间", "参会时长"]]
    rows += [[name, department, user_id, f"{DAY} {joined}", f"{DAY} {left}", ""]
             for name, department, user_id, joined, left in joins]
    return csv_text(rows).encode("gb18030")


def feishu(joins: list[tuple], zone: str = "GMT+08:00") -> bytes:
    """joins: (name, department, user id, employee number, mobile, join, leave)."""
    rows = [["参会人", "部门", "用户ID", "工号", "邮箱", "手机", "入会时间", "离会时间", "参会时长"]]
    day = DAY.replace("-", ".")
    rows += [[name, department, user_id, number, "", mobile, f"{day} {joined} ({zone})",
              f"{day} {left} ({zone})", ""] for name, department, user_id, number, mobile, joined, left in joins]
    return xlsx(rows)


def zoom(joins: list[tuple], *, chinese: bool = False) -> bytes:
    """joins: (name, e-mail, join, leave) with 12-hour clock times as Zoom writes them; UTF-8 with a BOM."""
    summary = (["会议ID", "主题", "开始时间", "结束时间", "用户电子邮件", "持续时间（分钟）", "参与者"] if chinese else
               ["Meeting ID", "Topic", "Start Time", "End Time", "User Email", "Duration (Minutes)", "Participants"])
    header = (["名称（原始名称）", "用户电子邮件", "加入时间", "离开时间", "持续时间（分钟）", "访客"] if chinese else
              ["Name (Original Name)", "User Email", "Join Time", "Leave Time", "Duration (Minutes)", "Guest"])
    rows = [summary, ["98765432100", "Nursing quality", "11/20/2026 09:58:00 AM", "11/20/2026 11:02:00 AM",
                      "host@example.org", "64", str(len(joins))], [], header]
    rows += [[name, email, f"11/20/2026 {joined}", f"11/20/2026 {left}", "", "No"]
             for name, email, joined, left in joins]
    return ("\ufeff" + csv_text(rows)).encode("utf-8")
