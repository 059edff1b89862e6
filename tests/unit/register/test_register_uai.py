import pytest

from schoolfleet.register.uai import check_letter, make_uai, uai_problem


@pytest.mark.parametrize(
    ("uai", "letter"),
    [("0750654D", "D"), ("0910001G", "G"), ("0691234S", "S")],
)
def test_check_letter_of_known_uais(uai: str, letter: str) -> None:
    assert check_letter(uai[:7]) == letter
    assert uai_problem(uai) is None


def test_bad_check_letter_names_the_right_one() -> None:
    message = uai_problem("0750654E")
    assert message is not None
    assert "0750654 gives D" in message


@pytest.mark.parametrize("bad", ["750654D", "0750654d", "07506540", "0750654DD", "A750654D", ""])
def test_malformed_uai(bad: str) -> None:
    message = uai_problem(bad)
    assert message is not None
    assert "is not a UAI" in message


def test_alphabet_skips_i_o_q() -> None:
    letters = {check_letter(f"{number:07d}") for number in range(23)}
    assert len(letters) == 23
    assert not letters & {"I", "O", "Q"}


def test_make_uai_is_valid() -> None:
    for number in (1, 910001, 9999999):
        assert uai_problem(make_uai(number)) is None
