// live.js — the stream of changes from /api/v1/events (Server-Sent
// Events). The browser reconnects by itself after a dropped connection
// (resuming with Last-Event-ID); when rackd refuses the stream (signed out,
// too many streams) it is opened again here, with a growing pause, after
// asking whether the session still holds. No polling: state arrives.

const TYPES = ['node', 'job', 'job_event', 'image', 'link', 'pull', 'resync'];
const RETRY_MIN = 1000, RETRY_MAX = 30000;

export function connect(handlers) {
	let es = null, retry = RETRY_MIN, timer = null, stopped = false;

	function status(s) {
		if (handlers.status)
			handlers.status(s);
	}

	function open() {
		timer = null;
		es = new EventSource('/api/v1/events');
		es.addEventListener('open', () => {
			retry = RETRY_MIN;
			status('live');
			if (handlers.open)
				handlers.open();
		});
		for (const t of TYPES) {
			es.addEventListener(t, (e) => {
				let data;
				try {
					data = JSON.parse(e.data);
				} catch (err) {
					return;
				}
				if (handlers[t])
					handlers[t](data);
			});
		}
		es.addEventListener('error', () => {
			if (stopped)
				return;
			status('reconnecting');
			if (es.readyState !== EventSource.CLOSED)
				return;		/* the browser retries by itself */
			es = null;
			timer = setTimeout(async () => {
				if (stopped)
					return;
				if (handlers.stillSignedIn && !(await handlers.stillSignedIn()))
					return;
				open();
			}, retry);
			retry = Math.min(retry * 2, RETRY_MAX);
		});
	}

	open();
	return {
		close() {
			stopped = true;
			if (timer)
				clearTimeout(timer);
			if (es)
				es.close();
		},
	};
}
