// power.js — a node's Power card: the state its power method last told
// (and when), the method, its last error, and a button for each of On,
// Off and Cycle that the method can do (POST .../power, a job). Without
// a method it says to switch the server on by hand; a BMC link's node says
// whose BMC it is.

import { h, setText } from './dom.js';
import * as api from './api.js';
import * as fmt from './format.js';
import { notify } from './notice.js';

const OPS = [['on', 'On'], ['off', 'Off'], ['cycle', 'Cycle']];

export function powerCard(slot) {
	const stateEl = h('dd');
	const methodEl = h('dd');
	const errorEl = h('dd', { class: 'error' });
	const errorDt = h('dt', { text: 'Last error' });
	const note = h('p', { class: 'hint' });
	const msg = h('span', { class: 'muted', role: 'status' });
	const buttons = {};
	const actions = h('div', { class: 'actions' });
	for (const [op, label] of OPS) {
		buttons[op] = h('button', { type: 'button', text: label, onclick: () => run(op, label) });
		actions.append(buttons[op]);
	}
	actions.append(msg);
	const el = h('section', { class: 'card power', 'aria-label': 'power' },
	    h('h2', { text: 'Power' }),
	    h('dl', { class: 'details' },
		h('dt', { text: 'State' }), stateEl,
		h('dt', { text: 'Method' }), methodEl,
		errorDt, errorEl),
	    note, actions);

	async function run(op, label) {
		setText(msg, '');
		try {
			const j = await api.power(slot, op);
			notify(`Power ${op} of ${slot} queued (job ${j.id})`);
		} catch (err) {
			setText(msg, `${label}: ${err.message}`);
		}
	}

	function update(n) {
		const p = n.power || {};
		const can = new Set(p.can || []);
		setText(methodEl, p.method || 'none');
		setText(stateEl, p.method ? `${p.state || 'unknown'}${p.checked ? ` (checked ${fmt.time(new Date(p.checked * 1000).toISOString())})` : ''}` : '—');
		setText(errorEl, p.error || '');
		errorEl.hidden = errorDt.hidden = !p.error;
		setText(note, n.bmc_of ? `This is the BMC of slot ${n.bmc_of}: power the server from slot ${n.bmc_of}'s page.` :
		    !p.method ? 'No power method: switch the server on now (by hand).' : p.note || '');
		note.hidden = !note.textContent;
		const busy = n.job && fmt.isActive(n.job.state);
		for (const [op] of OPS) {
			buttons[op].hidden = !can.has(op);
			buttons[op].disabled = !!busy;
		}
	}

	return { el, update };
}
