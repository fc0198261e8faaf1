export default {
  initialize({ model }) {
    const s = slot();
    if (s.loading) return;  // another kernel on this page already brought the same bundle
    s.loading = true;
    const url = URL.createObjectURL(new Blob([model.get("bundle")], { type: "text/javascript" }));
    import(url).then(s.resolve, s.reject).finally(() => URL.revokeObjectURL(url));
  },
};
