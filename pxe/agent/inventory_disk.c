/*
 * inventory_disk.c — what a disk says of itself beyond sysfs: its serial
 * when sysfs has none (the SCSI VPD page 0x80 through SG_IO, an NVMe
 * controller's Identify), and its SMART health summary: ATA SMART RETURN
 * STATUS through SG_IO (ATA PASS-THROUGH 16), or an NVMe SMART log's
 * critical_warning through NVME_IOCTL_ADMIN_CMD. A disk that answers
 * neither (virtio) is "unknown".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/nvme_ioctl.h>
#include <scsi/sg.h>

#include "pxe/agent/agent.h"

/* Copy n bytes of a fixed-width, blank-padded field as a string. */
static void
field(const uint8_t *p, size_t n, char *out, size_t outlen)
{
	size_t i = 0, k = 0;

	while (i < n && p[i] == ' ')
		i++;
	for (; i < n && p[i] != '\0' && k + 1 < outlen; i++)
		out[k++] = p[i] >= 0x20 && p[i] < 0x7f ? (char)p[i] : '?';
	while (k > 0 && out[k - 1] == ' ')
		k--;
	out[k] = '\0';
}

static int
sg_io(int fd, uint8_t *cdb, size_t cdblen, int dir, void *buf, size_t len,
    uint8_t *sense, size_t senselen)
{
	struct sg_io_hdr h;

	memset(&h, 0, sizeof(h));
	h.interface_id = 'S';
	h.cmdp = cdb;
	h.cmd_len = (unsigned char)cdblen;
	h.dxfer_direction = dir;
	h.dxferp = buf;
	h.dxfer_len = (unsigned)len;
	h.sbp = sense;
	h.mx_sb_len = (unsigned char)senselen;
	h.timeout = INV_IOCTL_TIMEOUT_MS;
	if (ioctl(fd, SG_IO, &h) != 0)
		return -1;
	return (int)h.sb_len_wr;
}

/* VPD page 0x80, the unit serial number. */
static int
scsi_serial(int fd, char *out, size_t outlen)
{
	uint8_t cdb[6] = { 0x12, 0x01, 0x80, 0, INV_VPD_LEN, 0 };
	uint8_t buf[INV_VPD_LEN], sense[32];
	size_t n;

	memset(buf, 0, sizeof(buf));
	if (sg_io(fd, cdb, sizeof(cdb), SG_DXFER_FROM_DEV, buf, sizeof(buf),
	    sense, sizeof(sense)) != 0 || buf[1] != 0x80)
		return -1;
	n = buf[3] < sizeof(buf) - 4 ? buf[3] : sizeof(buf) - 4;
	field(buf + 4, n, out, outlen);
	return out[0] != '\0' ? 0 : -1;
}

int
inventory_disk_ids(const char *dev, int nvme, char *serial, size_t slen,
    char *model, size_t mlen)
{
	uint8_t id[INV_NVME_ID_LEN];
	char err[ERR_MAX];	/* a disk that does not answer is no error */
	int fd, rc = -1;

	if ((fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return -1;
	if (nvme) {
		/* Identify Controller: serial at 4..23, model at 24..63. */
		if (nvme_admin(fd, 0x06, 0, 1, id, sizeof(id),
		    INV_IOCTL_TIMEOUT_MS, "Identify Controller", err,
		    sizeof(err)) == 0) {
			if (serial[0] == '\0')
				field(id + 4, 20, serial, slen);
			if (model[0] == '\0')
				field(id + 24, 40, model, mlen);
			rc = 0;
		}
	} else if (serial[0] == '\0') {
		rc = scsi_serial(fd, serial, slen);
	}
	close(fd);
	return rc;
}

/* SMART RETURN STATUS: the device puts 0x4f/0xc2 (passed) or 0xf4/0x2c
 * (threshold exceeded) in LBA mid/high, in the ATA return descriptor. */
static const char *
ata_smart(int fd)
{
	uint8_t cdb[16] = { 0x85, 3 << 1, 0x20, 0, 0xda, 0, 0, 0, 0, 0, 0x4f,
	    0, 0xc2, 0, 0xb0, 0 };
	uint8_t sense[64];
	const uint8_t *d;
	int n;

	memset(sense, 0, sizeof(sense));
	n = sg_io(fd, cdb, sizeof(cdb), SG_DXFER_NONE, NULL, 0, sense,
	    sizeof(sense));
	if (n < 8 + 14 || (sense[0] & 0x7f) != 0x72)
		return "unknown";
	for (d = sense + 8; d + 14 <= sense + n; d += 2 + d[1])
		if (d[0] == 0x09) {
			if (d[9] == 0x4f && d[11] == 0xc2)
				return "passed";
			if (d[9] == 0xf4 && d[11] == 0x2c)
				return "failed";
			break;
		}
	return "unknown";
}

const char *
inventory_disk_smart(const char *dev, int nvme)
{
	uint8_t log[INV_NVME_LOG_LEN];
	char err[ERR_MAX];	/* unknown, not an error */
	const char *v = "unknown";
	int fd;

	if ((fd = open(dev, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) < 0)
		return v;
	if (nvme) {
		/* Get Log Page 0x02 (SMART / health), all namespaces:
		 * byte 0 is critical_warning, 0 when all is well. */
		uint32_t numd = sizeof(log) / 4 - 1;
		if (nvme_admin(fd, 0x02, 0xffffffffu, numd << 16 | 0x02, log,
		    sizeof(log), INV_IOCTL_TIMEOUT_MS, "SMART log", err,
		    sizeof(err)) == 0)
			v = log[0] == 0 ? "passed" : "failed";
	} else {
		v = ata_smart(fd);
	}
	close(fd);
	return v;
}
