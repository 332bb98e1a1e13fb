"""TCVN3 (ABC) and VNI-Windows → Unicode: known strings, every letter, round trips."""
import unicodedata

import pytest

from service.forms import legacy

# Vietnamese letters built independently of the module: 12 vowel shapes × 6 tones, plus đ.
_VOWELS = ["a", "ă", "â", "e", "ê", "i", "o", "ô", "ơ", "u", "ư", "y"]
_TONES = ["", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323"]
LETTERS = [unicodedata.normalize("NFC", v + t) for v in _VOWELS for t in _TONES] + ["đ"]

WORDS = """
Nguyễn Văn An; Trần Thị Bích Ngọc; Lê Hoàng Phúc; Phạm Thị Hường; Huỳnh Ngọc Trâm; Võ Thành Lợi;
Đặng Quốc Việt; Bùi Thị Thủy; Dương Minh Nhựt; Lý Thị Mỹ Duyên; Châu Văn Lửa; Trương Út Ẩn;
Long Xuyên; Châu Đốc; Tân Châu; An Phú; Châu Phú; Châu Thành; Chợ Mới; Phú Tân; Thoại Sơn;
Tịnh Biên; Tri Tôn; Mỹ Hòa Hưng; Vĩnh Tế; Núi Sam; Ô Long Vĩ; Khánh Hòa; Óc Eo; Cô Tô;
ấp Phú Hữu; khóm Đông Thịnh; xã Vĩnh Trạch; phường Mỹ Xuyên; thị trấn Nhà Bàng; Ba Chúc;
công nhân; giáo viên; nội trợ; học sinh; nhân viên y tế; người cao tuổi; lực lượng tuyến đầu;
tiêm chủng vắc xin phòng COVID-19; Trung tâm Y tế huyện; Sở Thông tin và Truyền thông;
ngày 24 tháng 8 năm 2021; nghĩa vụ; quỹ; khuỷu; tuyệt; giường; chuyện; nguyệt; khuya; thuở;
ỷ lại; ỹ; ỳ ạch; ỵ; yêu; ưỡn; ượt; ửng; ữa; ựa; ắt; ằn; ẳng; ẵm; ặc; ấy; ầu; ẩn; ẫm; ậu
""".replace("\n", " ").split(";")
WORDS = [w.strip() for w in WORDS if w.strip()]


def tcvn3_encode(text: str) -> str:
    inverse = {u: c for c, u in legacy.TCVN3.items()}
    return "".join(inverse.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


def vni_encode(text: str) -> str:
    inverse = {}
    for k, v in {**legacy.VNI_SINGLE, **legacy.VNI_PAIRS}.items():
        if len(k) == 1 or k[0].isupper() == k[1].isupper():
            inverse.setdefault(v, k)
    return "".join(inverse.get(ch, ch) for ch in unicodedata.normalize("NFC", text))


@pytest.mark.parametrize("raw, want", [
    ("NguyÔn V¨n An", "Nguyễn Văn An"),
    ("Hå ChÝ Minh", "Hồ Chí Minh"),
    ("Thµnh phè Long Xuyªn", "Thành phố Long Xuyên"),
    ("HuyÖn Chî Míi", "Huyện Chợ Mới"),
    ("§Æng ThÞ H\xadêng", "Đặng Thị Hường"),
    ("Tr\xadêng TiÓu häc", "Trường Tiểu học"),
    ("V¾c xin phßng COVID-19", "Vắc xin phòng COVID-19"),
])
def test_tcvn3_known_strings(raw, want):
    assert legacy.decode(raw, "tcvn3") == want


@pytest.mark.parametrize("raw, want", [
    ("Nguyeãn Vaên An", "Nguyễn Văn An"),
    ("Thaønh phoá Long Xuyeân", "Thành phố Long Xuyên"),
    ("Huyeän Chôï Môùi", "Huyện Chợ Mới"),
    ("Ñaëng Thò Höôøng", "Đặng Thị Hường"),
    ("NGUYEÃN VAÊN AN", "NGUYỄN VĂN AN"),
    ("ÑOÀNG THAÙP", "ĐỒNG THÁP"),
    ("Tònh Bieân", "Tịnh Biên"),
    ("Kyø", "Kỳ"),
    ("Mî", "Mỵ"),
])
def test_vni_known_strings(raw, want):
    assert legacy.decode(raw, "vni") == want


def test_vni_mixed_case_marks_follow_the_base_letter():
    # capital base with a lower-case mark (typed with Shift only on the first key)
    assert legacy.decode("Aù", "vni") == "Á"
    assert legacy.decode("aÙ", "vni") == "á"


def test_tcvn3_all_capitals_font_decodes_to_upper_case():
    assert legacy.decode("nguyÔn v¨n an", "tcvn3h") == "NGUYỄN VĂN AN"
    assert legacy.decode("danh s¸ch ®¨ng ký", "tcvn3h") == "DANH SÁCH ĐĂNG KÝ"
    assert legacy.decode("stt", "tcvn3h") == "STT"


def test_every_lower_case_letter_round_trips_in_tcvn3():
    for letter in LETTERS:
        encoded = tcvn3_encode(letter)
        assert len(encoded) == 1 and ord(encoded) < 256, letter  # one byte per letter
        assert legacy.decode(encoded, "tcvn3") == letter


def test_every_letter_round_trips_in_vni_both_cases():
    for letter in LETTERS + [x.upper() for x in LETTERS]:
        encoded = vni_encode(letter)
        assert all(ord(ch) < 256 for ch in encoded), letter
        assert legacy.decode(encoded, "vni") == letter


@pytest.mark.parametrize("word", WORDS)
def test_words_round_trip(word):
    lower = word.lower()
    assert legacy.decode(tcvn3_encode(lower), "tcvn3") == lower
    assert legacy.decode(tcvn3_encode(lower), "tcvn3h") == word.upper()
    assert legacy.decode(vni_encode(word), "vni") == word
    assert legacy.decode(vni_encode(word.upper()), "vni") == word.upper()
    assert legacy.encode(word, "vni") == vni_encode(word)


def test_output_is_nfc():
    out = legacy.decode("Nguyeãn", "vni")
    assert out == unicodedata.normalize("NFC", out)


@pytest.mark.parametrize("text", ["Nguyễn Văn An", "Hưng", "Đ", "Nguye\u0302\u0303n", "Trần Thị Bích"])
def test_unicode_text_is_never_converted(text):
    assert legacy.decode(text, "tcvn3") == text
    assert legacy.decode(text, "vni") == text


def test_non_strings_and_no_kind_pass_through():
    assert legacy.decode(12.0, "tcvn3") == 12.0
    assert legacy.decode(None, "vni") is None
    assert legacy.decode("NguyÔn", None) == "NguyÔn"
    assert legacy.decode("", "tcvn3") == ""


@pytest.mark.parametrize("font, kind", [
    (".VnTime", "tcvn3"), (".VnArial", "tcvn3"), (".VnTimeH", "tcvn3h"), (".VnArialH", "tcvn3h"),
    (".VnArial NarrowH", "tcvn3h"), (".VnCentury Schoolbook", "tcvn3"), ("VNtimes new roman", "tcvn3"),
    ("VNI-Times", "vni"), ("VNI-Helve", "vni"), ("vni-times", "vni"),
    ("Times New Roman", None), ("Calibri", None), ("Arial", None), (None, None), ("", None),
])
def test_legacy_kind(font, kind):
    assert legacy.legacy_kind(font) == kind
