"""Quiet hours in the customer's time zone, across midnight and DST."""

from datetime import UTC, datetime

from services.messaging.quiet_hours import quiet_until


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def test_outside_the_window_sends_now() -> None:
    assert (
        quiet_until(at("2026-11-24T15:00:00-05:00"), "America/New_York", "21:00", "08:00") is None
    )


def test_late_evening_waits_for_next_morning_local_time() -> None:
    held = quiet_until(at("2026-11-24T22:30:00-05:00"), "America/New_York", "21:00", "08:00")
    assert held == at("2026-11-25T08:00:00-05:00")


def test_early_morning_waits_for_the_same_morning() -> None:
    held = quiet_until(at("2026-11-24T06:10:00+01:00"), "Europe/Paris", "21:00", "08:00")
    assert held == at("2026-11-24T08:00:00+01:00")


def test_the_same_utc_instant_is_quiet_in_one_zone_and_not_another() -> None:
    instant = at("2026-11-24T03:00:00+00:00")
    assert quiet_until(instant, "Asia/Tokyo", "21:00", "08:00") is None  # noon in Tokyo
    assert quiet_until(instant, "America/New_York", "21:00", "08:00") is not None  # 22:00


def test_a_window_within_one_day() -> None:
    assert quiet_until(at("2026-11-24T13:00:00+00:00"), "UTC", "12:00", "14:00") == at(
        "2026-11-24T14:00:00+00:00"
    )
    assert quiet_until(at("2026-11-24T14:00:00+00:00"), "UTC", "12:00", "14:00") is None


def test_dst_change_night_ends_at_local_eight() -> None:
    # Europe/Paris leaves summer time on 2026-10-25: the night is 25 hours long.
    held = quiet_until(at("2026-10-24T23:00:00+02:00"), "Europe/Paris", "21:00", "08:00")
    assert held == at("2026-10-25T08:00:00+01:00")
