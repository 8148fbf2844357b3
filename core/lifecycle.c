/*
 * Partition life cycle: build from the manifest, start and stop vCPUs,
 * SYSTEM_OFF and SYSTEM_RESET of one partition, and powering the machine
 * off when the last partition is off. Other modules learn of stops only
 * through the hooks called here (core/ffa.h).
 *
 * Locks (order in core/include/core/partition.h): one partition lock at a
 * time; the FF-A hooks take what else they need.
 */
#include <bulkhead/psci.h>
#include <core/arch.h>
#include <core/arch_mm.h>
#include <core/console.h>
#include <core/ffa.h>
#include <core/ffa_notify.h>
#include <core/lifecycle.h>
#include <core/log.h>
#include <core/vcpu.h>
#include <string.h>

/* A vCPU's virtual MPIDR has its index in Aff0 (arch_vcpu_load). */
#define VMPIDR_AFFINITY_MASK 0xff00ffffffull

static uint32_t partitions_running;
static const uint8_t *payload_base;

static uint32_t access_to_mode(uint32_t access)
{
	uint32_t mode = 0;

	if (access & MANIFEST_ACCESS_R) {
		mode |= MM_MODE_R;
	}
	if (access & MANIFEST_ACCESS_W) {
		mode |= MM_MODE_W;
	}
	if (access & MANIFEST_ACCESS_X) {
		mode |= MM_MODE_X;
	}
	return mode | MM_MODE_SHARED | MM_MODE_UNOWNED;
}

/* Stage 2 of one partition: RAM, shared regions, pass-through devices. The
 * console page stays unmapped so that it traps. */
static void build_stage2(struct partition *p)
{
	const struct manifest_partition *m = p->m;
	struct mpool *pool = partition_pool(p);
	struct mm_change changes[2 * CONFIG_MAX_MEM_REGIONS +
				 CONFIG_MAX_DEVICES +
				 CONFIG_MAX_SHARED_REGIONS];
	size_t n = 0;

	for (uint32_t i = 0; i < m->mem_count; i++) {
		changes[n++] = (struct mm_change){
		    ipa_init(m->mem[i].base),
		    ipa_init(m->mem[i].base + m->mem[i].size), MM_MODE_RWX};
	}
	/* read-only-memory: pages of the RAM above, applied after it */
	for (uint32_t i = 0; i < m->read_only_count; i++) {
		changes[n++] = (struct mm_change){
		    ipa_init(m->read_only[i].base),
		    ipa_init(m->read_only[i].base + m->read_only[i].size),
		    MM_MODE_R | MM_MODE_X};
	}
	for (uint32_t i = 0; i < m->device_count; i++) {
		changes[n++] = (struct mm_change){
		    ipa_init(m->devices[i].base),
		    ipa_init(m->devices[i].base + m->devices[i].size),
		    MM_MODE_R | MM_MODE_W | MM_MODE_D};
	}
	for (uint32_t s = 0; s < bulkhead_manifest.shared_count; s++) {
		const struct manifest_shared *sh = &bulkhead_manifest.shared[s];

		for (uint32_t j = 0; j < sh->member_count; j++) {
			if (sh->members[j].partition == p->index) {
				changes[n++] = (struct mm_change){
				    ipa_init(sh->base),
				    ipa_init(sh->base + sh->size),
				    access_to_mode(sh->members[j].access)};
			}
		}
	}
	if (!mm_ptable_init(&p->ptable, p->index + 1, pool) ||
	    !mm_update(&p->ptable, changes, n, pool)) {
		panic("page pool too small for partition %s's stage 2: raise "
		      "CONFIG_PAGE_POOL_PAGES",
		      m->name);
	}
}

/* The hypervisor's view of RAM region `i` of a partition's manifest. */
static uint8_t *region_va(const struct manifest_partition *m, uint32_t i)
{
	return partition_va(ipa_init(m->mem[i].base));
}

