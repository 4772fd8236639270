"""The value objects and the password policy: the rules every input passes through."""

from __future__ import annotations

import pytest

from domain.errors import InvalidInput
from domain.passwords import check_password_policy
from domain.values import CustomerId, Email, Notes, PersonName, Phone, search_key


@pytest.mark.parametrize("value", ["C-0001", "a", "9.x_y-z", "A" * 64])
def test_valid_customer_ids(value: str) -> None:
    assert CustomerId(value) == value


@pytest.mark.parametrize("value", ["", "-a", ".a", "_a", "a b", "a/b", "A" * 65, "é", "a\n", "../etc"])
def test_invalid_customer_ids(value: str) -> None:
    with pytest.raises(InvalidInput) as error:
        CustomerId(value)
    assert error.value.problems[0].field == "id"


def test_names_are_trimmed_and_bounded() -> None:
    assert PersonName("  Ada \t") == "Ada"
    assert PersonName("Zoë-Ångström O'Neil") == "Zoë-Ångström O'Neil"
    for bad in ("", "   ", "x" * 101, "a\u0000b", "a\nb", "a\u202eb"):
        with pytest.raises(InvalidInput):
            PersonName(bad, "surname")


def test_emails() -> None:
    assert Email(" Ada@Example.COM ") == "Ada@Example.COM"
    assert Email("Ada@Example.COM").key == "ada@example.com"
    for bad in ("", "ada", "ada@", "@example.com", "a b@example.com", "ada@example", "a@b@c.d", "x" * 250 + "@e.com"):
        with pytest.raises(InvalidInput):
            Email(bad)


def test_phones_and_notes() -> None:
    assert Phone("+44 20 7946 0000") == "+44 20 7946 0000"
    assert Phone("(555) 123-4567 ext. 12") == "(555) 123-4567 ext. 12"
    for bad in ("call me", "1" * 33, "<script>"):
        with pytest.raises(InvalidInput):
            Phone(bad)
    assert Notes("line one\nline two\ttabbed") == "line one\nline two\ttabbed"
    with pytest.raises(InvalidInput):
        Notes("n" * 10_001)
    with pytest.raises(InvalidInput):
        Notes("bell\u0007")


def test_search_key_ignores_case_and_accents() -> None:
    assert search_key("Zoë", "ÅNGSTRÖM", None, "Straße") == "zoe angstrom strasse"


@pytest.mark.parametrize(
    "password",
    ["short", "x" * 1025, "password1234", "Password1234!", "qwertyuiop123", "aaaaaaaaaaaaaaaa", "abababababababab"],
)
def test_weak_passwords_are_refused(password: str) -> None:
    with pytest.raises(InvalidInput):
        check_password_policy(password)


def test_reasonable_passwords_pass() -> None:
    check_password_policy("correct horse battery staple 42")
    check_password_policy("Tr0ub4dor&3-extended")
