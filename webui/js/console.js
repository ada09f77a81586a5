// console.js — a node's serial console on its page: xterm.js (served from
// webui/vendor/, never from outside the board) shows the console's stream
// (GET /api/v1/nodes/SLOT/console: the rack's recent output, then live;
// bytes in base64 in JSON), and what is typed goes to POST .../console
// with the session's CSRF token (api.js). A job's console log is loaded as
// text, never as HTML.

import { h, setText } from './dom.js';
import * as api from './api.js';

const RETRY_MIN = 1000, RETRY_MAX = 30000;
const LOG_SHOWN = 256 * 1024;	/* the end of a job's log shown */
let loading = null;

// xterm.js and its style sheet, loaded once, the first time a console opens.
function loadXterm() {
	if (loading)
		return loading;
	loading = new Promise((resolve, reject) => {
		const css = document.createElement('link');
		css.rel = 'stylesheet';
		css.href = 'vendor/xterm/xterm.css';
		document.head.append(css);
		const s = document.createElement('script');
		s.src = 'vendor/xterm/xterm.js';
		s.onload = () => window.Terminal ? resolve(window.Terminal) :
		    reject(new Error('xterm.js did not load'));
		s.onerror = () => { loading = null; reject(new Error('xterm.js cannot be loaded')); };
		document.head.append(s);
	});
	return loading;
}

function fromBase64(b64) {
	const bin = atob(b64);
	const out = new Uint8Array(bin.length);
	for (let i = 0; i < bin.length; i++)
		out[i] = bin.charCodeAt(i);
	return out;
}

function toBase64(bytes) {
	let bin = '';
	for (let i = 0; i < bytes.length; i++)
		bin += String.fromCharCode(bytes[i]);
	return btoa(bin);
}