/* Where the payload is: the manifest's payload region, read in place, or
 * the hypervisor image's own payload area. */
static const uint8_t *payload(void)
{
	if (bulkhead_manifest.payload_base != 0) {
		return va_from_pa(pa_init(bulkhead_manifest.payload_base));
	}
	return payload_base;
}

/* Clears the partition's RAM and copies its blobs in (first boot). */
static void load_image(struct partition *p)
{
	const struct manifest_partition *m = p->m;

	for (uint32_t i = 0; i < m->mem_count; i++) {
		arch_zero_for_guest(region_va(m, i), m->mem[i].size);
	}
	for (uint32_t i = 0; i < m->load_count; i++) {
		const struct manifest_load *l = &m->loads[i];

		memcpy(partition_va(ipa_init(l->ipa)),
		       payload() + l->payload_offset, l->size);
	}
	for (uint32_t i = 0; i < m->mem_count; i++) {
		arch_sync_memory_for_guest(region_va(m, i), m->mem[i].size);
	}
}

/* Copies into the page at `page` (`va`) the parts of the partition's blobs
 * that fall in it. */
static void copy_blobs_into_page(const struct manifest_partition *m,
				 uint64_t page, uint8_t *va)
{
	for (uint32_t i = 0; i < m->load_count; i++) {
		const struct manifest_load *l = &m->loads[i];
		uint64_t begin = MAX(page, l->ipa);
		uint64_t end = MIN(page + PAGE_SIZE, l->ipa + l->size);

		if (begin < end) {
			memcpy(va + (begin - page),
			       payload() + l->payload_offset + (begin - l->ipa),
			       end - begin);
		}
	}
}

/* Whether `page` of `p` is its own, for it alone, mapped: the only pages a
 * reset may clear (memory it lent, shared or donated is someone else's
 * business until it is reclaimed). */
static bool owned_alone(struct partition *p, uint64_t page)
{
	uint32_t mode;

	return mm_get_mode(&p->ptable, ipa_init(page),
			   ipa_init(page + PAGE_SIZE), &mode) &&
	       (mode & (MM_MODE_INVALID | MM_MODE_UNOWNED | MM_MODE_SHARED)) ==
		   0;
}

/*
 * SYSTEM_RESET: like load_image, but page by page, skipping pages of the
 * manifest's RAM that are lent, shared or donated away at the moment. A
 * blob page that cannot be written is reported; the partition boots
 * anyway (it gave that memory away itself). The blobs come from the
 * payload again, which nobody writes: the pristine copy.
 */
static void reload_image(struct partition *p)
{
	const struct manifest_partition *m = p->m;
	uint32_t skipped = 0;

	for (uint32_t i = 0; i < m->mem_count; i++) {
		for (uint64_t off = 0; off < m->mem[i].size; off += PAGE_SIZE) {
			uint64_t page = m->mem[i].base + off;
			uint8_t *va = region_va(m, i) + off;

			if (!owned_alone(p, page)) {
				skipped++;
				continue;
			}
			memset(va, 0, PAGE_SIZE);
			copy_blobs_into_page(m, page, va);
			arch_sync_memory_for_guest(va, PAGE_SIZE);
		}
	}
	if (skipped > 0) {
		WARN("partition %s: %u page(s) of its RAM are lent, shared or "
		     "donated: left as they are",
		     m->name, skipped);
	}
}

/* Marks the boot vCPU to start at the entry point; caller kicks its CPU. */
static void boot_partition(struct partition_locked locked)
{
	struct partition *p = locked.p;

	p->state = PARTITION_RUNNING;
	p->boot_count++;
	vconsole_reset(locked);
	vgic_partition_reset(locked);
	ffa_partition_boot(locked);
	p->vcpus[0].start_pc = p->m->entry;
	p->vcpus[0].start_arg = p->m->boot_arg;
	p->vcpus[0].state = VCPU_ON_PENDING;
}

