// The bundle is not part of the carrier's state: the page asks for it once, after the widgets are restored, and
// it comes back as one binary buffer. Inside the state it made the answer to the page's first request for all
// widget states 5 MB long, and ipywidgets gives that answer 4 s before it falls back to a slower path that, on
// busy machines, left whole dashboards unrendered.
export default {
  initialize({ model }) {
    const s = slot();
    if (s.loading) return;  // another kernel on this page already brought the same bundle
    s.loading = true;
    model.on("msg:custom", (message, buffers) => {
      if (!message || message.bundle === undefined || !buffers || !buffers.length) return;
      const url = URL.createObjectURL(new Blob([buffers[0]], { type: "text/javascript" }));
      import(url).then(s.resolve, s.reject).finally(() => URL.revokeObjectURL(url));
    });
    model.send({ request: "bundle" });
  },
};
