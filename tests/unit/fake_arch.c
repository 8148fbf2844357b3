/* Host stand-ins for the hypervisor's arch hooks and log. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <core/arch_mm.h>
#include <core/log.h>

#include "fake_arch.h"

struct fake_tlb fake_tlb;

void arch_mm_sync_table_writes(void)
{
}

void arch_mm_zero_table(pte_t *table)
{
	memset(table, 0, PAGE_SIZE);
}

void arch_mm_invalidate_stage2(const struct mm_ptable *t, ipaddr_t begin,
			       ipaddr_t end)
{
	uint32_t mode;

	fake_tlb.calls++;
	fake_tlb.last_vmid = t->vmid;
	fake_tlb.last_begin = ipa_addr(begin);
	fake_tlb.last_end = ipa_addr(end);
	/* Break-before-make: by now the old translation must be gone. */
	if (fake_tlb.table != NULL &&
	    mm_get_mode(fake_tlb.table, begin, end, &mode) &&
	    !(mode & MM_MODE_INVALID)) {
		fake_tlb.live_at_invalidate++;
	}
}

void log_line(int level, const char *format, ...)
{
	va_list ap;

	(void)level;
	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
}

_Noreturn void panic(const char *format, ...)
{
	va_list ap;

	va_start(ap, format);
	vfprintf(stderr, format, ap);
	va_end(ap);
	fputc('\n', stderr);
	abort();
}
