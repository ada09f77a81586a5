/*
 * event.c — a note for the job's event log (POST
 * /api/v1/agent/jobs/ID/event): an action says what it does and why, for
 * the operator reading the job. Notes are not worth failing a job for:
 * one that rackd does not take is logged on the console only.
 */
#include <stdarg.h>
#include <stdio.h>

#include "pxe/agent/agent.h"

void
agent_event(struct agent *a, const char *fmt, ...)
{
	char msg[EVENT_MAX], err[ERR_OUTER_MAX];
	va_list ap;
	long status = 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_info("%s", msg);
	if (a->net == NULL || a->job.id <= 0 || a->gone)
		return;
	if (net_event(a->net, a->job.id, msg, &status, err, sizeof(err)) != 0)
		log_warn("event not sent: %s", err);
	else if (status != 200)
		log_warn("event not taken (HTTP %ld): %s", status, err);
}
