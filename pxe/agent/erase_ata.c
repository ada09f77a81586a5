/*
 * erase_ata.c — ATA SECURITY ERASE UNIT through SG_IO's ATA PASS-THROUGH
 * (16) (the SCSI/ATA Translation libata gives a SATA disk): IDENTIFY
 * DEVICE for the Security feature set's word 128, then a temporary user
 * password, SECURITY ERASE PREPARE and SECURITY ERASE UNIT. A drive that
 * fails the erase gets its password disabled again, so that it is not
 * left locked. Words are those of ATA8-ACS / ACS-3.
 */
#include <errno.h>
#include <scsi/sg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "pxe/agent/agent.h"

#define ATA_16			0x85
#define ATA_PROTO_NONDATA	3
#define ATA_PROTO_PIO_IN	4
#define ATA_PROTO_PIO_OUT	5
#define ATA_IDENTIFY		0xec
#define ATA_SEC_SET_PASS	0xf1
#define ATA_SEC_ERASE_PREP	0xf3
#define ATA_SEC_ERASE_UNIT	0xf4
#define ATA_SEC_DISABLE		0xf6
#define ATA_SECTOR		512
#define ATA_SHORT_TIMEOUT_MS	(30 * 1000)
/* Only while the erase runs; the drive drops it when the erase ends. */
#define ATA_TEMP_PASSWORD	"rackd-erase"

/* One command: 0, or -1 with err. */
static int
ata_cmd(int fd, uint8_t cmd, int proto, uint8_t *buf, unsigned timeout_ms,
    const char *what, char *err, size_t errlen)
{
	uint8_t cdb[16], sense[32];
	struct sg_io_hdr h;

	memset(cdb, 0, sizeof(cdb));
	memset(sense, 0, sizeof(sense));
	memset(&h, 0, sizeof(h));
	cdb[0] = ATA_16;
	cdb[1] = (uint8_t)(proto << 1);
	/* Data in: T_DIR, BYT_BLOK, T_LENGTH in the sector count. */
	cdb[2] = proto == ATA_PROTO_PIO_IN ? 0x0e :
	    proto == ATA_PROTO_PIO_OUT ? 0x06 : 0x00;
	cdb[6] = proto == ATA_PROTO_NONDATA ? 0 : 1;
	cdb[14] = cmd;
	h.interface_id = 'S';
	h.cmd_len = sizeof(cdb);
	h.cmdp = cdb;
	h.mx_sb_len = sizeof(sense);
	h.sbp = sense;
	h.timeout = timeout_ms;
	h.dxfer_direction = proto == ATA_PROTO_PIO_IN ? SG_DXFER_FROM_DEV :
	    proto == ATA_PROTO_PIO_OUT ? SG_DXFER_TO_DEV : SG_DXFER_NONE;
	if (proto != ATA_PROTO_NONDATA) {
		h.dxferp = buf;
		h.dxfer_len = ATA_SECTOR;
	}
	if (ioctl(fd, SG_IO, &h) < 0) {
		snprintf(err, errlen, "ATA %s: %s", what, strerror(errno));
		return -1;
	}
	if (h.status != 0 || h.host_status != 0 ||
	    (h.driver_status & 0x0f) != 0) {
		/* Descriptor sense with the ATA status return: its error
		 * register says the drive aborted the command. */
		if ((sense[0] & 0x7f) == 0x72 && sense[8] == 0x09)
			snprintf(err, errlen, "ATA %s: the drive aborted it "
			    "(status 0x%02x, error 0x%02x)", what, sense[21],
			    sense[11]);
		else
			snprintf(err, errlen, "ATA %s failed (SCSI status "
			    "0x%x, host 0x%x, driver 0x%x, sense key 0x%x)",
			    what, h.status, h.host_status, h.driver_status,
			    (sense[0] & 0x7f) == 0x72 ? sense[1] & 0x0f :
			    sense[2] & 0x0f);
		return -1;
	}
	return 0;
}

