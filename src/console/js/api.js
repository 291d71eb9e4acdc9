// api.js -- calls to borad's REST API with the bearer token the user
// gave (kept in this browser's localStorage), JSON in and out.

const KEY = 'bora.token';

export class AuthError extends Error {}
export class ApiError extends Error {
	constructor(status, msg) {
		super(msg);
		this.status = status;
	}
}

export function token() {
	return localStorage.getItem(KEY) || '';
}

export function setToken(t) {
	if (t)
		localStorage.setItem(KEY, t);
	else
		localStorage.removeItem(KEY);
}

export function headers(extra) {
	const hd = Object.assign({ Accept: 'application/json' }, extra || {});
	if (token())
		hd.Authorization = 'Bearer ' + token();
	return hd;
}

// api('GET', '/v2/executions', body?) -> parsed JSON (or null on 204).
export async function api(method, path, body) {
	const init = { method, headers: headers(), cache: 'no-store' };
	if (body !== undefined) {
		init.headers['Content-Type'] = 'application/json';
		init.body = JSON.stringify(body);
	}
	const r = await fetch(path, init);
	if (r.status === 401)
		throw new AuthError('authentication required');
	if (r.status === 204)
		return null;
	const text = await r.text();
	let data = null;
	try {
		data = text ? JSON.parse(text) : null;
	} catch (e) {
		data = { faultstring: text };
	}
	if (!r.ok)
		throw new ApiError(r.status, (data && data.faultstring) ||
		    `${method} ${path}: ${r.status}`);
	return data;
}

export const get = (p) => api('GET', p);
export const put = (p, b) => api('PUT', p, b);

export const del = (p) => api('DELETE', p);

// qs({a: 1, b: ['x', 'y']}) -> "?a=1&b=x&b=y" (empty values left out).
export function qs(params) {
	const u = new URLSearchParams();
	for (const [k, v] of Object.entries(params))
		for (const x of Array.isArray(v) ? v : [v])
			if (x !== undefined && x !== null && x !== '')
				u.append(k, x);
	const t = u.toString();
	return t ? '?' + t : '';
}
