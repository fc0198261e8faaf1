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
// Evaluate plotly's widget code once per page: the first to bring it (the page's head in Voilà, else a kernel's
// carrier widget) fills the slot, and the others evaluate nothing.
function fill(source) {
  const s = slot();
  if (s.loading) return;
  s.loading = true;
  const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
  import(url).then(s.resolve, s.reject).finally(() => URL.revokeObjectURL(url));
}
