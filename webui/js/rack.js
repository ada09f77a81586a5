// rack.js — the rack at a glance: one row per slot in rack order, with the
// link, address, MAC, hardware (inventory.js's summary, flagged when it
// changed), image, boot mode, state and the latest job; Reimage and Cancel
// on each row, and several rows reimaged at once. A BMC link's row says
// whose BMC it is and has no Reimage.

import { h, setText, clear } from './dom.js';
import * as fmt from './format.js';
import { state, subscribe, sortedSlots } from './store.js';
import { jobStatus } from './jobview.js';
import { reimageDialog, cancelDialog } from './dialogs.js';
import { notify } from './notice.js';
import { inventorySummary } from './inventory.js';

const COLUMNS = ['', 'Slot', 'Link', 'Address', 'MAC', 'Hardware', 'Image', 'Boot', 'State', 'Job', ''];

function makeRow(slot, selected, onSelect) {
	const c = {};
	c.check = h('input', { type: 'checkbox', 'aria-label': `select ${slot}`,
	    onchange: () => onSelect(slot, c.check.checked) });
	c.slotLink = h('a', { href: `#/node/${encodeURIComponent(slot)}`, class: 'slot', text: slot });
	c.label = h('span', { class: 'label' });
	c.link = h('span', { class: 'link' });
	c.addr = h('span', { class: 'mono' });
	c.mac = h('span', { class: 'mono' });
	c.hw = h('span', { class: 'hw' });
	c.hwFlag = h('span', { class: 'inventory-flag', text: 'changed', hidden: true });
	c.image = h('span');
	c.boot = h('span');
	c.state = h('span', { class: 'badge' });
	c.job = jobStatus();
	c.reimage = h('button', { type: 'button', text: 'Reimage',
	    'aria-label': `Reimage ${slot}`, onclick: () => reimageDialog([slot], notifyReimage) });
	c.cancel = h('button', { type: 'button', class: 'danger-outline', text: 'Cancel',
	    'aria-label': `Cancel the job on ${slot}`,
	    onclick: () => cancelDialog(state.nodes.get(slot), () => notify(`Job on ${slot} cancelled`)) });
	const td = (label, ...kids) => h('td', { dataset: { label } }, ...kids);
	c.row = h('tr', { dataset: { slot } },
	    td('Select', c.check),
	    td('Slot', c.slotLink, c.label),
	    td('Link', c.link),
	    td('Address', c.addr),
	    td('MAC', c.mac),
	    td('Hardware', c.hw, ' ', c.hwFlag),
	    td('Image', c.image),
	    td('Boot', c.boot),
	    td('State', c.state),
	    td('Job', c.job.el),
	    td('', h('div', { class: 'actions' }, c.reimage, c.cancel)));
	c.check.checked = selected;
	return c;
}

function updateRow(c, n) {
	const link = n.link ? n.link.state : null;
	setText(c.label, n.label || '');
	setText(c.link, link === 'up' ? 'up' : link === 'down' ? 'down' : 'no link');
	c.link.dataset.link = link || 'none';
	c.link.title = n.link ? `${n.link.ifname || ''} since ${fmt.time(n.link.changed)}` : 'no link seen yet';
	setText(c.addr, n.address || '—');
	setText(c.mac, n.mac || '—');
	// A BMC link's node is the BMC of its slot: nothing to reimage.
	const bmc = !!n.bmc_of;
	setText(c.hw, inventorySummary(n));
	c.hwFlag.hidden = !n.inventory_changed;
	c.hwFlag.title = n.inventory_changed ? 'the hardware changed: see the node\'s inventory' : '';
	setText(c.image, bmc ? `BMC of ${n.bmc_of}` : n.image || '—');
	setText(c.boot, bmc ? '—' : n.boot_mode || '—');
	setText(c.state, n.state);
	c.state.dataset.state = n.state;
	c.job.update(n);
	const active = fmt.isActive(n.state);
	c.reimage.disabled = active;
	c.reimage.hidden = bmc;
	c.cancel.hidden = !active;
	c.check.disabled = active || bmc;
	if (c.check.disabled && c.check.checked) {
		c.check.checked = false;
		c.check.dispatchEvent(new Event('change'));
	}
	c.row.dataset.state = n.state;
	if (bmc)
		c.row.dataset.bmcOf = n.bmc_of;
	else
		delete c.row.dataset.bmcOf;
}

