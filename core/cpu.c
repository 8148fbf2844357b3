/* The loop every physical CPU runs: enter the pinned vCPU, handle its exit. */
#include <core/arch.h>
#include <core/bench.h>
#include <core/call.h>
#include <core/console.h>
#include <core/cpu.h>
#include <core/ffa_notify.h>
#include <core/irqchip.h>
#include <core/lifecycle.h>
#include <core/log.h>
#include <core/vcpu.h>
#include <core/vgic.h>

/*
 * A trapped WFI of `v`: it idles unless something is pending for it. A
 * vCPU that owes delayed schedule receiver interrupts has wake_pending set
 * (ffa_notify_schedule), so its WFI returns at once and, as it gave its
 * CPU back, raises them here; an idling vCPU owes none, and the idle path
 * does not look.
 */
static void vcpu_idle(struct vcpu *v)
{
	struct partition_locked locked;
	bool woke;

	vgic_sync(v); /* what the guest took or ended is known */
	locked = partition_lock(v->part);
	woke = v->wake_pending || v->part->mailbox.msg_unseen ||
	       vgic_deliverable(v);
	if (woke) {
		v->wake_pending = false;
	} else {
		v->wait = VCPU_WAIT_IDLE;
	}
	partition_unlock(&locked);
	if (woke) {
		ffa_notify_flush(v);
	}
}

/* The virtual CPU interface's maintenance interrupt on `v`'s CPU: its
 * list registers are folded and filled again (which ends the interrupt's
 * cause); an idle vCPU with something to take wakes. */
static void vcpu_maintenance(struct vcpu *v)
{
	struct partition_locked locked;

	vgic_sync(v);
	locked = partition_lock(v->part);
	if (v->wait == VCPU_WAIT_IDLE && vgic_deliverable(v)) {
		v->wait = VCPU_RUNNABLE;
	}
	partition_unlock(&locked);
}

/*
 * The EL2 physical timer fired on the CPU of `v`, the vCPU pinned there
 * (every deadline is one of its own; a CPU without one has none): what
 * each expired deadline is for (core/deadline.c). A ready wait's or a held
 * start's end is seen by the loop itself (lifecycle_vcpu_ready looks at
 * the time).
 */
static __attribute__((noinline)) void deadline_timer(struct vcpu *v)
{
	uint32_t expired;

	if (v == NULL) {
		arch_hyp_timer_stop();
		return;
	}
	expired = deadline_expired(&cpus[v->cpu]);
	if (expired & (1u << DEADLINE_CONSOLE_QUIET)) {
		vconsole_quiet(v);
	}
}

/*
 * Takes every interrupt pending at this CPU: the kick (another CPU changed
 * something of `v`: the loop looks again), the maintenance interrupt (its
 * list registers need refilling, or an emulated level interrupt was
 * deactivated), and interrupts that belong to a partition (the virtual
 * timer, pass-through SPIs), which stay active until the guest
 * deactivates them, and the hypervisor's own timer (deadline_timer).
 * `v` is the vCPU pinned here, or NULL.
 */
static void handle_interrupts(struct vcpu *v)
{
	uint32_t intid;

	while ((intid = irqchip_ack()) != IRQCHIP_SPURIOUS) {
		irqchip_eoi(intid); /* priority drop only */
		if (intid == VGIC_INTID_MAINTENANCE) {
			/* level: its cause (an emulated interrupt ended, the
			 * list registers ran low) goes first */
			if (v != NULL && v->state == VCPU_ON) {
				vcpu_maintenance(v);
			} else {
				arch_vgic_reset(); /* nothing to keep */
			}
			irqchip_deactivate(intid);
		} else if (intid == ARCH_HYP_TIMER_PPI) {
			deadline_timer(v);
			irqchip_deactivate(intid);
		} else if (intid < VGIC_SGIS ||
			   vconsole_input_interrupt(intid) ||
			   !vgic_hw_interrupt(v, intid)) {
			irqchip_deactivate(intid);
		}
	}
}

static const char *abort_kind(const struct arch_trap_info *t)
{
	if (t->kind == ARCH_TRAP_INSN_ABORT) {
		return "instruction fetch";
	}
	return t->write ? "write" : "read";
}

/* Log lines a partition's faults and traps may cause per boot, so a
 * partition cannot keep the shared console busy with them. */
#define FAULT_LOG_LIMIT 8

/* Whether this fault of `p` may still be logged (and a last line saying
 * the rest are not). */
static bool fault_log_allowed(struct partition *p)
{
	uint32_t n = __atomic_add_fetch(&p->fault_count, 1, __ATOMIC_RELAXED);

	if (n == FAULT_LOG_LIMIT + 1) {
		WARN("partition %s: further faults and traps not logged",
		     p->m->name);
	}
	return n <= FAULT_LOG_LIMIT;
}

