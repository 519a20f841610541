"""Writes the labelled sets dev.jsonl and test.jsonl next to this file.

    .venv/bin/python tests/privacy/labelled/build.py

Deterministic: the same code writes the same bytes. Each line is a chat message to an AI
character or a service desk, in Chinese or English, with `entities` placed by the generator
itself (it knows where it put each value), following the conventions of privacy/detection.py.
The two sets use different seeds and partly different templates and fillers, so the test set
is not the dev set reshuffled. About a third of the lines carry only hard negatives: values that
look like personal data but are not (bad check digits, hotlines, order numbers, versions...).
"""

from __future__ import annotations

import ipaddress
import json
import random
import re
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TypeVar

from stdnum import luhn
from stdnum.cn import ric

HERE = Path(__file__).resolve().parent
LINES_PER_SET = 1500
NEGATIVE_SHARE = 0.36
MIN_PER_TYPE = 150
T = TypeVar("T")
ENTITY_TYPES = (
    "CN_ID_CARD",
    "CN_MOBILE",
    "BANK_CARD",
    "EMAIL",
    "IPV4",
    "IPV6",
    "PERSON",
    "ADDRESS",
)


def _part(items: Sequence[T], split: str) -> list[T]:
    """Two thirds of a pool: one third shared by both sets, one third each set's own."""
    own = 0 if split == "dev" else 1
    return [item for i, item in enumerate(items) if i % 3 != own]


# --- fillers: pools ---------------------------------------------------------------------------

PROVINCES = [11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46]
PROVINCES += [50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 71, 81, 82]
BAD_PROVINCES = [10, 16, 19, 20, 24, 29, 30, 38, 40, 47, 55, 60, 66, 70, 80, 90, 99]
MOBILE_PREFIXES = "130 131 132 133 135 136 137 138 139 147 150 151 152 153 155 156 157 158 159"
MOBILE_PREFIXES += (
    " 166 170 171 173 175 176 177 178 180 181 182 183 185 186 187 188 189 191 198 199"
)
CARD_PREFIXES = ["622202", "622848", "621700", "622588", "623668", "625965", "436742", "404119"]
CARD_PREFIXES += ["518710", "524091", "356833", "621226", "622260", "628288"]

