"""The catalog of problems the checks find in a row, frictionless-style.

Each problem type is an ``IssueType``: a stable kebab-case ``code`` (the JSON contract), a
severity ("error" blocks the row, "warning" does not) and a Vietnamese message template.
Checks return issue types with a few named values; only ``IssueType.issue`` builds the text,
so every message reads the same way: it names the column as the sender wrote it and the cell,
says what is wrong and how to fix it.

Template placeholders: ``{where}`` (``Cột "Ngày sinh" (ô C12)``), ``{value}`` (the cell as the
sender wrote it) and whatever named values the check passes.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from .model import Column, Issue

_MAX_SHOWN = 60  # characters of a cell value quoted in a message


@dataclass(frozen=True, slots=True)
class IssueType:
    code: str
    template: str
    severity: str = "error"
    title: str = ""  # the short Vietnamese name: the annotated copy's summary, the digest

    def at(self, row: int | None, column: str | None = None, field: str | None = None,
           header: str | None = None, /, **values: Any) -> Issue:
        """An issue whose message names its place itself (a missing column, another sheet)."""
        return Issue(code=self.code, message=self.template.format(**values), row=row, column=column,
                     field=field, header=header, severity=self.severity)

    def issue(self, row: int | None, column: Column | None, field: str | None, value: Any,
              **extra: Any) -> Issue:
        where = _where(row, column, field)
        message = self.template.format(where=where, value=show(value), **extra)
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
            value = int(value)  # as the sender typed it
        return Issue(code=self.code, message=message, row=row,
                     column=column.letter if column is not None else None, field=field,
                     header=column.header if column is not None else None,
                     value=value, severity=self.severity)


def _where(row: int | None, column: Column | None, field: str | None) -> str:
    if column is None and field is None:  # a whole row (one that is not a person)
        return f"Dòng {row}" if row else ""
    if column is None:
        return f'Cột "{field_label(field)}"' + (f" (dòng {row})" if row else "")
    if row is None:
        return f'Cột "{column.header}" (cột {column.letter})'
    return f'Cột "{column.header}" (ô {column.letter}{row})'


def field_label(field: str | None) -> str:
    """The Vietnamese label of a field key, for columns that are not in the file."""
    from .fields import load_catalog  # late: reads config/fields.toml
    return load_catalog().label(field) if field else ""


def show(value: Any) -> str:
    """A cell value as the sender sees it: whole floats without '.0', dates day-first."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second) == (0, 0, 0):
            return value.strftime("%d/%m/%Y")
        return value.strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, time):
        return value.strftime("%H:%M:%S")
    s = str(value)
    return s if len(s) <= _MAX_SHOWN else s[:_MAX_SHOWN - 1] + "…"


def ddmmyyyy(d: date) -> str:
    return d.strftime("%d/%m/%Y")


E, W = "error", "warning"

# ------------------------------------------------------------------------- whole file
# A file whose check worker died, hit its memory or time limit, or failed (forms.worker).
UNSAFE_FILE = (
    "Tệp \"{name}\" có cấu trúc bất thường hoặc quá lớn để xử lý an toàn nên hệ thống chưa kiểm tra "
    "được; vui lòng mở tệp bằng Excel, chép riêng danh sách sang một tệp mới (hoặc chia thành nhiều "
    "tệp nhỏ hơn), lưu dạng .xlsx rồi gửi lại.")

# The files of one message hold more rows in all than one list may ([limits] max_rows):
# the files past the limit are not checked (pipeline handlers.check).
MESSAGE_TOO_MANY_ROWS = (
    "Tệp \"{name}\" chưa được kiểm tra vì các tệp trong cùng thư đã có tổng cộng {limit} dòng, "
    "mức tối đa cho một thư; vui lòng gửi tệp này trong một thư riêng.")

# ------------------------------------------------------------------------- odd cells
CELL_ERROR = IssueType(
    "cell-error",
    "{where} đang hiện lỗi {value} của Excel (công thức tham chiếu sai hoặc không tìm thấy giá trị), "
    "không phải dữ liệu. Vui lòng sửa công thức hoặc gõ trực tiếp giá trị vào ô này.",
    title="Ô đang hiện lỗi của Excel")
