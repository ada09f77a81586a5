/*
 * diskless.c — what a node that runs a rootfs image from RAM is given. A
 * node with boot_mode "diskless" and a rootfs image gets, each time it
 * fetches its boot script, a new "diskless" job (boot.c decides, jobs.c
 * creates it) and the script rendered here, which boots the clone kernel
 * and initramfs in diskless mode (rackd.mode=diskless): the initramfs
 * fetches the image (chunk by chunk, or as one stream, see
 * diskless_stream.c), verifies it, unpacks it into a tmpfs, applies the
 * node's overlay and switches into it. The job shows that boot's progress
 * and result like a reimage does.
 *
 * The per-node overlay (GET /boot/{slot}/overlay, only from the node's own
 * address) gives identity without per-node images: the hostname (the
 * slot's label, else the slot's name, as DHCP gives it), the operator's
 * SSH public keys (ssh_keys), and with ?cloud_init=1 a NoCloud seed for
 * cloud-init. It is JSON: {"hostname": H, "files": [{"path", "mode",
 * "type": "dir"|"file", "content"}]}, paths relative to the new root.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "appliance/rackd.h"
#include "db/db.h"
#include "images/manifest.h"

int
diskless_hostname(const char *slot, char *out, size_t len)
{
	json_t *node = db_node_get(slot);
	const char *label = node ? json_string_value(json_object_get(node,
	    "label")) : NULL;
	const char *src = label && *label ? label : slot;
	size_t n = 0;

	if (len == 0)
		return -1;
	/* As DHCP gives it (dnsmasq.c): letters, digits and '-' only. */
	for (; *src != '\0' && n < len - 1 && n < HOSTNAME_MAX; src++, n++)
		out[n] = ((*src >= 'a' && *src <= 'z') || (*src >= 'A' &&
		    *src <= 'Z') || (*src >= '0' && *src <= '9')) ? *src : '-';
	out[n] = '\0';
	json_decref(node);
	return n > 0 ? 0 : -1;
}

int
diskless_script(const char *slot, const char *host, const struct db_job *job,
    char *buf, size_t len)
{
	return snprintf(buf, len, "#!ipxe\n"
	    "echo rackd: slot %s: diskless boot of %s (job %lld)\n"
	    "kernel http://%s/pxe/vmlinuz initrd=initrd.img "
	    "rackd.mode=diskless "
	    "rackd.url=http://%s rackd.job=%lld rackd.token=%s rackd.slot=%s "
	    "rackd.fetch=%s console=tty0 console=ttyS0,115200 panic=30\n"
	    "initrd http://%s/pxe/initrd.img\n"
	    "boot || goto failed\n"
	    ":failed\n"
	    "echo rackd: the diskless environment did not boot; retrying\n"
	    "sleep 10\n"
	    "chain http://%s/boot/%s.ipxe\n",
	    slot, job->image, (long long)job->id, host, host,
	    (long long)job->id, job->token, slot,
	    conf.diskless_stream ? "stream" : "chunks", host, host, slot);
}

int
diskless_cmdline(const char *slot, const struct db_job *job, char *buf,
    size_t len)
{
	return snprintf(buf, len, "rackd.mode=diskless rackd.job=%lld "
	    "rackd.token=%s rackd.slot=%s rackd.fetch=%s\n",
	    (long long)job->id, job->token, slot,
	    conf.diskless_stream ? "stream" : "chunks");
}

/* ---- the overlay -------------------------------------------------------- */

static int
add_file(json_t *files, const char *path, int mode, const char *content)
{
	json_t *f = content != NULL ?
	    json_pack("{s:s,s:s,s:i,s:s}", "path", path, "type", "file",
	    "mode", mode, "content", content) :
	    json_pack("{s:s,s:s,s:i}", "path", path, "type", "dir",
	    "mode", mode);

	return f != NULL ? json_array_append_new(files, f) : -1;
}

/* One authorized_keys line that looks like a public key. */
static int
key_line_ok(const char *s)
{
	static const char *const types[] = { "ssh-", "ecdsa-sha2-", "sk-" };

	for (const char *p = s; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
			return 0;
	/* a key type token, after any options */
	for (const char *p = s; p != NULL && *p != '\0'; ) {
		for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++)
			if ((p == s || p[-1] == ' ') &&
			    strncmp(p, types[i], strlen(types[i])) == 0)
				return 1;
		p = strchr(p, ' ');
		if (p != NULL)
			p++;
	}
	return 0;
}

