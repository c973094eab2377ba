"""Channel connections as staff save and read them: each network's own fields (CONTRACT.md
"Channels"); credentials are write-only and come back masked."""

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from services.channels.connections import ConnectionState, Network
from services.urls import MAX_URL_LENGTH, check_web_url

# ASCII only: these go into URLs and HTTP headers as they are.
Digits = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,20}$")]
Secret = Annotated[str, StringConstraints(min_length=1, max_length=2048, pattern=r"^[!-~]+$")]
Token = Annotated[
    str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9_.\-]+$")
]
BaseUrl = Annotated[str, AfterValidator(check_web_url)]


class ConnectionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    api_base_url: BaseUrl | None = Field(
        default=None,
        max_length=MAX_URL_LENGTH,
        description="The network's sandbox (or a local fake in tests); production: https only",
    )


class GoogleAdsIn(ConnectionIn):
    customer_id: Annotated[str, StringConstraints(pattern=r"^[0-9]{3}-?[0-9]{3}-?[0-9]{4}$")]
    conversion_action_id: Digits
    login_customer_id: (
        Annotated[str, StringConstraints(pattern=r"^[0-9]{3}-?[0-9]{3}-?[0-9]{4}$")] | None
    ) = None
    developer_token: Secret
    refresh_token: Secret
    client_id: Secret
    client_secret: Secret


class MetaIn(ConnectionIn):
    pixel_id: Digits
    ad_account_id: Digits
    catalog_id: Digits | None = Field(default=None, description="The catalog products sync to")
    access_token: Secret


class MerchantCenterIn(ConnectionIn):
    merchant_id: Digits
    data_source_id: Digits | None = Field(
        default=None, description="The API data source products are pushed to (none: no push)"
    )
    content_language: Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")] | None = Field(
        default=None, description="ISO 639-1 language of the pushed products (en)"
    )
    feed_label: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_-]{1,20}$")] | None = Field(
        default=None, description="The feed label of the pushed products (US)"
    )
    refresh_token: Secret
    client_id: Secret
    client_secret: Secret


class TikTokShopIn(ConnectionIn):
    app_key: Token
    shop_cipher: Token
    app_secret: Secret
    access_token: Secret


CONNECTION_INPUTS: dict[Network, type[ConnectionIn]] = {
    Network.GOOGLE_ADS: GoogleAdsIn,
    Network.META: MetaIn,
    Network.MERCHANT_CENTER: MerchantCenterIn,
    Network.TIKTOK_SHOP: TikTokShopIn,
}


class ChannelOut(BaseModel):
    network: Network
    state: ConnectionState
    account_name: str | None = None
    ids: dict[str, str] = Field(default_factory=dict)
    credentials: dict[str, str] = Field(
        default_factory=dict, description="Each credential masked: its last four characters"
    )
    api_base_url: str | None = None
    last_error: str | None = None
    checked_at: datetime | None = None
    updated_at: datetime | None = None


class ChannelList(BaseModel):
    items: list[ChannelOut]
