export default {
  initialize({ model }) {
    const bundle = model.get("bundle");
    if (bundle) {  // JupyterLab: the code came with the widget
      fill(bundle);
    } else if (!slot().loading) {  // Voilà, and the page's head did not bring it: ask the kernel
      model.on("msg:custom", (message) => { if (message.bundle) fill(message.bundle); });
      model.send({ ask: "bundle" });
    }
  },
};