SURNAMES = list(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
)
SURNAMES += list(
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金廖贾夏韦方白邹孟熊秦邱尹薛段雷侯龙史陶黎贺顾毛郝龚"
)
COMPOUND_SURNAMES = ["欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "慕容", "令狐", "司徒", "夏侯"]
COMPOUND_SURNAMES += ["尉迟", "公孙", "长孙", "宇文", "端木", "西门"]
GIVEN = list("伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚英华玉兰萍红鹏辉建国文斌宇浩凯婷雪琳晨欣")
GIVEN += list("怡佳子涵梓轩博思雨嘉俊昊然彤悦瑶晓梅丹蕾颖鑫宁志海波飞峰亮蓉倩璐慧洁若诗逸泽")
FIRST_NAMES = ["James", "Emily", "Olivia", "Liam", "Sophia", "Noah", "Ava", "Ethan", "Mia", "Lucas"]
FIRST_NAMES += ["Chloe", "Daniel", "Grace", "Henry", "Isabella", "Jack", "Lily", "Mason", "Nora"]
FIRST_NAMES += [
    "Oscar",
    "Ruby",
    "Samuel",
    "Zoe",
    "Wei",
    "Mei",
    "Hiroshi",
    "Priya",
    "Mateo",
    "Aisha",
]
FIRST_NAMES += ["Mary-Jane", "Jean-Luc", "Anne-Marie", "D'Angelo", "Kai", "Elena", "Tom", "Sarah"]
LAST_NAMES = ["Smith", "Johnson", "Brown", "Taylor", "Miller", "Wilson", "Moore", "Anderson"]
LAST_NAMES += ["Thomas", "Jackson", "White", "Harris", "Martin", "Chen", "Wang", "Li", "Zhang"]
LAST_NAMES += ["Garcia", "Rodriguez", "Nguyen", "Kim", "Patel", "O'Neil", "O'Brien", "McDonald"]
LAST_NAMES += ["Smith-Jones", "Lee-Wong", "Fitzgerald", "Novak", "Rossi", "Dubois", "Schmidt"]
MIDDLE_NAMES = ["Ann", "Marie", "James", "Lee", "Rose", "John", "Grace", "Paul"]

ZH_PLACES = [
    (
        "浙江省",
        "杭州市",
        ["西湖区", "滨江区", "余杭区", "拱墅区"],
        ["文三路", "天目山路", "江南大道", "文一西路"],
    ),
    (
        "广东省",
        "深圳市",
        ["南山区", "福田区", "宝安区", "龙岗区"],
        ["深南大道", "科技南路", "福华一路", "创业路"],
    ),
    (
        "广东省",
        "广州市",
        ["天河区", "越秀区", "海珠区", "番禺区"],
        ["天河路", "中山五路", "新港中路", "体育西路"],
    ),
    (
        "江苏省",
        "南京市",
        ["鼓楼区", "玄武区", "建邺区", "江宁区"],
        ["中山路", "汉中路", "江东中路", "双龙大道"],
    ),
    (
        "江苏省",
        "苏州市",
        ["姑苏区", "工业园区", "吴中区", "相城区"],
        ["人民路", "星湖街", "东环路", "干将西路"],
    ),
    (
        "四川省",
        "成都市",
        ["武侯区", "锦江区", "高新区", "青羊区"],
        ["人民南路", "天府大道", "春熙路", "蜀都大道"],
    ),
    (
        "湖北省",
        "武汉市",
        ["洪山区", "江汉区", "武昌区", "汉阳区"],
        ["珞喻路", "解放大道", "中北路", "汉阳大道"],
    ),
    (
        "山东省",
        "青岛市",
        ["市南区", "崂山区", "黄岛区", "李沧区"],
        ["香港中路", "东海西路", "海尔路", "长江中路"],
    ),
    (
        "福建省",
        "厦门市",
        ["思明区", "湖里区", "集美区", "海沧区"],
        ["湖滨南路", "厦禾路", "嘉禾路", "环岛路"],
    ),
    (
        "河南省",
        "郑州市",
        ["金水区", "二七区", "中原区", "管城区"],
        ["花园路", "文化路", "建设西路", "中州大道"],
    ),
    (
        "陕西省",
        "西安市",
        ["雁塔区", "碑林区", "未央区", "莲湖区"],
        ["长安南路", "小寨东路", "科技路", "凤城八路"],
    ),
    (
        "湖南省",
        "长沙市",
        ["岳麓区", "芙蓉区", "天心区", "开福区"],
        ["麓山南路", "五一大道", "芙蓉中路", "湘江中路"],
    ),
]
ZH_MUNICIPALITIES = [
    (
        "北京市",
        ["海淀区", "朝阳区", "东城区", "西城区", "丰台区"],
        ["中关村大街", "建国路", "学院路", "长安街", "望京街"],
    ),
    (
        "上海市",
        ["浦东新区", "徐汇区", "静安区", "黄浦区", "闵行区"],
        ["世纪大道", "漕溪北路", "南京西路", "淮海中路", "张江路"],
    ),
    ("天津市", ["和平区", "南开区", "河西区"], ["南京路", "卫津路", "友谊路"]),
    ("重庆市", ["渝中区", "江北区", "沙坪坝区"], ["解放碑路", "观音桥步行街", "三峡广场路"]),
]
ZH_TOWNS = [
    ("余杭区", "良渚街道"),
    ("昆山市", "花桥镇"),
    ("番禺区", "南村镇"),
    ("江宁区", "秣陵街道"),
]
ZH_COMPOUNDS = [
    "阳光小区",
    "东部软件园",
    "金地花园",
    "万科城",
    "翠苑一区",
    "绿城桂花园",
    "保利中心",
    "华府天地",
]

STREETS = ["Baker", "Oak", "Maple", "Elm", "Pine", "Cedar", "Main", "Park", "Lake", "Hill"]
STREETS += ["Sunset", "Washington", "Lincoln", "Cherry", "Willow", "King", "Queen", "Victoria"]
STREETS += ["North Maple", "Old Mill", "West End", "Fifth", "Harbor View", "Church"]
STREET_TYPES = ["Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Ln", "Boulevard", "Blvd"]
STREET_TYPES += ["Drive", "Dr", "Way", "Court", "Ct", "Place", "Pl"]
UNITS = ["Apt", "Apartment", "Suite", "Unit", "Room", "Floor"]
EN_CITIES = [
    ", Springfield, IL 62704",
    ", London NW1 6XE",
    ", Toronto, ON M5V 2T6",
    ", Seattle, WA",
]
EN_CITIES += [", Austin, TX 78701", ", Sydney NSW 2000", ", Boston", ", Vancouver", ", Dublin"]

EMAIL_USERS = ["zhangwei", "li.na", "wang_fang88", "chen.jie+shop", "liuyang2001", "mike.jones"]
EMAIL_USERS += ["sarah_k", "j.smith", "xiaoming", "happy.cat", "amy-lee", "tom1990", "yu.han.work"]
EMAIL_USERS += ["support.test", "lucy+news", "dragon_king", "sunny_day7", "k.wang", "lin-xiao"]
EMAIL_DOMAINS = [
    "qq.com",
    "163.com",
    "126.com",
    "gmail.com",
    "outlook.com",
    "foxmail.com",
    "sina.com",
]
EMAIL_DOMAINS += [
    "yahoo.co.jp",
    "example.com.cn",
    "mail.tsinghua.edu.cn",
    "company.io",
    "hotmail.com",
]
EMAIL_DOMAINS += ["icloud.com", "proton.me", "sohu.com", "alumni.nus.edu.sg"]


# --- the line under construction ------------------------------------------------------------


@dataclass
class Line:
    lang: str
    text: str = ""
    entities: list[dict[str, object]] = field(default_factory=list)
    negatives: list[tuple[int, int, str]] = field(default_factory=list)

    def add(self, piece: str, kind: str | None = None) -> None:
        if kind is not None:
            self.entities.append(
                {"start": len(self.text), "end": len(self.text) + len(piece), "type": kind}
            )
        self.text += piece


Filler = Callable[[random.Random], tuple[str, str | None]]


# --- positive fillers ------------------------------------------------------------------------


def _birth_date(rng: random.Random) -> date:
    return date(1940, 1, 1) + timedelta(days=rng.randrange(0, 365 * 68))


def _id_check(body: str) -> str:
    """The MOD 11-2 check character of a 17-digit body."""
    # stdnum reads the body from a full-length number, ignoring its last character.
    return ric.calc_check_digit(body + "0")


def _id_body(rng: random.Random, province: int, born: str) -> str:
    area = f"{rng.randrange(1, 20):02d}{rng.randrange(1, 30):02d}"
    return f"{province:02d}{area}{born}{rng.randrange(0, 1000):03d}"


def id_card(rng: random.Random) -> tuple[str, str]:
    want_x = rng.random() < 0.2
    while True:
        body = _id_body(rng, rng.choice(PROVINCES), _birth_date(rng).strftime("%Y%m%d"))
        check = _id_check(body)
        if (check == "X") == want_x:
            break
    value = body + (check.lower() if check == "X" and rng.random() < 0.3 else check)
    assert _valid_id(value), value
    return value, "CN_ID_CARD"


def _mobile_digits(rng: random.Random) -> str:
    return rng.choice(MOBILE_PREFIXES.split()) + f"{rng.randrange(0, 10**8):08d}"


def mobile(rng: random.Random) -> tuple[str, str]:
    d = _mobile_digits(rng)
    spaced, dashed = f"{d[:3]} {d[3:7]} {d[7:]}", f"{d[:3]}-{d[3:7]}-{d[7:]}"
    value = rng.choices(
        [
            d,
            spaced,
            dashed,
            "+86" + d,
            "+86 " + d,
            "+86-" + d,
            "86 " + d,
            "+86 " + spaced,
            "86-" + dashed,
            "86" + d,
        ],
        weights=[40, 10, 10, 8, 8, 4, 4, 6, 3, 2],
    )[0]
    return value, "CN_MOBILE"


def _luhn_number(rng: random.Random, length: int, valid: bool) -> str:
    body = rng.choice(CARD_PREFIXES)
    body += "".join(str(rng.randrange(10)) for _ in range(length - 1 - len(body)))
    check = int(luhn.calc_check_digit(body))
    return body + str(check if valid else (check + rng.randrange(1, 10)) % 10)


def _grouped(digits: str) -> str:
    return " ".join(digits[i : i + 4] for i in range(0, len(digits), 4))


def bank_card(rng: random.Random) -> tuple[str, str]:
    digits = _luhn_number(rng, rng.choice([16, 16, 17, 18, 19, 19]), valid=True)
    assert luhn.is_valid(digits)
    return (_grouped(digits) if rng.random() < 0.4 else digits), "BANK_CARD"


def email(rng: random.Random) -> tuple[str, str]:
    user = rng.choice(EMAIL_USERS)
    if rng.random() < 0.3:
        user += str(rng.randrange(1, 999))
    return f"{user}@{rng.choice(EMAIL_DOMAINS)}", "EMAIL"


def _octet(rng: random.Random) -> int:
    return rng.choice([0, 1, 10, 254, 255, rng.randrange(256), rng.randrange(256)])


def ipv4(rng: random.Random) -> tuple[str, str]:
    first = rng.choice(["10", "192.168", "172.16", "8", "114", "47", "203", "127.0", "100"])
    parts = first.split(".")
    parts += [str(_octet(rng)) for _ in range(4 - len(parts))]
    value = ".".join(parts)
    ipaddress.IPv4Address(value)
    return value, "IPV4"


def _hextet(rng: random.Random) -> str:
    return f"{rng.randrange(0, 0x10000):x}"


def ipv6(rng: random.Random) -> tuple[str, str]:
    kind = rng.choices(
        ["full", "compressed", "loopback", "mapped", "zone", "upper"],
        weights=[18, 50, 6, 10, 6, 10],
    )[0]
    if kind == "full":
        value = ":".join(f"{rng.randrange(0, 0x10000):04x}" for _ in range(8))
    elif kind == "loopback":
        value = "::1"
    elif kind == "mapped":
        embedded = (
            rng.randrange(1, 224),
            rng.randrange(256),
            rng.randrange(256),
            rng.randrange(1, 255),
        )
        value = "::ffff:" + ".".join(map(str, embedded))
    elif kind == "zone":
        value = f"fe80::{_hextet(rng)}:{_hextet(rng)}%{rng.choice(['eth0', 'en0', 'wlan0', '3'])}"
    else:
        head = rng.choice(["2001:db8", "2408:8207", "240e:3b7", "fe80", "2001:da8:8000", "fd00"])
        tail = ":".join(_hextet(rng) for _ in range(rng.randrange(1, 4)))
        value = f"{head}::{tail}"
        if kind == "upper":
            value = value.upper()
    ipaddress.IPv6Address(value)
    return value, "IPV6"


def zh_name(rng: random.Random) -> tuple[str, str]:
    surname = rng.choice(COMPOUND_SURNAMES) if rng.random() < 0.15 else rng.choice(SURNAMES)
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2, 2])))
    return surname + given, "PERSON"


