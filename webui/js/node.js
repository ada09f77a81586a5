// node.js — one node's page: its details and settings, the current job,
// its power (power.js), its hardware (inventory.js), the job history with
// each job's event log, and the link's up and down history.

import { h, setText, clear } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { state, subscribe } from './store.js';
import { jobStatus } from './jobview.js';
import { reimageDialog, captureDialog, cancelDialog, eraseDialog } from './dialogs.js';
import { notify } from './notice.js';
import { nodeConsole, jobConsoleLog } from './console.js';
import { powerCard } from './power.js';
import { inventoryCard } from './inventory.js';

export function nodeView(root, slot) {
	clear(root);
	if (!state.nodes.has(slot)) {
		root.append(h('p', {}, h('a', { href: '#/', text: '← Rack' })),
		    h('h1', { text: slot }), h('p', { class: 'error', text: `There is no slot ${slot} on this rack.` }));
		return () => {};
	}
	const f = {};
	const dl = h('dl', { class: 'details' });
	const field = (key, label) => {
		f[key] = h('dd', { class: key === 'mac' || key === 'address' ? 'mono' : '' });
		dl.append(h('dt', { text: label }), f[key]);
	};
	field('label', 'Label');
	field('link', 'Link');
	field('address', 'Address');
	field('board', 'Board address');
	field('bmc', 'BMC');
	field('mac', 'MAC');
	field('image', 'Image');
	field('boot', 'Boot mode');
	field('secure', 'Secure Boot');
	field('state', 'State');
	field('result', 'Last result');

	const job = jobStatus();
	const power = powerCard(slot);
	const inventory = inventoryCard(slot);
	const reimageBtn = h('button', { type: 'button', class: 'primary', text: 'Reimage',
	    onclick: () => reimageDialog([slot], (res, ref) => {
		if (res.some((r) => r.ok))
			notify(`Reimage of ${slot} with ${ref} queued`);
	    }) });
	const eraseBtn = h('button', { type: 'button', class: 'danger-outline', text: 'Erase',
	    onclick: () => eraseDialog(slot, (j, method) => notify(`Erase (${method}) of ${slot} queued: job ${j.id}`)) });
	const captureBtn = h('button', { type: 'button', text: 'Capture',
	    onclick: () => captureDialog(slot, (ref) => notify(`Capture of ${slot} as ${ref} queued`)) });
	const cancelBtn = h('button', { type: 'button', class: 'danger-outline', text: 'Cancel job',
	    onclick: () => cancelDialog(state.nodes.get(slot), () => notify(`Job on ${slot} cancelled`)) });

	// Settings: label and boot mode.
	const labelIn = h('input', { id: 'node-label', name: 'label', maxlength: 64, autocomplete: 'off' });
	const bootSel = h('select', { id: 'node-boot', name: 'boot_mode' },
	    h('option', { value: 'local', text: 'local disk' }), h('option', { value: 'diskless', text: 'diskless' }));
	const settingsMsg = h('span', { class: 'muted', role: 'status' });
	const settings = h('form', { class: 'settings' },
	    h('label', { for: 'node-label', text: 'Label' }), labelIn,
	    h('label', { for: 'node-boot', text: 'Boot mode' }), bootSel,
	    h('button', { type: 'submit', text: 'Save' }), settingsMsg);
	settings.addEventListener('submit', async (e) => {
		e.preventDefault();
		try {
			const n = await api.patchNode(slot, { label: labelIn.value, boot_mode: bootSel.value });
			setText(settingsMsg, 'Saved');
			state.nodes.set(slot, n);
		} catch (err) {
			setText(settingsMsg, err.message);
		}
	});

	const jobsBody = h('div', { class: 'jobs' });
	const linksBody = h('tbody');
	const linksEmpty = h('p', { class: 'muted', hidden: true, text: 'No link changes recorded for this slot.' });
	const title = h('h1', { text: slot });
	const term = nodeConsole(slot);
	root.append(
	    h('p', {}, h('a', { href: '#/', text: '← Rack' })),
	    h('div', { class: 'view-head' }, title, h('div', { class: 'actions' }, reimageBtn, captureBtn, eraseBtn, cancelBtn)),
	    h('section', { class: 'card node-job', 'aria-label': 'details' }, dl, job.el),
	    power.el,
	    inventory.el,
	    h('section', { class: 'card' }, h('h2', { text: 'Settings' }), settings),
	    h('section', { class: 'card', 'aria-label': 'console' }, h('h2', { text: 'Console' }), term.el),
	    h('section', { class: 'card' }, h('h2', { text: 'Jobs' }), jobsBody),
	    h('section', { class: 'card' }, h('h2', { text: 'Link history' }), linksEmpty,
		h('table', { class: 'plain' }, h('thead', {}, h('tr', {},
		    h('th', { scope: 'col', text: 'Link' }), h('th', { scope: 'col', text: 'Since' }),
		    h('th', { scope: 'col', text: 'For' }))), linksBody)));

	function update() {
		const n = state.nodes.get(slot);
		if (!n)
			return;
		setText(title, n.label ? `${slot} — ${n.label}` : slot);
		setText(f.label, n.label || '—');
		setText(f.link, n.link ? `${n.link.state} (${n.link.ifname || '?'}, since ${fmt.time(n.link.changed)})` : 'no link seen yet');
		setText(f.address, n.address || '—');
		setText(f.board, n.link && n.link.board_addr ? `${n.link.board_addr}/${n.link.prefix}` : '—');
		setText(f.bmc, n.bmc_of ? `the BMC of slot ${n.bmc_of}` :
		    n.bmc ? `${n.bmc.address} (slot ${n.bmc.slot}, link ${n.bmc.link})` : '—');
		setText(f.mac, n.mac || '—');
		setText(f.image, n.image || '—');
		setText(f.boot, n.boot_mode);
		// The slot's setting (null: the rack's), and what the clone
		// environment last found.
		const sbSet = n.secure_boot === true ? 'on' : n.secure_boot === false ? 'off' : "the rack's setting";
		const sbSeen = n.booted_secure === true ? 'on at the last clone boot' :
		    n.booted_secure === false ? 'off at the last clone boot' : 'not reported yet';
		setText(f.secure, `${sbSet}; ${sbSeen}`);
		setText(f.state, fmt.stateWords(n.state, n.job && n.job.action));
		setText(f.result, n.job && n.job.state === 'failed' ? `Failed: ${fmt.reason(n.job.reason)}` :
		    n.last_result === 'done' ? 'Done' : n.last_result ? fmt.reason(n.last_result) : '—');
		if (document.activeElement !== labelIn && document.activeElement !== bootSel) {
			labelIn.value = n.label || '';
			bootSel.value = n.boot_mode;
		}
		job.update(n);
		power.update(n);
		term.update(n);
		inventory.update(n);
		const active = fmt.isActive(n.state);
		reimageBtn.disabled = active;
		reimageBtn.hidden = !!n.bmc_of;	/* a BMC boots nothing */
		bootSel.disabled = !!n.bmc_of;
		eraseBtn.disabled = active;
		eraseBtn.hidden = !!n.bmc_of;
		captureBtn.disabled = active;
		captureBtn.hidden = !!n.bmc_of;
		cancelBtn.hidden = !active;
	}

	// Job history: each job with its event log (loaded when opened).
	const open = new Set();
	let lastJobKey = '';
	async function loadJobs() {
		let list;
		try {
			list = await api.jobs(slot);
		} catch (e) {
			setText(jobsBody, e.message);
			return;
		}
		clear(jobsBody);
		if (list.length === 0) {
			jobsBody.append(h('p', { class: 'muted', text: 'No jobs yet.' }));
			return;
		}
		if (open.size === 0)
			open.add(list[0].id);
		for (const j of list) {
			const log = h('ol', { class: 'events' });
			const conLog = h('pre', { class: 'console-log', 'aria-label': `console log of job ${j.id}` });
			const d = h('details', { dataset: { job: j.id } },
			    h('summary', {},
				h('span', { class: 'badge', dataset: { state: j.state }, text: j.state }),
				` Job ${j.id}: ${j.action}${j.image ? ` with ${j.image}` : ''} · ${fmt.time(j.created)}`,
				j.finished ? ` · took ${fmt.between(j.created, j.finished)}` : '',
				j.state === 'failed' ? h('span', { class: 'reason', text: ` · ${fmt.reason(j.reason)}` }) : ''),
			    log, h('h3', { class: 'console-log-head', text: 'Console log' }), conLog);
			d.addEventListener('toggle', () => {
				if (d.open) {
					open.add(j.id);
					loadEvents(j.id, log);
					jobConsoleLog(j.id, conLog);
				} else
					open.delete(j.id);
			});
			jobsBody.append(d);
			if (open.has(j.id))
				d.open = true;	/* loads through the toggle event */
		}
	}
	async function loadEvents(id, log) {
		try {
			const j = await api.job(id);
			clear(log);
			for (const e of j.events || [])
				log.append(h('li', {}, h('time', { datetime: e.at, text: fmt.time(e.at) }),
				    h('span', { class: 'badge', dataset: { state: e.state }, text: e.state }),
				    h('span', { text: e.message || '' }),
				    e.bytes_done && !/bytes/.test(e.message || '') ?
					h('span', { class: 'muted', text: `(${fmt.bytes(e.bytes_done)} ${j.action === 'erase' ? 'erased' : 'written'})` }) : ''));
		} catch (err) {
			setText(log, err.message);
		}
	}

	async function loadLinks() {
		let rows;
		try {
			rows = await api.nodeLinks(slot);
		} catch (e) {
			return;
		}
		clear(linksBody);
		linksEmpty.hidden = rows.length > 0;
		let next = null;
		for (const r of rows) {	/* newest first */
			linksBody.append(h('tr', {},
			    h('td', {}, h('span', { class: 'link', dataset: { link: r.state }, text: r.state })),
			    h('td', {}, h('time', { datetime: r.at, text: fmt.time(r.at) })),
			    h('td', { text: next ? fmt.between(r.at, next) : 'until now' })));
			next = r.at;
		}
	}

	// An agent's note (an erase's steps): the open job's events again.
	const onNote = (e) => {
		const ev = e.detail || {};
		if (ev.slot !== slot || !open.has(ev.job))
			return;
		const d = jobsBody.querySelector(`details[data-job="${ev.job}"] ol.events`);
		if (d)
			loadEvents(ev.job, d);
	};
	window.addEventListener('rackd-job-event', onNote);

	update();
	loadJobs();
	loadLinks();
	const unsub = subscribe((change) => {
		if (!change.all && !change.slots.has(slot))
			return;
		update();
		const n = state.nodes.get(slot);
		// Reload the history when a job starts or changes state, not
		// on every progress report.
		const key = n && n.job ? `${n.job.id}:${n.job.state}` : '';
		if (key !== lastJobKey) {
			lastJobKey = key;
			loadJobs();
		}
		const linkKey = n && n.link ? `${n.link.state}:${n.link.changed}` : '';
		if (linkKey !== update.linkKey) {
			update.linkKey = linkKey;
			loadLinks();
		}
	});
	const n0 = state.nodes.get(slot);
	lastJobKey = n0 && n0.job ? `${n0.job.id}:${n0.job.state}` : '';
	update.linkKey = n0 && n0.link ? `${n0.link.state}:${n0.link.changed}` : '';
	return () => {
		unsub();
		window.removeEventListener('rackd-job-event', onNote);
		term.close();
	};
}
