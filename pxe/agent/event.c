/*
 * event.c — a note for the job's event log (POST
 * /api/v1/agent/jobs/ID/event): an action says what it does and why, for
 * the operator reading the job. Notes are not worth failing a job for:
 * one that rackd does not take is logged on the console only. Once rackd
 * ended the job only agent_event_last is sent: what a cancelled job left
 * on the disk, which rackd takes for a short while after the cancel.
 */
#include <stdarg.h>
#include <stdio.h>

#include "pxe/agent/agent.h"

static void __attribute__((format(printf, 3, 0)))
note(struct agent *a, int last, const char *fmt, va_list ap)
{
	char msg[EVENT_MAX], err[ERR_OUTER_MAX];
	long status = 0;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (last)
		log_warn("%s", msg);
	else
		log_info("%s", msg);
	if (a->net == NULL || a->job.id <= 0 || (a->gone && !last))
		return;
	if (net_event(a->net, a->job.id, msg, &status, err, sizeof(err)) != 0)
		log_warn("event not sent: %s", err);
	else if (status != 200)
		log_warn("event not taken (HTTP %ld): %s", status, err);
}

void
agent_event(struct agent *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note(a, 0, fmt, ap);
	va_end(ap);
}

void
agent_event_last(struct agent *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	note(a, 1, fmt, ap);
	va_end(ap);
}
