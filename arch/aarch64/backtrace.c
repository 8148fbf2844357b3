/*
 * Backtrace from AArch64 frame records: each frame's x29 points to
 * {previous x29, return address}. The hypervisor is built with
 * -fno-omit-frame-pointer. Every record is checked to lie on a hypervisor
 * stack, 16-byte aligned, above the previous one, so a corrupt chain ends
 * the walk instead of faulting.
 */
#include <core/arch.h>

extern const uint8_t __bss_start[];
extern const uint8_t __bss_end[];

/* Stacks (boot and per CPU) are in bss. */
static bool on_stack(uint64_t fp)
{
	return fp >= (uint64_t)(uintptr_t)__bss_start &&
	       fp + 16 <= (uint64_t)(uintptr_t)__bss_end && (fp & 15) == 0;
}

__attribute__((noinline)) size_t arch_backtrace(const struct arch_regs *frame,
						uint64_t *addrs, size_t max)
{
	uint64_t fp;
	size_t count = 0;

	if (frame != NULL && count < max) {
		addrs[count++] = frame->pc;
		fp = frame->x[29];
	} else {
		fp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
	}
	while (count < max && on_stack(fp)) {
		const uint64_t *record = (const uint64_t *)(uintptr_t)fp;
		uint64_t next = record[0];
		uint64_t ret = record[1];

		if (ret < 4) {
			break;
		}
		/* The call instruction, not the return address: a call to a
		 * _Noreturn function may be a function's last instruction. */
		addrs[count++] = ret - 4;
		if (next <= fp) {
			break;
		}
		fp = next;
	}
	return count;
}
