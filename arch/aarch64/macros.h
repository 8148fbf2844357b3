/* Assembler helpers. */
.macro adr_l, reg, sym adrp	\reg, \sym add	\reg, \reg, : lo12 :\sym.endm
