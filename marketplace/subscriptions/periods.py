"""Billing-period calendar arithmetic and proration, in exact integers.

Periods end at whole months (or years) after the subscription's billing anchor, clamped to the month's last
day, so a subscription anchored on 31 January renews on 28/29 February, then 31 March (no drift).
Proration is computed on microseconds and rounded half up to the minor unit.
"""

import calendar
from datetime import datetime, timedelta

MONTHS_PER = {"month": 1, "year": 12}
_MICROSECOND = timedelta(microseconds=1)


def add_months(moment: datetime, months: int) -> datetime:
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def period_end_after(*, anchor: datetime, moment: datetime, period: str) -> datetime:
    """The first period boundary (anchor + k periods, k ≥ 1) strictly after `moment`."""
    step = MONTHS_PER[period]
    months = max((moment.year - anchor.year) * 12 + moment.month - anchor.month, 0)
    k = max(months // step, 1)
    while add_months(anchor, k * step) <= moment:
        k += 1
    while k > 1 and add_months(anchor, (k - 1) * step) > moment:
        k -= 1
    return add_months(anchor, k * step)


def round_half_up_ratio(numerator: int, denominator: int) -> int:
    """numerator / denominator rounded half up, for numerator ≥ 0 and denominator > 0."""
    return (2 * numerator + denominator) // (2 * denominator)


def prorate(*, amount: int, start: datetime, end: datetime, now: datetime) -> int:
    """`amount` scaled by the unused fraction (end − now) / (end − start) of a period, rounded half up."""
    total = (end - start) // _MICROSECOND
    remaining = min(max((end - now) // _MICROSECOND, 0), total)
    return round_half_up_ratio(amount * remaining, total)
