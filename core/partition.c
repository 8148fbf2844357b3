/*
 * The partition table: lookup, locking (the order is in
 * core/include/core/partition.h) and questions about a partition's
 * memory. Life-cycle changes (boot, stop, reset) are in core/lifecycle.c.
 */
#include <core/partition.h>

struct partition partitions[CONFIG_MAX_PARTITIONS];
uint32_t partition_count;
struct cpu cpus[CONFIG_MAX_CPUS];

static struct mpool *page_pool;

void partition_table_init(struct mpool *pool)
{
	const struct manifest_platform *plat = &bulkhead_manifest.platform;

	page_pool = pool;
	for (uint32_t i = 0; i < plat->cpu_count; i++) {
		cpus[i].index = (uint8_t)i;
		cpus[i].mpidr = plat->cpu_mpidr[i];
	}
	partition_count = bulkhead_manifest.partition_count;
	for (uint32_t i = 0; i < partition_count; i++) {
		struct partition *p = &partitions[i];

		/* the compiler emits partitions in ID order, so locking by
		 * index is locking in ID order */
		p->m = &bulkhead_manifest.partitions[i];
		p->index = (uint16_t)i;
		p->lock = (struct spinlock)SPINLOCK_INIT;
		p->state = PARTITION_OFF;
		p->pool = pool;
		mpool_init(&p->reserve);
		for (uint16_t v = 0; v < p->m->vcpu_count; v++) {
			struct vcpu *vcpu = &p->vcpus[v];

			vcpu->part = p;
			vcpu->index = v;
			vcpu->cpu = p->m->cpus[v];
			vcpu->state = VCPU_OFF;
			cpus[vcpu->cpu].vcpu = vcpu;
		}
	}
}

struct partition_locked partition_lock(struct partition *p)
{
	sl_lock(&p->lock);
	return (struct partition_locked){p};
}

void partition_unlock(struct partition_locked *locked)
{
	sl_unlock(&locked->p->lock);
	locked->p = NULL;
}

void partition_lock_pair(struct partition *a, struct partition *b,
			 struct partition_locked *la,
			 struct partition_locked *lb)
{
	if (a->m->id < b->m->id) {
		*la = partition_lock(a);
		*lb = partition_lock(b);
	} else {
		*lb = partition_lock(b);
		*la = partition_lock(a);
	}
}

void partition_lock_set(struct partition_lock_set *set,
			struct partition *const *parts, uint32_t count)
{
	struct partition *sorted[PARTITION_LOCK_SET_MAX];
	uint32_t n = 0;

	/* insertion sort by ID, dropping duplicates */
	for (uint32_t i = 0; i < count; i++) {
		struct partition *p = parts[i];
		uint32_t at = n;
		bool dup = false;

		for (uint32_t j = 0; j < n; j++) {
			if (sorted[j] == p) {
				dup = true;
				break;
			}
			if (sorted[j]->m->id > p->m->id && at == n) {
				at = j;
			}
		}
		if (dup) {
			continue;
		}
		for (uint32_t j = n; j > at; j--) {
			sorted[j] = sorted[j - 1];
		}
		sorted[at] = p;
		n++;
	}
	set->count = n;
	for (uint32_t i = 0; i < n; i++) {
		set->locked[i] = partition_lock(sorted[i]);
	}
}

void partition_unlock_set(struct partition_lock_set *set)
{
	for (uint32_t i = set->count; i-- > 0;) {
		partition_unlock(&set->locked[i]);
	}
	set->count = 0;
}

struct partition *partition_find(uint16_t id)
{
	for (uint32_t i = 0; i < partition_count; i++) {
		if (partitions[i].m->id == id) {
			return &partitions[i];
		}
	}
	return NULL;
}

struct mpool *partition_pool(const struct partition *p)
{
	return p->pool;
}

bool partition_take_reserve(struct partition *p, size_t pages)
{
	if (!mpool_take(&p->reserve, page_pool, pages)) {
		return false;
	}
	p->pool = &p->reserve;
	return true;
}

size_t partition_pages_free(void)
{
	size_t free = mpool_count(page_pool);

	for (uint32_t i = 0; i < partition_count; i++) {
		if (partitions[i].pool != page_pool) {
			free += mpool_count(partitions[i].pool);
		}
	}
	return free;
}

bool partition_in_ram(const struct partition *p, ipaddr_t begin, uint64_t size)
{
	uint64_t b = ipa_addr(begin);

	for (uint32_t i = 0; i < p->m->mem_count; i++) {
		const struct manifest_region *r = &p->m->mem[i];

		if (b >= r->base && size <= r->size &&
		    b - r->base <= r->size - size) {
			return true;
		}
	}
	return false;
}

bool partition_access_allowed(struct partition *p, ipaddr_t ipa, uint32_t mode)
{
	struct partition_locked locked = partition_lock(p);
	ipaddr_t page = ipa_init(align_down(ipa_addr(ipa), PAGE_SIZE));
	uint32_t have = 0;
	bool ok = mm_get_mode(&p->ptable, page,
			      ipa_init(ipa_addr(page) + PAGE_SIZE), &have) &&
		  !(have & MM_MODE_INVALID) && (have & mode) == mode;

	partition_unlock(&locked);
	return ok;
}
