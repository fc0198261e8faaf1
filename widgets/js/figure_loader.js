const MESSAGES = ["_py2js_addTraces", "_py2js_deleteTraces", "_py2js_moveTraces", "_py2js_restyle",
  "_py2js_relayout", "_py2js_update", "_py2js_animate", "_py2js_removeLayoutProps", "_py2js_removeTraceProps"];

function arrival() {
  let timer;
  const late = new Promise((_, reject) => { timer = setTimeout(() => reject(new Error(
    "plotly's widget code did not arrive within 120 s: the kernel's plotly carrier widget is missing")), 120000); });
  return Promise.race([slot().promise, late]).finally(() => clearTimeout(timer));
}

// anywidget gives a model 2 s to initialize and drops every later message of a model that missed it, so
// initialize must not wait for the bundle: it records plotly's messages, and replays them to plotly's own
// model code once the bundle is here; render waits for that.
export default () => {
  let plotlyWidget = null;
  return {
    initialize(context) {
      const { model } = context;
      const queue = [];
      const recorders = MESSAGES.map((name) => {
        const record = () => { const value = model.get(name); if (value != null) queue.push([name, value]); };
        return [name, record];
      });
      // plotly.py re-sends the whole figure (_widget_data and _widget_layout together) when it is displayed:
      // that state already includes every message before it, which must then not be applied twice.
      const reset = () => { queue.length = 0; };
      recorders.push(["_widget_data", reset], ["_widget_layout", reset]);
      for (const [name, record] of recorders) model.on(`change:${name}`, record);
      plotlyWidget = arrival().then((bundle) => {
        const handlers = {};
        let replaying = null;
        const proxy = { ...model,
          get: (name) => (replaying && replaying[0] === name ? replaying[1] : model.get(name)),
          on: (name, callback) => { (handlers[name] ||= []).push(callback); model.on(name, callback); },
        };
        const widget = bundle.default();
        widget.initialize({ ...context, model: proxy });
        for (const [name, record] of recorders) model.off(`change:${name}`, record);
        for (const item of queue) {
          replaying = item;
          for (const callback of handlers[`change:${item[0]}`] || []) callback();
          replaying = null;
        }
        return widget;
      });
      plotlyWidget.catch(() => {});  // render reports it
    },
    async render(context) {
      return (await plotlyWidget).render(context);
    },
  };
};