static unsigned
word(const uint8_t *id, int w)
{
	return (unsigned)(id[2 * w] | id[2 * w + 1] << 8);
}

/* Minutes of an erase time word (ATA8-ACS: x2 min; ACS-3 extended form
 * when bit 15 is set); 0 when the drive does not say. */
static unsigned
erase_minutes(unsigned w)
{
	if (w & 0x8000)
		return (w & 0x7fff) * 2;
	if ((w & 0xff) == 255)
		return 508;	/* "more than 508 minutes" */
	return (w & 0xff) * 2;
}

int
ata_probe(int fd, struct ata_info *ai, char *err, size_t errlen)
{
	uint8_t id[ATA_SECTOR];
	unsigned w128;

	memset(ai, 0, sizeof(*ai));
	memset(id, 0, sizeof(id));
	if (ata_cmd(fd, ATA_IDENTIFY, ATA_PROTO_PIO_IN, id,
	    ATA_SHORT_TIMEOUT_MS, "IDENTIFY DEVICE", err, errlen) != 0)
		return 0;	/* no ATA pass-through: not an ATA disk */
	/* Model: words 27-46, two characters a word, high byte first. */
	for (int i = 0; i < 40; i++) {
		uint8_t ch = id[54 + (i ^ 1)];
		ai->model[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	for (int i = 40; i > 0 && ai->model[i - 1] == ' '; i--)
		ai->model[i - 1] = '\0';
	w128 = word(id, 128);
	ai->supported = (word(id, 82) & 2) != 0 && (w128 & 1) != 0;
	ai->enabled = (w128 & 2) != 0;
	ai->locked = (w128 & 4) != 0;
	ai->frozen = (w128 & 8) != 0;
	ai->enhanced = (w128 & 0x20) != 0;
	ai->erase_min = erase_minutes(word(id, 89));
	ai->enhanced_min = erase_minutes(word(id, 90));
	return 1;
}

/* The 512 bytes of a security command: word 0 (control), then the
 * password in words 1-16. */
static void
password_block(uint8_t *buf, unsigned control)
{
	memset(buf, 0, ATA_SECTOR);
	buf[0] = (uint8_t)(control & 0xff);
	buf[1] = (uint8_t)(control >> 8);
	memcpy(buf + 2, ATA_TEMP_PASSWORD, strlen(ATA_TEMP_PASSWORD));
}

int
ata_security_erase(int fd, int enhanced, unsigned timeout_ms, char *err,
    size_t errlen)
{
	uint8_t buf[ATA_SECTOR];
	char e2[ERR_MAX];

	/* User password (bit 0 clear), high security (bit 8 clear). */
	password_block(buf, 0);
	if (ata_cmd(fd, ATA_SEC_SET_PASS, ATA_PROTO_PIO_OUT, buf,
	    ATA_SHORT_TIMEOUT_MS, "SECURITY SET PASSWORD", err, errlen) != 0)
		return -1;
	if (ata_cmd(fd, ATA_SEC_ERASE_PREP, ATA_PROTO_NONDATA, NULL,
	    ATA_SHORT_TIMEOUT_MS, "SECURITY ERASE PREPARE", err, errlen) == 0) {
		password_block(buf, enhanced ? 2 : 0);
		if (ata_cmd(fd, ATA_SEC_ERASE_UNIT, ATA_PROTO_PIO_OUT, buf,
		    timeout_ms, "SECURITY ERASE UNIT", err, errlen) == 0)
			return 0;	/* the drive disabled the password */
	}
	/* Not erased: take the password off again. */
	password_block(buf, 0);
	if (ata_cmd(fd, ATA_SEC_DISABLE, ATA_PROTO_PIO_OUT, buf,
	    ATA_SHORT_TIMEOUT_MS, "SECURITY DISABLE PASSWORD", e2,
	    sizeof(e2)) != 0) {
		size_t n = strlen(err);
		snprintf(err + n, errlen - n, "; and the temporary user "
		    "password \"%s\" is still set (%s)", ATA_TEMP_PASSWORD,
		    e2);
	}
	return -1;
}
