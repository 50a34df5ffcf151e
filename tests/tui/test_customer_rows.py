"""The customer list's row selection gives what the core's filter and a pandas sort give.

CustomerRows filters as you type without pandas (substring tests over the
search strings, narrowing from the previous matches) and keeps each sort
order as row positions; these tests compare it, step by step, with
metrics.read.filter_customers followed by the sort the list promises (by the
column, then by name; missing values last; ties in the frame's order).
"""

from __future__ import annotations

import pytest

from adopt_tui.auth.accounts import login
from adopt_tui.metrics.read import customer_table, filter_customers
from adopt_tui.tui.screens.customers import COLUMNS, CustomerRows

SORTS = sorted({c.sort for c in COLUMNS})


def reference(frame, filters: dict, sort: str, descending: bool) -> list[int]:
    args = {k: v for k, v in filters.items() if k != "query" and v}
    view = filter_customers(frame, filters.get("query", ""), **args)
    if sort != "sort_name":
        view = view.sort_values([sort, "sort_name"], ascending=[not descending, True], na_position="last",
                                kind="stable")
    else:
        view = view.sort_values("sort_name", ascending=not descending, kind="stable")
    return [int(i) for i in view.id]


@pytest.fixture
def rows(demo_conn) -> CustomerRows:
    principal = login(demo_conn, "admin", "admin-demo-password")
    return CustomerRows(customer_table(demo_conn, principal))


def selected(rows: CustomerRows, filters: dict, sort: str, descending: bool) -> list[int]:
    rows.order(sort, descending)
    return [int(i) for i in rows.ids[rows.select(filters, sort, descending)]]


@pytest.mark.parametrize("descending", [False, True])
def test_every_sort_order_matches_a_pandas_sort(rows, descending):
    for sort in SORTS:
        assert selected(rows, {}, sort, descending) == reference(rows.frame, {}, sort, descending), sort


def test_typing_narrows_like_the_core_filter(rows):
    """Letter by letter (each step narrows from the previous matches), then back and elsewhere."""
    name = rows.frame.name.iloc[len(rows.frame) // 2]
    typed = ""
    queries = []
    for char in name[:8]:
        typed += char
        queries.append(typed)
    queries += [typed.upper(), "  " + typed[:3] + "  ", typed[:2], "ZZZ-no-such-customer", "", ".example", "[bold]",
                "0000", "e"]
    for query in queries:
        filters = {"query": query}
        assert selected(rows, filters, "sort_name", False) == reference(rows.frame, filters, "sort_name", False), query


def test_quick_filters_with_a_query_and_a_sort(rows):
    for filters in (
        {"low_adoption": True},
        {"upsell": True, "query": "a"},
        {"over_100": True, "renewal_due": True},
        {"right_size": True, "query": "e"},
        {"market": rows.frame.market.iloc[0]},
        {"agent": "maria"},
    ):
        for sort, descending in (("sold", True), ("usage_pct", False), ("marker_rank", True)):
            assert selected(rows, filters, sort, descending) == reference(rows.frame, filters, sort, descending), (
                filters, sort)