void lifecycle_init(struct mpool *pool, const void *payload)
{
	payload_base = payload;
	partition_table_init(pool);
	partitions_running = partition_count;
	for (uint32_t i = 0; i < partition_count; i++) {
		struct partition *p = &partitions[i];
		struct partition_locked locked;

		ffa_partition_init(p);
		vgic_init(p);
		build_stage2(p);
		if (!partition_take_reserve(p, CONFIG_PARTITION_PT_PAGES)) {
			panic("page pool too small for partition %s's reserve "
			      "of %u pages: raise CONFIG_PAGE_POOL_PAGES",
			      p->m->name, CONFIG_PARTITION_PT_PAGES);
		}
		load_image(p);
		locked = partition_lock(p);
		boot_partition(locked);
		partition_unlock(&locked);
	}
}

static bool all_vcpus_off(const struct partition *p)
{
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		if (p->vcpus[i].state != VCPU_OFF) {
			return false;
		}
	}
	return true;
}

static _Noreturn void power_off_machine(void)
{
	INFO("all partitions are off; powering off");
	INFO("page pool: %zu of %u pages free at power-off",
	     partition_pages_free(), CONFIG_PAGE_POOL_PAGES);
	for (uint32_t i = 0; i < partition_count; i++) {
		INFO("  %-16s booted %u time(s), %u fault(s) injected",
		     partitions[i].m->name, partitions[i].boot_count,
		     partitions[i].fault_count);
	}
	arch_psci_system_off();
}

/* Turns a vCPU of a locked partition off and ends its waits. */
static void vcpu_set_off(struct vcpu *v)
{
	vconsole_flush(v);
	ffa_vcpu_stopped(v);
	v->state = VCPU_OFF;
	v->wait = VCPU_RUNNABLE;
	v->wake_pending = false;
	v->generation++;
}

/*
 * Called with the lock held after vCPU `v` of its partition went off. When
 * none is left the partition's FF-A state is ended (with the lock dropped
 * meanwhile: that takes the locks of other partitions, in order; nothing
 * of the partition runs, it is STOPPING or RESETTING) and then it is
 * reloaded (reset) or turned off. Returns true when that turned the last
 * partition off; the caller powers off after unlocking.
 */
static bool vcpu_went_off(struct partition_locked *locked, struct vcpu *v)
{
	struct partition *p = locked->p;

	if (!all_vcpus_off(p)) {
		return false;
	}
	partition_unlock(locked);
	ffa_partition_stopped(v);
	*locked = partition_lock(p);
	if (p->state == PARTITION_RESETTING) {
		INFO("partition %s: restarting", p->m->name);
		reload_image(p);
		arch_mm_invalidate_stage2(&p->ptable, ipa_init(0),
					  ipa_init(arch_mm_stage2_ipa_limit()));
		boot_partition(*locked);
		cpu_kick(p->vcpus[0].cpu);
		return false;
	}
	vgic_partition_reset(*locked); /* its devices' interrupts off */
	p->state = PARTITION_OFF;
	INFO("partition %s is off", p->m->name);
	return __atomic_sub_fetch(&partitions_running, 1, __ATOMIC_SEQ_CST) ==
	       0;
}

bool lifecycle_vcpu_ready(struct vcpu *v)
{
	struct partition_locked locked = partition_lock(v->part);
	struct partition *p = v->part;
	bool last = false;
	bool look;
	bool run;

	if ((p->state == PARTITION_STOPPING ||
	     p->state == PARTITION_RESETTING) &&
	    v->state != VCPU_OFF) {
		vcpu_set_off(v);
		last = vcpu_went_off(&locked, v);
	}
	if (v->state == VCPU_ON_PENDING && ffa_vcpu_may_start(v)) {
		struct arch_vcpu_config config = {
		    .stage2_root = p->ptable.root,
		    .vmid = p->ptable.vmid,
		    .vcpu_index = v->index,
		};

		arch_vcpu_load(&config);
		arch_vcpu_reset(&v->regs, v->start_pc, v->start_arg);
		vgic_vcpu_reset(v);
		v->line_len = 0;
		v->state = VCPU_ON;
	}
	run = v->state == VCPU_ON && v->wait == VCPU_RUNNABLE;
	look = !run && ffa_vcpu_wait_needs_check(v, v->wait);
	partition_unlock(&locked);
	if (last) {
		power_off_machine();
	}
	if (look) {
		ffa_vcpu_check_wait(v);
		run = vcpu_runnable_now(v);
	}
	return run;
}