def en_name(rng: random.Random) -> tuple[str, str]:
    words = [rng.choice(FIRST_NAMES)]
    if rng.random() < 0.12:
        words.append(rng.choice(MIDDLE_NAMES))
    if rng.random() < 0.8:
        words.append(rng.choice(LAST_NAMES))
    return " ".join(words), "PERSON"


def zh_address(rng: random.Random) -> tuple[str, str]:
    if rng.random() < 0.3:
        city, districts, roads = rng.choice(ZH_MUNICIPALITIES)
        province = ""
    else:
        province, city, districts, roads = rng.choice(ZH_PLACES)
    district, road = rng.choice(districts), rng.choice(roads)
    start = rng.choices(["province", "city", "district", "road"], weights=[30, 35, 20, 15])[0]
    head = {
        "province": province + city + district,
        "city": city + district,
        "district": district,
        "road": "",
    }[start]
    if start != "road" and rng.random() < 0.12:
        district, town = rng.choice(ZH_TOWNS)
        head = (city if start in ("province", "city") else "") + district + town
    value = head + road + f"{rng.randrange(1, 999)}号"
    tail = rng.choices(["none", "room", "building", "floor", "unit"], weights=[15, 25, 20, 20, 20])[
        0
    ]
    compound = rng.choice(ZH_COMPOUNDS) if rng.random() < 0.5 else ""
    if tail == "room":
        value += compound + f"{rng.randrange(1, 30)}栋{rng.randrange(101, 2999)}室"
    elif tail == "building":
        value += compound + f"{rng.randrange(1, 12)}号楼"
    elif tail == "floor":
        value += compound + f"{rng.randrange(1, 9)}号楼{rng.randrange(1, 40)}层"
    elif tail == "unit":
        value += (
            compound
            + f"{rng.randrange(1, 20)}栋{rng.randrange(1, 6)}单元{rng.randrange(101, 2600)}室"
        )
    return value, "ADDRESS"


