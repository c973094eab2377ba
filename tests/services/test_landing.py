"""Reading a landing URL: campaign tags, click ids, Meta's fbc, program tokens, and the source
a referrer names when the link carried no tags."""

from datetime import UTC, datetime

import pytest

from services.attribution.landing import BadUrl, fbc_value, parse_landing

AT = datetime(2026, 3, 1, 12, 0, 0, 123000, tzinfo=UTC)
MS = 1772366400123


def test_utm_tags_are_read() -> None:
    touch = parse_landing(
        "https://shop.example/p/1?utm_source=newsletter&utm_medium=email"
        "&utm_campaign=Spring%20Sale&utm_term=shoes&utm_content=msg_1",
        None,
        AT,
    )
    assert (touch.source, touch.medium, touch.campaign, touch.term, touch.content) == (
        "newsletter",
        "email",
        "Spring Sale",
        "shoes",
        "msg_1",
    )
    assert not touch.is_direct


def test_click_ids_and_fbc_keep_the_fbclid_exactly() -> None:
    fbclid = "IwAR2xYz_AbCdEf-GhIjKl"
    touch = parse_landing(
        f"https://shop.example/?fbclid={fbclid}&gclid=Cj0KCQ&gbraid=0AAAA&wbraid=Cl0KC", None, AT
    )
    assert (touch.gclid, touch.gbraid, touch.wbraid) == ("Cj0KCQ", "0AAAA", "Cl0KC")
    assert touch.fbclid == fbclid
    assert touch.fbc == f"fb.1.{MS}.{fbclid}" == fbc_value(fbclid, AT)
    assert (touch.source, touch.medium) == ("google", "cpc")  # a Google click id names Google


def test_a_facebook_click_without_tags_is_facebook() -> None:
    touch = parse_landing("https://shop.example/?fbclid=AbC", None, AT)
    assert (touch.source, touch.medium, touch.fbc) == ("facebook", "social", f"fb.1.{MS}.AbC")


def test_program_tokens() -> None:
    touch = parse_landing("https://shop.example/?ref=ANA10&share=sh_9&aff=partner-7", None, AT)
    assert (touch.referral_code, touch.share_token, touch.affiliate_id) == (
        "ANA10",
        "sh_9",
        "partner-7",
    )
    assert (touch.source, touch.medium) == ("affiliate", "affiliate")


@pytest.mark.parametrize(
    ("referrer", "expected"),
    [
        ("https://www.google.com/search?q=shoes", ("google", "organic")),
        ("https://www.google.co.uk/", ("google", "organic")),
        ("https://duckduckgo.com/", ("duckduckgo", "organic")),
        ("https://l.facebook.com/l.php?u=x", ("facebook", "social")),
        ("https://t.co/abc", ("twitter", "social")),
        ("https://www.blog.example/post", ("blog.example", "referral")),
        ("https://shop.example/cart", ("(direct)", "(none)")),  # the store's own page
        ("not a url", ("(direct)", "(none)")),
        (None, ("(direct)", "(none)")),
    ],
)
def test_the_referrer_names_the_source_without_tags(
    referrer: str | None, expected: tuple[str, str]
) -> None:
    touch = parse_landing("https://shop.example/p/1", referrer, AT)
    assert (touch.source, touch.medium) == expected


def test_tags_win_over_the_referrer() -> None:
    touch = parse_landing("https://shop.example/?utm_source=partner", "https://www.google.com/", AT)
    assert (touch.source, touch.medium, touch.referrer_host) == (
        "partner",
        "(none)",
        "www.google.com",
    )


def test_escaped_control_characters_are_dropped() -> None:
    touch = parse_landing("https://shop.example/?utm_source=a%00b%0A&utm_campaign=%00", None, AT)
    assert (touch.source, touch.campaign) == ("ab", None)


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "/relative/path", "ftp://shop.example/", "https://" + "a" * 2050],
)
def test_a_bad_landing_url_is_refused(url: str) -> None:
    with pytest.raises(BadUrl):
        parse_landing(url, None, AT)