CELL_NOT_A_NUMBER = IssueType(
    "cell-not-a-number",
    "{where} chứa giá trị số không hợp lệ (\"{value}\", không phải một con số thật). Vui lòng "
    "gõ lại giá trị đúng vào ô này.", title="Ô chứa số không hợp lệ")

# ------------------------------------------------------------------------- presence
REQUIRED_MISSING = IssueType(
    "required-missing",
    "{where} đang để trống. Đây là thông tin bắt buộc, vui lòng ghi đầy đủ.",
    title="Bỏ trống thông tin bắt buộc")

# ------------------------------------------------------------------------- names
NAME_DIGITS = IssueType(
    "name-invalid",
    '{where}: "{value}" có chữ số. Vui lòng ghi lại họ và tên chỉ bằng chữ cái và khoảng '
    "trắng, ví dụ Nguyễn Văn An.", title="Họ và tên có ký tự không hợp lệ")
NAME_CHARS = IssueType(
    "name-invalid",
    '{where}: "{value}" có ký tự không hợp lệ ({chars}). Vui lòng ghi lại họ và tên chỉ bằng '
    "chữ cái và khoảng trắng, ví dụ Nguyễn Văn An.", title="Họ và tên có ký tự không hợp lệ")

# ------------------------------------------------------------------------- free text
TEXT_FORMULA = IssueType(
    "text-formula",
    '{where}: "{value}" bắt đầu bằng {char}, nên Excel và các phần mềm nhận dữ liệu có thể hiểu '
    "ô này là một công thức. Vui lòng bỏ ký tự đó ở đầu ô (hoặc ghi chữ trước nó) rồi gửi lại.",
    title="Ô chữ bắt đầu như một công thức")

# ------------------------------------------------------------------------- dates
DATE_INVALID = IssueType(
    "date-invalid",
    '{where}: "{value}" không phải ngày có thật. Vui lòng ghi theo dạng ngày/tháng/năm, '
    "ví dụ {example}.", title="Ngày không có thật hoặc không đọc được")
DATE_UNREADABLE = IssueType(
    "date-invalid",
    '{where}: không đọc được "{value}" là một ngày. Vui lòng ghi theo dạng ngày/tháng/năm, '
    "ví dụ {example}.", title="Ngày không có thật hoặc không đọc được")
DATE_TIME_ONLY = IssueType(
    "date-invalid",
    "{where}: ô chỉ chứa giờ \"{value}\" (hoặc một số ngày âm), không phải một ngày. Vui lòng ghi "
    "theo dạng ngày/tháng/năm, ví dụ {example}.", title="Ngày không có thật hoặc không đọc được")
DATE_MONTH_FIRST = IssueType(
    "date-month-first",
    '{where}: "{value}" có vẻ ghi tháng trước ngày. Vui lòng ghi theo dạng ngày/tháng/năm, '
    "tức là {suggestion}.", title="Ngày ghi tháng trước ngày")
DOSE_DATE_YEAR_ONLY = IssueType(
    "date-invalid",
    '{where}: "{value}" chỉ là năm, chưa phải ngày tiêm. Vui lòng ghi đủ ngày/tháng/năm tiêm, '
    "ví dụ 15/07/2021.", title="Ngày không có thật hoặc không đọc được")
DATE_FUTURE = IssueType(
    "date-future",
    '{where}: ngày sinh "{value}" nằm trong tương lai (sau ngày {today}). Vui lòng ghi đúng ngày sinh '
    "theo dạng ngày/tháng/năm, ví dụ 05/09/1980.", title="Ngày sinh sau ngày hôm nay")
DATE_TOO_EARLY = IssueType(
    "date-too-early",
    '{where}: ngày sinh "{value}" trước năm 1900. Vui lòng kiểm tra lại và ghi đúng năm sinh.',
    title="Ngày sinh trước năm 1900")
DOB_YEAR_ONLY = IssueType(
    "dob-year-only",
    '{where}: chỉ ghi năm sinh "{value}". Danh sách vẫn được nhận; nếu biết, vui lòng ghi đủ '
    "ngày/tháng/năm sinh, ví dụ 05/09/{value}.", W, title="Chỉ ghi năm sinh")
DOB_TOO_YOUNG = IssueType(
    "dob-too-young",
    '{where}: ngày sinh "{value}" cho thấy người này chưa đủ 12 tuổi. Vui lòng kiểm tra lại '
    "ngày sinh.", W, title="Chưa đủ 12 tuổi")
