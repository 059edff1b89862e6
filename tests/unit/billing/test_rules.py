"""Each billing rule on small hand-made inputs, with amounts computed by hand in the comments."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from schoolfleet.billing.compare import compare
from schoolfleet.billing.rules import (
    Billing,
    BillingError,
    Countable,
    Holder,
    OptionSpan,
    Period,
    compute,
    counting_day,
)
from schoolfleet.register.tariffs import Tariffs, load_tariffs

from .conftest import DEMO_TARIFFS

D = dt.date
SNAPSHOT = D(2026, 11, 1)
JOINED = D(2015, 1, 1)
INSTALLED = D(2020, 1, 1)


@pytest.fixture(scope="module")
def tariffs() -> Tariffs:
    return load_tariffs(DEMO_TARIFFS)


def holder(
    code: str = "69001", *, joined: dt.date = JOINED, left: dt.date | None = None, wifi: bool = False
) -> Holder:
    return Holder(
        code, f"Commune {code}", "commune", joined, left, (OptionSpan("wifi", joined),) if wifi else ()
    )


def device(
    ref: str,
    kind: str = "workstation",
    *,
    installed: dt.date = INSTALLED,
    retired: dt.date | None = None,
    code: str = "69001",
    quantity: int = 1,
) -> Countable:
    return Countable(ref, kind, code, quantity, installed, retired, f"members/{code}.yml:1")


def counts(billing: Billing, code: str = "69001") -> dict[str, int]:
    statement = next(s for s in billing.statements if s.holder.code == code)
    return {line.spec.key: line.count for line in statement.lines if line.count}


def test_period_is_the_twelve_months_ending_on_the_snapshot() -> None:
    assert Period.ending(SNAPSHOT) == Period(D(2025, 11, 2), SNAPSHOT)
    assert Period.ending(D(2024, 2, 29)) == Period(D(2023, 3, 1), D(2024, 2, 29))


def test_device_installed_on_the_snapshot_date_is_billed(tariffs: Tariffs) -> None:
    # 2020 grid: one workstation installed on 1 November 2026 -> 1 x 52 = 52.
    billing = compute(2026, tariffs.grids[2], SNAPSHOT, [holder()], [device("WS-1", installed=SNAPSHOT)])
    assert counts(billing) == {"workstation/maintenance": 1}
    assert billing.billed == Decimal("52.00")
    # Installed the day after: not yet held, nothing billed.
    later = compute(2026, tariffs.grids[2], SNAPSHOT, [holder()], [device("WS-1", installed=D(2026, 11, 2))])
    assert later.billed == Decimal("0.00")


def test_retired_the_day_before_is_not_billed_retired_on_the_day_is(tariffs: Tariffs) -> None:
    things = [device("WS-1", retired=D(2026, 10, 31)), device("WS-2", retired=SNAPSHOT), device("WS-3")]
    billing = compute(2026, tariffs.grids[2], SNAPSHOT, [holder()], things)
    statement = billing.statements[0]
    line = next(line for line in statement.lines if line.spec.key == "workstation/maintenance")
    assert line.refs == ("WS-2", "WS-3")
    assert billing.billed == Decimal("104.00")  # 2 x 52


def test_installation_counts_the_twelve_months_ending_on_the_snapshot(tariffs: Tariffs) -> None:
    grid = tariffs.grids[0]  # 2014: standard workstation, installation 31.60, maintenance 36.86
    snapshot = D(2016, 11, 1)
    things = [
        device("WS-1", installed=D(2015, 11, 1)),  # a year before to the day: billed in 2015 already
        device("WS-2", installed=D(2015, 11, 2)),  # first day of the period
        device("WS-3", installed=snapshot),  # last day of the period
    ]
    billing = compute(2016, grid, snapshot, [holder()], things)
    assert counts(billing) == {"workstation/installation": 2, "workstation/maintenance": 3}
    # 2 x 31.60 + 3 x 36.86 = 63.20 + 110.58 = 173.78
    assert billing.billed == Decimal("173.78")


def test_payer_follows_the_2014_grid(tariffs: Tariffs) -> None:
    grid = tariffs.grids[0]
    snapshot = D(2016, 11, 1)
    things = [
        Countable("0690010L/pupils", "pupil", "69001", 200, None, None, "m:1"),
        Countable("0690010L/pack/base", "software_pack", "69001", 1, D(2016, 1, 1), None, "m:1"),
        device("SRV-1", "school_server", installed=D(2014, 5, 1)),
        device("PR-1", "inkjet_printer", installed=D(2014, 5, 1)),
    ]
    billing = compute(2016, grid, snapshot, [holder()], things)
    # Authority: 200 pupils x 5.27 + pack 895 (installed in the period) + 211 = 1054 + 1106 = 2160.
    assert billing.borne_by_authority == Decimal("2160.00")
    # Member: server maintenance 263.33 + printer 15.79 = 279.12.
    assert billing.billed == Decimal("279.12")


def test_members_joining_or_leaving_during_the_year_pay_the_whole_year(tariffs: Tariffs) -> None:
    joined = holder("69004", joined=D(2026, 3, 1))
    left = holder("69005", left=D(2026, 7, 1))
    gone = holder("69006", left=D(2025, 11, 2))  # last day 2025-11-01: before the period
    things = [
        device("WS-D", code="69004", installed=D(2026, 3, 15)),
        device("WS-E", code="69005", installed=D(2019, 1, 1), retired=D(2026, 7, 1)),
        device("WS-F", code="69006", installed=D(2019, 1, 1), retired=D(2025, 11, 2)),
    ]
    billing = compute(2026, tariffs.grids[2], SNAPSHOT, [joined, left, gone], things)
    assert [(s.holder.code, s.counted_on, s.billed) for s in billing.statements] == [
        ("69004", SNAPSHOT, Decimal("52.00")),
        ("69005", D(2026, 6, 30), Decimal("52.00")),
    ]
    assert counting_day(gone, Period.ending(SNAPSHOT)) is None


def test_a_device_in_service_outside_any_convention_is_an_error(tariffs: Tariffs) -> None:
    things = [device("WS-1", code="69009", installed=D(2020, 1, 1))]
    with pytest.raises(BillingError, match=r"WS-1 .*has no convention in force"):
        compute(2026, tariffs.grids[2], SNAPSHOT, [holder("69009", joined=D(2027, 1, 1))], things)


def test_sivos_is_billed_for_the_schools_of_its_communes(tariffs: Tariffs) -> None:
    sivos = Holder("sivos-x", "SIVOS X", "sivos", D(2016, 1, 1), None, (OptionSpan("wifi", D(2016, 1, 1)),))
    things = [
        device("WS-B", code="sivos-x"),
        device("WS-G", "specific_workstation", code="sivos-x"),
        device("AP-G", "wifi_ap", code="sivos-x", installed=D(2026, 1, 1)),
    ]
    billing = compute(2026, tariffs.grids[2], SNAPSHOT, [sivos], things)
    # 2 x 52 + 1 x 100 = 204, all billed to the SIVOS.
    assert [(s.holder.code, s.billed) for s in billing.statements] == [("sivos-x", Decimal("204.00"))]


def test_access_points_without_the_wifi_option_are_an_error(tariffs: Tariffs) -> None:
    things = [device("WS-1"), device("AP-1", "wifi_ap", installed=D(2026, 2, 1))]
    with pytest.raises(BillingError) as caught:
        compute(2026, tariffs.grids[2], SNAPSHOT, [holder(wifi=False)], things)
    [problem] = caught.value.problems
    assert problem.startswith("members/69001.yml:1: AP-1 (wifi_ap) is billed only with the wifi option")
    # The same access point with the option: 52 + 100.
    billing = compute(2026, tariffs.grids[2], SNAPSHOT, [holder(wifi=True)], things)
    assert billing.billed == Decimal("152.00")


def test_access_points_are_not_rebilled_under_the_2014_grid(tariffs: Tariffs) -> None:
    things = [device("AP-1", "wifi_ap", installed=D(2015, 2, 1))]
    billing = compute(2016, tariffs.grids[0], D(2016, 11, 1), [holder()], things)
    assert counts(billing) == {"wifi_ap/not_rebilled": 1}
    assert billing.billed == billing.borne_by_authority == Decimal("0.00")


def test_a_kind_the_grid_does_not_mention_is_an_error_not_a_zero(tariffs: Tariffs) -> None:
    things = [device("WS-1"), device("TAB-1", "tablet")]
    with pytest.raises(
        BillingError, match=r"TAB-1 is a 'tablet', which grid '2020' .* neither prices nor lists"
    ):
        compute(2026, tariffs.grids[2], SNAPSHOT, [holder()], things)


def test_each_thing_is_counted_once(tariffs: Tariffs) -> None:
    with pytest.raises(BillingError, match="WS-1: listed 2 times"):
        compute(2026, tariffs.grids[2], SNAPSHOT, [holder()], [device("WS-1"), device("WS-1")])
    with pytest.raises(BillingError, match="held by unknown member"):
        compute(2026, tariffs.grids[2], SNAPSHOT, [holder()], [device("WS-2", code="99999")])


def test_fleet_totals_reconcile_with_the_members(tariffs: Tariffs) -> None:
    members = [holder("69001"), holder("69002", wifi=True)]
    things = [device("WS-1"), device("WS-2", code="69002"), device("AP-2", "wifi_ap", code="69002")]
    billing = compute(2026, tariffs.grids[2], SNAPSHOT, members, things)
    assert billing.fleet == {"workstation/maintenance": 2, "wifi_ap/maintenance": 1}
    assert billing.line_total("workstation/maintenance") == (2, Decimal("104.00"))
    assert billing.billed == Decimal("204.00")


def test_year_over_year_across_a_grid_change(tariffs: Tariffs) -> None:
    members = [holder("69001", wifi=True), holder("69002")]
    things = [
        device("WS-1", installed=D(2018, 1, 1)),
        device("WS-2", installed=D(2018, 1, 1)),
        device("WS-3", installed=D(2020, 3, 1)),  # installed after the 2019 snapshot
        device("AP-1", "wifi_ap", installed=D(2018, 1, 1)),  # not re-billed in 2019, 100 € in 2020
        device("WS-4", code="69002", installed=D(2015, 1, 1), retired=D(2020, 6, 1)),
    ]
    before = compute(2019, tariffs.grids[1], D(2019, 11, 1), members, things)
    after = compute(2020, tariffs.grids[2], D(2020, 11, 1), members, things)
    result = compare(before, after)
    # 2019 (54 €): 69001 2 workstations = 108, 69002 1 = 54 -> 162.
    # 2020 (52 €): 69001 3 workstations + 1 AP = 156 + 100 = 256, 69002 none -> 256.
    assert (result.total.amount_before, result.total.amount_after) == (Decimal("162.00"), Decimal("256.00"))
    assert result.total.amount_change == Decimal("94.00")
    per_member = {t.code: (t.count_change, t.amount_change) for t in result.member_totals}
    assert per_member == {"69001": (2, Decimal("148.00")), "69002": (-1, Decimal("-54.00"))}
    ws = next(r for r in result.rows if r.code == "69001" and r.item == "Poste de travail (forfait annuel)")
    assert (ws.count_before, ws.count_after, ws.amount_change) == (2, 3, Decimal("48.00"))


def test_an_option_counts_on_the_counting_day_by_its_dates(tariffs: Tariffs) -> None:
    # Wi-Fi from 2026-01-01 to 2027-06-30: the access point is billed in 2026 (100), refused before.
    dated = Holder(
        "69001", "Commune", "commune", JOINED, None, (OptionSpan("wifi", D(2026, 1, 1), D(2027, 6, 30)),)
    )
    ap = device("AP-1", "wifi_ap", installed=D(2025, 6, 1))
    assert compute(2026, tariffs.grids[2], SNAPSHOT, [dated], [ap]).billed == Decimal("100.00")
    for snapshot in (D(2025, 11, 1), D(2027, 11, 1)):
        with pytest.raises(BillingError) as caught:
            compute(snapshot.year, tariffs.grids[2], snapshot, [dated], [ap])
        assert f"lacks on {snapshot}" in str(caught.value)
