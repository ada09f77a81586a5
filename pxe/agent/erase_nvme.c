/*
 * erase_nvme.c — the NVMe admin commands of an erase, through the
 * kernel's NVME_IOCTL_ADMIN_CMD on the namespace's block device: Identify
 * (controller and namespace: what it can erase), Format NVM with a Secure
 * Erase Setting, Sanitize and its status log page. Offsets are those of
 * the NVMe Base Specification.
 */
#include <errno.h>
#include <linux/nvme_ioctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "pxe/agent/agent.h"

#define NVME_ADMIN_LOG_PAGE	0x02
#define NVME_ADMIN_IDENTIFY	0x06
#define NVME_ADMIN_FORMAT	0x80
#define NVME_ADMIN_SANITIZE	0x84
#define NVME_LOG_SANITIZE	0x81
#define NVME_IDENTIFY_BYTES	4096
#define NVME_SANITIZE_LOG_BYTES	512
#define NVME_SHORT_TIMEOUT_MS	(30 * 1000)

static uint16_t
le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t
le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

/* An identify string field: trailing blanks cut. */
static void
id_string(char *dst, size_t len, const uint8_t *src, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < len; i++)
		dst[i] = src[i] >= 0x20 && src[i] < 0x7f ? (char)src[i] : '?';
	while (i > 0 && dst[i - 1] == ' ')
		i--;
	dst[i] = '\0';
}

/* One admin command; 0, or -1 with err naming what and the status. */
static int
admin(int fd, struct nvme_admin_cmd *c, const char *what, char *err,
    size_t errlen)
{
	int rc = ioctl(fd, NVME_IOCTL_ADMIN_CMD, c);

	if (rc < 0) {
		snprintf(err, errlen, "NVMe %s: %s", what, strerror(errno));
		return -1;
	}
	if (rc > 0) {
		/* The command's status: SCT in bits 10:8, SC in 7:0. */
		snprintf(err, errlen, "NVMe %s: the controller refused it "
		    "(status type %d, code 0x%02x)", what, (rc >> 8) & 7,
		    rc & 0xff);
		return -1;
	}
	return 0;
}

int
nvme_admin(int fd, uint8_t opcode, uint32_t nsid, uint32_t cdw10, void *buf,
    uint32_t len, uint32_t timeout_ms, const char *what, char *err,
    size_t errlen)
{
	struct nvme_admin_cmd c;

	memset(&c, 0, sizeof(c));
	c.opcode = opcode;
	c.nsid = nsid;
	c.addr = (uint64_t)(uintptr_t)buf;
	c.data_len = len;
	c.cdw10 = cdw10;
	c.timeout_ms = timeout_ms;
	return admin(fd, &c, what, err, errlen);
}

static int
identify(int fd, uint32_t nsid, uint32_t cns, uint8_t *buf, char *err,
    size_t errlen)
{
	return nvme_admin(fd, NVME_ADMIN_IDENTIFY, nsid, cns, buf,
	    NVME_IDENTIFY_BYTES, NVME_SHORT_TIMEOUT_MS, cns == 1 ?
	    "Identify Controller" : "Identify Namespace", err, errlen);
}

int
nvme_probe(int fd, struct nvme_info *ni, char *err, size_t errlen)
{
	uint8_t *buf;
	int nsid;

	memset(ni, 0, sizeof(*ni));
	if ((nsid = ioctl(fd, NVME_IOCTL_ID)) <= 0)
		return 0;	/* not an NVMe namespace */
	ni->nsid = (uint32_t)nsid;
	if ((buf = calloc(1, NVME_IDENTIFY_BYTES)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (identify(fd, 0, 1, buf, err, errlen) != 0)
		goto fail;
	id_string(ni->serial, sizeof(ni->serial), buf + 4, 20);
	id_string(ni->model, sizeof(ni->model), buf + 24, 40);
	ni->oacs = le16(buf + 256);
	ni->sanicap = le32(buf + 328);
	ni->nn = le32(buf + 516);
	ni->fna = buf[524];
	memset(buf, 0, NVME_IDENTIFY_BYTES);
	if (identify(fd, ni->nsid, 0, buf, err, errlen) != 0)
		goto fail;
	ni->flbas = buf[26];
	ni->dps = buf[29];
	ni->dlfeat = buf[33];
	free(buf);
	return 1;
fail:
	free(buf);
	return -1;
}

int
nvme_format(int fd, const struct nvme_info *ni, int ses, uint32_t timeout_ms,
    char *err, size_t errlen)
{
	struct nvme_admin_cmd c;
	uint32_t lbaf = (ni->flbas & 0x0f) | ((ni->flbas >> 5) & 3) << 4;

	/* The namespace keeps its format: LBA format (bits 3:0, and 13:12
	 * for the 5th and 6th bits), metadata setting, protection type and
	 * place; only the Secure Erase Setting is asked for. */
	memset(&c, 0, sizeof(c));
	c.opcode = NVME_ADMIN_FORMAT;
	/* Format (or its secure erase) applying to every namespace takes
	 * the broadcast id. */
	c.nsid = ni->fna & (ses ? 3 : 1) ? 0xffffffffu : ni->nsid;
	c.cdw10 = (lbaf & 0x0f) | (uint32_t)(ni->flbas & 0x10) |
	    (uint32_t)(ni->dps & 7) << 5 | (uint32_t)((ni->dps >> 3) & 1) << 8 |
	    (uint32_t)(ses & 7) << 9 | (lbaf >> 4) << 12;
	c.timeout_ms = timeout_ms;
	return admin(fd, &c, "Format NVM", err, errlen);
}

int
nvme_sanitize(int fd, int sanact, char *err, size_t errlen)
{
	struct nvme_admin_cmd c;

	memset(&c, 0, sizeof(c));
	c.opcode = NVME_ADMIN_SANITIZE;
	/* AUSE (bit 3): a failed sanitize may be left without another. */
	c.cdw10 = (uint32_t)(sanact & 7) | 1u << 3;
	c.timeout_ms = NVME_SHORT_TIMEOUT_MS;
	return admin(fd, &c, "Sanitize", err, errlen);
}

int
nvme_sanitize_status(int fd, unsigned *sstat, unsigned *sprog, char *err,
    size_t errlen)
{
	struct nvme_admin_cmd c;
	uint8_t buf[NVME_SANITIZE_LOG_BYTES];

	memset(&c, 0, sizeof(c));
	memset(buf, 0, sizeof(buf));
	c.opcode = NVME_ADMIN_LOG_PAGE;
	c.nsid = 0xffffffffu;
	c.addr = (uint64_t)(uintptr_t)buf;
	c.data_len = sizeof(buf);
	c.cdw10 = NVME_LOG_SANITIZE | (uint32_t)(sizeof(buf) / 4 - 1) << 16;
	c.timeout_ms = NVME_SHORT_TIMEOUT_MS;
	if (admin(fd, &c, "Get Log Page (sanitize status)", err, errlen) != 0)
		return -1;
	*sprog = le16(buf);
	*sstat = le16(buf + 2) & 7;
	return 0;
}
