// inventory.js — a node's Inventory card: what the clone environment read
// of the server (system, CPUs, memory, disks with serials and SMART, NICs,
// firmware and Secure Boot; GET .../inventory), the history of its
// records with what changed, the Inventory button (POST .../inventory, a
// job) and, when a change is flagged, Acknowledge (POST .../inventory/ack).
// inventorySummary is the rack view's short line for a node.

import { h, setText, clear } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { notify } from './notice.js';

// "RT-1000 · 768 MiB · 2 disks" of a node's "inventory" summary.
export function inventorySummary(n) {
	const s = n && n.inventory;
	if (!s)
		return 'not inventoried';
	const disks = `${s.disks} disk${s.disks === 1 ? '' : 's'}`;
	return [s.model || s.vendor || 'unknown model', fmt.bytes(s.memory_bytes), disks].join(' · ');
}

function table(cols, rows) {
	return h('table', { class: 'plain' },
	    h('thead', {}, h('tr', {}, cols.map((c) => h('th', { scope: 'col', text: c })))),
	    h('tbody', {}, rows.map((r) => h('tr', {}, r.map((v) => h('td', { text: v }))))));
}

export function inventoryCard(slot) {
	const body = h('div', { class: 'inventory-body' });
	const flag = h('p', { class: 'inventory-changed', role: 'status', hidden: true });
	const relink = h('p', { class: 'muted', role: 'status', hidden: true,
	    text: 'Its link went away and came back (another server?): its next network boot inventories it first.' });
	const msg = h('span', { class: 'muted', role: 'status' });
	const runBtn = h('button', { type: 'button', text: 'Inventory', onclick: run });
	const ackBtn = h('button', { type: 'button', text: 'Acknowledge the change', hidden: true, onclick: ack });
	const el = h('section', { class: 'card inventory', 'aria-label': 'inventory' },
	    h('h2', { text: 'Inventory' }), flag, relink, body,
	    h('div', { class: 'actions' }, runBtn, ackBtn, msg));
	let key = null;

	async function run() {
		setText(msg, '');
		try {
			const j = await api.inventory(slot);
			notify(`Inventory of ${slot} queued (job ${j.id})`);
		} catch (err) {
			setText(msg, `Inventory: ${err.message}`);
		}
	}
	async function ack() {
		setText(msg, '');
		try {
			await api.inventoryAck(slot);
			notify(`The inventory change of ${slot} is acknowledged`);
		} catch (err) {
			setText(msg, `Acknowledge: ${err.message}`);
		}
	}

	function show(r) {
		clear(body);
		if (!r) {
			body.append(h('p', { class: 'muted', text: 'Not inventoried yet: the Inventory button reads the server\'s hardware.' }));
			return;
		}
		const inv = r.inventory, s = inv.system, c = inv.cpus, fw = inv.firmware;
		body.append(h('dl', { class: 'details' },
		    h('dt', { text: 'System' }), h('dd', { text: `${s.vendor} ${s.model}`.trim() || '—' }),
		    h('dt', { text: 'Serial' }), h('dd', { class: 'mono', text: s.serial || '—' }),
		    h('dt', { text: 'UUID' }), h('dd', { class: 'mono', text: s.uuid || '—' }),
		    h('dt', { text: 'CPUs' }), h('dd', { text: `${c.model || '?'}: ${c.sockets} socket(s), ${c.cores} core(s), ${c.threads} thread(s)` }),
		    h('dt', { text: 'Memory' }), h('dd', { text: fmt.bytes(inv.memory_bytes) }),
		    h('dt', { text: 'Firmware' }), h('dd', { text: `${fw.mode === 'uefi' ? 'UEFI' : 'BIOS'}; Secure Boot ${fw.secure_boot === true ? 'on' : fw.secure_boot === false ? 'off' : 'not known'}` }),
		    h('dt', { text: 'Read' }), h('dd', {}, h('time', { datetime: r.at, text: fmt.time(r.at) }))),
		    h('h3', { text: 'Disks' }),
		    table(['Disk', 'Model', 'Serial', 'Size', 'Kind', 'SMART'], inv.disks.map((d) =>
			[d.path, d.model || '—', d.serial || '—', fmt.bytes(d.size_bytes),
			    d.rotational ? 'rotational' : 'solid state', d.smart])),
		    h('h3', { text: 'NICs' }),
		    table(['NIC', 'MAC', 'Driver', 'Speed'], inv.nics.map((n) =>
			[n.name, n.mac || '—', n.driver || '—', n.speed_mbps === null ? '—' : `${n.speed_mbps} Mb/s`])),
		    h('h3', { text: 'History' }),
		    h('ol', { class: 'events inventory-history' }, (r.history || []).map((e, i, all) =>
			h('li', {}, h('time', { datetime: e.at, text: fmt.time(e.at) }),
			    h('span', { text: e.changes && e.changes.length ? e.changes.join('; ') :
				i === all.length - 1 ? 'the oldest record kept' : 'no change' })))));
	}

	async function load() {
		try {
			show(await api.nodeInventory(slot));
		} catch (err) {
			if (err.status === 404)
				show(null);
			else
				setText(msg, err.message);
		}
	}

	function update(n) {
		const changed = !!n.inventory_changed;
		flag.hidden = !changed;
		setText(flag, changed ? 'The hardware changed since the inventory before: see the history.' : '');
		ackBtn.hidden = !changed;
		relink.hidden = !n.enrol_at_boot;
		runBtn.disabled = !!(n.job && fmt.isActive(n.job.state));
		const k = `${n.inventory ? n.inventory.at : ''}:${changed}`;
		if (k !== key) {
			key = k;
			load();
		}
	}

	return { el, update };
}
