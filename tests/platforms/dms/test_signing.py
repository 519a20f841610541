"""V3 signing: the reference's golden vector, canonical query encoding, server-side verify."""

from __future__ import annotations

from platforms.dms import signing

BODY = b"Messages=%5B%7B%22role%22%3A%22user%22%2C%22content%22%3A%22hi%22%7D%5D"
BODY_SHA256 = "9b3b65feced712ba8e4b7172911eb0d94c86be1dcb86f581e39b85fe1d76e8ac"
QUERY = {
    "InstanceId": "123",
    "Model": "qwen-plus",
    "NeedDesensitization": "true",
    "DesensitizationRule": "UserInfo",
    "Stream": "true",
    "Stop": '["\\n"]',
}
HEADERS = {
    "content-type": "application/x-www-form-urlencoded",
    "host": "dms-enterprise.cn-hangzhou.aliyuncs.com",
    "x-acs-action": "ChatWithDesensitizeSSE",
    "x-acs-content-sha256": BODY_SHA256,
    "x-acs-date": "2025-01-01T00:00:00Z",
    "x-acs-signature-nonce": "0123456789abcdef0123456789abcdef",
    "x-acs-version": "2018-11-01",
}
EXPECTED = (
    "ACS3-HMAC-SHA256 Credential=testid,SignedHeaders=content-type;host;x-acs-action;"
    "x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version,"
    "Signature=f7a1926bbb8ffb8e8db04fc5c201559399e322cbf291302cfbe3c148c98fe4a6"
)


def _authorization(**changes: object) -> str:
    args = {
        "method": "POST",
        "path": "/",
        "query": QUERY,
        "headers": HEADERS,
        "access_key_id": "testid",
        "access_key_secret": "testsecret",
    }
    return signing.authorization(**(args | changes))


def test_body_hash_matches_the_reference():
    assert signing.content_sha256(BODY) == BODY_SHA256
    assert signing.content_sha256(b"") == signing.EMPTY_BODY_SHA256
    assert signing.EMPTY_BODY_SHA256.startswith("e3b0c44298fc1c14")


def test_golden_vector_from_the_reference():
    assert _authorization() == EXPECTED


def test_header_names_are_lower_cased_and_sorted_whatever_the_caller_sends():
    shuffled = {name.upper(): f"  {value} " for name, value in reversed(HEADERS.items())}
    assert _authorization(headers=shuffled) == EXPECTED


def test_another_secret_or_query_gives_another_signature():
    assert _authorization(access_key_secret="other") != EXPECTED
    assert _authorization(query=QUERY | {"InstanceId": "124"}) != EXPECTED


def test_canonical_query_is_sorted_and_rfc3986_encoded():
    assert signing.canonical_query({"b": "2", "a": "1", "B": "0"}) == "B=0&a=1&b=2"
    assert signing.canonical_query({"q": "a b"}) == "q=a%20b"
    assert signing.canonical_query({"q": "a*b~c"}) == "q=a%2Ab~c"
    assert signing.canonical_query({"q": "a+b/c=d&e"}) == "q=a%2Bb%2Fc%3Dd%26e"
    assert signing.canonical_query({"q": "你好"}) == "q=%E4%BD%A0%E5%A5%BD"
    assert signing.canonical_query({"Empty": "", "A": "-_."}) == "A=-_.&Empty="
    assert signing.canonical_query({}) == ""


def test_received_query_reads_plus_and_percent20_alike():
    assert signing.decode_query("q=a+b&r=a%20b&e=") == {"q": "a b", "r": "a b", "e": ""}


def _received_headers() -> dict[str, str]:
    return HEADERS | {"authorization": EXPECTED, "user-agent": "not signed"}


def test_verify_accepts_the_golden_request_however_its_query_was_encoded():
    parsed = signing.parse_authorization(EXPECTED)
    assert parsed is not None
    assert parsed.access_key_id == "testid"
    assert parsed.signed_headers[0] == "content-type"
    for raw_query in (
        signing.canonical_query(QUERY),
        "Stream=true&Stop=%5B%22%5Cn%22%5D&Model=qwen-plus&InstanceId=123"
        "&NeedDesensitization=true&DesensitizationRule=UserInfo",
    ):
        assert signing.verify(
            parsed=parsed,
            method="POST",
            path="/",
            raw_query=raw_query,
            headers=_received_headers(),
            access_key_secret="testsecret",
        )


def test_verify_refuses_a_wrong_secret_or_a_tampered_header():
    parsed = signing.parse_authorization(EXPECTED)
    assert parsed is not None
    common = {"parsed": parsed, "method": "POST", "path": "/"}
    query = signing.canonical_query(QUERY)
    assert not signing.verify(
        **common, raw_query=query, headers=_received_headers(), access_key_secret="x"
    )
    tampered = _received_headers() | {"x-acs-date": "2025-01-01T00:00:01Z"}
    assert not signing.verify(
        **common, raw_query=query, headers=tampered, access_key_secret="testsecret"
    )
    assert not signing.verify(
        **common,
        raw_query=query.replace("123", "124"),
        headers=_received_headers(),
        access_key_secret="testsecret",
    )


def test_garbled_authorization_does_not_parse():
    assert signing.parse_authorization(None) is None
    assert signing.parse_authorization("Bearer abc") is None
    assert signing.parse_authorization("ACS3-HMAC-SHA256 Credential=x,Signature=ab") is None
