from __future__ import annotations

import pytest

from privacy.detection import ENTITY_TYPES, Entity, detect


def found(text):
    return [(text[e.start : e.end], e.type) for e in detect(text)]


ID_CARDS = [
    ("身份证号11010519491231002X。", [("11010519491231002X", "CN_ID_CARD")]),
    ("身份证号11010519491231002x", [("11010519491231002x", "CN_ID_CARD")]),
    ("My ID is 440308199901011234, thanks", [("440308199901011234", "CN_ID_CARD")]),
    ("born on a leap day: 310101200002290015", [("310101200002290015", "CN_ID_CARD")]),
    ("身份证：330106199003070014，电话", [("330106199003070014", "CN_ID_CARD")]),
    # bad checksum, bad province, impossible date, before 1900, in the future
    ("身份证440308199901011235", []),
    ("身份证160105194912310029", []),
    ("身份证720105194912310023", []),
    ("身份证110105202302300016", []),
    ("ID 110105189912310015", []),
    ("ID 110105209912310010", []),
    # glued to other digits or letters
    ("ID 1440308199901011234", []),
    ("ID 440308199901011234a", []),
]

MOBILES = [
    ("电话13812345678。", [("13812345678", "CN_MOBILE")]),
    ("call me on 19912345678 tonight", [("19912345678", "CN_MOBILE")]),
    ("手机：+8613812345678", [("+8613812345678", "CN_MOBILE")]),
    ("手机 +86 138 1234 5678", [("+86 138 1234 5678", "CN_MOBILE")]),
    ("phone 86-13812345678", [("86-13812345678", "CN_MOBILE")]),
    ("phone +86-138-1234-5678!", [("+86-138-1234-5678", "CN_MOBILE")]),
    ("电话138 1234 5678，", [("138 1234 5678", "CN_MOBILE")]),
    ("电话138-1234-5678", [("138-1234-5678", "CN_MOBILE")]),
    # 10/11/12-prefixed numbers and hotlines
    ("号码12345678901", []),
    ("号码11012345678", []),
    ("号码10012345678", []),
    ("客服电话10086，银行95588，热线12345", []),
    ("热线400-123-4567 或 4001234567", []),
    # glued
    ("编号9913812345678001", []),
    ("abc13812345678 and 13812345678xyz", []),
    ("a+8613812345678", []),
]

BANK_CARDS = [
    ("卡号6222020200000000014。", [("6222020200000000014", "BANK_CARD")]),
    ("card 4111111111111111 expires", [("4111111111111111", "BANK_CARD")]),
    ("卡号6222 0202 0000 0000 014，", [("6222 0202 0000 0000 014", "BANK_CARD")]),
    ("card 4111 1111 1111 1111.", [("4111 1111 1111 1111", "BANK_CARD")]),
    ("卡号622588000000000001", [("622588000000000001", "BANK_CARD")]),
    # not Luhn, too short, too long, glued
    ("卡号6222020200000000015", []),
    ("card 4111 1111 1111 1112", []),
    ("card 411111111111111", []),
    ("card 41111111111111110000", []),
    ("card x4111111111111111", []),
]

EMAILS = [
    ("邮箱zhangsan@example.com。", [("zhangsan@example.com", "EMAIL")]),
    ("mail <john.doe+tag@mail.example.co.uk>", [("john.doe+tag@mail.example.co.uk", "EMAIL")]),
    ("write to a@b.com.", [("a@b.com", "EMAIL")]),
    ("(bob_smith@company.cn)", [("bob_smith@company.cn", "EMAIL")]),
    ("qq邮箱13812345678@qq.com", [("13812345678@qq.com", "EMAIL")]),
    ("关注@zhangsan 的微博", []),
    ("user@localhost", []),
]

