const KEY = Symbol.for(KEY_NAME);
function slot() {
  let s = globalThis[KEY];
  if (!s) {
    let resolve, reject;
    const promise = new Promise((res, rej) => { resolve = res; reject = rej; });
    s = globalThis[KEY] = { promise, resolve, reject, loading: false };
  }
  return s;
}
