/* Assembler helpers for the guest SDK. */
.macro adr_l, reg, sym adrp	\reg, \sym add	\reg, \reg, : lo12 :\sym.endm

#define GUEST_STACK_SIZE   16384
#define R_AARCH64_RELATIVE 1027
