"""Quiet hours: a message due inside the customer's quiet window waits until the window ends, in
the customer's own time zone. Held, never dropped."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


def _clock(value: str) -> time:
    hours, minutes = value.split(":")
    return time(int(hours), int(minutes))


def quiet_until(now: datetime, timezone: str, start: str, end: str) -> datetime | None:
    """When the quiet window that `now` falls in ends (aware UTC-comparable), or None when
    `now` is outside it. A window may wrap midnight (21:00 to 08:00)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    begin, finish = _clock(start), _clock(end)
    if begin == finish:
        return None
    current = local.time().replace(second=0, microsecond=0)
    wraps = begin > finish
    inside = (current >= begin or current < finish) if wraps else begin <= current < finish
    if not inside:
        return None
    day = local.date()
    if wraps and current >= begin:
        day += timedelta(days=1)
    # Build the local wall-clock end and let the zone resolve it (DST included).
    return datetime.combine(day, finish, tzinfo=zone)