DOSE_DATE_BEFORE_START = IssueType(
    "dose-date-before-start",
    '{where}: ngày tiêm "{value}" trước ngày 08/03/2021, ngày Việt Nam bắt đầu tiêm vắc xin '
    "phòng COVID-19. Vui lòng kiểm tra lại ngày tiêm.", title="Ngày tiêm trước 08/03/2021")
DOSE_DATE_FUTURE = IssueType(
    "dose-date-future",
    '{where}: ngày tiêm "{value}" nằm sau ngày nhận danh sách ({today}). Vui lòng chỉ ghi '
    "ngày đã tiêm thực tế.", title="Ngày tiêm sau ngày nhận danh sách")

# ------------------------------------------------------------------------- gender
GENDER_INVALID = IssueType(
    "gender-invalid",
    '{where}: "{value}" không phải giới tính hợp lệ. Vui lòng ghi Nam, Nữ hoặc Khác.',
    title="Giới tính không hợp lệ")

# ------------------------------------------------------------------------- ID numbers
ID_INVALID = IssueType(
    "id-invalid",
    '{where}: "{value}" không phải số CMND/CCCD hợp lệ. Vui lòng ghi số CCCD 12 chữ số, '
    "số CMND 9 chữ số hoặc số hộ chiếu (1 chữ cái và 7 chữ số).", title="Số CMND/CCCD không hợp lệ")
ID_PROVINCE = IssueType(
    "id-invalid",
    '{where}: số CCCD "{value}" có 3 số đầu "{ppp}" không phải mã tỉnh nào (3 số đầu là mã '
    "tỉnh nơi đăng ký khai sinh, ví dụ An Giang là 089). Vui lòng kiểm tra lại số CCCD.",
    title="Số CMND/CCCD không hợp lệ")
ID_CENTURY = IssueType(
    "id-invalid",
    '{where}: số CCCD "{value}" có chữ số thứ tư là {g}, trong khi chữ số này chỉ có thể là '
    "0, 1, 2 hoặc 3 (thế kỷ sinh và giới tính). Vui lòng kiểm tra lại số CCCD.",
    title="Số CMND/CCCD không hợp lệ")
ID_LOST_DIGITS = IssueType(
    "id-lost-digits",
    '{where}: "{value}" đã bị Excel đổi sang dạng số mũ nên mất chữ số. Vui lòng định dạng '
    "cột này là Văn bản (Text) rồi gõ lại đủ số CMND/CCCD.", title="Số CMND/CCCD bị Excel làm mất chữ số")
ID_GENDER_MISMATCH = IssueType(
    "id-gender-mismatch",
    '{where}: số CCCD "{value}" là của người {id_gender} (chữ số thứ tư là {g}), nhưng cột '
    '"{gender_header}" ghi "{gender}". Vui lòng kiểm tra lại số CCCD hoặc giới tính.',
    title="Số CCCD không khớp giới tính")
ID_YEAR_MISMATCH = IssueType(
    "id-year-mismatch",
    '{where}: số CCCD "{value}" cho biết năm sinh {id_year} (chữ số thứ tư đến thứ sáu), '
    'nhưng cột "{dob_header}" ghi năm sinh {dob_year}. Vui lòng kiểm tra lại số CCCD hoặc '
    "ngày sinh.", title="Số CCCD không khớp năm sinh")
ID_DUPLICATE = IssueType(
    "id-duplicate",
    '{where}: số CMND/CCCD "{value}" trùng với dòng {first_row}. Mỗi người chỉ ghi một lần; '
    "vui lòng kiểm tra lại số hoặc xóa dòng trùng.", title="Số CMND/CCCD bị trùng")
ID_DUPLICATE_SHEET = IssueType(
    "id-duplicate",
    '{where}: số CMND/CCCD "{value}" trùng với dòng {first_row} của trang tính “{first_sheet}”. '
    "Mỗi người chỉ ghi một lần trong tệp; vui lòng kiểm tra lại số hoặc xóa dòng trùng.",
    title="Số CMND/CCCD bị trùng")

# ------------------------------------------------------------------------- phones
PHONE_LETTERS = IssueType(
    "phone-letters",
    '{where}: "{value}" có chữ cái, trong khi số điện thoại chỉ gồm chữ số. Vui lòng ghi lại '
    "số di động 10 chữ số, ví dụ 0912345678.", title="Số điện thoại có chữ cái")