IPV4S = [
    ("服务器10.0.0.1。", [("10.0.0.1", "IPV4")]),
    ("connect to 192.168.1.20:8080 now", [("192.168.1.20", "IPV4")]),
    ("gateway 255.255.255.0, dns 8.8.8.8.", [("255.255.255.0", "IPV4"), ("8.8.8.8", "IPV4")]),
    ("Windows 10.0.19045.3570", []),
    ("build 1.2.3.4.5", []),
    ("256.1.1.1 and 999.1.1.1", []),
    ("version 1.0.0.1", []),
    ("v1.2.3.4", []),
]

IPV6S = [
    (
        "host 2001:0db8:85a3:0000:0000:8a2e:0370:7334 up",
        [("2001:0db8:85a3:0000:0000:8a2e:0370:7334", "IPV6")],
    ),
    ("地址2001:db8::1。", [("2001:db8::1", "IPV6")]),
    ("loopback ::1 only", [("::1", "IPV6")]),
    ("mapped ::ffff:192.0.2.1", [("::ffff:192.0.2.1", "IPV6")]),
    ("url [2001:db8::1]:443", [("2001:db8::1", "IPV6")]),
    ("ip:fe80::1 link", [("fe80::1", "IPV6")]),
    ("zone fe80::1%eth0 here", [("fe80::1%eth0", "IPV6")]),
    ("prefix 2001:db8::.", [("2001:db8::", "IPV6")]),
    ("会议12:30:45开始", []),
    ("MAC 00:1A:2B:3C:4D:5E", []),
    ("MAC 00-1A-2B-3C-4D-5E", []),
    ("std::vector and Foo::Bar", []),
    ("ratio 1:2:3", []),
]

PERSONS = [
    ("我叫张三，今年20岁。", [("张三", "PERSON")]),
    ("我是李华的妈妈", [("李华", "PERSON")]),
    ("我叫王小明今年十岁", [("王小明", "PERSON")]),
    ("你好，我是欧阳娜娜。", [("欧阳娜娜", "PERSON")]),
    ("姓名：司马光", [("司马光", "PERSON")]),
    ("收件人：赵六 电话", [("赵六", "PERSON")]),
    ("联系人: 陈静在公司", [("陈静", "PERSON")]),
    ("My name is John Smith.", [("John Smith", "PERSON")]),
    ("Hi, I'm Alice, nice to meet you", [("Alice", "PERSON")]),
    ("I am Mary-Jane O'Neil and I", [("Mary-Jane O'Neil", "PERSON")]),
    ("Name: Robert Brown", [("Robert Brown", "PERSON")]),
    ("My name is 张伟。", [("张伟", "PERSON")]),
    ("我是学生", []),
    ("我是你的粉丝", []),
    ("我是王者荣耀玩家", []),
    ("我是沈阳人", []),
    ("我是程序员", []),
    ("I'm tired", []),
    ("I'm from Beijing", []),
    ("I'm Chinese", []),
    ("I am Sorry", []),
    ("username: Bob", []),
    ("张三来了", []),
]

ADDRESSES = [
    (
        "我住在浙江省杭州市西湖区文三路90号东部软件园2号楼3层，电话",
        [("浙江省杭州市西湖区文三路90号东部软件园2号楼3层", "ADDRESS")],
    ),
    (
        "收货地址：北京市朝阳区建国路88号1单元502室。",
        [("北京市朝阳区建国路88号1单元502室", "ADDRESS")],
    ),
    ("寄到上海市浦东新区世纪大道100号", [("上海市浦东新区世纪大道100号", "ADDRESS")]),
    ("送到中山路18号3栋", [("中山路18号3栋", "ADDRESS")]),
    ("地址是广东省深圳市南山区科技园1号楼的前台", [("广东省深圳市南山区科技园1号楼", "ADDRESS")]),
    ("I live at 221B Baker Street, London.", [("221B Baker Street", "ADDRESS")]),
    ("Ship it to 12 Main St, Apt 4B, Springfield IL", [("12 Main St, Apt 4B", "ADDRESS")]),
    ("send it to 350 5th Avenue Suite 300 New York", [("350 5th Avenue Suite 300", "ADDRESS")]),
    ("My address is 1600 Pennsylvania Ave NW", [("1600 Pennsylvania Ave", "ADDRESS")]),
    ("address: 10 Downing St", [("10 Downing St", "ADDRESS")]),
    ("我住在北京", []),
    ("送到3号", []),
    ("I live at home", []),
    ("浙江省杭州市西湖区文三路90号", []),
    ("at 221B Baker Street", []),
]

