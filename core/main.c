/* Boot: check the tables, banner, page pool, partitions, secondary CPUs. */
#include <bulkhead/fmt.h>
#include <core/arch.h>
#include <core/boardcheck.h>
#include <core/console.h>
#include <core/cpu.h>
#include <core/irqchip.h>
#include <core/lifecycle.h>
#include <core/log.h>
#include <core/symbols.h>
#include <core/uart.h>

extern char __payload_start[];

static struct mm_table_info pool_info[CONFIG_PAGE_POOL_PAGES];
static uint8_t pool_pages[CONFIG_PAGE_POOL_PAGES][PAGE_SIZE]
    __attribute__((aligned(PAGE_SIZE)));
static struct mpool page_pool;

static int cpu_index_of(uint64_t mpidr)
{
	for (uint32_t i = 0; i < bulkhead_manifest.platform.cpu_count; i++) {
		if (bulkhead_manifest.platform.cpu_mpidr[i] == mpidr) {
			return (int)i;
		}
	}
	return -1;
}

static void print_banner(uint64_t dtb)
{
	const struct manifest *m = &bulkhead_manifest;
	char build_id[33];

	build_id_hex(build_id);
	INFO("Bulkhead %s: %s on %s, %u CPUs", BULKHEAD_VERSION, m->product,
	     m->platform.name, m->platform.cpu_count);
	INFO("build ID %s", build_id);
	INFO("manifest %02x%02x%02x%02x%02x%02x%02x%02x (table ABI %u), "
	     "%u partitions%s",
	     m->hash[0], m->hash[1], m->hash[2], m->hash[3], m->hash[4],
	     m->hash[5], m->hash[6], m->hash[7], m->abi_revision,
	     m->partition_count, dtb != 0 ? ", DTB passed by the loader" : "");
	INFO("  %3s  %-16s %5s  %-8s %-25s %s", "id", "name", "vcpus", "cpus",
	     "memory", "console");
	for (uint32_t i = 0; i < m->partition_count; i++) {
		const struct manifest_partition *p = &m->partitions[i];
		char cpu_list[3 * CONFIG_MAX_CPUS + 1];
		char console[24] = "-";
		size_t n = 0;

		for (uint16_t c = 0; c < p->vcpu_count; c++) {
			n += (size_t)fmt_snprintf(&cpu_list[n],
						  sizeof(cpu_list) - n,
						  c ? ",%u" : "%u", p->cpus[c]);
		}
		if (p->has_console) {
			fmt_snprintf(console, sizeof(console), "%#lx",
				     p->console_base);
		}
		INFO("  %3u  %-16s %5u  %-8s %#lx-%#lx %s", p->id, p->name,
		     p->vcpu_count, cpu_list, p->mem[0].base,
		     p->mem[0].base + p->mem[0].size, console);
		INFO("  %3s  %-16s entry %#lx, x0 %#lx (device tree), %u "
		     "blob(s)",
		     "", "", p->entry, p->boot_arg, p->load_count);
		for (uint32_t d = 0; d < p->device_count; d++) {
			if (p->devices[d].dma_unrestricted) {
				WARN("  %s: device %#lx has unrestricted DMA "
				     "(no SMMU)",
				     p->name, p->devices[d].base);
			}
		}
	}
}

static void print_payload(void)
{
	const struct manifest *m = &bulkhead_manifest;

	if (m->payload_base != 0) {
		INFO("  payload: %#lx bytes in its region at %#lx",
		     m->payload_size, m->payload_base);
	} else {
		INFO("  payload: %#lx bytes in the hypervisor image at %#lx",
		     m->payload_size, (uint64_t)(uintptr_t)__payload_start);
	}
}

static void check_tables(void)
{
	if (bulkhead_manifest.magic != MANIFEST_MAGIC ||
	    bulkhead_manifest.abi_revision != MANIFEST_ABI_REVISION) {
		panic("manifest tables are not for this build (magic %#x, ABI "
		      "%u)",
		      bulkhead_manifest.magic, bulkhead_manifest.abi_revision);
	}
}

_Noreturn void boot_primary(uint64_t dtb)
{
	const struct manifest_platform *plat = &bulkhead_manifest.platform;
	int self;

	uart_init(plat->uart_base);
	check_tables();
	self = cpu_index_of(arch_cpu_mpidr());
	if (self < 0) {
		panic("boot CPU MPIDR %#lx is not in the board description",
		      arch_cpu_mpidr());
	}
	print_banner(dtb);
	print_payload();
	boardcheck_run(dtb); /* stops here if the board is not the manifest's */
	irqchip_init(plat->gicd_base, plat->gicr_base, plat->gicr_size);
	irqchip_init_cpu(plat->cpu_mpidr[self]);

	mpool_init(&page_pool);
	mpool_add(&page_pool, pool_pages, sizeof(pool_pages));
	mm_track_tables(pool_pages, CONFIG_PAGE_POOL_PAGES, pool_info);
	lifecycle_init(&page_pool, __payload_start);
	vconsole_init();
	INFO("page pool: %zu of %u pages free after building stage 2",
	     partition_pages_free(), CONFIG_PAGE_POOL_PAGES);

	for (uint32_t i = 0; i < plat->cpu_count; i++) {
		int64_t ret;

		if ((int)i == self || cpus[i].vcpu == NULL) {
			continue;
		}
		ret =
		    arch_psci_cpu_on(cpus[i].mpidr, arch_secondary_entry(), i);
		if (ret != 0) {
			ERROR("CPU %u (MPIDR %#lx) did not start: PSCI %ld", i,
			      cpus[i].mpidr, ret);
		}
	}
	cpu_main(&cpus[self]);
}

_Noreturn void boot_secondary(uint64_t index)
{
	irqchip_init_cpu(cpus[index].mpidr);
	DEBUG("CPU %lu up", index);
	cpu_main(&cpus[index]);
}