def en_address(rng: random.Random) -> tuple[str, str]:
    number = str(rng.randrange(1, 9999)) + (rng.choice("ABC") if rng.random() < 0.1 else "")
    value = f"{number} {rng.choice(STREETS)} {rng.choice(STREET_TYPES)}"
    if rng.random() < 0.4:
        unit = rng.choice(UNITS)
        value += f", {unit} {rng.randrange(1, 40)}{rng.choice(['', '', 'B', 'C'])}"
    return value, "ADDRESS"


# --- hard-negative fillers (never entities) -------------------------------------------------


def _not_an_id(value: str) -> str:
    assert not _valid_id(value), value
    return value


def _valid_id(value: str) -> bool:
    if not re.fullmatch(r"\d{17}[\dXx]", value) or int(value[:2]) not in PROVINCES:
        return False
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    # stdnum's own validation also wants a county code from its bundled list; the conventions
    # ask only for a real province, a real date and the MOD 11-2 check character.
    today = datetime.now(UTC).date()
    return born.year >= 1900 and born <= today and value[17].upper() == _id_check(value[:17])


def _invalid_id(rng: random.Random, province: int, born: str, wrong_check: bool) -> str:
    while True:
        body = _id_body(rng, province, born)
        check = _id_check(body)
        if wrong_check:
            check = rng.choice([c for c in "0123456789X" if c != check])
        # An 18-digit run passing Luhn would be a bank card by the conventions.
        if not luhn.is_valid(body + check.replace("X", "0")) or check == "X":
            return _not_an_id(body + check)


def bad_checksum_id(rng: random.Random) -> tuple[str, None]:
    born = _birth_date(rng).strftime("%Y%m%d")
    return _invalid_id(rng, rng.choice(PROVINCES), born, wrong_check=True), None


def bad_province_id(rng: random.Random) -> tuple[str, None]:
    born = _birth_date(rng).strftime("%Y%m%d")
    return _invalid_id(rng, rng.choice(BAD_PROVINCES), born, wrong_check=False), None


def bad_date_id(rng: random.Random) -> tuple[str, None]:
    born = rng.choice(
        [
            "19990230",
            "20010231",
            "19851301",
            "19770000",
            "20300115",
            "18991231",
            "19920431",
            "20230229",
            "19880932",
            "21010101",
            "20991120",
        ]
    )
    return _invalid_id(rng, rng.choice(PROVINCES), born, wrong_check=False), None


def bad_id(rng: random.Random) -> tuple[str, None]:
    return rng.choice([bad_checksum_id, bad_province_id, bad_date_id])(rng)


def non_luhn(rng: random.Random) -> tuple[str, None]:
    digits = _luhn_number(rng, rng.choice([16, 17, 18, 19]), valid=False)
    assert not luhn.is_valid(digits) and not _valid_id(digits)
    return (_grouped(digits) if rng.random() < 0.35 else digits), None


def glued(rng: random.Random) -> tuple[str, None]:
    kind = rng.choice(["digits", "digits", "letters_before", "letters_after", "letters_both"])
    m = _mobile_digits(rng)
    if kind == "digits":
        while True:
            run = f"{rng.randrange(10, 100)}{m}{rng.randrange(0, 1000):03d}"
            if not luhn.is_valid(run) and not _valid_id(run):
                return run, None
    word = rng.choice(["abc", "uid", "user", "ID", "tel", "x"])
    return {
        "letters_before": word + m,
        "letters_after": m + rng.choice(["xyz", "abc", "A", "vip"]),
        "letters_both": f"u{m}k",
    }[kind], None


def odd_eleven(rng: random.Random) -> tuple[str, None]:
    return rng.choice(["10", "11", "12"]) + f"{rng.randrange(0, 10**9):09d}", None


def hotline(rng: random.Random) -> tuple[str, None]:
    return rng.choice(
        [
            "400-820-8820",
            "400-100-5678",
            "4006-888-888",
            "400 610 1688",
            "95588",
            "10086",
            "10010",
            "95555",
            "12345",
            "12306",
            "800-820-8820",
            "95533",
            "4008123123",
        ]
    ), None


def order_number(rng: random.Random) -> tuple[str, None]:
    return (
        f"202{rng.randrange(3, 6)}{rng.randrange(10**9, 10**10)}"
        + str(rng.randrange(0, 10 ** rng.randrange(2, 6))),
        None,
    )


def tracking_number(rng: random.Random) -> tuple[str, None]:
    return rng.choice(
        [
            f"SF{rng.randrange(10**12, 10**13)}",
            f"YT{rng.randrange(10**12, 10**13)}",
            f"JD00{rng.randrange(10**10, 10**11)}",
            f"1Z{rng.randrange(100, 999)}AA1{rng.randrange(10**10, 10**11)}",
            f"75{rng.randrange(10**11, 10**12)}",
        ]
    ), None


