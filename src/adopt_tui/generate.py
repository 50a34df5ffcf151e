"""A large, realistic, deterministic portfolio for scale tests and benchmarks.

    generate(conn, customers=20_000, seed=0)

builds a portfolio of ``customers`` customers into an *empty* database:
sizes from 5 to 5,000 users, skewed small (log-normal, about 50 users on
average, median about 20), with the same variety as the demo portfolio
(``scripts/make_demo.py``):

* every subscription state (active, grace, disabled, de-provisioned), trials,
  all three channels (this partner, another partner, Microsoft direct),
  Dynamics 365 next to Office 365 / Microsoft 365, assignments whose
  subscription is unknown, concealed (32-hex) and guest user names;
* twelve monthly as-of dates (``AS_OF_DATES``): user-level activity for the
  latest ``user_level_months`` (default 1) and, for the older months,
  aggregate figures (``fig_*`` rows with source ``imported``) that follow
  each customer's story (adoption trending up, down or flat);
* support requests, and somewhere every explanation of usage over 100 %
  (``turnover``, ``inactive_duplicate_subscription``, ``trial``,
  ``yammer_overuse``, ``unexplained``) and every recommendation
  (``low_adoption``, ``high_support_volume``, ``upsell``, ``right_size``);
* 40 sales agents (``AGENTS``; ``maria`` of the demo accounts is one of them)
  assigned to customers.

From 20 customers on, customers 2 to 7 show each special case for sure (one
per explanation, and a high support volume); the other special cases are
drawn at random (about 16 % of the customers show one).

Deterministic for a seed: one ``numpy.random.Generator``, fixed dates,
nothing depends on today.

Speed: everything is drawn as numpy arrays (no Python loop per user), written
with ``executemany`` under ``synchronous=OFF``, a memory journal, a large
page cache and foreign-key checks off (the generator makes the ids itself, so
they are consistent by construction; the tests run ``foreign_key_check``),
then the figures are computed by :func:`adopt_tui.metrics.compute.recompute`
like after any import.  20,000 customers (about a million users) build in
well under three minutes on two cores.

``write_graph_csv`` writes the same users as one Microsoft Graph *Office 365
active user detail* report (header exactly as in formats.md) for the import
benchmark.
"""

from __future__ import annotations

import csv
import re
import sqlite3
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Callable

import numpy as np

from adopt_tui.catalogue import load_catalogue
from adopt_tui.errors import AdoptError
from adopt_tui.metrics.rules import ACTIVE_WINDOW_DAYS
from adopt_tui.store import writes
from adopt_tui.store import writes

# --------------------------------------------------------------------------- dates

AS_OF_DATES = [
    date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28),
    date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30),
    date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31),
]
LATEST = AS_OF_DATES[-1]

_EPOCH = date(1970, 1, 1)
_BASE = date(2015, 1, 1)
_DATE_TEXT = np.array(
    [(_BASE + timedelta(days=i)).isoformat() for i in range((date(2031, 1, 1) - _BASE).days)], dtype=object
)


def _day(d: date) -> int:
    return (d - _EPOCH).days


_BASE_DAY = _day(_BASE)


def _iso(days: np.ndarray) -> np.ndarray:
    """int day numbers (days since 1970-01-01; negative = none) -> ISO text or None."""
    days = np.asarray(days, dtype=np.int64)
    out = _DATE_TEXT[np.clip(days - _BASE_DAY, 0, len(_DATE_TEXT) - 1)]
    if (days < 0).any():
        out = out.copy()
        out[days < 0] = None
    return out


NONE = -1  # "no date"

# --------------------------------------------------------------------------- the model's constants

SIZE_MU, SIZE_SIGMA, SIZE_MIN, SIZE_MAX = 3.0, 1.35, 5, 5000  # log-normal users per customer: mean ~50

MARKETS = ("NL", "DE", "GB", "US", "JP", "CN", "FR")
MARKET_WEIGHTS = (0.16, 0.18, 0.2, 0.26, 0.08, 0.06, 0.06)

SMB, CORP, ENT = "Small and medium business", "Corporate", "Enterprise"
SEGMENTS = (SMB, CORP, ENT)

MAIN_SKUS = {
    SMB: ("O365_BUSINESS_ESSENTIALS", "O365_BUSINESS_PREMIUM", "SPB", "SPB", "EXCHANGESTANDARD", "STANDARDPACK"),
    CORP: ("ENTERPRISEPACK", "SPE_E3", "SPE_E3", "STANDARDPACK", "SPB"),
    ENT: ("SPE_E3", "SPE_E5", "ENTERPRISEPACK", "ENTERPRISEPREMIUM"),
}
FULL_SUITES = ("SPB", "SPE_E3", "ENTERPRISEPACK")  # with exchange and teams, for the 'unexplained' case
FRONTLINE_SKUS = ("DESKLESSPACK", "SPE_F1")
DYN_SKUS = ("DYN365_ENTERPRISE_SALES", "DYN365_ENTERPRISE_CUSTOMER_SERVICE", "DYN365_TEAM_MEMBERS",
            "DYN365_BUSCENTRAL_ESSENTIAL", "D365_SALES_PRO", "DYN365_FINANCE", "DYN365_SCM",
            "DYN365_PROJECT_OPERATIONS", "DYN365_ENTERPRISE_FIELD_SERVICE", "DYN365_BUSCENTRAL_PREMIUM")
TRIAL_SKUS = ("SPE_E5", "ENTERPRISEPREMIUM", "DYN365_ENTERPRISE_SALES")

# Share of a customer's usage level that shows up per workload (as in the demo).
WORKLOAD_FACTOR = {"exchange": 1.15, "teams": 1.05, "office": 0.95, "sharepoint": 0.85, "yammer": 0.25,
                   "skype": 0.03}
DYN_FACTOR = 0.95
MAX_P = 0.97

# The special case a customer shows (one at most, so that each explanation
# stands on its own).
CASES = ("none", "turnover", "duplicate", "trial", "yammer", "unexplained")
CASE_WEIGHTS = (0.84, 0.04, 0.03, 0.04, 0.02, 0.03)
SHOWCASE_FROM = 20  # from this many customers on, customers 2..7 show every special case for sure
C_NONE, C_TURNOVER, C_DUP, C_TRIAL, C_YAMMER, C_UNEXPL = range(6)

STATES = ("entitled", "suspended", "upgraded", "cancelled")

# User kinds.
K_MAIN, K_FRONT, K_SERVICE, K_OLD, K_LEAVER, K_DUP, K_TRIAL, K_NONENT = range(8)

AGENTS = (
    "maria", "tomas", "yuki", "anouk", "bram", "lukas", "lea", "oliver", "amelia", "james", "olivia", "haruto",
    "wei", "camille", "hugo", "sanne", "jonas", "isla", "noah", "mia", "daan", "felix", "grace", "ethan",
    "sakura", "fang", "louis", "chloe", "ruben", "emma", "harry", "sophia", "kaito", "jing", "lena", "thomas",
    "noor", "finn", "ava", "leon",
)

# Names (invented company stems; ordinary person names).
STEMS_A = ("Alden", "Brak", "Corvel", "Drave", "Ester", "Farrow", "Gorse", "Hald", "Isen", "Kamin", "Larch",
           "Marrow", "Nether", "Ooster", "Pellin", "Ravens", "Salt", "Thistle", "Umber", "Varn", "Wex", "Yarrow",
           "Zephyr", "Brindle", "Quarren", "Stell", "Tolles", "Venner", "Wolven", "Kelder", "Ash", "Belder",
           "Crest", "Dusk", "Ember", "Orlen", "Fenn", "Glimmer", "Hollow", "Kestrel", "Caldm", "Dunh", "Brisor",
           "Harbour", "Tsuki", "Morrow", "Quill", "Lindq", "Jinx", "Sorrel", "Tarn", "Wyv", "Elder", "Mistle")
