/* PSCI, SMCCC and unknown-call behaviour, from a two-vCPU partition. */
#include <bulkhead/hypercall.h>
#include <bulkhead/psci.h>
#include <bulkhead/smccc.h>
#include <guest/test.h>

#define NOT_SUPPORTED 0xffffffffffffffffull

static volatile unsigned int secondary_mode; /* 0: report, 1: wait */
static volatile unsigned int secondary_release;
static volatile unsigned int secondary_vcpu = 0xff;
static volatile unsigned int secondary_cpu = 0xff;
static volatile unsigned int secondary_running;

void secondary_main(unsigned int vcpu)
{
	secondary_vcpu = vcpu;
	secondary_cpu = guest_self().cpu;
	secondary_running = 1;
	while (secondary_mode == 1 && !secondary_release) {
		guest_cpu_relax();
	}
}

static void wait_off(unsigned int vcpu)
{
	for (int i = 0; i < 10000000; i++) {
		if (psci_affinity_info(vcpu, 0) == PSCI_AFFINITY_OFF) {
			return;
		}
	}
}

TEST(psci, version)
{
	EXPECT_EQ(PSCI_VERSION_1_1, psci_version());
}

TEST(psci, features)
{
	const uint32_t supported[] = {
	    PSCI_VERSION,	 PSCI_CPU_ON_64,	PSCI_CPU_ON_32,
	    PSCI_CPU_OFF,	 PSCI_AFFINITY_INFO_64, PSCI_SYSTEM_OFF,
	    PSCI_SYSTEM_RESET,	 PSCI_FEATURES,		SMCCC_VERSION,
	    PSCI_CPU_SUSPEND_64, PSCI_MIGRATE_INFO_TYPE};

	for (unsigned int i = 0; i < sizeof(supported) / 4; i++) {
		EXPECT_EQ(0, psci_features(supported[i]));
	}
	EXPECT_EQ(-1, psci_features(0x84000012)); /* SYSTEM_RESET2 */
	EXPECT_EQ(-1, psci_features(0x84000005)); /* MIGRATE */
	EXPECT_EQ(-1, psci_features(0xdeadbeef));
}

TEST(smccc, version)
{
	EXPECT_EQ(SMCCC_VERSION_1_2,
		  hvc_call(SMCCC_VERSION, 0, 0, 0, 0, 0, 0, 0).x[0]);
}

TEST(smccc, arch_features)
{
	EXPECT_EQ(0, hvc_call(SMCCC_ARCH_FEATURES, SMCCC_ARCH_FEATURES, 0, 0, 0,
			      0, 0, 0)
			 .x[0]);
	EXPECT_EQ(
	    NOT_SUPPORTED,
	    hvc_call(SMCCC_ARCH_FEATURES, 0x80008000, 0, 0, 0, 0, 0, 0).x[0]);
}

TEST(calls, unknown_hvc_returns_minus_one)
{
	struct smccc_res r = hvc_call(0x8400ff00, 1, 2, 3, 4, 5, 6, 7);

	EXPECT_EQ(NOT_SUPPORTED, r.x[0]);
	EXPECT_EQ(0, r.x[1]);
	EXPECT_EQ(0, r.x[2]);
	EXPECT_EQ(0, r.x[3]);
	EXPECT_EQ(4, r.x[4]); /* x4.. are preserved */
	r = hvc_call(0xc5001234, 1, 2, 3, 0, 0, 0, 0);
	EXPECT_EQ(NOT_SUPPORTED, r.x[0]);
	EXPECT_EQ(0, r.x[1]);
}

TEST(calls, unknown_smc_returns_minus_one)
{
	struct smccc_res r = smc_call(0x8400ff00, 1, 2, 3, 4, 0, 0, 0);

	EXPECT_EQ(NOT_SUPPORTED, r.x[0]);
	EXPECT_EQ(0, r.x[1]);
	EXPECT_EQ(0, r.x[2]);
	EXPECT_EQ(0, r.x[3]);
	/* SMC is a conduit like HVC: a known call works over it too */
	EXPECT_EQ(PSCI_VERSION_1_1,
		  smc_call(PSCI_VERSION, 0, 0, 0, 0, 0, 0, 0).x[0]);
}

TEST(calls, vendor_uid_and_self_info)
{
	struct smccc_res r = hvc_call(BULKHEAD_CALL_UID, 0, 0, 0, 0, 0, 0, 0);
	struct guest_self me = guest_self();

	EXPECT_EQ(BULKHEAD_UID_0, r.x[0]);
	EXPECT_EQ(BULKHEAD_UID_3, r.x[3]);
	EXPECT_EQ(7, me.id);
	EXPECT_EQ(0, me.vcpu);
	EXPECT_EQ(2, me.vcpu_count);
	EXPECT_EQ(0, me.cpu);
	EXPECT_EQ(0x44000000, me.mem_base);
	EXPECT_EQ('p', me.name[0]);
}

TEST(smp, affinity_info_states)
{
	EXPECT_EQ(PSCI_AFFINITY_ON, psci_affinity_info(0, 0));
	EXPECT_EQ(PSCI_AFFINITY_OFF, psci_affinity_info(1, 0));
	EXPECT_EQ(PSCI_INVALID_PARAMETERS, psci_affinity_info(5, 0));
	EXPECT_EQ(PSCI_INVALID_PARAMETERS, psci_affinity_info(1, 1));
}

TEST(smp, cpu_on_starts_secondary_on_its_pinned_cpu)
{
	secondary_mode = 0;
	secondary_running = 0;
	ASSERT_EQ(PSCI_SUCCESS, guest_cpu_on(1));
	wait_off(1);
	EXPECT_EQ(1, secondary_running);
	EXPECT_EQ(1, secondary_vcpu);
	EXPECT_EQ(2, secondary_cpu); /* the manifest pins vCPU 1 to CPU 2 */
	EXPECT_EQ(PSCI_AFFINITY_OFF, psci_affinity_info(1, 0));
}

TEST(smp, cpu_on_errors)
{
	secondary_mode = 1;
	secondary_release = 0;
	secondary_running = 0;
	EXPECT_EQ(PSCI_INVALID_PARAMETERS, guest_cpu_on(7));
	EXPECT_EQ(PSCI_INVALID_ADDRESS, psci_cpu_on_raw(1, 0x1000, 0));
	ASSERT_EQ(PSCI_SUCCESS, guest_cpu_on(1));
	while (!secondary_running) {
		guest_cpu_relax();
	}
	EXPECT_EQ(PSCI_AFFINITY_ON, psci_affinity_info(1, 0));
	EXPECT_EQ(PSCI_ALREADY_ON, guest_cpu_on(1));
	EXPECT_EQ(PSCI_ALREADY_ON, guest_cpu_on(0));
	secondary_release = 1;
	wait_off(1);
	EXPECT_EQ(PSCI_AFFINITY_OFF, psci_affinity_info(1, 0));
}

int main(void)
{
	test_run_all();
	return 0;
}