def a_date(rng: random.Random) -> tuple[str, None]:
    d = _birth_date(rng) + timedelta(days=365 * 20)
    return rng.choice(
        [
            d.strftime("%Y-%m-%d"),
            d.strftime("%Y/%m/%d"),
            f"{d.year}年{d.month}月{d.day}日",
            d.strftime("%Y%m%d"),
            d.strftime("%d/%m/%Y"),
        ]
    ), None


def a_time(rng: random.Random) -> tuple[str, None]:
    return rng.choice(
        [
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}",
            f"{rng.randrange(24):02d}:{rng.randrange(60):02d}",
        ]
    ), None


def price(rng: random.Random) -> tuple[str, None]:
    amount = rng.randrange(1, 100000) / 100
    return rng.choice(
        [
            f"¥{amount:.2f}",
            f"{amount:.2f}元",
            f"${amount:,.2f}",
            f"{int(amount)}块",
            f"￥{int(amount) * 10:,}",
        ]
    ), None


def qq(rng: random.Random) -> tuple[str, None]:
    return str(rng.randrange(10**4, 10**10)), None


def code(rng: random.Random) -> tuple[str, None]:
    return str(rng.randrange(10**3, 10**6)).zfill(rng.choice([4, 6])), None


def handle(rng: random.Random) -> tuple[str, None]:
    return "@" + rng.choice(
        [
            "zhangsan",
            "moon_light",
            "xiaoyu_99",
            "coffee.cat",
            "kevin",
            "lily_w",
            "admin",
            "大白",
            "tech_support",
        ]
    ), None


def version(rng: random.Random) -> tuple[str, None]:
    return rng.choice(
        [
            f"10.0.{rng.randrange(19041, 22700)}.{rng.randrange(1000, 4000)}",
            ".".join(str(rng.randrange(0, top)) for top in (9, 20, 9, 9, 99)),
            f"{rng.randrange(100, 130)}.0.{rng.randrange(6000, 6500)}.{rng.randrange(10, 200)}",
            f"3.{rng.randrange(8, 14)}.{rng.randrange(0, 12)}",
        ]
    ), None


def mac(rng: random.Random) -> tuple[str, None]:
    sep = rng.choice([":", "-"])
    return sep.join(f"{rng.randrange(256):02X}" for _ in range(6)), None


def bad_ip(rng: random.Random) -> tuple[str, None]:
    return rng.choice(
        [
            "256.1.1.1",
            "999.1.1.1",
            f"{rng.randrange(256, 1000)}.{rng.randrange(256)}.0.1",
            f"192.168.{rng.randrange(256, 999)}.1",
        ]
    ), None


def port(rng: random.Random) -> tuple[str, None]:
    return str(rng.choice([22, 80, 443, 3306, 5432, 6379, 8080, 8443, 9000])), None


def small_number(rng: random.Random) -> tuple[str, None]:
    return str(rng.randrange(2, 40)), None


def en_city(rng: random.Random) -> tuple[str, None]:
    return rng.choice(EN_CITIES), None


FILLERS: dict[str, Filler] = {
    "id": id_card,
    "mobile": mobile,
    "card": bank_card,
    "email": email,
    "ipv4": ipv4,
    "ipv6": ipv6,
    "zh_name": zh_name,
    "en_name": en_name,
    "zh_addr": zh_address,
    "en_addr": en_address,
    "bad_id": bad_id,
    "non_luhn": non_luhn,
    "glued": glued,
    "odd11": odd_eleven,
    "hotline": hotline,
    "order": order_number,
    "tracking": tracking_number,
    "date": a_date,
    "time": a_time,
    "price": price,
    "qq": qq,
    "code": code,
    "handle": handle,
    "version": version,
    "mac": mac,
    "bad_ip": bad_ip,
    "port": port,
    "n": small_number,
    "en_city": en_city,
}

# --- templates -------------------------------------------------------------------------------
# Grouped by the entity type they are written for (others may come along). Within a group,
# every fourth template belongs to the dev set only and the one after it to the test set only.