static struct vcpu *vcpu_by_mpidr(struct partition *p, uint64_t target)
{
	uint64_t aff = target & VMPIDR_AFFINITY_MASK;

	if (aff >= p->m->vcpu_count) {
		return NULL;
	}
	return &p->vcpus[aff];
}

int64_t lifecycle_cpu_on(struct vcpu *caller, uint64_t target, uint64_t pc,
			 uint64_t arg)
{
	struct partition *p = caller->part;
	struct vcpu *v = vcpu_by_mpidr(p, target);
	struct partition_locked locked;
	int64_t ret = PSCI_SUCCESS;

	if (v == NULL) {
		return PSCI_INVALID_PARAMETERS;
	}
	if (!partition_in_ram(p, ipa_init(pc), 4) || (pc & 3) != 0) {
		return PSCI_INVALID_ADDRESS;
	}
	locked = partition_lock(p);
	if (p->state != PARTITION_RUNNING) {
		ret = PSCI_DENIED;
	} else if (v->state == VCPU_ON) {
		ret = PSCI_ALREADY_ON;
	} else if (v->state == VCPU_ON_PENDING) {
		ret = PSCI_ON_PENDING;
	} else {
		v->start_pc = pc;
		v->start_arg = arg;
		v->state = VCPU_ON_PENDING;
		cpu_kick(v->cpu);
	}
	partition_unlock(&locked);
	return ret;
}

int64_t lifecycle_affinity_info(struct vcpu *caller, uint64_t target,
				uint64_t lowest_level)
{
	struct vcpu *v = vcpu_by_mpidr(caller->part, target);
	struct partition_locked locked;
	int64_t ret;

	if (v == NULL || lowest_level != 0) {
		return PSCI_INVALID_PARAMETERS;
	}
	locked = partition_lock(caller->part);
	ret = v->state == VCPU_ON	    ? PSCI_AFFINITY_ON
	      : v->state == VCPU_ON_PENDING ? PSCI_AFFINITY_ON_PENDING
					    : PSCI_AFFINITY_OFF;
	partition_unlock(&locked);
	return ret;
}

/* Turns the caller's own vCPU off and releases the lock; powers the
 * machine off when that was the last running partition. */
static void turn_self_off(struct partition_locked locked, struct vcpu *v)
{
	bool last;

	vcpu_set_off(v);
	last = vcpu_went_off(&locked, v);
	partition_unlock(&locked);
	if (last) {
		power_off_machine();
	}
}

void lifecycle_cpu_off(struct vcpu *v)
{
	ffa_notify_flush(v); /* before the lock: it takes its schedulers' */
	turn_self_off(partition_lock(v->part), v);
}

/* Stops every vCPU of the caller's partition; the last one to stop
 * finishes the off or reset. */
static void stop_partition(struct vcpu *v, enum partition_state why)
{
	struct partition *p = v->part;
	struct partition_locked locked = partition_lock(p);

	p->state = why;
	for (uint16_t i = 0; i < p->m->vcpu_count; i++) {
		if (i != v->index && p->vcpus[i].state != VCPU_OFF) {
			cpu_kick(p->vcpus[i].cpu);
		}
	}
	turn_self_off(locked, v);
}

void lifecycle_system_off(struct vcpu *v)
{
	stop_partition(v, PARTITION_STOPPING);
}

void lifecycle_system_reset(struct vcpu *v)
{
	stop_partition(v, PARTITION_RESETTING);
}