/* The operator's keys (conf.ssh_keys) into keys: a JSON array of lines. */
static json_t *
read_keys(void)
{
	json_t *keys = json_array();
	char *text, *line, *save = NULL;
	ssize_t got;
	size_t len = 0;
	int fd;

	if (keys == NULL || conf.ssh_keys == NULL || conf.ssh_keys[0] == '\0')
		return keys;
	if ((fd = open(conf.ssh_keys, O_RDONLY | O_CLOEXEC)) < 0) {
		log_warnx("ssh_keys %s: %s; diskless nodes get no keys",
		    conf.ssh_keys, strerror(errno));
		return keys;
	}
	if ((text = malloc(SSH_KEYS_FILE_MAX + 1)) == NULL) {
		close(fd);
		return keys;
	}
	while (len <= SSH_KEYS_FILE_MAX && (got = read(fd, text + len,
	    SSH_KEYS_FILE_MAX + 1 - len)) > 0)
		len += (size_t)got;
	close(fd);
	if (len > SSH_KEYS_FILE_MAX) {
		log_warnx("ssh_keys %s: larger than %d bytes; diskless nodes "
		    "get no keys", conf.ssh_keys, SSH_KEYS_FILE_MAX);
		free(text);
		return keys;
	}
	text[len] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		size_t n = strlen(line);
		while (n > 0 && (line[n - 1] == '\r' || line[n - 1] == ' ' ||
		    line[n - 1] == '\t'))
			line[--n] = '\0';
		while (*line == ' ' || *line == '\t')
			line++;
		if (*line == '\0' || *line == '#')
			continue;
		if (strlen(line) > SSH_KEY_LINE_MAX || !key_line_ok(line)) {
			log_warnx("ssh_keys %s: a line that is not a "
			    "public key is skipped", conf.ssh_keys);
			continue;
		}
		if (json_array_size(keys) >= SSH_KEYS_MAX) {
			log_warnx("ssh_keys %s: more than %d keys; the rest "
			    "are skipped", conf.ssh_keys, SSH_KEYS_MAX);
			break;
		}
		json_array_append_new(keys, json_string(line));
	}
	free(text);
	return keys;
}

/* Text of the keys, one per line; cloud-config lines when yaml is set
 * (a JSON string is a YAML double-quoted scalar). */
static char *
keys_text(json_t *keys, int yaml)
{
	char *out = NULL, *q;
	size_t cap = 0, used = 0, i;
	json_t *k;

	json_array_foreach(keys, i, k) {
		char *enc = yaml ? json_dumps(k, JSON_ENCODE_ANY) :
		    strdup(json_string_value(k));
		size_t n;
		if (enc == NULL)
			continue;
		n = strlen(enc) + 8;
		if (used + n + 1 > cap) {
			cap = (used + n + 1) * 2;
			if ((q = realloc(out, cap)) == NULL) {
				free(enc);
				break;
			}
			out = q;
		}
		used += (size_t)snprintf(out + used, cap - used, "%s%s\n",
		    yaml ? "  - " : "", enc);
		free(enc);
	}
	return out != NULL ? out : strdup("");
}

json_t *
diskless_overlay_json(const char *slot, int cloud_init)
{
	char host[HOSTNAME_MAX + 1], line[SCRIPT_LINE_MAX];
	char id[SLOT_NAME_MAX + IMAGE_REF_MAX + 16];
	json_t *o = NULL, *files = json_array(), *keys = read_keys(), *node;
	char *authorized = NULL, *yaml = NULL, *userdata = NULL;
	const char *image;

	if (files == NULL || keys == NULL ||
	    diskless_hostname(slot, host, sizeof(host)) != 0 ||
	    (node = db_node_get(slot)) == NULL)
		goto out;
	image = json_string_value(json_object_get(node, "image"));
	snprintf(line, sizeof(line), "%s\n", host);
	add_file(files, "etc/hostname", 0644, line);
	if (json_array_size(keys) > 0) {
		authorized = keys_text(keys, 0);
		add_file(files, "root", 0700, NULL);
		add_file(files, "root/.ssh", 0700, NULL);
		add_file(files, "root/.ssh/authorized_keys", 0600, authorized);
	}
	if (cloud_init) {
		/* a new instance for each image the node runs */
		snprintf(id, sizeof(id), "rackd-%s-%s", slot, image ? image :
		    "none");
		for (char *p = id; *p != '\0'; p++)
			if (*p == ':')
				*p = '-';
		snprintf(line, sizeof(line), "instance-id: %s\nlocal-hostname: "
		    "%s\n", id, host);
		yaml = keys_text(keys, 1);
		if (yaml != NULL && asprintf(&userdata, "#cloud-config\n"
		    "hostname: %s\n%s%s", host, json_array_size(keys) ?
		    "ssh_authorized_keys:\n" : "", yaml) < 0)
			userdata = NULL;
		add_file(files, "var/lib/cloud/seed/nocloud", 0755, NULL);
		add_file(files, "var/lib/cloud/seed/nocloud/meta-data", 0644,
		    line);
		if (userdata != NULL)
			add_file(files, "var/lib/cloud/seed/nocloud/user-data",
			    0600, userdata);
	}
	o = json_pack("{s:s,s:s,s:O,s:i}", "slot", slot, "hostname", host,
	    "files", files, "ssh_keys", (int)json_array_size(keys));
	if (o != NULL && image != NULL)
		json_object_set_new(o, "image", json_string(image));
	json_decref(node);
out:
	json_decref(files);
	json_decref(keys);
	free(authorized);
	free(yaml);
	free(userdata);
	return o;
}

void
diskless_overlay(struct req *r)
{
	const char *slot = http_param(r, 0), *ci = http_query(r, "cloud_init");
	struct db_link link;
	json_t *o;

	if (links_node_check(r, slot, &link) != 0)
		return;
	o = diskless_overlay_json(slot, ci != NULL && strcmp(ci, "1") == 0);
	if (o == NULL) {
		http_reply_error(r, 500, "cannot make the overlay");
		return;
	}
	log_info("slot %s fetched its diskless overlay%s", slot,
	    ci != NULL && strcmp(ci, "1") == 0 ? " (with a cloud-init seed)" :
	    "");
	http_reply_json(r, 200, o);
}
