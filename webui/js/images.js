// images.js — the images on this rack: each name with its versions (size,
// chunk count, stored size, signed or not, captured on this rack from
// which slot) and the nodes that use it; the Pulls panel (pulls.js) above
// them.

import { h, clear } from './dom.js';
import * as fmt from './format.js';
import { state, subscribe, sortedSlots } from './store.js';
import { pullsPanel } from './pulls.js';

function nodeLinks(slots) {
	if (slots.length === 0)
		return h('span', { class: 'muted', text: 'no node' });
	return slots.sort(fmt.slotOrder).map((s, i) => [i ? ', ' : '',
	    h('a', { href: `#/node/${encodeURIComponent(s)}`, text: s })]);
}

export function imagesView(root) {
	const pulls = pullsPanel();

	function render() {
		clear(root);
		root.append(h('div', { class: 'view-head' }, h('h1', { text: 'Images' }),
		    h('p', { class: 'summary', text: `${state.images.length} images on this rack` })));
		pulls.update(state.pulls);
		root.append(pulls.el);
		if (state.images.length === 0) {
			root.append(h('p', { class: 'empty', text: 'No image on this rack yet. Push one with rackctl image push, or import it into the store.' }));
			return;
		}
		for (const im of state.images) {
			const usedBy = (v) => sortedSlots().filter((s) => state.nodes.get(s).image === `${im.name}:${v}`);
			root.append(h('section', { class: 'card image', dataset: { image: im.name } },
			    h('h2', { text: im.name }),
			    h('p', {}, 'Used by: ', nodeLinks(sortedSlots().filter((s) => { const i = state.nodes.get(s).image || ''; return i === im.name || i.startsWith(`${im.name}:`); }))),
			    h('table', { class: 'plain' },
				h('thead', {}, h('tr', {}, ['Version', 'Kind', 'Size', 'Chunks', 'Stored', 'Signed', 'Origin', 'Added', 'Used by']
				    .map((t) => h('th', { scope: 'col', text: t })))),
				h('tbody', {}, (im.versions || []).map((v) => h('tr', { dataset: { version: v.version } },
				    h('td', { dataset: { label: 'Version' }, text: v.version }),
				    h('td', { dataset: { label: 'Kind' }, text: v.kind }),
				    h('td', { dataset: { label: 'Size' }, text: fmt.bytes(v.size) }),
				    h('td', { dataset: { label: 'Chunks' }, text: String(v.chunk_count) }),
				    h('td', { dataset: { label: 'Stored' }, text: fmt.bytes(v.stored) }),
				    h('td', { dataset: { label: 'Signed' } }, h('span', { class: v.signed ? 'signed' : 'unsigned', text: v.signed ? 'signed' : 'not signed' })),
				    h('td', { dataset: { label: 'Origin' } }, v.captured ?
					['captured from ', h('a', { href: `#/node/${encodeURIComponent(v.captured.slot)}`, text: v.captured.slot }),
					    ` (job ${v.captured.job})`] : 'pushed or imported'),
				    h('td', { dataset: { label: 'Added' }, text: fmt.time(v.created) }),
				    h('td', { dataset: { label: 'Used by' } }, nodeLinks(usedBy(v.version)))))))));
		}
	}
	let used = '';
	const usage = () => sortedSlots().map((s) => `${s}=${state.nodes.get(s).image}`).join(' ');
	render();
	used = usage();
	return subscribe((change) => {
		const u = usage();
		if (change.all || change.images || u !== used) {
			used = u;
			render();
		} else if (change.pulls)
			pulls.update(state.pulls);
	});
}