PHONE_INVALID = IssueType(
    "phone-invalid",
    '{where}: "{value}" không phải số điện thoại di động Việt Nam hợp lệ. Vui lòng ghi số '
    "di động 10 chữ số, ví dụ 0912345678.", title="Số điện thoại không hợp lệ")
PHONE_NOT_MOBILE = IssueType(
    "phone-not-mobile",
    '{where}: "{value}" là số điện thoại cố định. Vui lòng ghi số điện thoại di động '
    "10 chữ số của người được tiêm, ví dụ 0912345678.", title="Số điện thoại cố định")
PHONE_MULTIPLE = IssueType(
    "phone-multiple",
    '{where}: ô ghi nhiều số điện thoại ("{value}"); hệ thống lấy số đầu tiên {phone}. '
    "Mỗi ô chỉ nên ghi một số di động.", W, title="Ghi nhiều số điện thoại")

# ------------------------------------------------------------------------- insurance
INSURANCE_INVALID = IssueType(
    "insurance-invalid",
    '{where}: "{value}" không phải số thẻ BHYT hợp lệ. Vui lòng ghi mã thẻ 15 ký tự '
    "(2 chữ cái rồi 13 chữ số, ví dụ GD4898912345678) hoặc mã số BHXH 10 chữ số.",
    title="Số thẻ BHYT không hợp lệ")

# ------------------------------------------------------------------------- priority group
PRIORITY_INVALID = IssueType(
    "priority-invalid",
    '{where}: "{value}" không phải nhóm ưu tiên hợp lệ. Vui lòng ghi số nhóm từ 1 đến 16 '
    'theo Quyết định 3355/QĐ-BYT, ví dụ 4 hoặc "Nhóm 4".', title="Nhóm ưu tiên không hợp lệ")

# ------------------------------------------------------------------------- places
PROVINCE_OTHER = IssueType(
    "province-other",
    '{where}: "{value}" không phải tỉnh An Giang. Danh sách vẫn được nhận, nhưng quận/huyện '
    "và xã/phường của dòng này không được đối chiếu với danh mục của tỉnh.", W,
    title="Không phải tỉnh An Giang")
DISTRICT_UNKNOWN = IssueType(
    "district-unknown",
    '{where}: không tìm thấy "{value}" trong danh sách huyện, thị xã, thành phố của tỉnh '
    'An Giang. Vui lòng ghi đúng tên, ví dụ "Thành phố Long Xuyên" hoặc "Huyện Chợ Mới".',
    title="Không tìm thấy huyện/thị xã/thành phố")
WARD_UNKNOWN = IssueType(
    "ward-unknown",
    '{where}: không tìm thấy "{value}" trong danh sách xã, phường, thị trấn{scope}. '
    'Vui lòng ghi đúng tên, ví dụ "{example}".', title="Không tìm thấy xã/phường/thị trấn")
WARD_NOT_IN_DISTRICT = IssueType(
    "ward-not-in-district",
    '{where}: "{value}" không thuộc {district} mà thuộc {elsewhere}. Vui lòng kiểm tra lại '
    'cột "{district_header}" hoặc cột này.', title="Xã/phường không thuộc huyện đã ghi")

# ------------------------------------------------------------------------- vaccines and doses
VACCINE_UNKNOWN = IssueType(
    "vaccine-unknown",
    '{where}: không nhận ra tên vắc xin "{value}". Vui lòng ghi một trong các tên: {names}.',
    title="Không nhận ra tên vắc xin")
DOSE2_BEFORE_DOSE1 = IssueType(
    "dose2-before-dose1",
    '{where}: ngày tiêm mũi 2 ({dose2}) không sau ngày tiêm mũi 1 ({dose1}). Vui lòng kiểm '
    "tra lại ngày tiêm của hai mũi.", title="Mũi 2 không sau mũi 1")
DOSE_INTERVAL_TOO_SHORT = IssueType(
    "dose-interval-too-short",
    '{where}: mũi 2 tiêm ngày {dose2}, chỉ {days} ngày sau mũi 1 ({dose1}), trong khi vắc xin '
    "{vaccine} cần cách ít nhất {min_days} ngày. Vui lòng kiểm tra lại ngày tiêm.",
    title="Khoảng cách giữa hai mũi quá ngắn")