static void handle_abort(struct vcpu *v, const struct arch_trap_info *t)
{
	struct partition *p = v->part;
	uint32_t need = t->kind == ARCH_TRAP_INSN_ABORT ? MM_MODE_X
			: t->write			? MM_MODE_W
							: MM_MODE_R;

	if (!t->fault_ipa_valid) {
		/* an external abort or a TLB conflict: no IPA to look at,
		 * nothing to retry; the partition gets it */
	} else if (t->kind == ARCH_TRAP_DATA_ABORT &&
		   (vconsole_claims(p, t->fault_ipa) ||
		    vgic_claims(p, t->fault_ipa))) {
		if (t->syndrome_valid && vconsole_claims(p, t->fault_ipa)) {
			vconsole_access(v, t);
			return;
		}
		if (t->syndrome_valid) {
			vgic_mmio(v, t);
			return;
		}
		if (fault_log_allowed(p)) {
			DEBUG("partition %s vcpu %u: device access at pc %#lx "
			      "cannot be emulated (no syndrome)",
			      p->m->name, v->index, v->regs.pc);
		}
		arch_inject_abort(&v->regs, t);
		return;
	} else if (partition_access_allowed(p, t->fault_ipa, need)) {
		/* The table changed under a break-before-make: retry. */
		return;
	}
	if (fault_log_allowed(p)) {
		DEBUG("partition %s vcpu %u: %s abort at %#lx (ESR %#lx) pc "
		      "%#lx: injected",
		      p->m->name, v->index, abort_kind(t), t->far, t->esr,
		      v->regs.pc);
	}
	arch_inject_abort(&v->regs, t);
}

static void handle_sync(struct vcpu *v)
{
	struct arch_trap_info t;

	if (arch_trap_is_hvc0()) {
		call_handle(v);
		return;
	}
	arch_trap_decode(&t);
	switch (t.kind) {
	case ARCH_TRAP_SMC:
		arch_skip_instruction(&v->regs);
		__attribute__((fallthrough)); /* same conduit as HVC */
	case ARCH_TRAP_HVC:
		if (t.imm != 0) {
			v->regs.x[0] = (uint64_t)-1;
			v->regs.x[1] = v->regs.x[2] = v->regs.x[3] = 0;
			break;
		}
		call_handle(v);
		break;
	case ARCH_TRAP_WFX:
		/* Idle until something is pending for the vCPU (cpu_main
		 * waits in WFI while it is not runnable). */
		arch_skip_instruction(&v->regs);
		vcpu_idle(v);
		break;
	case ARCH_TRAP_DATA_ABORT:
	case ARCH_TRAP_INSN_ABORT:
		handle_abort(v, &t);
		break;
	case ARCH_TRAP_SYSREG_RAZ_WI:
		if (!t.write && t.reg < 31) {
			v->regs.x[t.reg] = 0;
		}
		arch_skip_instruction(&v->regs);
		break;
	case ARCH_TRAP_CACHE_SET_WAY:
		arch_skip_instruction(&v->regs);
		break;
	case ARCH_TRAP_SGI:
		vgic_send_sgi(v, t.reg < 31 ? v->regs.x[t.reg] : 0);
		arch_skip_instruction(&v->regs);
		break;
	case ARCH_TRAP_OTHER:
		/* An instruction we do not emulate: undefined to it, as the
		 * architecture has it. */
		if (fault_log_allowed(v->part)) {
			WARN("partition %s vcpu %u: trapped instruction (ESR "
			     "%#lx) at pc %#lx: undefined instruction injected",
			     v->part->m->name, v->index, t.esr, v->regs.pc);
		}
		arch_inject_undef(&v->regs, &t);
		break;
	}
}

_Noreturn void cpu_main(struct cpu *c)
{
	struct vcpu *v = c->vcpu;

	for (;;) {
		if (panic_in_progress()) {
			for (;;) {
				arch_wait_for_interrupt();
			}
		}
		if (v == NULL ||
		    (!vcpu_runnable_now(v) && !lifecycle_vcpu_ready(v))) {
			arch_wait_for_interrupt();
			handle_interrupts(v);
			continue;
		}
		if (__atomic_load_n(&v->vgic.dirty, __ATOMIC_RELAXED)) {
			vgic_sync(v);
		}
		enum arch_exit_kind exit = arch_vcpu_enter(&v->regs);

		if (IS_ENABLED(CONFIG_BENCH_BOOT_COUNT)) {
			bench_boot_sample(c);
		}
		switch (exit) {
		case ARCH_EXIT_SYNC:
			handle_sync(v);
			break;
		case ARCH_EXIT_IRQ:
		case ARCH_EXIT_FIQ:
			handle_interrupts(v);
			break;
		case ARCH_EXIT_SERROR:
			WARN("partition %s vcpu %u: SError at pc %#lx",
			     v->part->m->name, v->index, v->regs.pc);
			break;
		}
	}
}