POSITIVE: dict[str, dict[str, list[str]]] = {
    "PERSON": {
        "zh": [
            "你好，我叫{zh_name}，今年{n}岁，想找个人聊聊天。",
            "我是{zh_name}，上次跟你聊过的那个，还记得我吗？",
            "姓名：{zh_name}\n电话：{mobile}",
            "收件人：{zh_name}，电话{mobile}，地址：{zh_addr}。",
            "联系人 {zh_name}，有问题打我电话 {mobile}。",
            "以后别叫我亲爱的了，我叫{zh_name}。",
            "我是{zh_name}，今年刚毕业，想问问面试的事。",
            "姓名:{zh_name} 身份证号:{id}",
            "麻烦改一下收件人：{zh_name}，别的不变",
            "嗨，我叫{zh_name}！你叫什么呀？",
            "我叫{zh_name}的话，你会给我起什么外号？",
            "你好呀，我是{zh_name}，今天心情不太好。",
            "联系人：{zh_name}，订单号{order}，麻烦尽快处理",
            "我叫{zh_name}，在杭州上班，平时喜欢看书。",
            "我叫{zh_name}是因为我爷爷喜欢这个字",
            "收件人:{zh_name} 电话:{mobile} 备注：放门卫",
        ],
        "en": [
            "Hi, my name is {en_name}, and I'd like to talk about my order.",
            "Hello! I'm {en_name}. Can you pretend to be my study buddy?",
            "My name is {en_name}; my phone is {mobile}.",
            "I am {en_name} from the marketing team, please reset my password.",
            "name: {en_name}\nemail: {email}",
            "Hey there, I'm {en_name} and I just moved to a new city.",
            "Please call me by my real name. My name is {en_name}.",
            "I'm {en_name}, {n} years old, and I love sci-fi.",
            "Nice to meet you! I am {en_name}.",
            "Name: {en_name}, order #{order}, still waiting for a refund.",
            "hi, I'm {en_name} lol, what should i call you?",
            "I'm {en_name} — we talked yesterday about the trip.",
        ],
    },
    "ADDRESS": {
        "zh": [
            "我住在{zh_addr}，附近有什么好吃的吗？",
            "收货地址：{zh_addr}，收件人{zh_name}，电话{mobile}",
            "帮我寄到{zh_addr}，谢谢！",
            "外卖送到{zh_addr}，到了打电话。",
            "地址：{zh_addr}\n联系人：{zh_name}",
            "我的地址 {zh_addr} 写错了，能改吗？",
            "快递麻烦送到{zh_addr}。",
            "新地址:{zh_addr}，旧的那个不要了",
            "我刚搬家，现在住在{zh_addr}。",
            "寄到{zh_addr}，收件人：{zh_name}，手机 {mobile}。",
            "收货地址:{zh_addr}（白天没人，放快递柜）",
            "明天把样品送到{zh_addr}，运单号发我就行",
        ],
        "en": [
            "Please ship it to {en_addr}{en_city}.",
            "Can you send it to {en_addr}{en_city}? Thanks!",
            "I live at {en_addr}, so the pickup is close.",
            "My address is {en_addr}{en_city}.",
            "Shipping address: {en_addr}{en_city}",
            "address: {en_addr}\nphone: {mobile}",
            "I live at {en_addr} with my two cats, lol",
            "Oops, ship it to {en_addr} instead, not the old place!",
            "Billing address is {en_addr}{en_city}, card {card}.",
            "send it to {en_addr}{en_city} and text me at {mobile}",
        ],
    },
    "CN_ID_CARD": {
        "zh": [
            "身份证号：{id}，帮我查下实名认证为什么没通过",
            "我的身份证号码是{id}，姓名{zh_name}",
            "姓名 {zh_name} 身份证 {id}",
            "证件号码 {id}，手机号 {mobile}",
            "帮我填一下表，身份证{id}，出生日期就是里面那个",
            "身份证号码 {id}。",
            "我的证件号尾号是X，完整号码{id}，系统说不对",
            "给我妈订票，她的身份证是{id}",
            "实名认证填的{id}，提示已被占用",
            "{id} 这是我的身份证，帮我看下是哪个省的",
        ],
        "en": [
            "My Chinese ID card number is {id}, can you verify it?",
            "ID: {id}",
            "Resident ID {id} — the hotel says it's invalid, why?",
            "Here is my ID number ({id}) for the booking.",
            "The form wants my ID, it's {id}.",
            "id card {id}, phone {mobile}",
        ],
    },
    "CN_MOBILE": {
        "zh": [
            "我的手机号是{mobile}，有事打我",
            "电话{mobile}。",
            "联系方式：{mobile}（微信同号）",
            "你可以加我微信，就是手机号{mobile}",
            "刚换了号码，新号{mobile}，旧号码停用了",
            "手机：{mobile}，座机打不通的话打这个",
            "麻烦客服回电 {mobile}，谢谢",
            "{mobile} 这个号码是我妈的，帮我登记一下",
            "我给你留个电话吧：{mobile}",
            "有急事打{mobile}或者{mobile}都行",
        ],
        "en": [
            "Call me at {mobile} after 6pm.",
            "My phone number is {mobile}.",
            "You can text me on {mobile} if the app crashes again.",
            "phone: {mobile}",
            "WeChat is the same as my mobile, {mobile}.",
            "my new number is {mobile}, the old one is dead",
        ],
    },
    "BANK_CARD": {
        "zh": [
            "我的银行卡号是{card}，退款打到这张卡上",
            "卡号：{card}，开户行招商银行",
            "绑定的卡是 {card}，为什么扣款失败？",
            "请把钱转到{card}，谢谢",
            "这张卡{card}被冻结了怎么办",
            "工资卡{card}，能不能改成这张收款",
            "银行卡：{card}\n姓名：{zh_name}",
            "信用卡 {card} 昨天被扣了{price}",
        ],
        "en": [
            "Please refund to my card {card}.",
            "card number: {card}",
            "I was charged twice on {card}, can you check?",
            "My card {card} was declined at checkout.",
            "Use the Visa {card} for the subscription, please.",
        ],
    },
    "EMAIL": {
        "zh": [
            "我的邮箱是{email}，发到这里就行",
            "邮箱：<{email}>",
            "把报告发到{email}。",
            "有问题联系我（{email}）",
            "工作邮箱 {email}，私人邮箱 {email}",
            "发邮件到【{email}】吧",
            "邮箱：{email}，手机：{mobile}",
            "简历已经发到{email}了，请查收",
        ],
        "en": [
            "Email me at {email}.",
            "Reach me at <{email}> anytime.",
            "My email is {email}, thanks!",
            "Contact: Jane Doe ({email})",
            "Send the invoice to [{email}] please",
            "email: {email}\nphone: {mobile}",
            "cc {email} and {email} on the reply",
        ],
    },
    "IPV4": {
        "zh": [
            "服务器IP是{ipv4}，SSH连不上",
            "我家路由器后台是 http://{ipv4}/ ，密码忘了",
            "内网地址 {ipv4}:{port} 访问不了",
            "被这个IP {ipv4} 一直攻击，怎么封掉？",
            "游戏服务器{ipv4}延迟好高",
            "DNS我设成了{ipv4}和{ipv4}",
            "数据库在{ipv4}:{port}，账号密码没变",
        ],
        "en": [
            "I can't reach {ipv4}:{port} from my laptop.",
            "Whitelist my IP {ipv4}, please.",
            "Open http://{ipv4}:{port}/admin in the browser.",
            "Login attempts came from {ipv4} and {ipv4}.",
            "The printer sits at {ipv4}, but nobody can print.",
        ],
    },
    "IPV6": {
        "zh": [
            "我的IPv6是{ipv6}，为什么ping不通",
            "服务器绑定在 [{ipv6}]:{port} 上",
            "本机回环 {ipv6} 测试正常",
            "路由器分配的v6是{ipv6}。",
            "这个IPv6 {ipv6} 一直在刷接口",
            "访问 http://[{ipv6}]:{port}/ 会超时",
        ],
        "en": [
            "My IPv6 is {ipv6} and it changes every day.",
            "Connect to [{ipv6}]:{port} instead.",
            "ping {ipv6} works, but the website does not",
            "Block {ipv6}, it's spamming us.",
            "The server listens on {ipv6} only.",
        ],
    },
}

