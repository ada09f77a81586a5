/*
 * tests/integration/relay_board.h — what relay_board and hidraw_shim
 * share: the message of a feature report passed over relay_board's
 * socket when there is no uhid (one SOCK_SEQPACKET message each way).
 */
#ifndef RACKD_TESTS_RELAY_BOARD_H
#define RACKD_TESTS_RELAY_BOARD_H

#include <stdint.h>

#define BOARD_MSG_MAX		64	/* a report's bytes, at most */
#define BOARD_RDESC_SIZE	22	/* the board's report descriptor */
#define BOARD_REPORT_LEN	8
#define BOARD_SERIAL_LEN	5
#define BOARD_STATE_BYTE	7

enum { BOARD_SET = 1, BOARD_GET = 2 };

struct board_msg {
	int32_t		 op;	/* BOARD_SET, BOARD_GET */
	int32_t		 rc;	/* the answer: bytes, or -errno */
	uint32_t	 len;	/* of data: the ioctl's buffer */
	unsigned char	 data[BOARD_MSG_MAX];	/* report number first */
};

#endif