NEVER = [
    ("订单号：13812345678", []),
    ("订单号6222020200000000014已发货", []),
    ("运单号 440308199901011234", []),
    ("order #13812345678 shipped", []),
    ("tracking number: 4111111111111111", []),
    ("我的QQ：13812345678", []),
    ("qq号13812345678", []),
    ("验证码：138123，code 13812345678", []),
    ("日期20230230和2023-02-28 12:30", []),
    ("价格¥1380.00，$19.99", []),
    ("@zhangsan @13812345678", []),
]

MIXED = [
    (
        "我叫张三，手机13812345678，邮箱zs@example.com，住在北京市海淀区中关村大街1号。",
        [
            ("张三", "PERSON"),
            ("13812345678", "CN_MOBILE"),
            ("zs@example.com", "EMAIL"),
            ("北京市海淀区中关村大街1号", "ADDRESS"),
        ],
    ),
    (
        "I'm Tom Lee, card 4111111111111111, ID 11010519491231002X, ip 10.0.0.1",
        [
            ("Tom Lee", "PERSON"),
            ("4111111111111111", "BANK_CARD"),
            ("11010519491231002X", "CN_ID_CARD"),
            ("10.0.0.1", "IPV4"),
        ],
    ),
]


@pytest.mark.parametrize(("text", "expected"), ID_CARDS)
def test_it_finds_id_cards_with_a_real_province_date_and_check_character(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), MOBILES)
def test_it_finds_mobiles_with_their_country_prefix_but_not_hotlines(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), BANK_CARDS)
def test_it_finds_bank_cards_only_when_they_pass_luhn(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), EMAILS)
def test_it_finds_emails_without_brackets_or_trailing_punctuation(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), IPV4S)
def test_it_finds_ipv4_without_port_and_skips_version_strings(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), IPV6S)
def test_it_finds_ipv6_in_every_form_but_not_times_or_macs(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), PERSONS)
def test_it_finds_names_only_after_a_cue_and_only_when_they_look_like_names(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), ADDRESSES)
def test_it_finds_addresses_after_a_cue_up_to_the_last_unit(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), NEVER)
def test_it_never_reports_reference_numbers_dates_prices_or_handles(text, expected):
    assert found(text) == expected


@pytest.mark.parametrize(("text", "expected"), MIXED)
def test_it_reports_every_entity_of_a_message_in_order(text, expected):
    assert found(text) == expected


def test_it_returns_sorted_non_overlapping_entities_of_the_known_types():
    text = "联系13812345678@qq.com或13812345678，服务器::ffff:10.0.0.1，我叫李雷" * 3

    entities = detect(text)

    assert entities == sorted(entities, key=lambda e: e.start)
    assert all(a.end <= b.start for a, b in zip(entities, entities[1:], strict=False))
    assert {e.type for e in entities} <= set(ENTITY_TYPES)
    assert entities[0] == Entity(2, 20, "EMAIL")


@pytest.mark.parametrize(
    "text",
    [
        "1" * 100_000,
        ":" * 100_000,
        "a:" * 50_000,
        "1." * 50_000,
        "a." * 50_000 + "@",
        "a@" + "b." * 50_000,
        "1234 " * 20_000,
        "我是" * 50_000,
        "地址1号" * 25_000,
        "I'm John " * 11_000,
    ],
    ids=[
        "digits",
        "colons",
        "hex-colons",
        "dots",
        "dots-then-at",
        "long-domain",
        "groups",
        "cues",
        "address-cues",
        "names",
    ],
)
def test_it_returns_on_long_pathological_input(text):
    assert isinstance(detect(text), list)