NEGATIVE: dict[str, list[str]] = {
    "zh": [
        "订单号{order}，什么时候发货？",
        "运单号 {tracking} 三天没更新了",
        "身份证号{bad_id}提示格式错误，是我输错了吗？",
        "我是学生，有没有优惠？",
        "我是你的粉丝！每天都来找你聊天",
        "我是高中生，作业好多，{time}还没写完",
        "我是程序员，今天又加班到{time}",
        "客服电话{hotline}一直打不通",
        "打{hotline}转人工要等好久",
        "验证码{code}，五分钟内有效，是你们发的吗",
        "我的QQ：{qq}，加我一起打游戏",
        "qq号{qq}被盗了，怎么找回",
        "这个卡号{non_luhn}绑不上，提示卡号有误",
        "会员编号{glued}怎么查积分",
        "工号{odd11}，请帮我重置系统密码",
        "价格{price}，比昨天贵了",
        "{date} {time} 的那笔交易不是我本人操作的",
        "我的电脑版本是 {version}，装不上你们的客户端",
        "网卡MAC地址是{mac}，能帮我绑定吗",
        "IP填{bad_ip}为什么报错",
        "{handle} 你看看这个，好好笑",
        "今天好累啊，{time}才下班，陪我聊会儿",
        "我是第一次用这个，怎么设置角色？",
        "退款{price}到账了吗？订单号 {order}",
        "身份证{bad_id}，这个号码是不是无效的？",
        "帮我算算{date}到现在多少天",
        "转账备注写了{glued}，能查到吗",
        "流水号{non_luhn}，麻烦查一下",
        "我是新来的，多多关照",
        "我是说真的，别开玩笑了",
        "编号{odd11}的设备坏了，报修",
        "版本{version}和{version}有什么区别？",
        "验证码是{code}，输了没反应，客服{hotline}也占线",
        "订单{order}，运单号{tracking}，一直显示待揽收",
        "我是你的老用户了，这次{price}的会员能便宜点吗",
        "昨天{time}下的单，订单号：{order}",
        "路由器MAC {mac}，系统版本 {version}",
        "这个号码{glued}是什么意思？",
        "身份证号码{bad_id}，出生日期好像不对",
    ],
    "en": [
        "I'm tired, can we just chat for a bit?",
        "I'm from Shanghai, ask me anything about it.",
        "I'm from Beijing and I love hotpot.",
        "I'm a student, is there a discount?",
        "I'm not sure what my order number is, maybe order #{order}?",
        "Tracking number: {tracking}, stuck since {date}.",
        "My verification code is {code}, it says expired.",
        "The hotline {hotline} never picks up.",
        "It cost {price} and broke after {n} days.",
        "Running build {version} on Windows, the app crashes.",
        "MAC address: {mac}",
        "ping {bad_ip} gives an error, obviously",
        "Meeting at {time} on {date}, don't forget!",
        "Follow me {handle} for updates",
        "My ID {bad_id} got rejected, is it wrong?",
        "The card {non_luhn} fails validation, is that normal?",
        "Reference code {glued}, please check.",
        "Account {odd11} is locked.",
        "I'm so happy today!",
        "I am new here, how does this work?",
        "My name is on the reservation already.",
        "I live at the end of a long road, hard to find.",
        "ship it to my office, the usual one",
        "I'm from London, but I live in Shenzhen now.",
        "Your code: {code}. Don't share it with anyone.",
        "order #{order} arrived broken, I paid {price}",
        "I am really confused about version {version}.",
        "Call {hotline} they said, but it's closed at {time}.",
    ],
}

_ASCII_ALNUM = re.compile(r"[0-9A-Za-z]")
_CUE_PROTECTED = {
    "order",
    "qq",
    "code",
    "hotline",
    "tracking",
    "date",
    "time",
    "odd11",
    "n",
    "port",
}
_NAME_STOPS = set("，。！？、；：,.!?;: \n（(的是在今")
_NARROWED = ("SURNAMES", "GIVEN", "FIRST_NAMES", "LAST_NAMES", "STREETS", "EMAIL_USERS")
_NARROWED += ("EMAIL_DOMAINS", "ZH_COMPOUNDS", "ZH_PLACES")
_FULL_POOLS = {name: list(globals()[name]) for name in _NARROWED}


