import pytest

from shared.domain import ins


def test_key_is_97_minus_the_number_modulo_97() -> None:
    assert ins.control_key("1234567890123") == 97 - 1234567890123 % 97


@pytest.mark.parametrize("department, substitute", [("2A", "19"), ("2B", "18")])
def test_corsican_departments_are_replaced_before_the_key(department: str, substitute: str) -> None:
    first_13 = f"18001{department}123456"
    expected = 97 - int(f"18001{substitute}123456") % 97
    assert ins.control_key(first_13) == expected
    assert ins.is_valid(ins.with_key(first_13))


def test_spaces_and_dots_are_ignored() -> None:
    valid = ins.with_key("2450599123456")
    groups = (valid[0], valid[1:3], valid[3:5], valid[5:7], valid[7:10], valid[10:13], valid[13:])
    spaced = "{} {} {}.{} {} {} {}".format(*groups)
    assert ins.is_valid(spaced)


@pytest.mark.parametrize(
    "value",
    ["", "24505991234567", "2450599123456700", "945059912345674", "24505A9123456 74",
     "2450599123456 00"],
)
def test_malformed_or_wrong_key_is_refused(value: str) -> None:
    assert not ins.is_valid(value)
