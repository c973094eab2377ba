"""Search attributes staff filter runs by in the Temporal UI. Ids only: they are stored
unencrypted, so never an email address or a phone number."""

from temporalio.common import SearchAttributeKey

STORE_ID = SearchAttributeKey.for_keyword("StoreId")
CUSTOMER_ID = SearchAttributeKey.for_keyword("CustomerId")
CART_ID = SearchAttributeKey.for_keyword("CartId")
ORDER_ID = SearchAttributeKey.for_keyword("OrderId")
FLOW_KIND = SearchAttributeKey.for_keyword("FlowKind")
FLOW_STEP = SearchAttributeKey.for_int("FlowStep")
FLOW_OUTCOME = SearchAttributeKey.for_keyword("FlowOutcome")