// The console of slot: { el, close }.
export function nodeConsole(slot) {
	const screen = h('div', { class: 'console-screen', 'data-console': slot });
	const status = h('p', { class: 'muted console-status', role: 'status', text: 'Connecting…' });
	const source = h('p', { class: 'muted console-source', 'aria-label': 'console source' });
	const el = h('div', { class: 'console' }, screen, status, source);
	const path = `/api/v1/nodes/${encodeURIComponent(slot)}/console`;
	const enc = new TextEncoder();
	let term = null, abort = null, timer = null, closed = false, retry = RETRY_MIN;
	let queue = [], sending = false;

	// Typed input, sent in order, a POST at a time.
	async function flush() {
		if (sending)
			return;
		sending = true;
		while (queue.length > 0 && !closed) {
			let n = 0;
			const parts = [];
			while (queue.length > 0 && n + queue[0].length <= 3072) {
				n += queue[0].length;
				parts.push(queue.shift());
			}
			if (parts.length === 0)
				parts.push(queue.shift().slice(0, 3072));
			const all = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
			let at = 0;
			for (const p of parts) {
				all.set(p, at);
				at += p.length;
			}
			try {
				await api.api('POST', path, { data: toBase64(all) });
			} catch (err) {
				setText(status, `Typing refused: ${err.message}`);
				queue = [];
			}
		}
		sending = false;
	}

	// The stream, read with fetch (its status tells a slot without a
	// console from a dropped connection); opened again after a pause.
	function again(why) {
		if (closed)
			return;
		setText(status, why);
		timer = setTimeout(open, retry);
		retry = Math.min(retry * 2, RETRY_MAX);
	}

	function event(type, data) {
		let o;
		try {
			o = JSON.parse(data);
		} catch (err) {
			return;
		}
		if (type === 'output' && typeof o.data === 'string')
			term.write(fromBase64(o.data));
		else if (type === 'lost')
			term.write(`\r\n[rackd: ${Number(o.bytes) || 0} bytes of output skipped]\r\n`);
	}

	async function open() {
		timer = null;
		abort = new AbortController();
		let r;
		try {
			r = await fetch(path, { credentials: 'same-origin', signal: abort.signal,
			    headers: { Accept: 'text/event-stream' } });
		} catch (err) {
			again('rackd cannot be reached; trying again');
			return;
		}
		if (!r.ok) {
			let msg = `${r.status} ${r.statusText}`;
			try {
				msg = (await r.json()).error || msg;
			} catch (err) {
				/* not JSON: the status */
			}
			if (r.status === 401) {
				setText(status, 'Signed out: sign in again for the console');
				return;
			}
			again(r.status === 404 ? `No console: ${msg}; looking again` : `${msg}; trying again`);
			return;
		}
		retry = RETRY_MIN;
		term.reset();		/* the ring comes first, each time */
		setText(status, 'Live');
		const reader = r.body.getReader();
		const dec = new TextDecoder();
		let buf = '', type = '', data = '';
		try {
			for (;;) {
				const { value, done } = await reader.read();
				if (done)
					break;
				buf += dec.decode(value, { stream: true });
				let nl;
				while ((nl = buf.indexOf('\n')) >= 0) {
					const line = buf.slice(0, nl).replace(/\r$/, '');
					buf = buf.slice(nl + 1);
					if (line === '') {
						if (data)
							event(type || 'message', data);
						type = data = '';
					} else if (line.startsWith('event:'))
						type = line.slice(6).trim();
					else if (line.startsWith('data:'))
						data += line.slice(5).trim();
				}
			}
		} catch (err) {
			/* dropped, or closed by the page */
		}
		again('The console stream ended; reconnecting');
	}

	loadXterm().then((Terminal) => {
		if (closed)
			return;
		term = new Terminal({ convertEol: false, scrollback: 5000, cursorBlink: true,
		    fontFamily: 'ui-monospace, "DejaVu Sans Mono", monospace', fontSize: 14 });
		term.open(screen);
		term.onData((d) => { queue.push(enc.encode(d)); flush(); });
		term.onBinary((d) => {
			const b = new Uint8Array(d.length);
			for (let i = 0; i < d.length; i++)
				b[i] = d.charCodeAt(i) & 0xff;
			queue.push(b);
			flush();
		});
		open();
	}, (err) => setText(status, err.message));

	return {
		el,
		// The node's console state (GET /api/v1/nodes): its source, and
		// for Serial-over-LAN whether the session is up, or why not.
		update(n) {
			const c = n && n.console;
			if (!c) {
				setText(source, 'No console for this slot: a USB serial adapter (console_slots) or Serial-over-LAN (the ipmi power setting sol).');
				return;
			}
			if (c.source === 'tty') {
				setText(source, `Serial adapter ${c.device || ''}: ${c.state === 'connected' ? 'connected' : 'waiting for it to be plugged in'}`);
				return;
			}
			const bmc = c.bmc ? ` through BMC ${c.bmc}` : '';
			if (c.state === 'error') {
				const when = typeof c.retry_in_ms === 'number' ? `; trying again in ${Math.ceil(c.retry_in_ms / 1000)} s` : '';
				setText(source, `Serial-over-LAN${bmc}: ${c.error || 'error'} (${c.attempts || 0} tries${when})`);
			} else
				setText(source, `Serial-over-LAN${bmc}: ${c.state}${c.error ? ` (the last try: ${c.error})` : ''}`);
		},
		close() {
			closed = true;
			if (timer)
				clearTimeout(timer);
			if (abort)
				abort.abort();
			if (term)
				term.dispose();
		},
	};
}

// A job's console log into pre (the end of it when it is long).
export async function jobConsoleLog(id, pre) {
	let text;
	try {
		const r = await fetch(`/api/v1/jobs/${encodeURIComponent(id)}/console`, { credentials: 'same-origin' });
		if (!r.ok)
			throw new Error(`${r.status} ${r.statusText}`);
		text = await r.text();
	} catch (err) {
		setText(pre, `The console log cannot be loaded: ${err.message}`);
		return;
	}
	if (text.length > LOG_SHOWN)
		text = `[… the first ${text.length - LOG_SHOWN} characters are left out]\n` + text.slice(-LOG_SHOWN);
	/* Terminal control sequences are shown as nothing, not run. */
	setText(pre, text.replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]/g, '').replace(/\r/g, '') || 'No console output was recorded.');
}
