/*
 * The device tree a partition receives in x0, at boot and after
 * SYSTEM_RESET. One image, two roles by partition name:
 *   dtcheck  two vCPUs, a pass-through RTC, an overlay node, PSCI over SMC:
 *            checks its tree, records its hash in the shared page, damages
 *            it and resets itself; on its second boot the tree must be
 *            whole again (copied anew from the payload)
 *   dtplain  one vCPU, no device, no overlay: checks its tree
 * The shared page 0x4f000000 carries the boot count and the hash.
 */
#include <bulkhead/fmt.h>
#include <guest/dt.h>
#include <guest/test.h>
#include <string.h>

#define SHARED	      ((volatile uint64_t *)0x4f000000ull)
#define GICD_BASE     0x08000000ull
#define GICR_BASE     0x080a0000ull
#define GICR_PER_VCPU 0x20000ull
#define CHECK_CHILDREN                                                         \
	10		 /* chosen memory cpus psci gic timer clock serial rtc \
			    bulkhead-test */
#define PLAIN_CHILDREN 8 /* no rtc, no overlay */

static struct fdt tree;
static bool tree_ok;

static bool named(const char *want)
{
	struct guest_self me = guest_self();

	return strcmp(me.name, want) == 0;
}

static uint64_t fnv1a(const uint8_t *p, uint32_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < len; i++) {
		h = (h ^ p[i]) * 0x100000001b3ull;
	}
	return h;
}

static bool string_is(const char *path, const char *prop, const char *want)
{
	const char *got;

	return guest_dt_string(&tree, path, prop, &got) &&
	       strcmp(got, want) == 0;
}

/* Cell i of a property (0 if absent). */
static uint32_t cell(const char *path, const char *prop, uint32_t i)
{
	const uint8_t *value;
	uint32_t len;

	if (!guest_dt_prop(&tree, path, prop, &value, &len)) {
		return 0;
	}
	return fdt_cell(value, len, i);
}

static uint64_t cell64(const char *path, const char *prop, uint32_t i)
{
	return ((uint64_t)cell(path, prop, 2 * i) << 32) |
	       cell(path, prop, 2 * i + 1);
}

static void expect_common(uint32_t children)
{
	struct guest_self me = guest_self();
	uint64_t dtb = (uint64_t)(uintptr_t)guest_dtb();
	char path[40];
	char model[48];

	ASSERT_TRUE(tree_ok);
	EXPECT_EQ(0, dtb % 4096); /* the first page after the image */
	EXPECT_TRUE(dtb > me.mem_base &&
		    dtb + tree.size <= me.mem_base + me.mem_size);
	EXPECT_TRUE(string_is("/", "compatible", "bulkhead,partition"));
	fmt_snprintf(model, sizeof(model), "Bulkhead partition %s", me.name);
	EXPECT_TRUE(string_is("/", "model", model));
	fmt_snprintf(path, sizeof(path), "/memory@%lx", me.mem_base);
	EXPECT_TRUE(string_is(path, "device_type", "memory"));
	EXPECT_EQ(me.mem_base, cell64(path, "reg", 0));
	EXPECT_EQ(me.mem_size, cell64(path, "reg", 1));
	EXPECT_EQ(me.vcpu_count, guest_dt_children(&tree, "/cpus", NULL, NULL));
	EXPECT_EQ(
	    me.vcpu_count - 1,
	    cell(me.vcpu_count == 2 ? "/cpus/cpu@1" : "/cpus/cpu@0", "reg", 0));
	EXPECT_EQ(GICD_BASE, cell64("/interrupt-controller@8000000", "reg", 0));
	EXPECT_EQ(GICR_BASE, cell64("/interrupt-controller@8000000", "reg", 2));
	EXPECT_EQ(GICR_PER_VCPU * me.vcpu_count,
		  cell64("/interrupt-controller@8000000", "reg", 3));
	EXPECT_EQ(11, cell("/timer", "interrupts", 7)); /* virtual timer PPI */
	EXPECT_TRUE(string_is("/chosen", "stdout-path", "/serial@9000000"));
	EXPECT_EQ(1, cell("/serial@9000000", "interrupts", 1));
	EXPECT_EQ(children, guest_dt_children(&tree, "/", NULL, NULL));
}

TEST(dt, tree_of_its_own)
{
	expect_common(CHECK_CHILDREN);
	EXPECT_TRUE(string_is("/psci", "method", "smc"));
}

TEST(dt, device_with_the_boards_compatible)
{
	EXPECT_TRUE(string_is("/rtc@9010000", "compatible", "arm,pl031"));
	EXPECT_EQ(0x9010000, cell64("/rtc@9010000", "reg", 0));
	EXPECT_EQ(2, cell("/rtc@9010000", "interrupts", 1));
}

TEST(dt, overlay_node)
{
	EXPECT_TRUE(string_is("/bulkhead-test", "compatible", "bulkhead,test"));
	EXPECT_EQ(42, cell("/bulkhead-test", "value", 0));
}

TEST(dtreset, came_back_for_a_second_boot)
{
	EXPECT_EQ(1, SHARED[0]);
}

TEST(dtreset, tree_is_whole_again)
{
	ASSERT_TRUE(tree_ok);
	EXPECT_EQ(SHARED[1], fnv1a(tree.blob, tree.size));
	EXPECT_TRUE(string_is("/bulkhead-test", "compatible", "bulkhead,test"));
}

TEST(dtplain, tree_of_its_own)
{
	expect_common(PLAIN_CHILDREN);
	EXPECT_TRUE(string_is("/psci", "method", "hvc"));
	EXPECT_EQ(0, guest_dt_children(&tree, "/rtc@9010000", NULL, NULL));
}

int main(void)
{
	const char *error = "";

	tree_ok = guest_dt(&tree, &error);
	if (!tree_ok) {
		guest_printf("device tree: %s\n", error);
	}
	if (named("dtplain")) {
		test_run_suite("dtplain");
		return 0;
	}
	if (SHARED[0] == 0) {
		test_run_suite("dt");
		if (tree_ok) {
			SHARED[1] = fnv1a(tree.blob, tree.size);
			memset((void *)(uintptr_t)tree.blob, 0, 64);
		}
		SHARED[0] = 1;
		guest_printf("dtcheck: tree damaged, SYSTEM_RESET\n");
		psci_system_reset();
	}
	guest_printf("dtcheck: second boot\n");
	test_run_suite("dtreset");
	return 0;
}
