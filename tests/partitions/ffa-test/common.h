/*
 * FF-A test partition: one image, several roles chosen by the partition's
 * name in the scenario manifest (see main.c). Shared definitions.
 */
#pragma once

#include <guest/ffa.h>
#include <guest/test.h>

/* Partition IDs in the ffa-setup and ffa-msg scenarios. */
#define ID_CLIENT    1
#define ID_ECHO	     2
#define ID_RELAY     3
#define ID_BYSTANDER 4

/* ffa-setup: the other partitions */
#define ID_PEER 2
#define ID_V11	3
#define ID_V10	4

/* Pages in the test buffers. */
#define BUF_PAGES 4

extern uint8_t tx_buf[BUF_PAGES * FFA_PAGE_SIZE];
extern uint8_t rx_buf[BUF_PAGES * FFA_PAGE_SIZE];
extern struct ffa_mailbox mb;

/* Maps tx_buf/rx_buf (one page each) into mb for `version`. */
void mailbox_setup(uint32_t version);

/* Blocks in MSG_WAIT until an indirect message is in RX (direct requests
 * are not expected here); returns the message and its payload. */
int32_t receive_message(struct ffa_msg *msg, const void **payload);

/* --- Commands understood by the echo and relay services ----------------
 * Indirect messages start with struct cmd_msg; direct requests carry the
 * command in payload word 0 (x3) when it is not a plain echo. */
enum cmd {
	CMD_ECHO = 0x45434830, /* echo the payload back to the sender */
	CMD_FORWARD,	       /* relay: forward to echo, reply to origin */
	CMD_HOLD,	       /* relay: keep RX and spin until released */
	CMD_CALLBACK,	       /* echo: direct-request the sender, then ack */
	CMD_QUIT,	       /* stop the service loop */
	CMD_UNMAP_RX,	       /* echo (direct): unmap RX/TX */
	CMD_MAP_RX,	       /* echo (direct): map them again */
	CMD_SELF_CHECKS,       /* echo (direct): misuse calls while serving */
	CMD_STATS,	       /* echo (direct): anomalies seen */
	CMD_POWER_OFF,	       /* echo (direct): SYSTEM_OFF while serving */
};

struct cmd_msg {
	uint32_t cmd;
	uint16_t origin; /* who gets the final reply */
	uint16_t hops;
	uint32_t seq;
	uint32_t len;
	uint8_t data[64];
};

/* Shared page between client and relay (ffa-msg scenario). */
#define HOLD_FLAG_ADDR 0x4f000000ull
#define HOLD_SPINNING  1u
#define HOLD_RELEASE   2u

/* Role entry points (service.c, setup.c, msg.c). */
void echo_main(void);
void relay_main(void);
void bystander_main(void);
void client_setup_main(void);
void client_msg_main(void);