STEMS_B = ("vik", "hurst", "lan", "mont", "holt", "deen", "moor", "ingen", "wick", "ura", "gate", "croft",
           "veld", "ore", "sholt", "brook", "vale", "holm", "combe", "dene", "ine", "field", "mere", "stead",
           "ford", "wood", "ley", "ton", "by", "thorpe")
NOUNS = {
    "NL": ("Logistiek", "Bouw", "Zorggroep", "Energie", "Transport", "Fietsen", "Techniek", "Woningbeheer",
           "Architecten", "Advies"),
    "DE": ("Textil", "Elektro", "Versicherungsmakler", "Kunststoffe", "Pharma", "Medien", "Maschinenbau",
           "Druckerei", "Logistik", "Bau"),
    "GB": ("Veterinary Practice", "Legal", "Accountants", "Seafoods", "Hotels", "Estates", "Engineering",
           "Tools", "Freight", "Schools Trust"),
    "US": ("Brewing", "Medical Supplies", "Robotics", "Dental", "Analytics", "Foods", "Logistics", "Marine",
           "Field Services", "Software"),
    "JP": ("Seiki", "Kikaku", "Shokuhin", "Denki", "Logistics", "Insurance", "Kogyo", "Shoji"),
    "CN": ("Textiles", "Precision", "Trading", "Medical Devices", "Components", "Electronics", "Logistics"),
    "FR": ("Logistique", "Conseil", "Transports", "Industrie", "Santé", "Bâtiment", "Distribution"),
}
LEGAL = {
    "NL": ("B.V.", "B.V.", "N.V.", ""), "DE": ("GmbH", "GmbH", "AG", "KG"), "GB": ("Ltd", "Ltd", "LLP", "plc", ""),
    "US": ("Inc.", "LLC", "Co.", ""), "JP": ("K.K.",), "CN": ("Co., Ltd.",), "FR": ("SAS", "SA", "SARL"),
}
PEOPLE = {
    "NL": (("Daan", "Sanne", "Lotte", "Bram", "Joris", "Femke", "Ruben", "Eva", "Thijs", "Noor", "Sem", "Lieke",
            "Jesse", "Anouk", "Milan", "Fleur"),
           ("de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos",
            "Peters", "Hendriks", "van Dijk", "Dekker")),
    "DE": (("Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Paul", "Sophie", "Leon", "Lena", "Finn", "Emma",
            "Jakob", "Clara", "Jürgen", "Björn"),
           ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
            "Schäfer", "Koch", "Richter", "Groß", "Krüger")),
    "GB": (("Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily", "Charlie", "Grace", "Thomas",
            "Lily", "Rhys", "Siobhan"),
           ("Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Davies", "Roberts", "Walker",
            "Wright", "O'Neill", "Hughes", "Patel")),
    "US": (("James", "Olivia", "Michael", "Emma", "David", "Sophia", "Daniel", "Mia", "Ethan", "Harper", "Noah",
            "Abigail", "Carlos", "Aaliyah"),
           ("Johnson", "Miller", "Garcia", "Rodriguez", "Martinez", "Anderson", "Lee", "Clark", "Lewis", "Hall",
            "Young", "King", "Nguyen", "Okafor")),
    "JP": (("Haruto", "Yui", "Sota", "Aoi", "Ren", "Hina", "Yuto", "Mio", "Kaito", "Sakura", "Riku", "Mei"),
           ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura", "Kobayashi",
            "Kato")),
    "CN": (("Wei", "Fang", "Na", "Min", "Jing", "Lei", "Yang", "Jie", "Li", "Qiang", "Xiu", "Hao"),
           ("Wang", "Li", "Zhang", "Liu", "Chen", "Yang", "Zhao", "Huang", "Zhou", "Wu")),
    "FR": (("Camille", "Louis", "Chloé", "Hugo", "Léa", "Gabriel", "Manon", "Jules", "Inès", "Arthur", "Zoé",
            "Raphaël"),
           ("Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy", "Moreau",
            "Lefèvre", "Girard")),
}
SERVICE_ACCOUNTS = ("scanner", "reception", "noreply", "meetingroom.1", "svc-backup", "helpdesk")

Progress = Callable[[str], None]


@dataclass
class GenerateStats:
    customers: int = 0
    users: int = 0
    subscriptions: int = 0
    assignments: int = 0
    activity: int = 0
    support_requests: int = 0
    snapshots: int = 0
    history_snapshots: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())


# --------------------------------------------------------------------------- helpers


@lru_cache(maxsize=None)
def _ascii(text: str) -> str:
    """A lower-case ASCII slug: 'Müller Bau' -> 'mueller-bau'."""
    text = text.replace("ß", "ss").replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
    text = text.replace("Ü", "Ue").replace("Ö", "Oe").replace("Ä", "Ae").replace("'", "")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _guids(rng: np.random.Generator, n: int) -> list[str]:
    hi = rng.integers(0, 2**63, size=n, dtype=np.int64).tolist()
    lo = rng.integers(0, 2**63, size=n, dtype=np.int64).tolist()
    out = []
    for a, b in zip(hi, lo):
        h = f"{a:016x}{b:016x}"
        out.append(f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}")
    return out


def _hexes(rng: np.random.Generator, n: int) -> list[str]:
    hi = rng.integers(0, 2**63, size=n, dtype=np.int64).tolist()
    lo = rng.integers(0, 2**63, size=n, dtype=np.int64).tolist()
    return [f"{a:016x}{b:016x}" for a, b in zip(hi, lo)]


def _rank(group: np.ndarray) -> np.ndarray:
    """Position of each element within its run of equal values (``group`` sorted)."""
    n = len(group)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.r_[0, np.flatnonzero(group[1:] != group[:-1]) + 1]
    lengths = np.diff(np.r_[starts, n])
    return np.arange(n) - np.repeat(starts, lengths)


def _pick(rng: np.random.Generator, options, n: int) -> np.ndarray:
    return np.asarray(options, dtype=object)[rng.integers(0, len(options), n)]


def _is_empty(conn: sqlite3.Connection) -> bool:
    return all(
        conn.execute(f"SELECT 1 FROM {t} LIMIT 1").fetchone() is None
        for t in ("customers", "subscriptions", "users", "fig_customer")
    )


def database_is_empty(conn: sqlite3.Connection) -> bool:
    """True when the database holds no customer data (accounts and settings may exist)."""
    return _is_empty(conn)


# --------------------------------------------------------------------------- the plan (numpy)


