// When a learner leaves a Voilà page, Voilà asks its server to shut the page's kernel down, with a beacon that
// carries the value of the page's _xsrf cookie; the server accepts it only if that value and the cookie agree.
// Voilà never sets the cookie (voila#1458), so the request was refused and every kernel of a page left behind
// waited an hour for the idle culler (0.3–0.7 GB each). A page without the cookie gets a random one here.
export default {
  initialize() {
    if (/(^|;\s*)_xsrf=/.test(document.cookie)) return;  // JupyterLab and Binder set their own
    const bytes = crypto.getRandomValues(new Uint8Array(16));
    const token = Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
    document.cookie = `_xsrf=${token}; path=/; SameSite=Strict`;
  },
};
