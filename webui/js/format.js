// format.js — numbers, times and reasons in words. Pure functions (no DOM),
// also run by the browser tests under node.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];

export function bytes(n) {
	if (typeof n !== 'number' || !isFinite(n) || n < 0)
		return '—';
	let i = 0;
	while (n >= 1024 && i < UNITS.length - 1) {
		n /= 1024;
		i++;
	}
	return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 1 : 0)} ${UNITS[i]}`;
}

export function rate(bytesPerSecond) {
	if (!bytesPerSecond || bytesPerSecond <= 0)
		return '—';
	return `${bytes(bytesPerSecond)}/s`;
}

// 3725 -> "1 h 2 min", 75 -> "1 min 15 s", 8 -> "8 s"
export function duration(seconds) {
	if (typeof seconds !== 'number' || !isFinite(seconds) || seconds < 0)
		return '—';
	seconds = Math.round(seconds);
	if (seconds < 60)
		return `${seconds} s`;
	const d = Math.floor(seconds / 86400), hr = Math.floor(seconds / 3600) % 24;
	const m = Math.floor(seconds / 60) % 60, s = seconds % 60;
	if (d > 0)
		return hr ? `${d} d ${hr} h` : `${d} d`;
	if (hr > 0)
		return m ? `${hr} h ${m} min` : `${hr} h`;
	return s ? `${m} min ${s} s` : `${m} min`;
}

// What a job's progress says: percent, bytes, rate, time left.
export function progress(job) {
	const total = job.bytes_total || 0, done = Math.min(job.bytes_done || 0, total || Infinity);
	const pct = total > 0 ? Math.floor((done / total) * 100) : 0;
	const left = job.rate > 0 && total > done ? (total - done) / job.rate : null;
	return {
		percent: pct,
		text: `${bytes(done)} of ${bytes(total)}`,
		rate: rate(job.rate),
		left: left === null ? (total > 0 && done >= total ? 'almost done' : '—') :
		    `${duration(left)} left`,
	};
}

// The job states and their words are rackd's (GET /api/v1/job-states, the
// table of appliance/jobs.c); "idle" is a node's state when it has no job.
const states = new Map();

export function setJobStates(list) {
	states.clear();
	for (const s of list || [])
		states.set(s.name, s);
}

// action (optional): the job's, whose own words for the state win.
export function stateWords(state, action) {
	if (state === 'idle')
		return 'Idle';
	const s = states.get(state);
	return (s && s.actions && s.actions[action]) || (s && s.text) || state || '—';
}

export function isActive(state) {
	const s = states.get(state);
	return s !== undefined && !s.terminal;
}

function capital(s) {
	return s ? s[0].toUpperCase() + s.slice(1) : s;
}

// A job's failure reason as rackd or the agent wrote it, in words.
export function reason(text) {
	if (!text)
		return 'Failed (no reason given)';
	let m;
	if ((m = /^cancelled by (.+)$/.exec(text)))
		return `Cancelled by the ${m[1]}`;
	if ((m = /^no boot: the node did not call in within (\d+)s$/.exec(text)))
		return `The server did not boot from the network within ${duration(+m[1])}`;
	if ((m = /^agent silent for (\d+)s$/.exec(text)))
		return `The server stopped reporting progress for ${duration(+m[1])}`;
	if (text === 'image no longer on this rack')
		return 'The image was removed from this rack';
	return capital(text.replace(/\s+/g, ' ').trim());
}

// ISO time -> "2026-11-25 08:03:16" in local time.
export function time(iso) {
	if (!iso)
		return '—';
	const d = new Date(iso);
	if (isNaN(d))
		return iso;
	const p = (n) => String(n).padStart(2, '0');
	return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ` +
	    `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

// Between two ISO times, in words ("—" if either is missing).
export function between(a, b) {
	if (!a || !b)
		return '—';
	return duration((new Date(b) - new Date(a)) / 1000);
}

// Slots in rack order: "usb2" before "usb10".
export function slotOrder(a, b) {
	return a.localeCompare(b, 'en', { numeric: true });
}
