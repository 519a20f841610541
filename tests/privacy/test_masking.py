from __future__ import annotations

import pytest

from privacy.masking import StreamRestorer, Vault, mask, remask, restore
from privacy.sealing import VaultUnreadable, seal, unseal

MOBILE = "13812345678"
ID_CARD = "11010519491231002X"
TEXT = f"我叫张伟，电话{MOBILE}，身份证{ID_CARD}，邮箱 zhang.wei@example.com。"


def test_it_replaces_every_value_by_a_placeholder_and_restores_the_original() -> None:
    vault = Vault()
    masked = mask(TEXT, vault)

    for value in ("张伟", MOBILE, ID_CARD, "zhang.wei@example.com"):
        assert value not in masked.text
    assert masked.types == {"PERSON", "CN_MOBILE", "CN_ID_CARD", "EMAIL"}
    assert "[CN_MOBILE_1]" in masked.text
    assert restore(masked.text, vault) == (TEXT, masked.types)


def test_the_same_value_keeps_its_placeholder_across_turns_and_spellings() -> None:
    vault = Vault()
    first = mask(f"我的手机是{MOBILE}", vault).text
    later = mask("换成 +86 138-1234-5678 吧，另一个是13912345678", vault).text

    assert first == "我的手机是[CN_MOBILE_1]"
    assert later == "换成 [CN_MOBILE_1] 吧，另一个是[CN_MOBILE_2]"
    # Restored as first written: the placeholder stands for one value.
    assert restore("[CN_MOBILE_1]", vault)[0] == MOBILE


def test_a_name_said_once_is_masked_wherever_it_comes_back() -> None:
    vault = Vault()
    mask("我叫欧阳娜娜。", vault)

    assert mask("欧阳娜娜今天不开心", vault).text == "[PERSON_1]今天不开心"


def test_a_known_number_glued_to_other_digits_is_left_alone() -> None:
    vault = Vault()
    mask(f"电话{MOBILE}", vault)

    assert remask(f"编号99{MOBILE}001", vault) == f"编号99{MOBILE}001"


def test_text_without_personal_data_leaves_unchanged() -> None:
    vault = Vault()
    masked = mask("订单号 202311150001234，明天下午三点见。", vault)

    assert masked.text == "订单号 202311150001234，明天下午三点见。"
    assert masked.types == frozenset()
    assert not vault.changed


def test_remask_sends_a_restored_reply_back_with_its_placeholders_and_adds_nothing() -> None:
    vault = Vault()
    mask(f"电话{MOBILE}", vault)
    vault.changed = False

    assert remask(f"好的，我会打{MOBILE}，也会打13912345678", vault) == (
        "好的，我会打[CN_MOBILE_1]，也会打13912345678"
    )
    assert not vault.changed


def test_a_placeholder_the_model_made_up_stays_as_written() -> None:
    assert restore("[PERSON_9] and [NOT_A_TYPE_1]", Vault()) == (
        "[PERSON_9] and [NOT_A_TYPE_1]",
        frozenset(),
    )


def test_a_stored_vault_continues_its_numbering() -> None:
    vault = Vault({"[CN_MOBILE_1]": MOBILE})

    assert mask("13912345678", vault).text == "[CN_MOBILE_2]"
    assert vault.counts() == {"CN_MOBILE": 2}


REPLY = (
    "好的[PERSON_1]，我记下了：[CN_MOBILE_1]、[CN_ID_CARD_1]。"
    "Mail [EMAIL_1] or [EMAIL_12]? [[CN_MOBILE_1]] [CN_MOB [PERSON_ ok]"
)


@pytest.fixture
def reply_vault() -> Vault:
    vault = Vault()
    mask(TEXT, vault)
    return vault


def test_a_streamed_reply_is_restored_byte_identically_at_every_split_point(
    reply_vault: Vault,
) -> None:
    whole = restore(REPLY, reply_vault)[0]
    for cut in range(len(REPLY) + 1):
        restorer = StreamRestorer(reply_vault)
        shown = [restorer.feed(REPLY[:cut]), restorer.feed(REPLY[cut:]), restorer.flush()]
        assert "".join(shown) == whole, cut
        for piece in shown:
            assert not _holds_part_of_a_placeholder(piece), (cut, piece)


def test_a_reply_streamed_a_character_at_a_time_never_shows_half_a_placeholder(
    reply_vault: Vault,
) -> None:
    restorer = StreamRestorer(reply_vault)
    shown = ""
    for character in REPLY:
        shown += restorer.feed(character)
        assert "[CN_MOBILE_1" not in shown and "[PERSON_1" not in shown
    shown += restorer.flush()

    assert shown == restore(REPLY, reply_vault)[0]
    assert "13812345678" in shown and "张伟" in shown
    assert restorer.types == {"PERSON", "CN_MOBILE", "CN_ID_CARD", "EMAIL"}


def test_a_rewritten_reply_starts_over(reply_vault: Vault) -> None:
    restorer = StreamRestorer(reply_vault)
    restorer.feed("Hello [PERS")

    assert restorer.restart("Hi [PERSON_1]") == "Hi 张伟"


def _holds_part_of_a_placeholder(piece: str) -> bool:
    """An unrestored known placeholder, or the start of one left at the end of a piece."""
    known = ("[PERSON_1]", "[CN_MOBILE_1]", "[CN_ID_CARD_1]", "[EMAIL_1]")
    if any(placeholder in piece for placeholder in known):
        return True
    return any(piece.endswith(p[:n]) for p in known for n in range(2, len(p)))


def test_a_sealed_vault_opens_with_the_secret_and_with_a_rotated_one() -> None:
    token = seal({"[CN_MOBILE_1]": MOBILE}, ["old-secret"])

    assert MOBILE not in token
    assert unseal(token, ["old-secret"]) == {"[CN_MOBILE_1]": MOBILE}
    assert unseal(token, ["new-secret", "old-secret"]) == {"[CN_MOBILE_1]": MOBILE}
    with pytest.raises(VaultUnreadable):
        unseal(token, ["another-secret"])
    assert unseal("", ["any"]) == {}
