"""Contact data as the ad networks want it hashed, checked with their published vectors."""

from services.channels.hashing import (
    google_hashed_phone,
    google_phone,
    hashed_email,
    meta_hashed_phone,
    meta_phone,
    sha256_hex,
)

EMAIL_VECTOR = "542d240129883c019e106e3b1b2d3f3cb3537c43c425364de8e951d5a3083345"
META_PHONE_VECTOR = "dc008fda46e2e64002cf2f82a4906236282d431c4f75e5b60bfe79fc48546383"


def test_emails_are_trimmed_and_lowercased_before_hashing() -> None:
    assert hashed_email("person@example.com") == EMAIL_VECTOR
    assert hashed_email("  Person@Example.COM \n") == EMAIL_VECTOR


def test_phones_are_e164_for_google_and_digits_for_meta() -> None:
    assert google_phone("+44 844 412 4653") == "+448444124653"
    assert meta_phone("+44 844 412 4653") == "448444124653"
    assert meta_hashed_phone("+44 844 412 4653") == META_PHONE_VECTOR
    assert meta_hashed_phone("+448444124653") == META_PHONE_VECTOR
    assert google_hashed_phone("+44 (844) 412-4653") == sha256_hex("+448444124653")
    assert google_hashed_phone("+448444124653") != META_PHONE_VECTOR  # the `+` is hashed too


def test_a_value_already_hashed_is_not_hashed_again() -> None:
    assert sha256_hex(EMAIL_VECTOR) == EMAIL_VECTOR
    assert hashed_email(EMAIL_VECTOR.upper()) == EMAIL_VECTOR
