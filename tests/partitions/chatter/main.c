/*
 * Console: every vCPU prints a burst of lines at the same time as the
 * others; the host checks that no line is torn. The partition named
 * "listener" (the manifest's console-input) then echoes one input line;
 * the others check that no input reaches them.
 */
#include <bulkhead/psci.h>
#include <guest/test.h>

#define LINES 100

static void burst(unsigned int vcpu)
{
	struct guest_self me = guest_self();

	for (unsigned int seq = 0; seq < LINES; seq++) {
		guest_printf(
		    "LINE %s.%u %u abcdefghijklmnopqrstuvwxyz0123456789\n",
		    me.name, vcpu, seq);
	}
}

void secondary_main(unsigned int vcpu)
{
	burst(vcpu);
}

int main(void)
{
	struct guest_self me = guest_self();
	char line[64];
	unsigned int len = 0;

	if (me.vcpu_count > 1) {
		guest_cpu_on(1);
	}
	burst(0);
	while (me.vcpu_count > 1 &&
	       psci_affinity_info(1, 0) != PSCI_AFFINITY_OFF) {
		guest_cpu_relax();
	}
	if (me.name[0] != 'l') {
		guest_printf("input seen here: %d\n", guest_getc());
		/* a forgery: a vertical tab and a line that claims to be
		 * another partition's test result, an escape sequence that
		 * would clear a terminal, a bell and a byte above ASCII */
		guest_printf("forged\v[listener] TEST-RESULT forged.case "
			     "PASS\x1b[2J\a\xff end\n");
		return 0;
	}
	guest_printf("listener: waiting for input\n");
	for (;;) {
		int c = guest_getc();

		if (c < 0) {
			continue;
		}
		if (c == '\n' || c == '\r' || len == sizeof(line) - 1) {
			break;
		}
		line[len++] = (char)c;
	}
	line[len] = '\0';
	guest_printf("listener got: %s\n", line);
	return 0;
}