JANSSEN_SECOND_DOSE = IssueType(
    "janssen-second-dose",
    "{where}: vắc xin Janssen chỉ tiêm một mũi nên không có mũi 2. Vui lòng kiểm tra lại tên "
    "vắc xin hoặc bỏ thông tin mũi 2 của người này.", title="Vắc xin Janssen không có mũi 2")
DOSE2_WITHOUT_DOSE1 = IssueType(
    "dose2-without-dose1",
    "{where}: đã ghi thông tin mũi 2 nhưng chưa ghi ngày tiêm và tên vắc xin mũi 1. Vui lòng "
    "ghi đủ thông tin mũi 1.", title="Có mũi 2 nhưng thiếu mũi 1")
DOSE2_INCOMPLETE = IssueType(
    "dose2-incomplete",
    '{where} đang để trống trong khi cột "{other_header}" của mũi 2 đã có thông tin. Vui lòng '
    "ghi bổ sung.", W, title="Thông tin mũi 2 chưa đủ")

# ------------------------------------------------------------------------- facilities
FACILITY_UNKNOWN = IssueType(
    "facility-unknown",
    '{where}: không tìm thấy cơ sở tiêm "{value}" trong danh sách cơ sở tiêm chủng của tỉnh '
    "An Giang, nên chưa chuyển được dòng này đến nơi đã tiêm mũi 1. Vui lòng ghi đúng tên cơ "
    'sở, ví dụ "Trạm Y tế Xã Mỹ Khánh" hoặc "Trung tâm Y tế huyện Chợ Mới".',
    title="Không tìm thấy cơ sở tiêm")
FACILITY_UNKNOWN_WARNING = IssueType(
    "facility-unknown",
    '{where}: không tìm thấy cơ sở tiêm "{value}" trong danh sách cơ sở tiêm chủng của tỉnh '
    'An Giang. Vui lòng kiểm tra lại tên cơ sở, ví dụ "Trạm Y tế Xã Mỹ Khánh" hoặc '
    '"Trung tâm Y tế huyện Chợ Mới".', W, title="Không tìm thấy cơ sở tiêm")

# ------------------------------------------------------------------------- national template
# (the platform's import layout: GSO codes beside the names, the ID number optional)
PLACE_CODE_UNKNOWN = IssueType(
    "place-code-unknown",
    '{where}: không có {kind} nào mang mã "{value}" trong danh mục của tỉnh An Giang. Vui lòng '
    "ghi đúng mã theo danh mục PL3 của mẫu (ví dụ {example}) hoặc để trống mã và ghi tên.",
    title="Mã tỉnh/huyện/xã không có trong danh mục")
PLACE_CODE_MISMATCH = IssueType(
    "place-code-mismatch",
    '{where}: mã "{value}" là {code_name}, nhưng ô {name_cell} (cột "{name_header}") ghi '
    '"{name_value}". Tên và mã phải cùng một nơi: vui lòng sửa một trong hai ô cho khớp.',
    title="Tên và mã địa bàn không khớp")
ID_MISSING_OPTIONAL = IssueType(
    "id-missing",
    "{where} đang để trống. Dòng vẫn được chuyển đi (mẫu của hệ thống quốc gia không bắt buộc "
    "cột này), nhưng nên ghi số CCCD 12 chữ số hoặc CMND 9 chữ số để tránh trùng người.", W,
    title="Chưa ghi số CMND/CCCD")
PLATFORM_REQUIRED_MISSING = IssueType(
    "platform-required-missing",
    "{where} đang để trống. Dòng vẫn được chuyển đi, nhưng hệ thống tiêm chủng quốc gia yêu cầu "
    "cột này (dấu (*) trong mẫu) và có thể từ chối dòng khi nhập: vui lòng bổ sung nếu biết.", W,
    title="Thiếu cột hệ thống quốc gia yêu cầu")
PERSON_DUPLICATE = IssueType(
    "person-duplicate",
    "{where}: người này (cùng họ tên, ngày sinh và số điện thoại, không có số CMND/CCCD) trùng "
    "với dòng {first_row}. Mỗi người chỉ ghi một lần; vui lòng xóa dòng trùng hoặc ghi số "
    "CMND/CCCD để phân biệt.", title="Trùng người (họ tên, ngày sinh, số điện thoại)")