class _Plan:
    """All rows of the portfolio as numpy arrays (ids are final)."""

    def __init__(self, n_customers: int, seed: int, user_level_months: int):
        if not 1 <= user_level_months <= len(AS_OF_DATES):
            raise ValueError(f"user_level_months must be 1 .. {len(AS_OF_DATES)}")
        self.rng = np.random.default_rng(seed)
        self.n = n_customers
        self.report_dates = AS_OF_DATES[-user_level_months:]
        self.history_dates = AS_OF_DATES[:-user_level_months]
        self.cat = load_catalogue()
        self.latest = _day(LATEST)
        self._customers()
        self._subscriptions()
        self._users()
        self._assignments()
        self._activity()
        self._support()

    # -- customers ---------------------------------------------------------
    def _customers(self) -> None:
        rng, n = self.rng, self.n
        size = np.clip(np.round(rng.lognormal(SIZE_MU, SIZE_SIGMA, n)), SIZE_MIN, SIZE_MAX).astype(np.int64)
        showcase = n >= SHOWCASE_FROM
        if showcase:  # customers 2..6 each show one special case, at a size where it shows for sure
            size[1:6] = (40, 60, 35, 80, 30)
        if n >= 100:
            size[int(np.argmax(size))] = SIZE_MAX  # the range is exercised
        market = rng.choice(len(MARKETS), n, p=MARKET_WEIGHTS)
        seg = np.where(size <= 40, 0, np.where(size <= 200, 1, 2))
        odd = rng.random(n) < 0.1
        seg[odd] = rng.integers(0, 3, int(odd.sum()))
        # story: deployment and usage now, and twelve months ago
        dep = np.clip(rng.beta(6.0, 1.8, n), 0.25, 1.0)
        use = np.clip(rng.beta(4.5, 2.3, n), 0.05, 0.97)
        story = rng.choice(4, n, p=(0.3, 0.2, 0.4, 0.1))  # up, down, flat, onboarded
        delta_d = np.select([story == 0, story == 1, story == 3], [-0.25, 0.15, -0.5], 0.0) + rng.normal(0, 0.05, n)
        delta_u = np.select([story == 0, story == 1, story == 3], [-0.25, 0.2, -0.35], 0.0) + rng.normal(0, 0.05, n)
        case = rng.choice(len(CASES), n, p=CASE_WEIGHTS)
        if showcase:
            case[1:6] = (C_TURNOVER, C_DUP, C_TRIAL, C_YAMMER, C_UNEXPL)
        case[(case == C_UNEXPL) & (size > 150)] = C_NONE
        use[case == C_UNEXPL] = np.maximum(use[case == C_UNEXPL], 0.9)
        self.size, self.market, self.seg, self.case = size, market, seg, case
        self.dep, self.use = dep, use
        self.dep0 = np.clip(dep + delta_d, 0.05, 1.0)
        self.use0 = np.clip(use + delta_u, 0.03, 0.97)
        self.high_support = rng.random(n) < 0.05
        if showcase:
            self.high_support[6] = True
        # assignments without a known subscription (never where they would hide a special case)
        self.unknown_sub = (rng.random(n) < 0.02) & (case == C_NONE)
        self.concealed = rng.random(n) < 0.03
        self.guests = rng.random(n) < 0.03

        # names, unique domains, tenant ids, agents
        a = rng.integers(0, len(STEMS_A), n)
        b = rng.integers(0, len(STEMS_B), n)
        noun_i = rng.integers(0, 1000, n)
        legal_i = rng.integers(0, 1000, n)
        names, domains, seen = [], [], {}
        for i in range(n):
            mk = MARKETS[market[i]]
            stem = STEMS_A[a[i]] + STEMS_B[b[i]]
            noun = NOUNS[mk][noun_i[i] % len(NOUNS[mk])]
            legal = LEGAL[mk][legal_i[i] % len(LEGAL[mk])]
            base = _ascii(f"{stem} {noun}")
            k = seen.get(base, 0)
            seen[base] = k + 1
            names.append(f"{stem} {noun} {legal}".strip() + (f" {k + 1}" if k else ""))
            domains.append(f"{base}{k + 1 if k else ''}.example")
        markup = rng.random(n) < 0.0005
        for i in np.flatnonzero(markup):
            names[i] = "[bold]" + names[i]
        self.names, self.domains = names, domains
        self.tenants = _guids(rng, n)
        first = rng.integers(0, len(AGENTS), n)
        second = (first + rng.integers(1, len(AGENTS), n)) % len(AGENTS)
        r = rng.random(n)
        agent_cust = np.r_[np.flatnonzero(r >= 0.03), np.flatnonzero(r >= 0.9)]
        agent_idx = np.r_[first[r >= 0.03], second[r >= 0.9]]
        order = np.lexsort((agent_idx, agent_cust))
        self.agent_rows = (agent_cust[order] + 1, np.asarray(AGENTS, dtype=object)[agent_idx[order]])

    # -- subscriptions -----------------------------------------------------
    def _subscriptions(self) -> None:
        rng, n, latest = self.rng, self.n, self.latest
        seg, case, size = self.seg, self.case, self.size
        idx = np.arange(n)
        # how many users hold what (used by _users too)
        n_service = np.minimum(rng.integers(0, 4, n), size // 5)
        n_old = np.minimum(rng.binomial(size, 0.02), size // 10)
        n_special = np.zeros(n, dtype=np.int64)
        turn = case == C_TURNOVER
        n_special[turn] = rng.integers(1, 4, int(turn.sum()))
        dup = case == C_DUP
        n_special[dup] = np.minimum(rng.integers(3, 13, int(dup.sum())), np.maximum(1, size[dup] // 4))
        tri = case == C_TRIAL
        n_special[tri] = np.minimum(rng.integers(2, 7, int(tri.sum())), np.maximum(1, size[tri] // 4))
        unx = case == C_UNEXPL
        n_special[unx] = np.maximum(2, np.ceil(size[unx] * 0.12)).astype(np.int64)
        n_licensed = size - n_service - n_old - n_special
        bad = n_licensed < 3
        n_service[bad] = 0
        n_old[bad] = 0
        n_licensed = size - n_service - n_old - n_special
        has_front = (seg > 0) & (rng.random(n) < 0.35) & (n_licensed >= 10)
        n_front = np.where(has_front, np.round(n_licensed * rng.uniform(0.1, 0.35, n)), 0).astype(np.int64)
        n_main = n_licensed - n_front
        self.n_service, self.n_old, self.n_special, self.n_front, self.n_main = (
            n_service, n_old, n_special, n_front, n_main)

        # main product
        main_sku = np.empty(n, dtype=object)
        for s, segname in enumerate(SEGMENTS):
            m = seg == s
            main_sku[m] = _pick(rng, MAIN_SKUS[segname], int(m.sum()))
        main_sku[case == C_UNEXPL] = _pick(rng, FULL_SUITES, int(unx.sum()))
        main_sku[case == C_YAMMER] = "EXCHANGESTANDARD"
        self.main_sku = main_sku
        r = rng.random(n)
        main_channel = np.where(r < 0.92, "partner", np.where(r < 0.96, "other_partner", "direct"))
        main_channel[case != C_NONE] = "partner"
        start_lo, start_hi = _day(date(2023, 1, 1)), _day(date(2026, 6, 30))
        main_start = rng.integers(start_lo, start_hi, n)
        onboarded = (self.dep0 < 0.4) & (rng.random(n) < 0.5)
        main_start[onboarded] = rng.integers(_day(date(2025, 12, 1)), _day(date(2026, 5, 1)), int(onboarded.sum()))
        self.main_start = main_start
        main_qty = np.maximum(n_main, np.round(n_main / self.dep)).astype(np.int64)
        # the 'unexplained' customers' suspended/upgraded/cancelled holders took seats too
        main_qty[unx] = n_main[unx] + n_special[unx] + rng.integers(0, 3, int(unx.sum()))

        subs: list[dict] = []

        def add(kind, cust, sku, qty, status, trial, channel, start, deploy_now):
            subs.append(dict(kind=np.full(len(cust), kind), cust=cust, sku=np.asarray(sku, dtype=object),
                             qty=np.asarray(qty, dtype=np.int64), status=np.asarray(status, dtype=object),
                             trial=np.asarray(trial, dtype=np.int64), channel=np.asarray(channel, dtype=object),
                             start=np.asarray(start, dtype=np.int64), deploy=np.asarray(deploy_now, dtype=float)))

        add(0, idx, main_sku, main_qty, np.full(n, "active", object), np.zeros(n), main_channel, main_start,
            n_main / np.maximum(1, main_qty))
        # frontline workers, from another partner or Microsoft
        f = np.flatnonzero(has_front)
        front_qty = np.maximum(n_front[f], np.round(n_front[f] / rng.uniform(0.7, 1.0, len(f)))).astype(np.int64)
        add(1, f, _pick(rng, FRONTLINE_SKUS, len(f)), front_qty, np.full(len(f), "active", object),
            np.zeros(len(f)), _pick(rng, ("other_partner", "direct"), len(f)),
            rng.integers(start_lo, start_hi, len(f)), n_front[f] / front_qty)
        # Dynamics 365
        dyn = ((seg > 0) & (rng.random(n) < 0.45)) | ((seg == 0) & (rng.random(n) < 0.15))
        dyn &= n_main >= 4
        d = np.flatnonzero(dyn)
        dyn_sku = np.where(seg[d] == 0, "DYN365_BUSCENTRAL_ESSENTIAL", _pick(rng, DYN_SKUS, len(d)))
        dyn_qty = np.minimum(n_main[d], np.where(seg[d] == 0, np.maximum(2, n_main[d] // 4),
                                                 rng.integers(5, 41, len(d))))
        dyn_qty = np.maximum(dyn_qty, 2)
        dyn_users = np.minimum(dyn_qty, np.round(dyn_qty * rng.uniform(0.5, 1.0, len(d)))).astype(np.int64)
        self.n_dyn = np.zeros(n, dtype=np.int64)
        self.n_dyn[d] = dyn_users
        add(2, d, dyn_sku, dyn_qty, np.full(len(d), "active", object), np.zeros(len(d)),
            _pick(rng, ("partner", "partner", "direct"), len(d)), rng.integers(_day(date(2024, 1, 1)), start_hi, len(d)),
            dyn_users / dyn_qty)
        # the special cases
        c = np.flatnonzero(dup)
        add(3, c, main_sku[c], n_special[c] + rng.integers(0, 3, len(c)),
            _pick(rng, ("grace", "disabled", "deprovisioned"), len(c)), np.zeros(len(c)), np.full(len(c), "partner", object),
            rng.integers(_day(date(2025, 6, 1)), _day(date(2026, 3, 1)), len(c)), np.zeros(len(c)))
        c = np.flatnonzero(tri)
        tsku = _pick(rng, TRIAL_SKUS[:2], len(c))
        tsku[tsku == main_sku[c]] = "SPE_E3"
        add(4, c, tsku, np.full(len(c), 25), np.full(len(c), "active", object), np.ones(len(c)),
            np.full(len(c), "partner", object), latest - rng.integers(3, 25, len(c)), np.zeros(len(c)))
        c = np.flatnonzero(case == C_YAMMER)
        self.n_stdpack = np.zeros(n, dtype=np.int64)
        self.n_stdpack[c] = np.clip(n_main[c] // 5, 1, 10)
        add(5, c, np.full(len(c), "STANDARDPACK", object), self.n_stdpack[c], np.full(len(c), "active", object),
            np.zeros(len(c)), np.full(len(c), "partner", object), main_start[c] - 30, np.ones(len(c)))
        # idle trials, old de-provisioned and disabled subscriptions (every state somewhere)
        r = rng.random(n)
        c = np.flatnonzero((r < 0.08) & ~tri)
        add(6, c, _pick(rng, TRIAL_SKUS, len(c)), np.full(len(c), 25), np.full(len(c), "active", object),
            np.ones(len(c)), np.full(len(c), "partner", object), latest - rng.integers(3, 25, len(c)), np.zeros(len(c)))
        c = np.flatnonzero((r >= 0.08) & (r < 0.16))
        add(7, c, _pick(rng, ("STANDARDPACK", "EXCHANGESTANDARD"), len(c)), rng.integers(5, 21, len(c)),
            np.full(len(c), "deprovisioned", object), np.zeros(len(c)), np.full(len(c), "partner", object),
            np.full(len(c), _day(date(2023, 3, 1))), np.zeros(len(c)))
        disabled = (r >= 0.16) & (r < 0.21) & (n_main >= 3) & (main_sku != "O365_BUSINESS")
        c = np.flatnonzero(disabled)
        self.disabled = disabled
        add(8, c, np.full(len(c), "O365_BUSINESS", object), rng.integers(3, 9, len(c)),
            np.full(len(c), "disabled", object), np.zeros(len(c)), np.full(len(c), "partner", object),
            np.full(len(c), _day(date(2025, 5, 1))), np.zeros(len(c)))
        grace = (r >= 0.21) & (r < 0.24) & (case == C_NONE)
        c = np.flatnonzero(grace)
        add(9, c, main_sku[c], rng.integers(2, 6, len(c)), np.full(len(c), "grace", object), np.zeros(len(c)),
            np.full(len(c), "partner", object), rng.integers(_day(date(2025, 6, 1)), start_hi, len(c)),
            np.zeros(len(c)))

        s = {k: np.concatenate([x[k] for x in subs]) for k in subs[0]}
        order = np.lexsort((s["kind"], s["cust"]))
        s = {k: v[order] for k, v in s.items()}
        m = len(order)
        s["id"] = np.arange(1, m + 1)
        # terms: this partner's own subscriptions renew on their anniversary
        own = s["channel"] == "partner"
        years = np.maximum(1, np.ceil((latest - s["start"] + 2) / 365.0)).astype(np.int64)
        end = s["start"] + 365 * years - 1
        end = np.where(s["trial"] == 1, s["start"] + 29, end)
        end = np.where(np.isin(s["status"], ["deprovisioned", "disabled"]) & (s["trial"] == 0),
                       np.minimum(end, latest - rng.integers(30, 400, m)), end)
        s["end"] = np.where(own, end, NONE)
        monthly = rng.random(m) < 0.34
        s["billing"] = np.where(own, np.where(monthly | (s["trial"] == 1), "monthly", "annual"), "")
        s["auto_renew"] = (own & (rng.random(m) < 0.8) & (s["trial"] == 0) & (s["status"] == "active")).astype(np.int64)
        s["ext_id"] = np.asarray(_guids(rng, m), dtype=object)
        self.subs = s
        # subscription id of each kind per customer (-1: none)
        self.sub_of = {}
        for kind in range(10):
            arr = np.full(n, -1, dtype=np.int64)
            k = s["kind"] == kind
            arr[s["cust"][k]] = s["id"][k]
            self.sub_of[kind] = arr
        self.sku_names = np.asarray(sorted(set(s["sku"].tolist())), dtype=object)
        sku_code = np.searchsorted(self.sku_names, s["sku"])
        self.sku_of = {}
        for kind in range(10):
            arr = np.full(n, -1, dtype=np.int64)
            k = s["kind"] == kind
            arr[s["cust"][k]] = sku_code[k]
            self.sku_of[kind] = arr
        self.start_of = {}
        for kind in range(10):
            arr = np.full(n, NONE, dtype=np.int64)
            k = s["kind"] == kind
            arr[s["cust"][k]] = s["start"][k]
            self.start_of[kind] = arr

    # -- users -------------------------------------------------------------
    def _users(self) -> None:
        rng, n, latest = self.rng, self.n, self.latest
        counts = np.stack([self.n_main, self.n_front, self.n_service, self.n_old,
                           np.where(self.case == C_TURNOVER, self.n_special, 0),
                           np.where(self.case == C_DUP, self.n_special, 0),
                           np.where(self.case == C_TRIAL, self.n_special, 0),
                           np.where(self.case == C_UNEXPL, self.n_special, 0)], axis=1)  # (n, 8)
        per_customer = counts.sum(axis=1)
        cust = np.repeat(np.arange(n), per_customer)
        kind = np.repeat(np.tile(np.arange(8), n), counts.ravel())
        u = len(cust)
        self.u_cust, self.u_kind = cust, kind
        self.u_id = np.arange(1, u + 1)
        rank = _rank(cust * 8 + kind)  # position among the customer's users of that kind
        self.u_rank = rank

        # deleted users
        deleted = np.full(u, NONE, dtype=np.int64)
        old = kind == K_OLD
        deleted[old] = latest - rng.integers(40, 300, int(old.sum()))
        leaver = kind == K_LEAVER
        deleted[leaver] = latest - rng.integers(2, ACTIVE_WINDOW_DAYS - 6, int(leaver.sum()))
        self.u_deleted = deleted

        # names
        market = self.market[cust]
        first = np.empty(u, dtype=object)
        last = np.empty(u, dtype=object)
        fi = rng.integers(0, 1000, u)
        li = rng.integers(0, 1000, u)
        for m, mk in enumerate(MARKETS):
            sel = market == m
            firsts, lasts = PEOPLE[mk]
            first[sel] = np.asarray(firsts, dtype=object)[fi[sel] % len(firsts)]
            last[sel] = np.asarray(lasts, dtype=object)[li[sel] % len(lasts)]
        slug_first = {x: _ascii(x).replace("-", "") for p in PEOPLE.values() for x in p[0]}
        slug_last = {x: _ascii(x).replace("-", "") for p in PEOPLE.values() for x in p[1]}
        native = np.isin(market, [MARKETS.index("JP"), MARKETS.index("CN")])
        local = [slug_first[f] + "." + slug_last[la] for f, la in zip(first.tolist(), last.tolist())]
        display = [
            f"{la} {f}" if nat else f"{f} {la}" for f, la, nat in zip(first.tolist(), last.tolist(), native.tolist())
        ]
        service = kind == K_SERVICE
        guests = service & self.guests[cust]
        for i in np.flatnonzero(service & ~guests):
            name = SERVICE_ACCOUNTS[rank[i] % len(SERVICE_ACCOUNTS)]
            local[i], display[i] = name, name.replace(".", " ").title()
        # unique per customer: a number after repeated names (anna.mueller, anna.mueller2, ...)
        key = np.asarray([f"{c}\t{x}" for c, x in zip(cust.tolist(), local)], dtype=object)
        order = np.argsort(key, kind="stable")
        dup_rank = np.empty(u, dtype=np.int64)
        dup_rank[order] = _rank(key[order])
        domains = np.asarray(self.domains, dtype=object)[cust]
        upn = [
            f"{x}{k + 1 if k else ''}@{dom}" for x, k, dom in zip(local, dup_rank.tolist(), domains.tolist())
        ]
        # guests (service kind in some tenants) and concealed tenants (32-hex names)
        for i in np.flatnonzero(guests):
            upn[i] = f"{local[i]}_partner{rank[i] + 1}.example#EXT#@{domains[i].split('.')[0]}.onmicrosoft.com"
            display[i] = f"{display[i]} (Guest)"
        hidden = np.flatnonzero(self.concealed[cust])
        if len(hidden):
            hu, hd = _hexes(rng, len(hidden)), _hexes(rng, len(hidden))
            for j, i in enumerate(hidden.tolist()):
                upn[i], display[i] = hu[j], hd[j]
        self.u_upn = np.asarray(upn, dtype=object)
        self.u_display = np.asarray(display, dtype=object)

    # -- assignments ---------------------------------------------------------
    def _assignments(self) -> None:
        rng, latest = self.rng, self.latest
        cust, kind, rank, uid = self.u_cust, self.u_kind, self.u_rank, self.u_id
        rows = []  # (user index array, sku, sub id, assigned day, state)

        def add(sel, sub_kind, assigned, state=0):
            c = cust[sel]
            sub = self.sub_of[sub_kind][c]
            rows.append((sel, self.sku_of[sub_kind][c], sub, np.asarray(assigned, dtype=np.int64),
                         np.broadcast_to(np.asarray(state, dtype=np.int64), sel.shape)))

        def spread(sel, start):
            lo = np.maximum(start, _day(date(2024, 1, 1)))
            return lo + (rng.random(len(sel)) * np.maximum(1, latest - 1 - lo)).astype(np.int64)

        turnover_c = self.case == C_TURNOVER
        main = np.flatnonzero(kind == K_MAIN)
        assigned = spread(main, self.main_start[cust[main]])
        # starters take over the leavers' licenses the day after they left
        starter = turnover_c[cust[main]] & (rank[main] < self.n_special[cust[main]])
        leaver_by_cust = {}
        lv = np.flatnonzero(kind == K_LEAVER)
        for i in lv.tolist():
            leaver_by_cust[(int(cust[i]), int(rank[i]))] = int(self.u_deleted[i])
        for j in np.flatnonzero(starter).tolist():
            i = main[j]
            assigned[j] = leaver_by_cust[(int(cust[i]), int(rank[i]))] + 1
        self.u_starter = np.zeros(len(uid), dtype=bool)
        self.u_starter[main[starter]] = True
        add(main, 0, assigned)
        front = np.flatnonzero(kind == K_FRONT)
        add(front, 1, spread(front, self.start_of[1][cust[front]]))
        for k in (K_OLD, K_LEAVER):
            sel = np.flatnonzero(kind == k)
            c = cust[sel]
            a = self.main_start[c] + rng.integers(0, 60, len(sel))
            a = np.minimum(a, self.u_deleted[sel] - 5)
            add(sel, 0, a)
        sel = np.flatnonzero(kind == K_DUP)
        add(sel, 3, self.start_of[3][cust[sel]] + rng.integers(1, 20, len(sel)))
        sel = np.flatnonzero(kind == K_TRIAL)
        add(sel, 4, np.minimum(latest, self.start_of[4][cust[sel]] + 1))
        sel = np.flatnonzero(kind == K_NONENT)
        add(sel, 0, spread(sel, self.main_start[cust[sel]]), np.asarray((1, 1, 2, 3))[rng.integers(0, 4, len(sel))])
        # second licenses of main users: Dynamics, the small Yammer-licensed plan, a disabled plan
        m_c, m_r = cust[main], rank[main]
        sel = main[m_r < self.n_dyn[m_c]]
        add(sel, 2, spread(sel, self.start_of[2][cust[sel]]))
        sel = main[m_r < self.n_stdpack[m_c]]
        add(sel, 5, spread(sel, self.start_of[5][cust[sel]]))
        sel = main[self.disabled[m_c] & (m_r < 2)]
        add(sel, 8, np.full(len(sel), _day(date(2025, 5, 2))), 1)

        user_idx = np.concatenate([r[0] for r in rows])
        sku = np.concatenate([r[1] for r in rows])
        sub = np.concatenate([r[2] for r in rows])
        day = np.concatenate([r[3] for r in rows])
        state = np.concatenate([r[4] for r in rows])
        # assignments whose subscription is unknown
        sub = np.where(self.unknown_sub[cust[user_idx]], -1, sub)
        order = np.argsort(user_idx, kind="stable")
        self.a_user = user_idx[order]
        # a_sku: index into sku_names; a_state: index into STATES
        self.a_sku, self.a_sub, self.a_day, self.a_state = sku[order], sub[order], day[order], state[order]

    # -- activity -------------------------------------------------------------
    def _activity(self) -> None:
        rng = self.rng
        wl_codes = sorted({w for p in self.cat.values() for w in p["workloads"]})
        self.workloads = np.asarray(wl_codes, dtype=object)  # sorted: code order == text order
        wl_index = {w: i for i, w in enumerate(wl_codes)}
        sku_wl = [[wl_index[w] for w in self.cat[s]["workloads"]] if s in self.cat else [] for s in self.sku_names]
        a_sku_i = self.a_sku
        n_wl = np.asarray([len(x) for x in sku_wl], dtype=np.int64)[a_sku_i]
        flat = np.concatenate([np.asarray(x, dtype=np.int64) for x in sku_wl])
        offsets = np.r_[0, np.cumsum([len(x) for x in sku_wl])][:-1]
        rep = np.repeat(np.arange(len(a_sku_i)), n_wl)
        within = _rank(rep)
        p_user = self.a_user[rep]
        p_wl = flat[offsets[a_sku_i[rep]] + within]
        p_assigned = self.a_day[rep]
        kind = self.u_kind[p_user]
        forced = np.isin(kind, (K_DUP, K_TRIAL, K_NONENT, K_LEAVER)) | self.u_starter[p_user]
        forced &= np.isin(p_wl, (wl_index["exchange"], wl_index["teams"]))
        # leavers were active only in Exchange and Teams; suspended and the like stay idle
        # (except the 'unexplained' holders, who are the point)
        keep = ((kind != K_LEAVER) | forced) & ((self.a_state[rep] == 0) | (kind == K_NONENT))
        p_user, p_wl, p_assigned, forced = p_user[keep], p_wl[keep], p_assigned[keep], forced[keep]
        # Yammer used beyond the license: every Exchange-only user of those tenants may use it
        ym = self.case[self.u_cust] == C_YAMMER
        ym_users = np.flatnonzero(ym & (self.u_kind == K_MAIN))
        ym_assigned = self.a_day[np.searchsorted(self.a_user, ym_users)]
        p_user = np.r_[p_user, ym_users]
        p_wl = np.r_[p_wl, np.full(len(ym_users), wl_index["yammer"])]
        p_assigned = np.r_[p_assigned, ym_assigned]
        forced = np.r_[forced, np.zeros(len(ym_users), dtype=bool)]
        yammer_extra = np.r_[np.zeros(len(p_user) - len(ym_users), dtype=bool), np.ones(len(ym_users), dtype=bool)]
        # one pair per (user, workload): the forced or earliest-assigned one
        key = p_user * 64 + p_wl
        order = np.lexsort((p_assigned, ~forced, key))
        key = key[order]
        first = np.r_[True, key[1:] != key[:-1]]
        sel = order[first]
        p_user, p_wl, p_assigned = p_user[sel], p_wl[sel], p_assigned[sel]
        forced, yammer_extra = forced[sel], yammer_extra[sel]

        cust = self.u_cust[p_user]
        factor = np.asarray(
            [DYN_FACTOR if w.startswith("dyn_") else WORKLOAD_FACTOR.get(w, 0.9) for w in wl_codes]
        )[p_wl]
        propensity = rng.random(len(p_user))
        old_r = rng.random(len(p_user))
        back = np.minimum(ACTIVE_WINDOW_DAYS - 1, rng.exponential(1 / 0.35, len(p_user)).astype(np.int64))
        old_back = ACTIVE_WINDOW_DAYS + rng.integers(0, 120, len(p_user))
        deleted = self.u_deleted[p_user]
        del_back = np.where(self.u_kind[p_user] == K_LEAVER, rng.integers(0, 4, len(p_user)),
                            rng.integers(1, 10, len(p_user)))
        users, wls, reports, lasts = [], [], [], []
        n_hist = len(AS_OF_DATES)
        for report in self.report_dates:
            rd = _day(report)
            t = AS_OF_DATES.index(report) / (n_hist - 1)
            level = self.use0[cust] + (self.use[cust] - self.use0[cust]) * t
            p = np.clip(level * factor, 0.0, MAX_P)
            p = np.where(yammer_extra, 0.55, p)
            p = np.where(forced, 1.0, p)
            alive = (deleted == NONE) | (deleted > rd)
            present = p_assigned <= rd
            active = present & alive & (propensity < p)
            ws = rd - (ACTIVE_WINDOW_DAYS - 1)
            last = np.maximum(rd - back, np.maximum(ws, p_assigned))
            last = np.where(active, last, NONE)
            # idle: an older activity date, sometimes
            idle_old = present & alive & ~active & (old_r < 0.4) & (rd - old_back >= p_assigned)
            last = np.where(idle_old, rd - old_back, last)
            # gone: the last activity shortly before leaving (leavers: inside the window)
            gone = present & ~alive & (old_r < np.where(self.u_kind[p_user] == K_LEAVER, 1.0, 0.7))
            gone_last = np.maximum(deleted - del_back, p_assigned)
            last = np.where(gone, gone_last, last)
            has = last != NONE
            users.append(p_user[has])
            wls.append(p_wl[has])
            reports.append(np.full(int(has.sum()), rd))
            lasts.append(last[has])
        user = np.concatenate(users)
        wl = np.concatenate(wls)
        report = np.concatenate(reports)
        order = np.lexsort((report, wl, user))
        self.act_user, self.act_wl = user[order], wl[order]
        self.act_report, self.act_last = report[order], np.concatenate(lasts)[order]

    # -- support requests -------------------------------------------------
    def _support(self) -> None:
        rng, n, latest = self.rng, self.n, self.latest
        start = _day(date(2025, 11, 1))
        per_100 = rng.uniform(0.05, 0.5, n)
        lam = per_100 * self.size / 100 * 12
        count = rng.poisson(lam)
        cust = np.repeat(np.arange(n), count)
        day = rng.integers(start, latest + 1, len(cust))
        cat = _pick(rng, ("how-to", "how-to", "how-to", "how-to", "how-to", "help", "help", "help",
                          "incident", "incident"), len(cust))
        # customers that ask for help a lot, lately
        hs = np.flatnonzero(self.high_support)
        extra = np.clip(np.ceil((self.n_main[hs] + self.n_front[hs]) * rng.uniform(0.08, 0.15, len(hs))), 3, 300)
        extra = extra.astype(np.int64)
        ecust = np.repeat(hs, extra)
        eday = latest - rng.integers(0, 85, len(ecust))
        ecat = _pick(rng, ("how-to", "help"), len(ecust))
        cust, day, cat = np.r_[cust, ecust], np.r_[day, eday], np.r_[cat, ecat]
        order = np.lexsort((day, cust))
        self.sr_cust, self.sr_day, self.sr_cat = cust[order], day[order], cat[order]

    def release(self) -> None:
        """Drop the per-user arrays once written (the history needs only the subscriptions)."""
        for name in [n for n in vars(self) if n.startswith(("u_", "a_", "act_", "sr_"))]:
            delattr(self, name)

    # -- aggregate history --------------------------------------------------
    def history(self):
        """Product and workload frames for the months without user-level data."""
        import pandas as pd

        if not self.history_dates:
            return None, None
        rng = self.rng
        s = self.subs
        counted = (s["status"] == "active") & (s["trial"] == 0)
        sub = {k: v[counted] for k, v in s.items()}
        n_hist = len(AS_OF_DATES)
        prods, wls = [], []
        wl_rows = [(sku, w) for sku in sorted(set(sub["sku"].tolist())) for w in
                   (self.cat[sku]["workloads"] if sku in self.cat else ())]
        sku_wl = pd.DataFrame(wl_rows, columns=["sku", "workload"])
        factor = {w: (DYN_FACTOR if w.startswith("dyn_") else WORKLOAD_FACTOR.get(w, 0.9)) for w in sku_wl.workload}
        c = sub["cust"]
        dep_now = sub["deploy"]
        dep_then = np.clip(dep_now + (self.dep0[c] - self.dep[c]), 0.02, 1.0)
        for as_of in self.history_dates:
            d = _day(as_of)
            t = AS_OF_DATES.index(as_of) / (n_hist - 1)
            live = sub["start"] <= d
            level = dep_then + (dep_now - dep_then) * t
            assigned = np.minimum(sub["qty"], np.round(sub["qty"] * level)).astype(np.int64)
            usage = self.use0[c] + (self.use[c] - self.use0[c]) * t
            frame = pd.DataFrame({
                "customer_id": c[live] + 1, "sku": sub["sku"][live], "sold": sub["qty"][live],
                "assigned": assigned[live], "usage": usage[live], "own": sub["channel"][live] == "partner",
            })
            for scope in ("all", "own"):
                f = frame if scope == "all" else frame[frame.own]
                p = f.groupby(["customer_id", "sku"], as_index=False)[["sold", "assigned"]].sum()
                prods.append(p.assign(as_of=as_of.isoformat(), scope=scope))
                w = f.merge(sku_wl, on="sku")
                w = w.groupby(["customer_id", "workload"], as_index=False).agg(
                    entitled=("assigned", "sum"), usage=("usage", "first"))
                fac = w.workload.map(factor).to_numpy()
                noise = 1 + rng.uniform(-0.03, 0.03, len(w))
                p_act = np.clip(w.usage.to_numpy() * fac * noise, 0, MAX_P)
                w["active"] = np.minimum(w.entitled, np.round(w.entitled * p_act)).astype(np.int64)
                wls.append(w.drop(columns="usage").assign(as_of=as_of.isoformat(), scope=scope))
        products = pd.concat(prods, ignore_index=True)
        workloads = pd.concat(wls, ignore_index=True)
        return products, workloads


# --------------------------------------------------------------------------- writing


_BUILD_PRAGMAS = ("synchronous", "cache_size", "temp_store", "foreign_keys", "journal_mode")


def _insert(conn: sqlite3.Connection, table: str, columns: tuple[str, ...], arrays) -> int:
    cols = [a.tolist() if isinstance(a, np.ndarray) else a for a in arrays]
    conn.executemany(
        f"INSERT INTO {table}({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})", zip(*cols)
    )
    return len(cols[0]) if cols else 0


def _insert_activity(conn: sqlite3.Connection, user: np.ndarray, workload: np.ndarray, report: np.ndarray,
                     last: np.ndarray) -> int:
    """Activity (user id, workload code, report day, last activity day; each pair of user and
    workload once per report day) as rows per user and report date, a column per workload (see
    adopt_tui.store.schema), in key order. Returns the (user, workload) values written."""
    from adopt_tui.store.schema import ACTIVITY_WORKLOADS

    n = len(user)
    if not n:
        return 0
    order = np.lexsort((report, user))
    user, workload, report = user[order], workload[order], report[order]
    text = _iso(last[order])
    text[text == None] = ""  # noqa: E711 - listed without activity
    first = np.flatnonzero(np.r_[True, (user[1:] != user[:-1]) | (report[1:] != report[:-1])])
    group = np.cumsum(np.r_[True, (user[1:] != user[:-1]) | (report[1:] != report[:-1])]) - 1
    present = set(workload.tolist())
    used = [w for w in ACTIVITY_WORKLOADS if w in present]
    col = {w: i for i, w in enumerate(used)}
    grid = np.full((len(first), len(used)), "~", dtype=object)   # '~': no value (NULL)
    grid[group, np.asarray([col[w] for w in workload.tolist()], dtype=np.int64)] = text
    rows = np.empty((len(first), 2 + len(used)), dtype=object)
    rows[:, 0] = user[first]
    rows[:, 1] = _iso(report[first])
    rows[:, 2:] = grid
    template = "({0}, {1}, " + ", ".join(f"CASE {{{j}}} WHEN '~' THEN NULL ELSE {{{j}}} END"
                                         for j in range(2, 2 + len(used))) + ")"
    writes.insert_many(conn, f"INSERT INTO activity(user_id, report_date, {', '.join(used)})", template,
                       rows.ravel().tolist(), 2 + len(used))
    return n


def _none_if(arr: np.ndarray, value) -> list:
    return [None if x == value else x for x in arr.tolist()]


def generate(
    conn: sqlite3.Connection,
    customers: int,
    seed: int = 0,
    progress: Progress | None = None,
    *,
    user_level_months: int = 1,
    compute: bool = True,
    history: str = "direct",
) -> GenerateStats:
    """Fill the empty database behind ``conn`` with a generated portfolio.

    Raises AdoptError when the database already holds customer data (the
    generator makes its own ids). Accounts and settings are left alone.
    Returns row counts and the seconds each stage took.

    ``compute=False`` leaves the figures out (raw rows only). ``history``:
    ``"direct"`` writes the aggregate history with bulk inserts (figures
    identical to ``"store"``, which goes through
    :func:`~adopt_tui.metrics.compute.store_imported_figures`; the tests
    check that they agree).
    """
    if history not in ("direct", "store"):
        raise ValueError("history must be 'direct' or 'store'")
    if customers < 1:
        raise ValueError("customers must be at least 1")
    if not _is_empty(conn):
        raise AdoptError("the database already holds customer data; generate into a new database")
    stats = GenerateStats()
    say = progress or (lambda text: None)
    clock = [time.perf_counter()]

    def lap(stage: str, detail: str = "") -> None:
        now = time.perf_counter()
        stats.seconds[stage] = stats.seconds.get(stage, 0.0) + now - clock[0]
        clock[0] = now
        say(f"{stage}: {detail}{' ' if detail else ''}({stats.seconds[stage]:.1f} s)")

    plan = _Plan(customers, seed, user_level_months)
    lap("plan", f"{customers:,} customers, {len(plan.u_id):,} users drawn")

    saved = {p: conn.execute(f"PRAGMA {p}").fetchone()[0] for p in _BUILD_PRAGMAS}
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA cache_size = -400000")  # 400 MB
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA foreign_keys = OFF")
    if saved["journal_mode"] == "wal":
        conn.execute("PRAGMA journal_mode = MEMORY")
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            # secondary indexes are cheaper built once after the load than kept up row by row
            indexes = conn.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
                "('customers', 'customer_agents', 'subscriptions', 'users', 'assignments', 'activity', "
                "'support_requests')"
            ).fetchall()
            for name, _ in indexes:
                conn.execute(f'DROP INDEX "{name}"')
            _write(conn, plan, stats, lap)
            plan.release()
            for _, sql in indexes:
                conn.execute(sql)
            lap("indexes", f"{len(indexes)} rebuilt")
            if compute:
                from adopt_tui.metrics import cache
                from adopt_tui.metrics.compute import recompute, store_imported_figures

                with cache.suspended(conn):  # an empty cache: its triggers would only slow the bulk writes
                    stats.snapshots = recompute(conn, warm=False)
                    lap("recompute", f"{stats.snapshots:,} snapshots")
                    products, workloads = plan.history()
                    lap("history", f"{len(products):,} product and {len(workloads):,} workload rows drawn")
                    if products is not None:
                        if history == "store":
                            stats.history_snapshots = store_imported_figures(conn, products, workloads, warm=False)
                        else:
                            stats.history_snapshots = _store_history(conn, products, workloads)
                    lap("store history", f"{stats.history_snapshots:,} snapshots")
                cache.warm(conn, whole=True)  # the figure caches, once, after every figure is written
                lap("warm caches")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    finally:
        if saved["journal_mode"] == "wal":
            conn.execute("PRAGMA journal_mode = WAL")
        for p in ("synchronous", "cache_size", "temp_store", "foreign_keys"):
            conn.execute(f"PRAGMA {p} = {saved[p]}")
    return stats


def _nulls(values) -> list:
    """A column as a list, NaN and None as None (SQL NULL)."""
    return [None if x is None or x != x else x for x in (values.tolist() if hasattr(values, "tolist") else values)]


def _store_history(conn: sqlite3.Connection, products, workloads) -> int:
    """The aggregate history as ``source = 'imported'`` figures, by bulk inserts.

    Same rows as :func:`adopt_tui.metrics.compute.store_imported_figures`
    (no user-level data exists for these dates, so nothing is skipped), with
    the customer summaries from :func:`adopt_tui.metrics.compute.summarise`:
    the recommendation rules are not repeated here. The history never has
    more active users than entitlements, so it has no explanations.
    """
    import pandas as pd

    from adopt_tui.metrics.compute import summarise

    if (workloads.active > workloads.entitled).any():
        raise AssertionError("history with usage over 100 % must go through store_imported_figures")
    k = ["customer_id", "as_of", "scope"]
    p = products.sort_values(k + ["sku"], ignore_index=True).assign(source="imported")
    w = workloads.sort_values(k + ["workload"], ignore_index=True)
    w = w.assign(active_entitled=None, explanations="[]", source="imported")
    keys = pd.concat([p[k], w[k]]).drop_duplicates()
    summary = summarise(conn, p, w, keys, source="imported").sort_values(k, ignore_index=True)
    _insert(conn, "fig_product", ("customer_id", "as_of", "scope", "sku", "sold", "assigned", "source"),
            [p[c].to_numpy() for c in ("customer_id", "as_of", "scope", "sku", "sold", "assigned", "source")])
    _insert(conn, "fig_workload",
            ("customer_id", "as_of", "scope", "workload", "entitled", "active", "active_entitled", "explanations",
             "source"),
            [w[c].to_numpy() for c in ("customer_id", "as_of", "scope", "workload", "entitled", "active")]
            + [[None] * len(w), w.explanations.to_numpy(), w.source.to_numpy()])
    cols = ("customer_id", "as_of", "scope", "sold", "assigned", "entitled", "active", "active_entitled",
            "deployment_pct", "usage_pct", "adjusted_pct", "over_100", "unexplained", "recommendations",
            "rec_codes", "renewal_due", "source")
    nullable = {"active_entitled", "deployment_pct", "usage_pct", "adjusted_pct"}
    _insert(conn, "fig_customer", cols,
            [_nulls(summary[c]) if c in nullable else summary[c].to_numpy() for c in cols])
    return int(summary[["customer_id", "as_of"]].drop_duplicates().shape[0])


def _write(conn: sqlite3.Connection, plan: _Plan, stats: GenerateStats, lap) -> None:
    writes.ensure_catalogue(conn)
    writes.ensure_products(conn, set(plan.subs["sku"].tolist()))
    n = plan.n
    seg = np.asarray(SEGMENTS, dtype=object)[plan.seg]
    market = np.asarray(MARKETS, dtype=object)[plan.market]
    stats.customers = _insert(
        conn, "customers", ("id", "tenant_id", "name", "domain", "market", "segment"),
        (np.arange(1, n + 1), plan.tenants, plan.names, plan.domains, market, seg),
    )
    _insert(conn, "customer_agents", ("customer_id", "agent"), plan.agent_rows)
    s = plan.subs
    offer = np.asarray([plan.cat[x]["name"] if x in plan.cat else x for x in s["sku"].tolist()], dtype=object)
    stats.subscriptions = _insert(
        conn, "subscriptions",
        ("id", "customer_id", "ext_id", "sku", "offer_name", "quantity", "status", "is_trial", "channel",
         "start_date", "commitment_end", "billing_cycle", "auto_renew"),
        (s["id"], s["cust"] + 1, s["ext_id"], s["sku"], offer, s["qty"], s["status"], s["trial"], s["channel"],
         _iso(s["start"]), _iso(s["end"]), s["billing"], s["auto_renew"]),
    )
    lap("customers", f"{stats.customers:,} customers, {stats.subscriptions:,} subscriptions")
    stats.users = _insert(
        conn, "users", ("id", "customer_id", "upn", "display_name", "is_deleted", "deleted_date"),
        (plan.u_id, plan.u_cust + 1, plan.u_upn, plan.u_display, (plan.u_deleted != NONE).astype(np.int64),
         _iso(plan.u_deleted)),
    )
    lap("users", f"{stats.users:,} rows")
    stats.assignments = _insert(
        conn, "assignments", ("id", "user_id", "sku", "subscription_id", "assigned_date", "state"),
        (np.arange(1, len(plan.a_user) + 1), plan.a_user + 1, plan.sku_names[plan.a_sku], _none_if(plan.a_sub, -1),
         _iso(plan.a_day), np.asarray(STATES, dtype=object)[plan.a_state]),
    )
    lap("assignments", f"{stats.assignments:,} rows")
    stats.activity = _insert_activity(conn, plan.act_user + 1, plan.workloads[plan.act_wl], plan.act_report,
                                      plan.act_last)
    lap("activity", f"{stats.activity:,} rows")
    m = len(plan.sr_cust)
    stats.support_requests = _insert(
        conn, "support_requests", ("customer_id", "ext_id", "date", "category"),
        (plan.sr_cust + 1, [f"SR{i:07d}" for i in range(1, m + 1)], _iso(plan.sr_day), plan.sr_cat),
    )
    lap("support", f"{stats.support_requests:,} rows")


# --------------------------------------------------------------------------- Graph CSV

GRAPH_ACTIVE_USER_DETAIL = (
    "Report Refresh Date,User Principal Name,Display Name,Is Deleted,Deleted Date,Has Exchange License,"
    "Has OneDrive License,Has SharePoint License,Has Skype For Business License,Has Yammer License,"
    "Has Teams License,Exchange Last Activity Date,OneDrive Last Activity Date,SharePoint Last Activity Date,"
    "Skype For Business Last Activity Date,Yammer Last Activity Date,Teams Last Activity Date,"
    "Exchange License Assign Date,OneDrive License Assign Date,SharePoint License Assign Date,"
    "Skype For Business License Assign Date,Yammer License Assign Date,Teams License Assign Date,"
    "Assigned Products"
)


def write_graph_csv(conn: sqlite3.Connection, directory: str | Path, as_of: str | None = None) -> dict[str, int]:
    """Write the users of the database as Graph report files into ``directory``:

    * ``office365_active_user_detail.csv``: one Office 365 active user detail
      report (header exactly as Microsoft documents it) with every user of
      every customer (UPN domains tell the tenants apart), as of ``as_of``
      (default: the latest report date);
    * ``tenants.csv``: tenant_id, name, domain of each customer.

    Returns the row counts per file.
    """
    import pandas as pd

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    as_of = as_of or conn.execute("SELECT MAX(report_date) FROM activity").fetchone()[0] or LATEST.isoformat()
    users = pd.read_sql_query(
        "SELECT id, upn, display_name, is_deleted, deleted_date FROM users ORDER BY id", conn)
    asg = pd.read_sql_query(
        "SELECT a.user_id, a.sku, COALESCE(p.name, a.sku) AS name, p.workloads, a.assigned_date FROM assignments a "
        "LEFT JOIN products p ON p.sku = a.sku WHERE a.state = 'entitled' "
        "AND (a.assigned_date IS NULL OR a.assigned_date <= ?) ORDER BY a.user_id, a.sku", conn, params=(as_of,))
    from adopt_tui.metrics.compute import activity_rows
    from adopt_tui.store.schema import ACTIVITY_WORKLOADS

    act = activity_rows(pd.read_sql_query(
        f"SELECT user_id, 0 AS customer_id, report_date, {', '.join(ACTIVITY_WORKLOADS)} FROM activity "
        "WHERE report_date = ?", conn, params=(as_of,)))[["user_id", "workload", "last_activity"]]
    products = asg.groupby("user_id")["name"].agg(lambda s: "+".join(x.upper() for x in s))
    wl = asg.assign(workload=asg.workloads.fillna("").str.split(",")).explode("workload")
    wl = wl[wl.workload != ""]
    assign_date = wl.groupby(["user_id", "workload"])["assigned_date"].min().unstack()
    last = act.pivot_table(index="user_id", columns="workload", values="last_activity", aggfunc="max")
    out = pd.DataFrame(index=users.id)
    out["Report Refresh Date"] = as_of
    out["User Principal Name"] = users.upn.to_numpy()
    out["Display Name"] = users.display_name.to_numpy()
    out["Is Deleted"] = np.where(users.is_deleted.to_numpy() == 1, "True", "False")
    out["Deleted Date"] = users.deleted_date.fillna("").to_numpy()
    graph = (("Exchange", "exchange"), ("OneDrive", "sharepoint"), ("SharePoint", "sharepoint"),
             ("Skype For Business", "skype"), ("Yammer", "yammer"), ("Teams", "teams"))

    def col(frame, w):
        if w in frame.columns:
            return frame[w].reindex(out.index)
        return pd.Series(np.nan, index=out.index, dtype=object)

    for label, w in graph:
        out[f"Has {label} License"] = np.where(col(assign_date, w).notna(), "True", "False")
    for label, w in graph:
        out[f"{label} Last Activity Date"] = col(last, w).fillna("").to_numpy() if label != "OneDrive" else ""
    for label, w in graph:
        out[f"{label} License Assign Date"] = col(assign_date, w).fillna("").to_numpy()
    out["Assigned Products"] = products.reindex(out.index).fillna("").to_numpy()
    assert ",".join(out.columns) == GRAPH_ACTIVE_USER_DETAIL
    out.to_csv(directory / "office365_active_user_detail.csv", index=False, lineterminator="\n")
    tenants = pd.read_sql_query("SELECT tenant_id, name, domain FROM customers ORDER BY id", conn)
    tenants.to_csv(directory / "tenants.csv", index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    return {"office365_active_user_detail.csv": len(out), "tenants.csv": len(tenants)}
