// api.js — calls to rackd's /api/v1 with the session cookie. Every write
// carries the session's CSRF token in X-CSRF-Token.

let csrf = null;
let onSignedOut = () => {};

export class ApiError extends Error {
	constructor(status, message) {
		super(message);
		this.status = status;
	}
}

export function setCsrf(token) {
	csrf = token;
}

export function whenSignedOut(fn) {
	onSignedOut = fn;
}

export async function api(method, path, body) {
	const opt = { method, headers: {}, credentials: 'same-origin' };
	if (body !== undefined) {
		opt.headers['Content-Type'] = 'application/json';
		opt.body = JSON.stringify(body);
	}
	if (method !== 'GET' && method !== 'HEAD' && csrf)
		opt.headers['X-CSRF-Token'] = csrf;
	let r;
	try {
		r = await fetch(path, opt);
	} catch (e) {
		throw new ApiError(0, 'rackd cannot be reached');
	}
	let data = null;
	try {
		data = await r.json();
	} catch (e) {
		data = null;
	}
	if (!r.ok) {
		const err = new ApiError(r.status, (data && data.error) ||
		    `${r.status} ${r.statusText}`);
		if (r.status === 401 && path !== '/api/v1/session')
			onSignedOut();
		throw err;
	}
	return data;
}

export const session = {
	get: () => api('GET', '/api/v1/session'),
	signIn: (password) => api('POST', '/api/v1/session', { password }),
	signOut: () => api('DELETE', '/api/v1/session'),
};

const enc = encodeURIComponent;
export const nodes = () => api('GET', '/api/v1/nodes');
export const node = (slot) => api('GET', `/api/v1/nodes/${enc(slot)}`);
export const nodeLinks = (slot) => api('GET', `/api/v1/nodes/${enc(slot)}/links?limit=200`);
export const patchNode = (slot, fields) => api('PATCH', `/api/v1/nodes/${enc(slot)}`, fields);
export const reimage = (slot, image) => api('POST', `/api/v1/nodes/${enc(slot)}/reimage`, { image });
export const capture = (slot, image) => api('POST', `/api/v1/nodes/${enc(slot)}/capture`, { image });
export const images = () => api('GET', '/api/v1/images');
export const pulls = () => api('GET', '/api/v1/pulls');
export const jobStates = () => api('GET', '/api/v1/job-states');
export const jobs = (slot) => api('GET', `/api/v1/jobs?node=${enc(slot)}&limit=50`);
export const job = (id) => api('GET', `/api/v1/jobs/${enc(id)}`);
export const cancelJob = (id) => api('POST', `/api/v1/jobs/${enc(id)}/cancel`, {});
export const power = (slot, action) => api('POST', `/api/v1/nodes/${enc(slot)}/power`, { action });
export const erase = (slot, method) => api('POST', `/api/v1/nodes/${enc(slot)}/erase`, { method });
export const nodeInventory = (slot) => api('GET', `/api/v1/nodes/${enc(slot)}/inventory`);
export const inventory = (slot) => api('POST', `/api/v1/nodes/${enc(slot)}/inventory`, {});
export const inventoryAck = (slot) => api('POST', `/api/v1/nodes/${enc(slot)}/inventory/ack`, {});
