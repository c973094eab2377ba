"""Catalog feeds: the store's feed token and URLs, and the products a network would refuse."""

from pydantic import BaseModel, Field


class FeedUrls(BaseModel):
    google_xml: str = Field(description="Merchant Center, RSS 2.0 with the g: namespace")
    google_tsv: str = Field(description="Merchant Center, tab-separated")
    meta_csv: str = Field(description="Meta catalog, CSV")


class FeedsOut(BaseModel):
    token: str = Field(description="The feed token: anyone with it can read the feeds")
    urls: FeedUrls


class FeedProblemOut(BaseModel):
    product_id: str
    reasons: list[str] = Field(description="Why the network would refuse the product")
