#!/usr/bin/env python3
"""Write the deterministic demo portfolio (our own CSV bundle) to data/demo/.

    python scripts/make_demo.py [--out DIR] [--no-check]

Same output on every run: one ``random.Random(SEED)``, fixed dates, sorted
rows, ``\\n`` line ends.  Nothing depends on today's date.

Bundle format: see data/demo/README.md (one CSV per table, UTF-8, header row,
booleans ``true``/``false``, dates ``YYYY-MM-DD``, empty = none).

Twelve monthly as-of dates, 2025-11-30 .. 2026-10-31.  The latest three
(2026-08-31, 2026-09-30, 2026-10-31) have user-level detail (users,
assignments, activity); the nine older ones have aggregate rows in
figures_history.csv (scopes ``all`` and ``own``), following each customer's
story (adoption trending up, down or flat).

Showcase customers (figures as of 2026-10-31, scope ``all``; the 28-day
window is 2026-10-04 .. 2026-10-31).  ``check_showcases()`` below recomputes
these with the rules of the domain brief and stops the script if one no
longer holds.

* Harbourline Freight B.V. (NL) -- explanation ``turnover``.
  SPB, 12 seats (partner).  Two leavers, deleted 2026-10-12 and 2026-10-22,
  were active in the window; their seats went to two new starters (assigned
  2026-10-13 and 2026-10-23) who are active too.  Exchange: entitled 12,
  active 14 -> 117 %; turnover 2.
* Kestrelwick Maschinenbau GmbH (DE) -- ``inactive_duplicate_subscription``.
  ENTERPRISEPACK 40 seats active + a second ENTERPRISEPACK subscription of 10
  seats in ``grace``.  38 users entitled through the active one, 10 through
  the grace one; all 48 active in Exchange.  Exchange: entitled 38, active
  48 -> 126 %; duplicate-subscription users 10.
* Brisora Dental Group Ltd (GB) -- ``trial``.
  O365_BUSINESS_PREMIUM 15 seats; an SPE_E3 trial (25 seats, started
  2026-10-10) with 6 users who hold only the trial, all active.  Exchange:
  entitled 15, active 21 -> 140 %; trial users 6.
* Caldmere Woningbeheer (NL) -- ``yammer_overuse``.
  STANDARDPACK (E1, includes Yammer) 5 seats + EXCHANGESTANDARD (no Yammer)
  60 seats.  Yammer: entitled 5, active 40 -> 800 %.
* Dunholt Druckerei AG (DE) -- ``unexplained``.
  SPE_E3 25 seats: 18 users entitled, 5 users whose only SPE_E3 assignment is
  suspended (2), upgraded (2) or cancelled (1); all 23 active in Exchange.
  Exchange: entitled 18, active 23 -> 128 %, none of the known causes.
* Tsukimori Insurance K.K. (JP) -- recommendation ``low_adoption``.
  SPE_E5 220 seats, 98 assigned (deployment 45 %; 122 seats unassigned, so
  right_size too), core usage about 28 %, trending down all year.
* Fennick Tools Ltd (GB) -- ``high_support_volume``.
  40 assigned; 8 how-to/help requests (and 1 incident) since 2026-08-02,
  i.e. 20 per 100 assigned users.
* Glimmerholt Architecten (NL) -- ``upsell``.
  O365_BUSINESS_PREMIUM 25 seats, 24 assigned (96 %), core usage about 95 %,
  trending up; its subscription renews 2026-11-18.
* Hollowmere Foods Inc. (US) -- ``right_size``.
  ENTERPRISEPACK 80 seats, 48 assigned: 32 unassigned (40 %); renews
  2026-11-09.
* Renewals due (own subscriptions ending 2026-11-01 .. 2026-11-30):
  Glimmerholt (2026-11-18), Hollowmere (2026-11-09), Quillby Field Services
  (2026-11-26) and any generic subscription whose anniversary falls in
  November.

Other deliberate cases: a customer named ``[bold]Acme & Co`` (markup), one
named ``=HYPERLINK("http://x","y")`` (formula injection), Jinxiao Components
(concealed user names: 32-hex upn and display name), Lindqvar Consulting
(guest users, ``#EXT#`` in the upn), Morrowfield Logistics (a SKU that is not
in the catalogue: ``M365_E7_PREVIEW``), Quillby Field Services (Dynamics 365
with Office 365 bought directly from Microsoft), Nethercroft (assignments
with unknown subscription), all four subscription states, trials, and all
three channels.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import math
import random
import re
import sys
import unicodedata
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "src"))

from adopt_tui.catalogue import load_catalogue  # noqa: E402

SEED = 20261031
AS_OF_DATES = [
    date(2025, 11, 30), date(2025, 12, 31), date(2026, 1, 31), date(2026, 2, 28),
    date(2026, 3, 31), date(2026, 4, 30), date(2026, 5, 31), date(2026, 6, 30),
    date(2026, 7, 31), date(2026, 8, 31), date(2026, 9, 30), date(2026, 10, 31),
]
USER_LEVEL = AS_OF_DATES[-3:]
HISTORY = AS_OF_DATES[:-3]
LATEST = AS_OF_DATES[-1]
WINDOW_DAYS = 28

# SKUs that are not in the catalogue on purpose (import must cope).
DELIBERATELY_UNKNOWN = {"M365_E7_PREVIEW"}

# Share of a customer's "usage level" that shows up per workload.
WORKLOAD_FACTOR = {
    "exchange": 1.15, "teams": 1.05, "office": 0.95, "sharepoint": 0.85,
    "yammer": 0.25, "skype": 0.03,
}
DYN_FACTOR = 0.95
MAX_P = 0.97

FILES = {
    "customers.csv": ["tenant_id", "name", "domain", "market", "segment", "sales_agents"],
    "subscriptions.csv": ["tenant_id", "subscription_id", "sku", "offer_name", "quantity", "status", "is_trial",
                          "channel", "start_date", "commitment_end", "billing_cycle", "auto_renew"],
    "users.csv": ["tenant_id", "upn", "display_name", "is_deleted", "deleted_date"],
    "assignments.csv": ["tenant_id", "upn", "sku", "subscription_id", "assigned_date", "state"],
    "activity.csv": ["tenant_id", "upn", "workload", "report_date", "last_activity"],
    "support_requests.csv": ["tenant_id", "request_id", "date", "category"],
    "figures_history.csv": ["tenant_id", "as_of", "scope", "kind", "key", "sold", "assigned", "entitled", "active"],
}

SMB, CORP, ENT = "Small and medium business", "Corporate", "Enterprise"

# ---------------------------------------------------------------------------
# Names (invented).  Person names are ordinary first/last names; company
# names use invented stems so that they are no real company.
# ---------------------------------------------------------------------------
PEOPLE = {
    "NL": (["Daan", "Sanne", "Lotte", "Bram", "Joris", "Femke", "Ruben", "Eva", "Thijs", "Noor", "Sem", "Lieke",
            "Jesse", "Anouk", "Milan", "Fleur"],
           ["de Vries", "Jansen", "Bakker", "Visser", "Smit", "Meijer", "de Boer", "Mulder", "Bos", "Vos",
            "Peters", "Hendriks", "van Dijk", "Dekker"]),
    "DE": (["Lukas", "Anna", "Jonas", "Lea", "Felix", "Marie", "Paul", "Sophie", "Leon", "Lena", "Finn", "Emma",
            "Jakob", "Clara", "Jürgen", "Björn"],
           ["Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
            "Schäfer", "Koch", "Richter", "Groß", "Krüger"]),
    "GB": (["Oliver", "Amelia", "Harry", "Isla", "George", "Ava", "Jack", "Emily", "Charlie", "Grace", "Thomas",
            "Lily", "Rhys", "Siobhan"],
           ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Evans", "Davies", "Roberts", "Walker",
            "Wright", "O'Neill", "Hughes", "Patel"]),
    "US": (["James", "Olivia", "Michael", "Emma", "David", "Sophia", "Daniel", "Mia", "Ethan", "Harper", "Noah",
            "Abigail", "Carlos", "Aaliyah"],
           ["Johnson", "Miller", "Garcia", "Rodriguez", "Martinez", "Anderson", "Lee", "Clark", "Lewis", "Hall",
            "Young", "King", "Nguyen", "Okafor"]),
}
# (romanised, native) pairs; display names are written natively, family name first.
PEOPLE_NATIVE = {
    "JP": ([("Haruto", "陽翔"), ("Yui", "結衣"), ("Sota", "蒼太"), ("Aoi", "葵"), ("Ren", "蓮"), ("Hina", "陽菜"),
            ("Yuto", "悠斗"), ("Mio", "澪"), ("Kaito", "海斗"), ("Sakura", "さくら"), ("Riku", "陸"), ("Mei", "芽依")],
           [("Sato", "佐藤"), ("Suzuki", "鈴木"), ("Takahashi", "高橋"), ("Tanaka", "田中"), ("Watanabe", "渡辺"),
            ("Ito", "伊藤"), ("Yamamoto", "山本"), ("Nakamura", "中村"), ("Kobayashi", "小林"), ("Kato", "加藤")], " "),
    "CN": ([("Wei", "伟"), ("Fang", "芳"), ("Na", "娜"), ("Min", "敏"), ("Jing", "静"), ("Lei", "磊"), ("Yang", "洋"),
            ("Jie", "杰"), ("Li", "丽"), ("Qiang", "强"), ("Xiu", "秀"), ("Hao", "浩")],
           [("Wang", "王"), ("Li", "李"), ("Zhang", "张"), ("Liu", "刘"), ("Chen", "陈"), ("Yang", "杨"),
            ("Zhao", "赵"), ("Huang", "黄"), ("Zhou", "周"), ("Wu", "吴")], ""),
}
SERVICE_ACCOUNTS = ["scanner", "reception", "noreply", "meetingroom.1", "svc-backup", "helpdesk"]

# Generic customers: (name, market, size hint).  Showcase customers are built by hand below.
GENERIC_NAMES = [
    ("Aldenvik Logistiek B.V.", "NL"), ("Brakenhurst Veterinary Practice", "GB"), ("Corvellan Textil GmbH", "DE"),
    ("Dravemont Legal LLP", "GB"), ("Esterholt Bouw B.V.", "NL"), ("Farrowdeen Brewing Co.", "US"),
    ("Gorsemoor Schools Trust", "GB"), ("Haldringen Elektro GmbH", "DE"), ("Isenwick Medical Supplies", "US"),
    ("Kaminoura Seiki K.K.", "JP"), ("Larchmont Vale Dental", "US"), ("Marrowgate Accountants", "GB"),
    ("Nethercroft Retail Group", "GB"), ("Oosterveld Zorggroep", "NL"), ("Pellinore Robotics Inc.", "US"),
    ("Ravensholt Versicherungsmakler", "DE"), ("Saltmarrow Seafoods", "GB"), ("Thistlebrook Hotels", "GB"),
    ("Umbervale Kunststoffe GmbH", "DE"), ("Varnholm Energie B.V.", "NL"), ("Wexcombe Estates", "GB"),
    ("Yarrowdene Nurseries", "US"), ("Zephyrine Travel B.V.", "NL"), ("Hoshizora Kikaku K.K.", "JP"),
    ("Aozuki Shokuhin K.K.", "JP"), ("Mizunagi Denki K.K.", "JP"), ("Qingluo Textiles Co., Ltd.", "CN"),
    ("Hexiang Precision Co., Ltd.", "CN"), ("Lanmei Trading Co., Ltd.", "CN"), ("Brindlecombe Engineering", "US"),
    ("Quarrendon Architects", "GB"), ("Stellwarden Bank AG", "DE"), ("Tolleshunt Software Ltd", "GB"),
    ("Vennerbeck Pharma GmbH", "DE"), ("Wolvenhoek Transport B.V.", "NL"), ("Kelderwick Foods Inc.", "US"),
    ("Ashgrove Tide Marine", "US"), ("Beldermoor Fietsen B.V.", "NL"), ("Crestwell Analytics Inc.", "US"),
    ("Duskfeld Medien GmbH", "DE"), ("Emberlyn Studios Ltd", "GB"), ("Hakuren Logistics K.K.", "JP"),
    ("Yunxi Medical Devices Co., Ltd.", "CN"), ("Orlenhaven Gemeente Diensten", "NL"),
]

AGENTS = ("maria", "tomas", "yuki")
MARKET_AGENT = {"NL": "maria", "GB": "maria", "DE": "tomas", "US": "tomas", "JP": "yuki", "CN": "yuki"}

DYN_SKUS = ["DYN365_ENTERPRISE_SALES", "DYN365_ENTERPRISE_CUSTOMER_SERVICE", "DYN365_TEAM_MEMBERS",
            "DYN365_BUSCENTRAL_ESSENTIAL", "D365_SALES_PRO", "DYN365_FINANCE", "DYN365_SCM",
            "DYN365_PROJECT_OPERATIONS", "DYN365_ENTERPRISE_FIELD_SERVICE", "DYN365_BUSCENTRAL_PREMIUM"]


def iso(d: date | None) -> str:
    return d.isoformat() if d else ""


def month_index(d: date) -> int:
    return AS_OF_DATES.index(d)


def window_start(as_of: date) -> date:
    return as_of - timedelta(days=WINDOW_DAYS - 1)


def ascii_slug(text: str, sep: str = ".") -> str:
    text = text.replace("ß", "ss").replace("ü", "ue").replace("ö", "oe").replace("ä", "ae")
    text = text.replace("Ü", "Ue").replace("Ö", "Oe").replace("Ä", "Ae")
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", sep, text.lower()).strip(sep)


def add_years(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return d.replace(year=d.year + years, day=28)


# ---------------------------------------------------------------------------
# The model
# ---------------------------------------------------------------------------
@dataclass
class Sub:
    id: str
    sku: str
    quantity: int
    status: str = "active"
    is_trial: bool = False
    channel: str = "partner"
    start: date = date(2025, 1, 1)
    commitment_end: date | None = None
    billing: str = "annual"
    auto_renew: bool = True
    # story, for the history rows: deployment (assigned/quantity) at month 0 and 11
    deploy: tuple[float, float] = (0.0, 0.0)

    @property
    def counted(self) -> bool:
        return self.status == "active" and not self.is_trial


@dataclass
class User:
    upn: str
    display_name: str
    is_deleted: bool = False
    deleted_date: date | None = None


@dataclass
class Customer:
    tenant_id: str
    name: str
    domain: str
    market: str
    segment: str
    agents: list[str]
    usage: tuple[float, float] = (0.5, 0.5)   # usage level at month 0 and month 11
    subs: list[Sub] = field(default_factory=list)
    users: dict[str, User] = field(default_factory=dict)
    assignments: list[tuple] = field(default_factory=list)  # (upn, sku, sub_id or "", assigned, state)
    activity: dict[tuple, date | None] = field(default_factory=dict)  # (upn, workload, report) -> last
    support: list[tuple] = field(default_factory=list)  # (date, category)
    history: list[tuple] = field(default_factory=list)
    name_pool_used: set = field(default_factory=set)


class Demo:
    def __init__(self, seed: int = SEED):
        self.rng = random.Random(seed)
        self.cat = load_catalogue()
        self.customers: list[Customer] = []
        self.request_seq = 0

    # -- helpers ----------------------------------------------------------
    def guid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def hexhash(self) -> str:
        return hashlib.md5(self.rng.getrandbits(64).to_bytes(8, "big")).hexdigest()

    def workloads(self, sku: str) -> tuple[str, ...]:
        p = self.cat.get(sku)
        return p["workloads"] if p else ()

    def offer_name(self, sku: str) -> str:
        p = self.cat.get(sku)
        return p["name"] if p else "Microsoft 365 E7 (preview)"

    def customer(self, name, market, segment, agents, domain=None, usage=(0.5, 0.5)) -> Customer:
        c = Customer(self.guid(), name, domain or ascii_slug(name, "-") + ".example", market, segment,
                     list(agents), usage=usage)
        self.customers.append(c)
        return c

    def sub(self, c: Customer, sku, qty, *, status="active", trial=False, channel="partner", start=None,
            commitment_end=None, billing=None, auto_renew=None, deploy=(0.8, 0.8)) -> Sub:
        rng = self.rng
        if start is None:
            start = date(2023, 1, 1) + timedelta(days=rng.randrange(0, 1000))
        if channel == "partner":
            if commitment_end is None and not trial:
                end = add_years(start, 1) - timedelta(days=1)
                while end < LATEST:
                    end = add_years(end, 1)
                commitment_end = end
            billing = billing or rng.choice(["monthly", "annual", "annual"])
            auto_renew = (rng.random() < 0.8) if auto_renew is None else auto_renew
            if trial:
                billing, auto_renew = "monthly", False
        else:  # another partner's or Microsoft's own: we do not know the terms
            commitment_end, billing, auto_renew = None, "", False
        s = Sub(self.guid(), sku, qty, status, trial, channel, start, commitment_end, billing, bool(auto_renew),
                deploy)
        c.subs.append(s)
        return s

    def person(self, c: Customer, *, market=None) -> User:
        """A new user with a plausible name, unique in the tenant."""
        market = market or c.market
        rng = self.rng
        for attempt in range(1000):
            if market in PEOPLE_NATIVE:
                firsts, lasts, sep = PEOPLE_NATIVE[market]
                (fr, fn), (lr, ln) = rng.choice(firsts), rng.choice(lasts)
                local, display = f"{fr}.{lr}".lower(), f"{ln}{sep}{fn}"
            else:
                firsts, lasts = PEOPLE[market]
                f, l = rng.choice(firsts), rng.choice(lasts)
                local, display = ascii_slug(f) + "." + ascii_slug(l, ""), f"{f} {l}"
            if attempt > 30:
                local += str(attempt)
            upn = f"{local}@{c.domain}"
            if upn not in c.users:
                u = User(upn, display)
                c.users[upn] = u
                return u
        raise RuntimeError("name pool exhausted")

    def add_user(self, c: Customer, upn: str, display: str) -> User:
        assert upn not in c.users, upn
        u = User(upn, display)
        c.users[upn] = u
        return u

    def assign(self, c: Customer, u: User, sub: Sub | None, assigned: date, state="entitled", sku=None):
        c.assignments.append((u.upn, sku or sub.sku, sub.id if sub else "", assigned, state))

    def act(self, c: Customer, u: User, workload: str, report: date, last: date | None):
        c.activity[(u.upn, workload, report)] = last

    def recent(self, report: date, not_before: date | None = None) -> date:
        """A last-activity date inside the 28-day window of ``report``."""
        back = min(WINDOW_DAYS - 1, int(self.rng.expovariate(0.35)))
        d = report - timedelta(days=back)
        lo = max(window_start(report), not_before or window_start(report))
        return max(d, lo)

    # -- generic population -----------------------------------------------
    @staticmethod
    def level(pair: tuple[float, float], t: int) -> float:
        a, b = pair
        return a + (b - a) * t / 11

    def p_active(self, c: Customer, workload: str, t: int) -> float:
        u = self.level(c.usage, t)
        f = DYN_FACTOR if workload.startswith("dyn_") else WORKLOAD_FACTOR.get(workload, 0.9)
        return max(0.0, min(MAX_P, u * f))

    def populate(self, c: Customer, sub: Sub, users: list[User] | None = None, unknown_sub=False) -> list[User]:
        """Assign ``sub`` following its deployment story over the user-level
        months and generate activity.  New users are created unless ``users``
        (existing users to pick from, in order) is given."""
        rng = self.rng
        counts = []
        for t in (9, 10, 11):
            counts.append(min(sub.quantity, round(sub.quantity * self.level(sub.deploy, t))))
        for i in range(1, 3):
            counts[i] = max(counts[i], counts[i - 1])
        n = counts[-1]
        if users is None:
            chosen = [self.person(c) for _ in range(n)]
        else:
            chosen = users[:n]
        first_day = max(sub.start, date(2024, 1, 1))
        out = []
        for i, u in enumerate(chosen):
            if i < counts[0]:
                span = (USER_LEVEL[0] - first_day).days
                assigned = first_day + timedelta(days=rng.randrange(0, max(1, span - 1)))
            elif i < counts[1]:
                assigned = date(2026, 9, 1) + timedelta(days=rng.randrange(0, 29))
            else:
                assigned = date(2026, 10, 1) + timedelta(days=rng.randrange(0, 30))
            self.assign(c, u, None if unknown_sub else sub, assigned, sku=sub.sku)
            self.generate_activity(c, u, self.workloads(sub.sku), assigned)
            out.append(u)
        return out

    def generate_activity(self, c: Customer, u: User, workloads, assigned: date, *, force=None):
        """Activity for the three user-level report dates.  Each user has a
        fixed propensity per workload, so an active user stays active while
        the customer's usage level rises."""
        rng = self.rng
        for w in workloads:
            r = rng.random()
            prev: date | None = None
            for report in USER_LEVEL:
                t = month_index(report)
                if assigned > report:
                    continue
                active = (r < self.p_active(c, w, t)) if force is None else force
                if active:
                    last = self.recent(report, assigned)
                elif prev is None and report == USER_LEVEL[0] and rng.random() < 0.4:
                    old = report - timedelta(days=WINDOW_DAYS + rng.randrange(0, 120))
                    last = old if old >= assigned else None
                else:
                    last = prev
                if last is not None:
                    self.act(c, u, w, report, last)
                    prev = last

    def extras(self, c: Customer, n_service=1, n_deleted=1):
        """Unlicensed service accounts and long-gone leavers (no activity in the windows)."""
        rng = self.rng
        for name in SERVICE_ACCOUNTS[:n_service]:
            self.add_user(c, f"{name}@{c.domain}", name.replace(".", " ").title())
        licensed = [s for s in c.subs if s.counted and self.workloads(s.sku)]
        for _ in range(n_deleted):
            u = self.person(c)
            u.is_deleted = True
            u.deleted_date = date(2026, 1, 12) + timedelta(days=rng.randrange(0, 180))
            if licensed:
                s = licensed[0]
                if s.start + timedelta(days=30) >= u.deleted_date:
                    u.deleted_date = min(s.start + timedelta(days=rng.randrange(40, 90)), date(2026, 7, 20))
                self.assign(c, u, s, min(s.start + timedelta(days=rng.randrange(0, 20)),
                                         u.deleted_date - timedelta(days=20)))
                last = u.deleted_date - timedelta(days=rng.randrange(1, 10))
                for report in USER_LEVEL:
                    self.act(c, u, self.workloads(s.sku)[0], report, last)

    def support_requests(self, c: Customer, per_100_per_month: float, *, extra_recent: int = 0):
        rng = self.rng
        size = max(1, sum(1 for u in c.users.values() if not u.is_deleted))
        start, end = date(2025, 11, 1), LATEST
        days = (end - start).days + 1
        lam = per_100_per_month * size / 100 * 12
        n = 0
        # Poisson by inversion (deterministic with our rng)
        x, p, s = 0, math.exp(-lam), math.exp(-lam)
        u = rng.random()
        while u > s and x < 500:
            x += 1
            p *= lam / x
            s += p
        n = x
        for _ in range(n):
            d = start + timedelta(days=rng.randrange(days))
            c.support.append((d, rng.choices(["how-to", "help", "incident"], [5, 3, 2])[0]))
        for _ in range(extra_recent):
            d = LATEST - timedelta(days=rng.randrange(0, 85))
            c.support.append((d, rng.choice(["how-to", "help"])))

    # -- history (aggregate rows for the nine older months) ----------------
    def make_history(self, c: Customer):
        """Aggregate rows for the older months, following the customer's
        story and anchored to the user-level figures of the first user-level
        month, so that the trend line does not jump where the detail starts."""
        rng = self.rng
        first = figures(self, c, USER_LEVEL[0])
        t0 = month_index(USER_LEVEL[0])
        rate = {}
        for w, e in first["entitled"].items():
            p0 = self.p_active(c, w, t0)
            if e and p0 > 0:
                rate[w] = min(MAX_P, first["active"].get(w, 0) / e) / p0
        for as_of in HISTORY:
            t = month_index(as_of)
            for scope in ("all", "own"):
                sold: dict[str, int] = defaultdict(int)
                assigned: dict[str, int] = defaultdict(int)
                entitled: dict[str, int] = defaultdict(int)
                for s in c.subs:
                    if not s.counted or s.start > as_of or (scope == "own" and s.channel != "partner"):
                        continue
                    a = min(s.quantity, round(s.quantity * self.level(s.deploy, t)))
                    sold[s.sku] += s.quantity
                    assigned[s.sku] += a
                    for w in self.workloads(s.sku):
                        entitled[w] += a
                for sku in sorted(sold):
                    c.history.append((as_of, scope, "product", sku, sold[sku], assigned[sku], "", ""))
                for w in sorted(entitled):
                    p = self.p_active(c, w, t) * rate.get(w, 1.0) * (1 + rng.uniform(-0.03, 0.03))
                    active = min(entitled[w], max(0, round(entitled[w] * p)))
                    c.history.append((as_of, scope, "workload", w, "", "", entitled[w], active))

    # ---------------------------------------------------------------------
    def build(self):
        self.showcases()
        self.specials()
        self.generic()
        for c in self.customers:
            self.make_history(c)

    def showcases(self):
        rng = self.rng
        # Harbourline: turnover -------------------------------------------
        c = self.customer("Harbourline Freight B.V.", "NL", SMB, ["maria"], usage=(0.7, 0.85))
        s = self.sub(c, "SPB", 12, start=date(2025, 3, 14), deploy=(1.0, 1.0))
        staff = [self.person(c) for _ in range(10)]
        for u in staff:
            a = date(2025, 3, 17) + timedelta(days=rng.randrange(0, 20))
            self.assign(c, u, s, a)
            self.generate_activity(c, u, ("sharepoint", "office", "yammer"), a)
            self.generate_activity(c, u, ("exchange", "teams"), a, force=True)
        for deleted, new_start, last in ((date(2026, 10, 12), date(2026, 10, 13), date(2026, 10, 9)),
                                         (date(2026, 10, 22), date(2026, 10, 23), date(2026, 10, 21))):
            leaver = self.person(c)
            leaver.is_deleted, leaver.deleted_date = True, deleted
            self.assign(c, leaver, s, date(2025, 3, 18))
            for w in ("exchange", "teams"):
                self.act(c, leaver, w, USER_LEVEL[0], date(2026, 8, 28))
                self.act(c, leaver, w, USER_LEVEL[1], date(2026, 9, 29))
                self.act(c, leaver, w, USER_LEVEL[2], last)
            starter = self.person(c)
            self.assign(c, starter, s, new_start)
            for w in ("exchange", "teams", "office"):
                self.act(c, starter, w, LATEST, LATEST - timedelta(days=rng.randrange(0, 3)))
        self.extras(c, n_service=1, n_deleted=0)
        self.support_requests(c, 0.4)

        # Kestrelwick: inactive duplicate subscription ---------------------
        c = self.customer("Kestrelwick Maschinenbau GmbH", "DE", CORP, ["tomas"], usage=(0.75, 0.8))
        good = self.sub(c, "ENTERPRISEPACK", 40, start=date(2024, 4, 1), deploy=(0.9, 0.95))
        grace = self.sub(c, "ENTERPRISEPACK", 10, status="grace", start=date(2025, 10, 1),
                         commitment_end=date(2026, 9, 30), auto_renew=False, deploy=(1.0, 1.0))
        for u in self.populate(c, good):
            self.act(c, u, "exchange", LATEST, self.recent(LATEST))
        for _ in range(10):
            u = self.person(c)
            a = date(2025, 10, 2) + timedelta(days=rng.randrange(0, 20))
            self.assign(c, u, grace, a)
            self.generate_activity(c, u, ("sharepoint", "teams", "office"), a)
            self.generate_activity(c, u, ("exchange",), a, force=True)
        self.extras(c, n_service=2, n_deleted=2)
        self.support_requests(c, 0.5)

        # Brisora: trial ---------------------------------------------------
        c = self.customer("Brisora Dental Group Ltd", "GB", SMB, ["maria", "yuki"], usage=(0.6, 0.8))
        paid = self.sub(c, "O365_BUSINESS_PREMIUM", 15, start=date(2024, 6, 3), deploy=(1.0, 1.0))
        trial = self.sub(c, "SPE_E3", 25, trial=True, start=date(2026, 10, 10), deploy=(0.0, 0.0))
        users = self.populate(c, paid)
        for u in users[:14]:
            self.act(c, u, "exchange", LATEST, self.recent(LATEST))
        for _ in range(6):
            u = self.person(c)
            a = date(2026, 10, 11)
            self.assign(c, u, trial, a)
            self.generate_activity(c, u, ("exchange", "teams"), a, force=True)
            self.generate_activity(c, u, ("office", "sharepoint"), a)
        self.extras(c, n_service=1, n_deleted=0)
        self.support_requests(c, 0.4)

        # Caldmere: yammer overuse ------------------------------------------
        c = self.customer("Caldmere Woningbeheer", "NL", CORP, ["maria"], usage=(0.65, 0.7))
        e1 = self.sub(c, "STANDARDPACK", 5, start=date(2024, 2, 1), deploy=(1.0, 1.0))
        exo = self.sub(c, "EXCHANGESTANDARD", 60, start=date(2023, 9, 1), deploy=(0.9, 0.92))
        for u in self.populate(c, e1):
            self.act(c, u, "yammer", LATEST, self.recent(LATEST))
        kiosk = self.populate(c, exo)
        for u in kiosk[:35]:
            for report in USER_LEVEL:
                self.act(c, u, "yammer", report, self.recent(report))
        self.extras(c, n_service=2, n_deleted=1)
        self.support_requests(c, 0.3)

        # Dunholt: unexplained ------------------------------------------------
        c = self.customer("Dunholt Druckerei AG", "DE", CORP, ["tomas"], usage=(0.7, 0.8))
        e3 = self.sub(c, "SPE_E3", 25, start=date(2024, 1, 15), deploy=(0.72, 0.72))
        for u in self.populate(c, e3):
            self.act(c, u, "exchange", LATEST, self.recent(LATEST))
        for state in ("suspended", "suspended", "upgraded", "upgraded", "cancelled"):
            u = self.person(c)
            self.assign(c, u, e3, date(2025, 2, 1) + timedelta(days=rng.randrange(0, 200)), state=state)
            for w in ("exchange", "teams"):
                for report in USER_LEVEL:
                    self.act(c, u, w, report, self.recent(report))
        self.extras(c, n_service=1, n_deleted=1)
        self.support_requests(c, 0.3)

        # Tsukimori: low adoption ---------------------------------------------
        c = self.customer("Tsukimori Insurance K.K.", "JP", ENT, ["yuki"], usage=(0.55, 0.27))
        e5 = self.sub(c, "SPE_E5", 220, start=date(2024, 7, 1), deploy=(0.55, 0.42))
        self.populate(c, e5)
        self.extras(c, n_service=3, n_deleted=3)
        self.support_requests(c, 0.2)

        # Fennick: high support volume -------------------------------------------
        c = self.customer("Fennick Tools Ltd", "GB", CORP, ["maria"], usage=(0.55, 0.6))
        s = self.sub(c, "ENTERPRISEPACK", 44, start=date(2024, 11, 4), deploy=(0.9, 0.91))
        self.populate(c, s)
        self.extras(c, n_service=1, n_deleted=1)
        c.support.extend([(date(2026, 8, 12), "how-to"), (date(2026, 8, 27), "help"), (date(2026, 9, 3), "how-to"),
                          (date(2026, 9, 15), "how-to"), (date(2026, 9, 30), "help"), (date(2026, 10, 6), "how-to"),
                          (date(2026, 10, 19), "help"), (date(2026, 10, 28), "how-to"),
                          (date(2026, 10, 2), "incident"), (date(2026, 3, 5), "how-to"), (date(2026, 1, 20), "help")])

        # Glimmerholt: upsell, renewal due ------------------------------------------
        c = self.customer("Glimmerholt Architecten", "NL", SMB, ["yuki"], usage=(0.7, 0.95))
        s = self.sub(c, "O365_BUSINESS_PREMIUM", 25, start=date(2023, 11, 19), commitment_end=date(2026, 11, 18),
                     billing="annual", auto_renew=True, deploy=(0.8, 0.96))
        self.populate(c, s)
        self.extras(c, n_service=1, n_deleted=0)
        self.support_requests(c, 0.2)

        # Hollowmere: right-size, renewal due ---------------------------------------
        c = self.customer("Hollowmere Foods Inc.", "US", CORP, ["tomas"], usage=(0.68, 0.72))
        s = self.sub(c, "ENTERPRISEPACK", 80, start=date(2024, 11, 10), commitment_end=date(2026, 11, 9),
                     billing="monthly", auto_renew=False, deploy=(0.62, 0.6))
        self.populate(c, s)
        self.extras(c, n_service=2, n_deleted=1)
        self.support_requests(c, 0.3)

    def specials(self):
        rng = self.rng
        # markup in a name
        c = self.customer("[bold]Acme & Co", "US", SMB, ["tomas"], domain="acme-and-co.example", usage=(0.5, 0.6))
        self.populate(c, self.sub(c, "O365_BUSINESS_ESSENTIALS", 10, deploy=(0.8, 0.9)))
        self.extras(c)
        self.support_requests(c, 0.5)
        # formula injection in a name; no sales agent
        c = self.customer('=HYPERLINK("http://x","y")', "GB", SMB, [], domain="formula-test.example",
                          usage=(0.6, 0.55))
        self.populate(c, self.sub(c, "SPB", 8, deploy=(1.0, 1.0)))
        self.extras(c, n_deleted=0)
        self.support_requests(c, 0.5)
        # concealed user names
        c = self.customer("Jinxiao Components Co., Ltd.", "CN", CORP, ["yuki"], usage=(0.45, 0.6))
        s = self.sub(c, "SPE_E3", 70, deploy=(0.7, 0.85))
        real_person = self.person
        self.person = lambda cust, market=None: self.add_user(cust, self.hexhash(), self.hexhash())  # type: ignore
        try:
            self.populate(c, s)
            self.populate(c, self.sub(c, "DYN365_BUSCENTRAL_ESSENTIAL", 8, channel="direct", deploy=(0.9, 1.0)))
        finally:
            self.person = real_person  # type: ignore
        self.support_requests(c, 0.4)
        # guest users
        c = self.customer("Lindqvar Consulting B.V.", "NL", SMB, ["maria", "tomas"], usage=(0.6, 0.75))
        s = self.sub(c, "O365_BUSINESS_PREMIUM", 18, deploy=(0.85, 0.9))
        self.populate(c, s)
        e1 = self.sub(c, "STANDARDPACK", 4, start=date(2025, 6, 2), deploy=(1.0, 1.0))
        tenant = "lindqvarconsulting.onmicrosoft.com"
        guests = [("anna.kowalski", "vendor-partner.example", "Anna Kowalski"),
                  ("mateo.ruiz", "freelance-mail.example", "Mateo Ruiz"),
                  ("priya.raman", "auditfirm.example", "Priya Raman"),
                  ("tom.becker", "vendor-partner.example", "Tom Becker"),
                  ("li.wen", "supplier-co.example", "Li Wen"),
                  ("sara.holm", "auditfirm.example", "Sara Holm")]
        for i, (local, dom, name) in enumerate(guests):
            u = self.add_user(c, f"{local}_{dom}#EXT#@{tenant}", f"{name} (Guest)")
            if i < 4:
                a = date(2025, 6, 5) + timedelta(days=rng.randrange(0, 60))
                self.assign(c, u, e1, a)
                self.generate_activity(c, u, ("teams", "sharepoint"), a)
        self.extras(c, n_deleted=1)
        self.support_requests(c, 0.4)
        # a SKU that the catalogue does not know
        c = self.customer("Morrowfield Logistics Inc.", "US", ENT, ["tomas", "maria"], usage=(0.5, 0.62))
        e3 = self.sub(c, "SPE_E3", 170, deploy=(0.8, 0.88))
        users = self.populate(c, e3)
        f3 = self.sub(c, "SPE_F1", 50, deploy=(0.7, 0.8))
        self.populate(c, f3)
        unk = self.sub(c, "M365_E7_PREVIEW", 10, start=date(2026, 9, 15), deploy=(0.0, 0.0))
        for u in users[:6]:
            self.assign(c, u, unk, date(2026, 9, 16) + timedelta(days=rng.randrange(0, 20)))
        self.populate(c, self.sub(c, "DYN365_ENTERPRISE_SALES", 25, start=date(2026, 2, 1), deploy=(0.4, 0.9)),
                      users=users[6:])
        self.populate(c, self.sub(c, "DYN365_TEAM_MEMBERS", 40, channel="other_partner", deploy=(0.6, 0.7)),
                      users=users[40:])
        self.extras(c, n_service=4, n_deleted=4)
        self.support_requests(c, 0.3)
        # Dynamics, with Office 365 bought directly; renewal due
        c = self.customer("Quillby Field Services", "US", CORP, ["tomas"], usage=(0.55, 0.7))
        o = self.sub(c, "ENTERPRISEPACK", 65, channel="direct", deploy=(0.9, 0.92))
        users = self.populate(c, o)
        self.populate(c, self.sub(c, "DYN365_ENTERPRISE_FIELD_SERVICE", 30, start=date(2024, 11, 27),
                                  commitment_end=date(2026, 11, 26), deploy=(0.7, 0.9)), users=users)
        self.populate(c, self.sub(c, "DYN365_ENTERPRISE_CUSTOMER_SERVICE", 12, deploy=(0.8, 0.85)),
                      users=users[30:])
        # a disabled (non-payment) subscription whose users are suspended and idle
        dis = self.sub(c, "DYN365_ENTERPRISE_SALES", 5, status="disabled", start=date(2025, 2, 1), auto_renew=False)
        for u in users[50:55]:
            self.assign(c, u, dis, date(2025, 2, 3), state="suspended")
        self.extras(c, n_service=2, n_deleted=1)
        self.support_requests(c, 0.5)

    def generic(self):
        rng = self.rng
        stories = {
            "up": ((0.5, 0.9), (0.3, 0.75)),
            "down": ((0.9, 0.8), (0.75, 0.4)),
            "flat": ((0.8, 0.82), (0.6, 0.62)),
            "flat_low": ((0.45, 0.5), (0.3, 0.33)),
            "high": ((0.9, 0.95), (0.8, 0.88)),
        }
        size_plan = [rng.choice([(5, 15), (5, 15), (8, 25), (15, 45), (30, 80), (50, 120)])
                     for _ in GENERIC_NAMES]
        # make sure the mix has a few big and many small ones
        size_plan[:6] = [(5, 6), (6, 12), (160, 200), (120, 160), (340, 380), (80, 110)]
        no_agent = {"Orlenhaven Gemeente Diensten"}
        for idx, ((name, market), (lo, hi)) in enumerate(zip(GENERIC_NAMES, size_plan)):
            n = rng.randint(lo, hi)
            segment = SMB if n <= 40 else (CORP if n <= 200 else ENT)
            if rng.random() < 0.1:
                segment = rng.choice([SMB, CORP, ENT])
            agents = [] if name in no_agent else [MARKET_AGENT[market]]
            if agents and rng.random() < 0.12:
                agents.append(rng.choice([a for a in AGENTS if a != agents[0]]))
            story = rng.choice(list(stories))
            deploy, usage = stories[story]
            jit = lambda x: max(0.05, min(1.0, x + rng.uniform(-0.08, 0.08)))  # noqa: E731
            deploy = (jit(deploy[0]), jit(deploy[1]))
            usage = (jit(usage[0]), jit(usage[1]))
            c = self.customer(name, market, segment, agents, usage=usage)
            if segment == SMB:
                main = rng.choice(["O365_BUSINESS_ESSENTIALS", "O365_BUSINESS_PREMIUM", "SPB", "SPB",
                                   "EXCHANGESTANDARD", "STANDARDPACK"])
            elif segment == CORP:
                main = rng.choice(["ENTERPRISEPACK", "SPE_E3", "SPE_E3", "STANDARDPACK", "SPB"])
            else:
                main = rng.choice(["SPE_E3", "SPE_E5", "ENTERPRISEPACK", "ENTERPRISEPREMIUM"])
            qty = max(5, round(n / max(0.3, deploy[1])))
            start = date(2023, 6, 1) + timedelta(days=rng.randrange(0, 880))
            if story == "up" and rng.random() < 0.5:
                start = date(2025, 12, 1) + timedelta(days=rng.randrange(0, 150))  # onboarded this year
            s = self.sub(c, main, qty, start=start, deploy=deploy)
            unknown = name.startswith("Nethercroft")
            users = self.populate(c, s, unknown_sub=unknown)
            # frontline workers on F3 from another partner
            if segment != SMB and rng.random() < 0.35:
                f = self.sub(c, rng.choice(["DESKLESSPACK", "SPE_F1"]), rng.randint(10, 60),
                             channel=rng.choice(["other_partner", "direct"]), deploy=(0.8, 0.85))
                self.populate(c, f)
            # Dynamics 365
            if segment != SMB and rng.random() < 0.45 and users:
                dsku = rng.choice(DYN_SKUS)
                dq = max(3, min(len(users), rng.randint(5, 40)))
                dstart = date(2024, 1, 1) + timedelta(days=rng.randrange(0, 950))
                ds = self.sub(c, dsku, dq, start=dstart, channel=rng.choice(["partner", "partner", "direct"]),
                              deploy=(jit(0.7), jit(0.85)))
                self.populate(c, ds, users=rng.sample(users, len(users)))
            elif segment == SMB and rng.random() < 0.15 and users:
                ds = self.sub(c, "DYN365_BUSCENTRAL_ESSENTIAL", max(2, len(users) // 4), deploy=(0.8, 1.0))
                self.populate(c, ds, users=users)
            # an idle trial, a deprovisioned or disabled old subscription
            r = rng.random()
            if r < 0.12:
                self.sub(c, rng.choice(["SPE_E5", "ENTERPRISEPREMIUM", "DYN365_ENTERPRISE_SALES"]), 25, trial=True,
                         start=LATEST - timedelta(days=rng.randrange(3, 25)))
            elif r < 0.22:
                self.sub(c, rng.choice(["STANDARDPACK", "EXCHANGESTANDARD"]), rng.randint(5, 20),
                         status="deprovisioned", start=date(2023, 3, 1), commitment_end=date(2024, 2, 29),
                         auto_renew=False)
            elif r < 0.28:
                ds = self.sub(c, "O365_BUSINESS", rng.randint(3, 8), status="disabled", start=date(2025, 5, 1),
                              auto_renew=False)
                for u in users[:2]:
                    self.assign(c, u, ds, date(2025, 5, 2), state="suspended")
            self.extras(c, n_service=rng.randint(0, 3), n_deleted=rng.randint(0, max(1, n // 25)))
            high_support = idx in (7, 19)
            self.support_requests(c, 1.2 if high_support else rng.uniform(0.1, 0.6),
                                  extra_recent=4 if high_support else 0)

    # ---------------------------------------------------------------------
    def rows(self) -> dict[str, list[list[str]]]:
        b = lambda v: "true" if v else "false"  # noqa: E731
        out: dict[str, list[list[str]]] = {k: [] for k in FILES}
        for c in self.customers:
            tid = c.tenant_id
            out["customers.csv"].append([tid, c.name, c.domain, c.market, c.segment, ";".join(c.agents)])
            for s in c.subs:
                out["subscriptions.csv"].append([tid, s.id, s.sku, self.offer_name(s.sku), str(s.quantity), s.status,
                                                 b(s.is_trial), s.channel, iso(s.start), iso(s.commitment_end),
                                                 s.billing, b(s.auto_renew)])
            for u in c.users.values():
                out["users.csv"].append([tid, u.upn, u.display_name, b(u.is_deleted), iso(u.deleted_date)])
            for upn, sku, sid, a, state in c.assignments:
                out["assignments.csv"].append([tid, upn, sku, sid, iso(a), state])
            for (upn, w, report), last in c.activity.items():
                if last is not None:
                    out["activity.csv"].append([tid, upn, w, iso(report), iso(last)])
            for d, cat in sorted(c.support):
                self.request_seq += 1
                out["support_requests.csv"].append([tid, f"SR{self.request_seq:06d}", iso(d), cat])
            for as_of, scope, kind, key, sold, assigned, entitled, active in c.history:
                out["figures_history.csv"].append([tid, iso(as_of), scope, kind, key, str(sold), str(assigned),
                                                   str(entitled), str(active)])
        order = {"activity.csv": (0, 3, 1, 2), "figures_history.csv": (0, 1, 2, 3, 4)}
        for name, rows in out.items():
            if name in order:
                keys = order[name]
                rows.sort(key=lambda r: tuple(r[i] for i in keys))
        return out


def write_bundle(demo: Demo, out_dir: Path) -> dict[str, int]:
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, rows in demo.rows().items():
        with (out_dir / name).open("w", encoding="utf-8", newline="") as fh:
            w = csv.writer(fh, lineterminator="\n")
            w.writerow(FILES[name])
            w.writerows(rows)
        counts[name] = len(rows)
    return counts


# ---------------------------------------------------------------------------
# Self-check: the showcase figures, with the rules of the domain brief.
# ---------------------------------------------------------------------------
def figures(demo: Demo, c: Customer, as_of: date = LATEST, scope: str = "all") -> dict:
    subs = {s.id: s for s in c.subs}
    counted = {s.id for s in c.subs if s.counted and (scope == "all" or s.channel == "partner")}
    counted_skus = {subs[i].sku for i in counted}
    lo = window_start(as_of)

    def alive(upn):
        u = c.users[upn]
        return not (u.is_deleted and u.deleted_date and u.deleted_date <= as_of)

    sold = defaultdict(int)
    for i in counted:
        sold[subs[i].sku] += subs[i].quantity
    assigned = defaultdict(set)
    entitled = defaultdict(set)
    for upn, sku, sid, a, state in c.assignments:
        if a > as_of or not alive(upn):
            continue
        ok = sid in counted if sid else sku in counted_skus
        if ok:
            assigned[sku].add(upn)
            if state == "entitled":
                for w in demo.workloads(sku):
                    entitled[w].add(upn)
    active = defaultdict(set)
    for (upn, w, report), last in c.activity.items():
        if report == as_of and last is not None and lo <= last <= as_of:
            active[w].add(upn)
    # explanations for workloads over 100 %
    expl = {}
    for w in active:
        excess = len(active[w]) - len(entitled[w])
        if excess <= 0 or not entitled[w]:
            continue
        extra = active[w] - entitled[w]
        turnover = {u for u in extra if c.users[u].is_deleted and c.users[u].deleted_date
                    and lo <= c.users[u].deleted_date <= as_of}
        dup, trial = set(), set()
        for upn, sku, sid, a, state in c.assignments:
            if upn not in extra or not sid or w not in demo.workloads(sku) or state != "entitled":
                continue
            s = subs[sid]
            if s.is_trial:
                trial.add(upn)
            elif s.status in ("grace", "disabled", "deprovisioned") and sku in counted_skus:
                dup.add(upn)
        found = {"turnover": len(turnover), "inactive_duplicate_subscription": len(dup), "trial": len(trial)}
        if w == "yammer":
            found["yammer_overuse"] = excess
        explained = sum(found.values())
        found["unexplained"] = max(0, excess - explained)
        expl[w] = {k: v for k, v in found.items() if v}
    core = [w for w in entitled if w not in ("yammer", "skype")]
    ent_core = sum(len(entitled[w]) for w in core)
    act_core = sum(len(active[w] & entitled[w]) for w in core)
    tot_sold = sum(sold.values())
    tot_assigned = sum(len(assigned[k]) for k in sold)
    since = as_of - timedelta(days=89)
    req = sum(1 for d, cat in c.support if since <= d <= as_of and cat in ("how-to", "help"))
    renewals = [s.sku for s in c.subs if s.channel == "partner" and s.commitment_end
                and as_of < s.commitment_end <= as_of + timedelta(days=30) and s.status == "active"]
    return {
        "sold": dict(sold), "assigned": {k: len(v) for k, v in assigned.items()},
        "entitled": {k: len(v) for k, v in entitled.items()}, "active": {k: len(v) for k, v in active.items()},
        "explanations": expl,
        "deployment": tot_assigned / tot_sold if tot_sold else None,
        "adjusted_usage": act_core / ent_core if ent_core else None,
        "unassigned": tot_sold - tot_assigned, "requests_90d": req, "total_assigned": tot_assigned,
        "renewals": renewals,
    }


def recommendations(f: dict) -> set[str]:
    out = set()
    dep, use = f["deployment"], f["adjusted_usage"]
    if (use is not None and use < 0.4) or (dep is not None and dep < 0.5):
        out.add("low_adoption")
    if f["requests_90d"] >= 3 and f["total_assigned"] and f["requests_90d"] * 100 / f["total_assigned"] >= 5:
        out.add("high_support_volume")
    if dep is not None and use is not None and dep >= 0.9 and use >= 0.8:
        out.add("upsell")
    sold = sum(f["sold"].values())
    if sold and f["unassigned"] >= 5 and f["unassigned"] / sold >= 0.3:
        out.add("right_size")
    return out


EXPECT = {
    "Harbourline Freight B.V.": ("turnover", None),
    "Kestrelwick Maschinenbau GmbH": ("inactive_duplicate_subscription", None),
    "Brisora Dental Group Ltd": ("trial", None),
    "Caldmere Woningbeheer": ("yammer_overuse", None),
    "Dunholt Druckerei AG": ("unexplained", None),
    "Tsukimori Insurance K.K.": (None, "low_adoption"),
    "Fennick Tools Ltd": (None, "high_support_volume"),
    "Glimmerholt Architecten": (None, "upsell"),
    "Hollowmere Foods Inc.": (None, "right_size"),
}


def check_showcases(demo: Demo, verbose: bool = True) -> list[str]:
    problems = []
    by_name = {c.name: c for c in demo.customers}
    for name, (explanation, rec) in EXPECT.items():
        f = figures(demo, by_name[name])
        codes = {k for e in f["explanations"].values() for k in e}
        recs = recommendations(f)
        if explanation and explanation not in codes:
            problems.append(f"{name}: expected explanation {explanation}, got {sorted(codes)}")
        if explanation and explanation != "unexplained" and "unexplained" in codes:
            problems.append(f"{name}: unexpected unexplained excess {f['explanations']}")
        if rec and rec not in recs:
            problems.append(f"{name}: expected recommendation {rec}, got {sorted(recs)}")
        if verbose:
            over = {w: f"{f['active'].get(w, 0)}/{f['entitled'].get(w, 0)}" for w in f["explanations"]}
            dep = "—" if f["deployment"] is None else f"{f['deployment']:.0%}"
            use = "—" if f["adjusted_usage"] is None else f"{f['adjusted_usage']:.0%}"
            print(f"  {name:32} deploy {dep:>5} usage {use:>5} over100 {over} expl {f['explanations']} "
                  f"recs {sorted(recs)} renew {f['renewals']}")
    renewing = [c.name for c in demo.customers if figures(demo, c)["renewals"]]
    if len(renewing) < 2:
        problems.append(f"too few renewals due: {renewing}")
    if verbose:
        print(f"  renewals due within 30 days: {len(renewing)} customers")
    # no generic customer should be over 100 % by accident
    for c in demo.customers:
        if c.name in EXPECT:
            continue
        f = figures(demo, c)
        if f["explanations"]:
            problems.append(f"{c.name}: unintended usage over 100 %: {f['explanations']}")
    return problems


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Write the deterministic demo bundle.")
    ap.add_argument("--out", type=Path, default=REPO / "data" / "demo")
    ap.add_argument("--no-check", action="store_true", help="skip the showcase self-check")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    demo = Demo()
    demo.build()
    counts = write_bundle(demo, args.out)
    if not args.quiet:
        size = sum((args.out / n).stat().st_size for n in FILES)
        print(f"wrote {args.out}: " + ", ".join(f"{n} {k}" for n, k in counts.items()) + f" ({size / 1e6:.1f} MB)")
    if not args.no_check:
        problems = check_showcases(demo, verbose=not args.quiet)
        for p in problems:
            print("CHECK FAILED:", p, file=sys.stderr)
        if problems:
            return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
