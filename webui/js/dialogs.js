// dialogs.js — the reimage dialog (choose image and version, then confirm
// naming the slots and the image), the erase dialog (the method, then
// confirm naming the slot and its disks' serials), the capture dialog (the
// name:version the server's disk becomes) and a confirmation for
// cancelling a job.
// Native <dialog>: focus stays inside, Escape closes.

import { h, clear } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { state } from './store.js';

function nodeName(slot) {
	const n = state.nodes.get(slot);
	return n && n.label ? `${slot} (${n.label})` : slot;
}

function listNames(slots) {
	const names = slots.map(nodeName);
	if (names.length <= 1)
		return names.join('');
	return `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

function modal(...content) {
	const dlg = h('dialog', { class: 'modal' }, ...content);
	document.body.append(dlg);
	dlg.addEventListener('close', () => dlg.remove());
	dlg.showModal();
	return dlg;
}

// Reimage one or more slots. done(results) is told what happened.
export function reimageDialog(slots, done) {
	// A reimage writes a disk image; rootfs images are for diskless boot.
	const disk = (v) => (v.kind || 'disk') === 'disk';
	const names = state.images.filter((im) => (im.versions || []).some(disk)).map((im) => im.name);
	const title = h('h2', { id: 'dlg-title', text: `Reimage ${listNames(slots)}` });
	const body = h('div', { class: 'dlg-body' });
	const error = h('p', { class: 'error', role: 'alert' });
	const form = h('form', { method: 'dialog' }, title, body, error);
	const dlg = modal(form);
	dlg.setAttribute('aria-labelledby', 'dlg-title');

	if (names.length === 0) {
		body.append(h('p', { text: 'There is no disk image on this rack yet. Push one with rackctl, then try again.' }),
		    h('div', { class: 'buttons' }, h('button', { type: 'button', onclick: () => dlg.close(), text: 'Close' })));
		return;
	}

	const imageSel = h('select', { id: 'dlg-image', name: 'image' },
	    names.map((n) => h('option', { value: n, text: n })));
	const versionSel = h('select', { id: 'dlg-version', name: 'version' });
	const fillVersions = () => {
		clear(versionSel);
		const im = state.images.find((i) => i.name === imageSel.value);
		for (const v of ((im && im.versions) || []).filter(disk))
			versionSel.append(h('option', { value: v.version,
			    text: `${v.version} — ${fmt.bytes(v.size)}, ${v.kind}${v.signed ? ', signed' : ''}` }));
	};
	imageSel.addEventListener('change', fillVersions);
	fillVersions();

	const choose = () => {
		clear(body);
		error.textContent = '';
		body.append(
		    h('label', { for: 'dlg-image', text: 'Image' }), imageSel,
		    h('label', { for: 'dlg-version', text: 'Version' }), versionSel,
		    h('div', { class: 'buttons' },
			h('button', { type: 'button', onclick: () => dlg.close(), text: 'Cancel' }),
			h('button', { type: 'button', class: 'primary', onclick: confirm, text: 'Next' })));
		imageSel.focus();
	};
	const confirm = () => {
		const ref = `${imageSel.value}:${versionSel.value}`;
		clear(body);
		const go = h('button', { type: 'button', class: 'danger', text:
		    slots.length === 1 ? `Reimage ${slots[0]}` : `Reimage ${slots.length} servers` });
		body.append(
		    h('p', { class: 'confirm-text' }, slots.length === 1 ? 'The disk of ' : 'The disks of ',
			h('strong', { text: listNames(slots) }),
			' will be overwritten with ', h('strong', { text: ref }), '. This cannot be undone.'),
		    h('div', { class: 'buttons' },
			h('button', { type: 'button', onclick: choose, text: 'Back' }), go));
		go.addEventListener('click', async () => {
			go.disabled = true;
			const results = await Promise.all(slots.map((s) => api.reimage(s, ref)
			    .then(() => ({ slot: s, ok: true }), (e) => ({ slot: s, ok: false, error: e.message }))));
			const failed = results.filter((r) => !r.ok);
			if (failed.length) {
				error.textContent = failed.map((r) => `${r.slot}: ${r.error}`).join('; ');
				go.disabled = false;
				go.textContent = 'Try again';
				if (failed.length < results.length)
					slots = failed.map((r) => r.slot);
			} else
				dlg.close();
			if (done)
				done(results, ref);
		});
		go.focus();
	};
	choose();
}

// Capture a slot's disk as a new image version. done(ref) once queued.
export function captureDialog(slot, done) {
	const input = h('input', { id: 'dlg-capture', name: 'image', required: true, autocomplete: 'off',
	    placeholder: 'name:version', pattern: '[A-Za-z0-9][A-Za-z0-9._+\\-]{0,63}:[A-Za-z0-9][A-Za-z0-9._+\\-]{0,63}' });
	const error = h('p', { class: 'error', role: 'alert' });
	const go = h('button', { type: 'submit', class: 'primary', text: `Capture ${slot}` });
	const form = h('form', {},
	    h('h2', { id: 'dlg-title', text: `Capture the disk of ${nodeName(slot)}` }),
	    h('p', { text: 'The server boots the clone environment and its disk becomes a new image of this rack ' +
		'(only what its file systems use is read and sent). The version must not exist yet. ' +
		'The image is not signed: where trusted_keys is set it reimages nothing until signed centrally.' }),
	    h('label', { for: 'dlg-capture', text: 'Image (name:version)' }), input, error,
	    h('div', { class: 'buttons' },
		h('button', { type: 'button', onclick: () => dlg.close(), text: 'Cancel' }), go));
	const dlg = modal(form);
	dlg.setAttribute('aria-labelledby', 'dlg-title');
	form.addEventListener('submit', async (e) => {
		e.preventDefault();
		const ref = input.value.trim();
		if (!/^[^:]+:[^:]+$/.test(ref)) {
			error.textContent = 'Give the image as name:version.';
			return;
		}
		go.disabled = true;
		try {
			await api.capture(slot, ref);
			dlg.close();
			if (done)
				done(ref);
		} catch (err) {
			error.textContent = err.message;
			go.disabled = false;
		}
	});
	input.focus();
}

export function cancelDialog(node, done) {
	const j = node.job;
	const p = fmt.progress(j);
	const go = h('button', { type: 'button', class: 'danger', text: 'Cancel job' });
	const error = h('p', { class: 'error', role: 'alert' });
	const dlg = modal(h('form', { method: 'dialog' },
	    h('h2', { id: 'dlg-title', text: `Cancel the job on ${nodeName(node.slot)}?` }),
	    h('p', { text: `Job ${j.id}: ${j.action}${j.image ? ` with ${j.image}` : ''}, ${j.state}` +
		(j.state === 'streaming' ? ` (${p.percent}%)` : '') +
		(j.action === 'erase' ? '. An erase stopped midway leaves the disk partly erased: old data may still be on it.' :
		    '. A half written disk will not boot until it is reimaged again.') }),
	    error,
	    h('div', { class: 'buttons' },
		h('button', { type: 'button', onclick: () => dlg.close(), text: 'Keep it running' }), go)));
	dlg.setAttribute('aria-labelledby', 'dlg-title');
	go.addEventListener('click', async () => {
		go.disabled = true;
		try {
			await api.cancelJob(j.id);
			dlg.close();
			if (done)
				done();
		} catch (e) {
			error.textContent = e.message;
			go.disabled = false;
		}
	});
	go.focus();
}

// Erase one slot's disk: the method, then a confirmation that names the
// slot and its disks (serials from the inventory; a 404: not known yet).
export function eraseDialog(slot, done) {
	const body = h('div', { class: 'dlg-body' });
	const error = h('p', { class: 'error', role: 'alert' });
	const dlg = modal(h('form', { method: 'dialog' },
	    h('h2', { id: 'dlg-title', text: `Erase the disk of ${nodeName(slot)}` }), body, error));
	dlg.setAttribute('aria-labelledby', 'dlg-title');
	const methodSel = h('select', { id: 'dlg-method', name: 'method' },
	    h('option', { value: 'auto', text: 'auto — NVMe sanitize or format, ATA secure erase, discard, else overwrite' }),
	    h('option', { value: 'overwrite', text: 'overwrite — zeros over the whole disk' }));
	const disks = h('div', { class: 'erase-disks', text: 'Reading the inventory…' });
	const go = h('button', { type: 'button', class: 'danger', text: `Erase ${slot}` });
	body.append(
	    h('p', { class: 'confirm-text' }, 'The server in slot ', h('strong', { text: nodeName(slot) }),
		' boots the clone environment, which erases the disk that rackd.disk picks (the largest unless set), ' +
		'checks samples across it and powers the server off. Everything on that disk is lost.'),
	    disks,
	    h('label', { for: 'dlg-method', text: 'Method' }), methodSel,
	    h('div', { class: 'buttons' },
		h('button', { type: 'button', onclick: () => dlg.close(), text: 'Cancel' }), go));
	api.nodeInventory(slot).then((inv) => {
		const list = (inv.inventory && inv.inventory.disks) || [];
		clear(disks);
		disks.append(h('p', { text: `Its disks (inventory of ${fmt.time(inv.at)}):` }),
		    list.length === 0 ? h('p', { class: 'muted', text: 'The inventory lists no disks.' }) :
			h('ul', {}, list.map((d) => h('li', {},
			    h('strong', { class: 'mono', text: d.serial || '(no serial)' }),
			    ` ${d.name || ''} ${d.model || ''} ${fmt.bytes(d.size_bytes || 0)}`))));
	}, (e) => {
		setDisksText(disks, e.status === 404 ? `The disks of ${slot} are not known yet (no inventory).` :
		    `The disks cannot be listed: ${e.message}`);
	});
	go.addEventListener('click', async () => {
		go.disabled = true;
		try {
			const j = await api.erase(slot, methodSel.value);
			dlg.close();
			if (done)
				done(j, methodSel.value);
		} catch (e) {
			error.textContent = e.message;
			go.disabled = false;
		}
	});
	methodSel.focus();
}

function setDisksText(el, text) {
	clear(el);
	el.append(h('p', { text }));
}
