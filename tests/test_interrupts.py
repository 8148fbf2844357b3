"""Interrupts of bare-metal partitions (scenario interrupts): the summary
lines of tests/partitions/irq-test, exact counts and orders. The cases'
own verdicts are test_boot.py's test_in_partition items."""
import pytest

SCENARIO = "interrupts"
# the INTIDs of tests/partitions/irq-test/owner.c by priority (rank order)
PRIORITY_ORDER = "8 11 6 16 18 9 19 5 17 10 12 7"


def _lines(boots, partition: str) -> list[str]:
    b = boots(SCENARIO)
    prefix = f"[{partition}] "
    return [l[len(prefix):] for l in b.lines if l.startswith(prefix)]


@pytest.mark.scenario(SCENARIO)
def test_sgis_between_two_vcpus_counted_exactly(boots):
    lines = _lines(boots, "irq-owner")
    assert "sgi ping-pong: sent=50 vcpu1-took=50 replies=50" in lines
    assert "sgi targets: A vcpu0=1 vcpu1=1, B(irm) vcpu0=0 vcpu1=1" in lines


@pytest.mark.scenario(SCENARIO)
def test_virtual_timer_ticks_counted_idle_in_between(boots):
    assert "timer: ticks=20 early=0 idle-between=yes" in _lines(boots, "irq-owner")


@pytest.mark.scenario(SCENARIO)
@pytest.mark.parametrize("how", ["pmr", "daif"])
def test_more_pending_than_list_registers_taken_in_priority_order(boots, how):
    assert f"priority ({how}): {PRIORITY_ORDER}" in _lines(boots, "irq-owner")


@pytest.mark.scenario(SCENARIO)
def test_level_device_interrupt_once_per_match_on_the_routed_vcpu(boots):
    # two RTC matches, two interrupts, on vCPU 1 (GICD_IROUTER); the
    # intruder's SGIs added nothing to the owner's 52 pings
    assert "rtc: matches=2 interrupts=2 vcpu=1; pings sent=52 taken=52" \
        in _lines(boots, "irq-owner")


@pytest.mark.scenario(SCENARIO)
def test_interrupts_not_owned_read_zero_and_change_nothing(boots):
    assert "ownership: spi35/39/48 enabled=0 priority=0 router=0" \
        in _lines(boots, "irq-owner")
    assert "intruder: spi34 enabled=0 pending=0 active=0 priority=0 router=0" \
        in _lines(boots, "intruder")
    b = boots(SCENARIO)
    assert "[irq-owner] TEST-SUMMARY passed=7 failed=0" in b.lines
    assert "[intruder] TEST-SUMMARY passed=3 failed=0" in b.lines
