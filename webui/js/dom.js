// dom.js — a tiny element builder. Text always goes in as text (never as
// HTML), so nothing from the API can inject markup.

export function h(tag, attrs, ...children) {
	const el = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null || v === false)
			continue;
		if (k === 'class')
			el.className = v;
		else if (k === 'text')
			el.textContent = v;
		else if (k.startsWith('on') && typeof v === 'function')
			el.addEventListener(k.slice(2), v);
		else if (k === 'dataset')
			Object.assign(el.dataset, v);
		else
			el.setAttribute(k, v === true ? '' : String(v));
	}
	append(el, children);
	return el;
}

function append(el, children) {
	for (const c of children) {
		if (c === undefined || c === null || c === false)
			continue;
		if (Array.isArray(c))
			append(el, c);
		else
			el.append(c instanceof Node ? c : document.createTextNode(String(c)));
	}
}

// Set text only when it changed (cheap updates of live rows).
export function setText(el, text) {
	text = text ?? '';
	if (el.textContent !== text)
		el.textContent = text;
}

export function clear(el) {
	while (el.firstChild)
		el.firstChild.remove();
}
