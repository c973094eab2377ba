"""What a landing URL (and the page that linked to it) says about where a visitor came from.
Pure functions: the storefront posts the URL, this reads the campaign tags, click ids and
program tokens out of it, and names a source when the link carried no tags."""

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from services.urls import is_web_url

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
MAX_TAG = 500  # longer values are cut: a tag is a label, not a payload
DIRECT = ("(direct)", "(none)")
# Hosts whose links are a search engine's or a social network's, by registrable name.
SEARCH = {
    "google": "google",
    "bing": "bing",
    "duckduckgo": "duckduckgo",
    "yahoo": "yahoo",
    "yandex": "yandex",
    "baidu": "baidu",
    "ecosia": "ecosia",
}
SOCIAL = {
    "facebook": "facebook",
    "fb": "facebook",
    "instagram": "instagram",
    "t": "twitter",  # t.co
    "twitter": "twitter",
    "x": "twitter",
    "linkedin": "linkedin",
    "lnkd": "linkedin",
    "pinterest": "pinterest",
    "tiktok": "tiktok",
    "reddit": "reddit",
    "youtube": "youtube",
}
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "ne", "or"}
_PARAMS = {
    "utm_source": "source",
    "utm_medium": "medium",
    "utm_campaign": "campaign",
    "utm_term": "term",
    "utm_content": "content",
    "gclid": "gclid",
    "gbraid": "gbraid",
    "wbraid": "wbraid",
    "fbclid": "fbclid",
    "ref": "referral_code",
    "share": "share_token",
    "aff": "affiliate_id",
}


@dataclass(frozen=True)
class Touch:
    """One visit's marketing facts. `source`/`medium` are always set (`(direct)`/`(none)` when
    nothing says otherwise); `fbc` is Meta's click cookie value built from `fbclid`."""

    source: str
    medium: str
    campaign: str | None = None
    term: str | None = None
    content: str | None = None
    gclid: str | None = None
    gbraid: str | None = None
    wbraid: str | None = None
    fbclid: str | None = None
    fbc: str | None = None
    referral_code: str | None = None
    share_token: str | None = None
    affiliate_id: str | None = None
    referrer_host: str | None = None

    @property
    def is_direct(self) -> bool:
        return (self.source, self.medium) == DIRECT

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


class BadUrl(ValueError):
    """Not an absolute http(s) URL within the length bound."""


def fbc_value(fbclid: str, at: datetime) -> str:
    """Meta's `fbc`: `fb.<subdomain index>.<creation ms>.<fbclid>`, the fbclid case-exact. The
    index is 1 for a cookie set on the registrable domain, which is what a storefront does."""
    return f"fb.1.{(at - EPOCH) // timedelta(milliseconds=1)}.{fbclid}"


def _host(url: str) -> str:
    return (urlsplit(url).hostname or "").rstrip(".").lower()


def _name(host: str) -> str:
    """The label before the public suffix: `www.google.co.uk` -> `google`, `t.co` -> `t`."""
    labels = [p for p in host.split(".") if p]
    if len(labels) > 2 and len(labels[-1]) == 2 and labels[-2] in _SECOND_LEVEL:
        labels = labels[:-2]  # co.uk, com.au: one suffix
    elif len(labels) > 1:
        labels = labels[:-1]
    return labels[-1] if labels else host


def _same_site(a: str, b: str) -> bool:
    return a == b or a.endswith("." + b) or b.endswith("." + a)


def source_of(
    tags: dict[str, str], referrer_host: str | None, landing_host: str
) -> tuple[str, str]:
    """Who sent the visitor, when the link did not say (no `utm_source`)."""
    if tags.get("gclid") or tags.get("gbraid") or tags.get("wbraid"):
        return "google", "cpc"
    if referrer_host and not _same_site(referrer_host, landing_host):
        name = _name(referrer_host)
        if name in SEARCH:
            return SEARCH[name], "organic"
        if name in SOCIAL:
            return SOCIAL[name], "social"
        return referrer_host.removeprefix("www."), "referral"
    if tags.get("fbclid"):
        return "facebook", "social"
    for token, kind in (
        ("affiliate_id", "affiliate"),
        ("referral_code", "referral"),
        ("share_token", "share"),
    ):
        if tags.get(token):
            return kind, kind
    return DIRECT


def parse_landing(landing_url: str, referrer: str | None, at: datetime) -> Touch:
    """The touch a visit makes. Raises `BadUrl` for a landing URL that is not an absolute
    http(s) URL of at most 2048 characters; a bad referrer is ignored (browsers send odd ones)."""
    if not is_web_url(landing_url):
        raise BadUrl("landing_url must be an absolute http:// or https:// URL")
    query = parse_qs(urlsplit(landing_url).query, keep_blank_values=False)
    tags: dict[str, str] = {}
    for param, values in query.items():
        field = _PARAMS.get(param.lower())
        # Percent-escapes may decode to control characters (`%00`): those are dropped.
        value = "".join(ch for ch in values[0] if ch.isprintable()).strip()[:MAX_TAG]
        if field and value and field not in tags:
            tags[field] = value
    referrer_host = _host(referrer) if referrer and is_web_url(referrer) else None
    if "source" in tags:
        source, medium = tags.pop("source"), tags.pop("medium", "(none)")
    else:
        tags.pop("medium", None)  # a medium without a source names nothing
        source, medium = source_of(tags, referrer_host, _host(landing_url))
    fbclid = tags.get("fbclid")
    return Touch(
        source=source,
        medium=medium,
        fbc=fbc_value(fbclid, at) if fbclid else None,
        referrer_host=referrer_host,
        **tags,
    )
