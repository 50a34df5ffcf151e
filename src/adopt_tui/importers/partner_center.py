"""Partner Center (JSON): this partner's own subscriptions, and its customer list.

Subscriptions (``GET /v1/customers/{id}/subscriptions``: a collection with
``items``, or a single subscription resource): one customer per file. They
are this partner's own licenses, stored with the channel ``partner`` (the
``own`` scope). Fields: ``id`` (the subscription's ext_id), ``offerName``/
``friendlyName``, ``offerId``, ``quantity``, ``status``, ``isTrial``,
``autoRenewEnabled``, ``billingCycle``, ``effectiveStartDate``,
``commitmentEndDate``. The SKU is the catalogue product whose name equals
``offerName`` (else ``friendlyName``, case-insensitive); when none does, the
``offerId`` is kept as a SKU not in the catalogue (with a warning).

Status mapping (Microsoft's subscription lifecycle: an expired subscription
is in its grace period before it is disabled, then de-provisioned):

=========  ==============
Partner    adopt-tui
=========  ==============
active     active
expired    grace
suspended  disabled
disabled   disabled
pending    disabled (not yet in good standing: not counted as sold)
none       disabled (unknown standing: not counted)
deleted    deprovisioned
=========  ==============

Customer list (``GET /v1/customers``: ``items`` of customer resources): the
tenant id is ``companyProfile.tenantId`` (else ``id``), the name
``companyProfile.companyName``, the domain ``companyProfile.domain``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adopt_tui.importers.graph_licenses import SubscriptionRows, _Item
from adopt_tui.importers.products import ProductMatcher
from adopt_tui.importers.textio import FileErrors

PC_STATUS = {"active": "active", "expired": "grace", "suspended": "disabled", "disabled": "disabled",
             "pending": "disabled", "none": "disabled", "deleted": "deprovisioned"}
BILLING = {"monthly": "monthly", "annual": "annual", "triennial": "triennial", "none": "", "unknown": "",
           "onetime": "one-time"}


def collection_items(data, errors: FileErrors) -> list:
    if isinstance(data, dict) and isinstance(data.get("items"), list):
        return data["items"]
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        return [data]
    errors.add("expected a JSON object with an 'items' list")
    return []


@dataclass
class OfferSkus:
    unknown: dict[str, str] = field(default_factory=dict)   # offerId -> offer name


def parse_subscriptions(data, errors: FileErrors, matcher: ProductMatcher) -> tuple[SubscriptionRows, OfferSkus]:
    out, offers = SubscriptionRows(), OfferSkus()
    for i, obj in enumerate(collection_items(data, errors)):
        item = _Item(obj, f"items[{i}]", errors)
        out.count += 1
        ext = item.text("id", required=True)
        offer_name = item.text("offerName")
        friendly = item.text("friendlyName")
        offer_id = item.text("offerId")
        quantity = item.int("quantity", required=True)
        status = item.choice("status", PC_STATUS)
        trial = item.bool("isTrial")
        auto = item.bool("autoRenewEnabled")
        cycle_raw = item.text("billingCycle")
        cycle = BILLING.get(cycle_raw.lower().replace("_", "").replace("-", ""), cycle_raw.lower())
        start = item.date("effectiveStartDate") or item.date("creationDate")
        end = item.date("commitmentEndDate")
        sku = matcher.by_offer(offer_name, friendly)
        if sku is None:
            sku = offer_id or offer_name or friendly
            if not sku:
                item._bad("offerId", "no offerName, friendlyName or offerId to tell the product")
            else:
                offers.unknown[sku] = offer_name or friendly or sku
        if not item.ok:
            continue
        out.skus.add(sku)
        out.rows.append((ext, sku, offer_name or friendly, quantity, status, int(trial), "partner",
                         start, end, cycle, int(auto)))
    return out, offers


@dataclass
class CustomerRow:
    tenant_id: str
    name: str
    domain: str


def parse_customers(data, errors: FileErrors) -> list[CustomerRow]:
    out = []
    for i, obj in enumerate(collection_items(data, errors)):
        item = _Item(obj, f"items[{i}]", errors)
        profile = item.obj.get("companyProfile") or {}
        if not isinstance(profile, dict):
            item._bad("companyProfile", "expected a JSON object")
            continue
        p = _Item(profile, f"items[{i}].companyProfile", errors)
        tenant = p.text("tenantId") or item.text("id", required=True)
        name = p.text("companyName", required=True)
        domain = p.text("domain")
        if item.ok and p.ok and tenant:
            out.append(CustomerRow(tenant, name, domain))
    return out