def _narrow_pools(split: str) -> None:
    """Give the fillers this set's part of each pool (the fillers read the module's pools)."""
    for name in _NARROWED:
        globals()[name] = _part(_FULL_POOLS[name], split)


def render(template: str, lang: str, rng: random.Random, line: Line | None = None) -> Line:
    """Fill a template's slots, appending to `line` (a new one by default)."""
    line = line or Line(lang)
    position = 0
    for slot in re.finditer(r"\{(\w+)\}", template):
        line.add(template[position : slot.start()])
        value, kind = FILLERS[slot.group(1)](rng)
        start = len(line.text)
        line.add(value, kind)
        if kind is None:
            line.negatives.append((start, len(line.text), slot.group(1)))
        position = slot.end()
    line.add(template[position:])
    return line


# --- self-checks: a generator bug must not become a wrong label ------------------------------


def _leaks(text: str) -> list[str]:
    """Values in unlabelled text that the conventions would call entities."""
    found = [m.group() for m in re.finditer(r"[\w.+-]+@[\w-]+\.[A-Za-z.]+", text)]
    mobile = r"(?<![0-9A-Za-z])1[3-9]\d(?:[ -]?\d{4}){2}(?![0-9A-Za-z])"
    found += [m.group() for m in re.finditer(mobile, text)]
    for m in re.finditer(r"(?<![0-9A-Za-z])\d[\d ]{14,22}[\dXx](?![0-9A-Za-z])", text):
        digits = m.group().replace(" ", "")
        if (16 <= len(digits) <= 19 and digits.isdigit() and luhn.is_valid(digits)) or _valid_id(
            digits
        ):
            found.append(m.group())
    for m in re.finditer(r"(?<![\d.])\d{1,3}(?:\.\d{1,3}){3}(?![\d.]|\.\d)", text):
        if all(int(part) <= 255 for part in m.group().split(".")):
            found.append(m.group())
    return found


def check(line: Line) -> None:
    masked = list(line.text)
    previous_end = 0
    for entity in line.entities:
        start, end, kind = entity["start"], entity["end"], entity["type"]
        assert isinstance(start, int) and isinstance(end, int)
        assert previous_end <= start < end, (line.text, entity)
        previous_end = end
        before, after = line.text[start - 1 : start], line.text[end : end + 1]
        if kind not in ("PERSON", "ADDRESS"):
            assert not _ASCII_ALNUM.match(before) and not _ASCII_ALNUM.match(after), line.text
        if kind == "PERSON":
            assert after == "" or after in _NAME_STOPS or after == "—", (line.text, after)
            assert not re.match(r" [A-Z]", line.text[end : end + 2]), line.text
        masked[start:end] = "#" * (end - start)
    for start, end, name in line.negatives:
        if name in _CUE_PROTECTED:
            masked[start:end] = "#" * (end - start)
    leaks = _leaks("".join(masked))
    assert not leaks, (line.text, leaks)


# --- the sets --------------------------------------------------------------------------------


def _for_split(templates: Sequence[str], split: str) -> list[str]:
    skipped = 1 if split == "dev" else 0
    return [t for i, t in enumerate(templates) if i % 4 != skipped]


def _positive_template(rng: random.Random, lang: str, split: str, counts: Counter[str]) -> str:
    # Mostly the type seen least so far, so every type gets enough lines.
    least = min(ENTITY_TYPES, key=lambda kind: (counts[kind], rng.random()))
    kind = least if rng.random() < 0.6 else rng.choice(ENTITY_TYPES)
    return rng.choice(_for_split(POSITIVE[kind][lang], split))


def build_set(split: str, seed: int) -> list[dict[str, object]]:
    _narrow_pools(split)
    rng = random.Random(seed)
    counts: Counter[str] = Counter(dict.fromkeys(ENTITY_TYPES, 0))
    records = []
    for number in range(1, LINES_PER_SET + 1):
        lang = "zh" if rng.random() < 0.6 else "en"
        if rng.random() < NEGATIVE_SHARE:
            template = rng.choice(_for_split(NEGATIVE[lang], split))
            line = render(template, lang, rng)
        else:
            line = render(_positive_template(rng, lang, split, counts), lang, rng)
            if rng.random() < 0.3:
                # Some messages say two things at once.
                ended = line.text[-1] in "。！？!?.）)\n"
                line.add(("" if lang == "zh" else " ") if ended else rng.choice(["。", "\n"]))
                render(_positive_template(rng, lang, split, counts), lang, rng, line)
        check(line)
        counts.update(str(e["type"]) for e in line.entities)
        records.append(
            {
                "id": f"{split}-{number:04d}",
                "text": line.text,
                "entities": line.entities,
                "lang": lang,
            }
        )
    short = {kind: n for kind, n in counts.items() if n < MIN_PER_TYPE}
    assert not short, f"{split}: too few entities of {short}"
    negative_only = sum(not r["entities"] for r in records) / len(records)
    assert negative_only >= 0.30, f"{split}: only {negative_only:.0%} negative-only lines"
    return records


def write(records: Sequence[dict[str, object]], path: Path) -> None:
    with path.open("w", encoding="utf-8", newline="\n") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")


def main() -> int:
    for split, seed in (("dev", 20240611), ("test", 7919)):
        records = build_set(split, seed)
        path = HERE / f"{split}.jsonl"
        write(records, path)
        counts = Counter(str(e["type"]) for r in records for e in r["entities"])  # type: ignore[attr-defined]
        negative_only = sum(not r["entities"] for r in records)
        print(f"{path.name}: {len(records)} lines, {negative_only} negative-only, {dict(counts)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
