"""The rules of the brief (domain.md), as data: the 28-day window, percentages,
explanation and recommendation texts."""

from __future__ import annotations

from datetime import date, timedelta

ACTIVE_WINDOW_DAYS = 28  # [as_of - 27 days, as_of], as-of day included
USAGE_BANDS = ("0-25", "25-50", "50-75", "75-100", ">100")
SCOPES = ("all", "own")


def window_start(as_of: str) -> str:
    return (date.fromisoformat(as_of) - timedelta(days=ACTIVE_WINDOW_DAYS - 1)).isoformat()


def add_days(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def pct(numerator, denominator) -> float | None:
    """numerator / denominator in percent; None (not available) when the denominator is 0."""
    if denominator is None or numerator is None or denominator == 0:
        return None
    return 100.0 * numerator / denominator


def round1(value: float | None) -> float | None:
    return None if value is None else round(float(value), 1)


def usage_band(usage_pct: float | None) -> str | None:
    """The band of a usage %: 0-25, 25-50, 50-75, 75-100 (upper bounds included), >100."""
    if usage_pct is None:
        return None
    if usage_pct > 100:
        return ">100"
    if usage_pct <= 25:
        return "0-25"
    if usage_pct <= 50:
        return "25-50"
    if usage_pct <= 75:
        return "50-75"
    return "75-100"


EXPLANATIONS = {
    "turnover": "Employee turnover",
    "inactive_duplicate_subscription": "A second subscription that is not in good standing",
    "trial": "A trial subscription",
    "yammer_overuse": "Yammer used beyond the license",
    "unexplained": "Not explained by the data",
}


def describe_explanation(e: dict) -> str:
    """The explanation in plain words, with the numbers behind it."""
    code = e["code"]
    if code == "turnover":
        return (
            f"{e['users']:,} user(s) deleted by the as-of date were active in the last 28 days; their licenses "
            "were taken back and given to others, so both old and new holders count as active."
        )
    if code == "inactive_duplicate_subscription":
        return (
            f"{e['users']:,} active user(s) hold {', '.join(e['skus'])} through a second subscription that is "
            f"{' / '.join(e['statuses'])}; their activity counts but that subscription does not count toward "
            "the entitlements."
        )
    if code == "trial":
        return (
            f"{e['users']:,} active user(s) hold {', '.join(e['skus'])} through a trial subscription; "
            "their activity counts but trials do not count toward the entitlements."
        )
    if code == "yammer_overuse":
        return (
            f"{e['users']:,} user(s) used Yammer without a license that includes it "
            f"({e['entitled']:,} entitled), which skews the usage figure."
        )
    if code == "unexplained":
        return (
            f"{e['active']:,} active against {e['entitled']:,} entitlements, and none of the known causes "
            "(turnover, a second subscription, a trial, Yammer) shows in the data."
        )
    return code


# The two scenarios of the brief, plus the two product decisions.
RECOMMENDATIONS = {
    "low_adoption": {
        "title": "Low adoption",
        "consider": "The customer may not see the value the software could bring, and needs help picturing "
                    "how it fits into daily work.",
        "try": "Case studies, user testimonials about specific scenarios, tutorial blogs, videos, training courses.",
    },
    "high_support_volume": {
        "title": "Many help and how-to requests",
        "consider": "The customer may be new to the software, to the product version, or to the task.",
        "try": "A dual strategy: training (in person or online) to raise overall expertise, while promoting the "
               "self-service options; a support site that shows self-service options next to the contact details.",
    },
    "upsell": {
        "title": "Upsell opportunity",
        "consider": "Licenses are handed out and used: the customer gets value and may be ready for more seats "
                    "or a richer plan.",
        "try": "Talk about the next tier (for example E3 to E5), add-ons, or Dynamics 365 apps that fit how "
               "they already work.",
    },
    "right_size": {
        "title": "Right-size the subscription",
        "consider": "Many seats were bought but never assigned; the customer pays for licenses nobody holds and "
                    "may feel it at renewal.",
        "try": "Review the seat count with the customer before renewal, or plan the onboarding that puts the "
               "unassigned seats to use.",
    },
}