function notifyReimage(results, ref) {
	const ok = results.filter((r) => r.ok).map((r) => r.slot);
	if (ok.length)
		notify(`Reimage with ${ref} queued for ${ok.join(', ')}`);
}

export function rackView(root) {
	const rows = new Map();
	const selected = new Set();
	const tbody = h('tbody');
	const allBox = h('input', { type: 'checkbox', 'aria-label': 'select all idle slots' });
	const summary = h('p', { class: 'summary', 'aria-live': 'polite' });
	const selInfo = h('span');
	const selBar = h('div', { class: 'selection', hidden: true }, selInfo,
	    h('button', { type: 'button', class: 'primary', text: 'Reimage selected…',
		onclick: () => reimageDialog([...selected].sort(fmt.slotOrder), (res, ref) => {
			notifyReimage(res, ref);
			for (const r of res)
				if (r.ok)
					select(r.slot, false);
		}) }),
	    h('button', { type: 'button', text: 'Clear selection', onclick: () => {
		for (const s of [...selected])
			select(s, false);
	    } }));
	const empty = h('p', { class: 'empty', hidden: true,
	    text: 'No slots yet: they appear when a management link comes up, or from the slots option.' });
	const table = h('table', { class: 'rack' },
	    h('caption', { class: 'visually-hidden', text: 'Slots of the rack, in rack order' }),
	    h('thead', {}, h('tr', {}, COLUMNS.map((t, i) => h('th', { scope: 'col' }, i === 0 ? allBox : t)))),
	    tbody);
	clear(root);
	root.append(h('div', { class: 'view-head' }, h('h1', { text: 'Rack' }), summary), selBar, empty, table);

	function select(slot, on) {
		if (on)
			selected.add(slot);
		else
			selected.delete(slot);
		const c = rows.get(slot);
		if (c)
			c.check.checked = on;
		selBar.hidden = selected.size === 0;
		setText(selInfo, `${selected.size} selected`);
	}
	allBox.addEventListener('change', () => {
		for (const [slot, c] of rows)
			select(slot, allBox.checked && !c.check.disabled);
	});

	function rebuild() {
		const slots = sortedSlots();
		for (const s of [...rows.keys()])
			if (!state.nodes.has(s)) {
				rows.get(s).row.remove();
				rows.delete(s);
				select(s, false);
			}
		for (const s of slots) {
			let c = rows.get(s);
			if (!c) {
				c = makeRow(s, selected.has(s), select);
				rows.set(s, c);
			}
			tbody.append(c.row);	/* in rack order */
			updateRow(c, state.nodes.get(s));
		}
		empty.hidden = !state.loaded || slots.length > 0;
		// For the benchmark: when the rack first stands on the page.
		if (state.loaded && !performance.getEntriesByName('rackd:rack').length)
			performance.mark('rackd:rack');
	}

	function updateSummary() {
		let up = 0, running = 0, failed = 0;
		for (const n of state.nodes.values()) {
			if (n.link && n.link.state === 'up')
				up++;
			if (fmt.isActive(n.state))
				running++;
			else if (n.job && n.job.state === 'failed')
				failed++;
		}
		const n = (k, one, many) => `${k} ${k === 1 ? one : many}`;
		setText(summary, [n(state.nodes.size, 'slot', 'slots'), n(up, 'link up', 'links up'),
		    n(running, 'job running', 'jobs running'), n(failed, 'node whose last job failed', 'nodes whose last job failed')].join(' · '));
	}

	function onChange(change) {
		if (change.all)
			rebuild();
		else
			for (const s of change.slots) {
				const c = rows.get(s), n = state.nodes.get(s);
				if (c && n)
					updateRow(c, n);
			}
		updateSummary();
	}
	onChange({ all: true, slots: new Set() });
	return subscribe(onChange);
}
