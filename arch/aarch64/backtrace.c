/*
 * Backtrace from AArch64 frame records: each frame's x29 points to
 * {previous x29, return address}. The hypervisor is built with
 * -fno-omit-frame-pointer. Every record is checked to lie on a hypervisor
 * stack, 16-byte aligned, above the previous one, so a corrupt chain ends
 * the walk instead of faulting.
 */
#include <arch/regs.h>
#include <core/log.h>
#include <core/symbols.h>

#define BACKTRACE_MAX_FRAMES 32

extern const uint8_t __bss_start[];
extern const uint8_t __bss_end[];

/* Stacks (boot and per CPU) are in bss. */
static bool on_stack(uint64_t fp)
{
	return fp >= (uint64_t)(uintptr_t)__bss_start &&
	       fp + 16 <= (uint64_t)(uintptr_t)__bss_end && (fp & 15) == 0;
}

static void print_frame(int index, uint64_t addr)
{
	uint64_t offset = 0;
	const char *name = symbols_lookup(addr, &offset);

	if (name != NULL) {
		log_line(LOG_LEVEL_ERROR, "  #%-2d 0x%016lx %s+%#lx", index,
			 addr, name, offset);
	} else {
		log_line(LOG_LEVEL_ERROR, "  #%-2d 0x%016lx ?", index, addr);
	}
}

__attribute__((noinline)) void arch_backtrace(const struct arch_regs *frame)
{
	uint64_t fp;
	int index = 0;

	log_line(LOG_LEVEL_ERROR, "backtrace (call sites):");
	if (frame != NULL) {
		print_frame(index++, frame->pc);
		fp = frame->x[29];
	} else {
		fp = (uint64_t)(uintptr_t)__builtin_frame_address(0);
	}
	while (index < BACKTRACE_MAX_FRAMES && on_stack(fp)) {
		const uint64_t *record = (const uint64_t *)(uintptr_t)fp;
		uint64_t next = record[0];
		uint64_t ret = record[1];

		if (ret < 4) {
			break;
		}
		/* The call instruction, not the return address: a call to a
		 * _Noreturn function may be a function's last instruction. */
		print_frame(index++, ret - 4);
		if (next <= fp) {
			break;
		}
		fp = next;
	}
}
