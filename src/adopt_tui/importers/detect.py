"""Which format a file is in: from its header line (CSV/TSV) or its JSON keys."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from adopt_tui.importers import graph_reports, insights
from adopt_tui.importers.textio import delimiter_of, first_text, locate_decode_error, norm_header, open_text

# format code -> (label, level): level 'tenant' = one customer tenant per file
# (needs --customer), 'portfolio' = names its customers, 'bundle' = our own CSV bundle.
FORMATS: dict[str, tuple[str, str]] = {
    **{spec.code: (spec.label, "tenant") for spec in graph_reports.REPORTS},
    "graph_subscribed_skus": ("Graph subscribedSkus (licenses per SKU, JSON)", "tenant"),
    "graph_company_subscriptions": ("Graph directory companySubscription list (JSON)", "tenant"),
    "pc_subscriptions": ("Partner Center subscriptions (this partner's own, JSON)", "tenant"),
    "pc_customers": ("Partner Center customer list (JSON)", "portfolio"),
    "insights_o365_usage": ("Partner Center Insights: Office 365 license usage (TSV)", "portfolio"),
    "insights_dynamics_usage": ("Partner Center Insights: Dynamics 365 usage (TSV)", "portfolio"),
    "bundle": ("adopt-tui CSV bundle (directory)", "bundle"),
}

USER_LEVEL = frozenset(spec.code for spec in graph_reports.REPORTS)
JSON_FORMATS = frozenset({"graph_subscribed_skus", "graph_company_subscriptions", "pc_subscriptions", "pc_customers"})
MAX_JSON_BYTES = 256 * 1024 * 1024


class NotRecognised(Exception):
    """The file is not in a supported format; ``line`` where known."""

    def __init__(self, message: str, line: int | None = None, field: str | None = None):
        super().__init__(message)
        self.line, self.field = line, field


@dataclass
class Detected:
    code: str
    label: str
    delimiter: str = ","
    data: object = None        # parsed JSON
    columns: tuple[str, ...] = ()


def detect(path: Path) -> Detected:
    try:
        head = first_text(path)
    except UnicodeDecodeError:
        line, offset = locate_decode_error(path)
        raise NotRecognised(f"not UTF-8 text (invalid bytes at byte {offset}); not a report file", line) from None
    stripped = head.lstrip("\ufeff \t\r\n")
    if not stripped:
        raise NotRecognised("the file is empty (a header row is required)", 1)
    if "\x00" in head:
        raise NotRecognised("the file contains NUL bytes (binary data, not a CSV or JSON text file)", 1)
    if stripped[0] in "{[":
        return _detect_json(path)
    return _detect_csv(head.lstrip("\ufeff"))


def _detect_csv(head: str) -> Detected:
    first_line = head.splitlines()[0] if head.splitlines() else head
    known = insights.KNOWN_COLUMNS
    delimiter = delimiter_of(first_line, known)
    columns = norm_header(first_line.split(delimiter))
    colset = set(columns)
    spec = graph_reports.detect(colset)
    if spec is not None:
        label = graph_reports.label_for(spec, colset)
        return Detected(spec.code, label, ",", columns=tuple(columns))
    if "paidavailableunits" in colset or "monthlyactiveusers" in colset:
        return Detected("insights_o365_usage", FORMATS["insights_o365_usage"][0], delimiter, columns=tuple(columns))
    if "availableseats" in colset or "activeseats" in colset:
        return Detected("insights_dynamics_usage", FORMATS["insights_dynamics_usage"][0], delimiter,
                        columns=tuple(columns))
    shown = first_line[:120] + ("..." if len(first_line) > 120 else "")
    raise NotRecognised(
        f"unknown format: the header line {shown!r} is none of the supported reports "
        "(Graph usage reports, Graph/Partner Center JSON, Partner Center Insights downloads)", 1)


def load_json(path: Path):
    """The parsed JSON; raises NotRecognised with the line of a syntax error."""
    if path.stat().st_size > MAX_JSON_BYTES:
        raise NotRecognised(f"a JSON file over {MAX_JSON_BYTES // (1024 * 1024)} MB is not a license file", 1)
    try:
        with open_text(path) as fh:
            text = fh.read()
    except UnicodeDecodeError:
        line, offset = locate_decode_error(path)
        raise NotRecognised(f"not UTF-8 text (invalid bytes at byte {offset})", line) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise NotRecognised(f"not valid JSON: {exc.msg} (column {exc.colno})", exc.lineno) from None
    except RecursionError:
        raise NotRecognised("not valid JSON: nested too deeply", 1) from None


def _first_item(data):
    for key in ("value", "items"):
        if isinstance(data, dict) and isinstance(data.get(key), list):
            items = data[key]
            return next((i for i in items if isinstance(i, dict)), None), key
    if isinstance(data, list):
        return next((i for i in data if isinstance(i, dict)), None), "list"
    if isinstance(data, dict):
        return data, "object"
    return None, None


def _detect_json(path: Path) -> Detected:
    data = load_json(path)
    item, where = _first_item(data)
    context = ""
    if isinstance(data, dict):
        context = str(data.get("@odata.context", "")).lower()
        object_type = str((data.get("attributes") or {}).get("objectType", "") if isinstance(data.get("attributes"), dict) else "")
    else:
        object_type = ""
    keys = set(item) if isinstance(item, dict) else set()
    item_type = ""
    if isinstance(item, dict) and isinstance(item.get("attributes"), dict):
        item_type = str(item["attributes"].get("objectType", ""))

    def found(code: str) -> Detected:
        return Detected(code, FORMATS[code][0], data=data)

    if "subscribedskus" in context or {"capabilityStatus", "prepaidUnits"} <= keys or "capabilityStatus" in keys:
        return found("graph_subscribed_skus")
    if "directory/subscriptions" in context or "companysubscription" in context or (
            "totalLicenses" in keys and ("skuPartNumber" in keys or "skuId" in keys)):
        return found("graph_company_subscriptions")
    if item_type.lower() == "subscription" or "offerId" in keys or "offerName" in keys:
        return found("pc_subscriptions")
    if item_type.lower() == "customer" or "companyProfile" in keys:
        return found("pc_customers")
    if item is None and where in ("value", "items"):
        # an empty list: tell by the collection's own hints
        if "subscribedskus" in context:
            return found("graph_subscribed_skus")
        if object_type.lower() == "collection":
            raise NotRecognised("an empty Partner Center collection: nothing tells what it lists", 1)
    shown = ", ".join(sorted(keys)[:8]) or "no keys"
    raise NotRecognised(
        f"unknown JSON format ({shown}): expected Graph subscribedSkus or companySubscription, "
        "or Partner Center subscriptions or customers", 1)
