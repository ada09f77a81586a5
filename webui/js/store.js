// store.js — what the dashboard knows: the nodes by slot, the images and
// the pulls,
// kept current by the event stream. Views subscribe and are told which
// slots changed; changes are gathered into one update per frame.

import { isActive, slotOrder } from './format.js';

export const state = {
	nodes: new Map(),	// slot -> node (GET /api/v1/nodes/{slot})
	images: [],		// GET /api/v1/images
	pulls: [],		// GET /api/v1/pulls, newest first
	loaded: false,
};

const listeners = new Set();
let dirty = new Set(), dirtyAll = false, dirtyImages = false, dirtyPulls = false;
let scheduled = false;

export function subscribe(fn) {
	listeners.add(fn);
	return () => listeners.delete(fn);
}

function flush() {
	scheduled = false;
	const change = { all: dirtyAll, images: dirtyImages, pulls: dirtyPulls, slots: dirty };
	dirty = new Set();
	dirtyAll = false;
	dirtyImages = false;
	dirtyPulls = false;
	for (const fn of listeners)
		fn(change);
}

function changed(slot) {
	if (slot === null)
		;		/* images only */
	else if (slot === undefined)
		dirtyAll = true;
	else
		dirty.add(slot);
	if (!scheduled) {
		scheduled = true;
		requestAnimationFrame(flush);
	}
}

export function sortedSlots() {
	return [...state.nodes.keys()].sort(slotOrder);
}

export function setNodes(list) {
	state.nodes = new Map(list.map((n) => [n.slot, n]));
	state.loaded = true;
	changed();
}

export function setImages(list) {
	state.images = list;
	dirtyImages = true;
	changed(null);
}

export function setPulls(list) {
	state.pulls = list || [];
	dirtyPulls = true;
	changed(null);
}

// A pull event: the pull as it is now (GET /api/v1/pulls/{id}).
export function applyPull(p) {
	const i = state.pulls.findIndex((x) => x.id === p.id);
	if (i >= 0)
		state.pulls[i] = p;
	else {
		state.pulls.unshift(p);
		state.pulls.sort((a, b) => b.id - a.id);
		state.pulls.length = Math.min(state.pulls.length, 64);
	}
	dirtyPulls = true;
	changed(null);
}

export function applyNode(n) {
	const known = state.nodes.has(n.slot);
	state.nodes.set(n.slot, n);
	changed(known ? n.slot : undefined);
}

// A job event: progress and state of the node's latest job.
export function applyJob(j) {
	const n = state.nodes.get(j.slot);
	if (!n)
		return;
	if (n.job && n.job.id > j.id)
		return;			/* an older job */
	n.job = Object.assign({}, n.job && n.job.id === j.id ? n.job : {}, j);
	n.state = isActive(j.state) ? j.state : 'idle';
	changed(n.slot);
}

export function applyLink(ev) {
	changed(ev.slot);
}

// The image rows, newest version first, as "name:version" refs.
export function imageRefs() {
	const out = [];
	for (const im of state.images)
		for (const v of im.versions || [])
			out.push({ name: im.name, version: v.version, ref: `${im.name}:${v.version}`, info: v });
	return out;
}