PERSON_DUPLICATE_SHEET = IssueType(
    "person-duplicate",
    "{where}: người này (cùng họ tên, ngày sinh và số điện thoại, không có số CMND/CCCD) trùng "
    "với dòng {first_row} của trang tính “{first_sheet}”. Mỗi người chỉ ghi một lần trong tệp; "
    "vui lòng xóa dòng trùng hoặc ghi số CMND/CCCD để phân biệt.",
    title="Trùng người (họ tên, ngày sinh, số điện thoại)")

# ------------------------------------------------------------------------- rows that are not people
ROW_SKIPPED = IssueType(
    "row-skipped",
    '{where} không được đọc là một người ("{text}"): dòng này không có họ tên hay số '
    "CMND/CCCD nên đã bỏ qua. Nếu đây là một người, vui lòng ghi đủ họ tên và thông tin của "
    "người đó vào đúng các cột rồi gửi lại.", W, title="Dòng không phải một người")
GROUP_HEADING_FILL = IssueType(
    "group-heading-fill",
    '{where} "{heading}" là dòng tiêu đề nhóm, không phải một người: cột "{label}" của '
    "{count} người bên dưới (dòng {first}–{last}) để trống nên được ghi theo dòng này. "
    "Nếu không đúng, vui lòng ghi rõ vào từng dòng.", W, title="Dòng tiêu đề nhóm bị điền như một người")


# ------------------------------------------------------------------------- the form as a whole
# (built with ``IssueType.at``: the message names the place itself)
FORM_LEVEL = frozenset({"sheet-not-read", "column-missing", "empty-form", "dob-both-sexes", "formula-no-value"})
SHEET_NOT_READ = IssueType(
    "sheet-not-read",
    "Trang tính “{sheet}” có vẻ chứa danh sách ({rows} dòng có số điện thoại hoặc số CMND/CCCD) "
    "nhưng không tìm thấy dòng tiêu đề (các cột như \"Họ và tên\", \"Ngày sinh\", \"Số CMND/CCCD\") "
    "nên những người trong trang này chưa được đọc. Vui lòng thêm dòng tiêu đề giống các trang "
    "khác (hoặc chép các dòng này sang trang có tiêu đề) rồi gửi lại.",
    title="Trang tính có danh sách nhưng không đọc được")
COLUMN_MISSING = IssueType(
    "column-missing",
    "Thiếu cột \"{label}\" (bắt buộc trong Mẫu {form}). Vui lòng thêm cột này vào dòng tiêu đề "
    "(dòng {row}) và điền cho từng người.", title="Thiếu cột bắt buộc")
EMPTY_FORM = IssueType(
    "empty-form",
    "Tệp có tiêu đề Mẫu {form} nhưng không có dòng dữ liệu nào. Vui lòng điền danh sách rồi gửi lại.",
    title="Tệp không có dòng dữ liệu")
EMPTY_SHEET = IssueType(
    "empty-form",
    "Trang tính “{sheet}” có tiêu đề Mẫu {form} nhưng không dòng nào bên dưới được đọc là một người "
    "(không có họ tên, ngày sinh hay số CMND/CCCD). Vui lòng điền đủ thông tin từng người vào "
    "trang này (hoặc xóa trang nếu không dùng) rồi gửi lại.", title="Tệp không có dòng dữ liệu")
DOB_BOTH_SEXES = IssueType(
    "dob-both-sexes",
    "Cột \"{header}\" (dòng {row}): năm sinh được ghi ở cả cột Nam và cột Nữ. Vui lòng chỉ ghi "
    "ở một cột, đúng giới tính của người được tiêm.", title="Năm sinh ghi ở cả cột Nam và cột Nữ")
FORMULA_NO_VALUE = IssueType(
    "formula-no-value",
    "Cột \"{header}\" (ô {cell}): ô chứa công thức nhưng không có giá trị đã tính. Vui lòng mở tệp "
    "bằng Excel, lưu lại (để Excel tính công thức) hoặc dán giá trị thay cho công thức rồi gửi lại.",
    title="Ô công thức không có giá trị")


def titles() -> dict[str, str]:
    """Code → short Vietnamese name, one per issue type: what every label table shows."""
    return {t.code: t.title for t in all_types()}


def all_types() -> list[IssueType]:
    """Every issue type of the catalog (for docs and tests)."""
    return [v for v in globals().values() if isinstance(v, IssueType)]
