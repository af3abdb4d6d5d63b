/*
 * poe-demo's notebooks store each plotly figure twice: plotly's JSON, which JupyterLab draws live
 * with the jupyterlab-plotly renderer, and a PNG preview, for viewers without that renderer
 * (GitHub, VS Code, nbconvert). Left alone, the renderer shows the PNG, draws the live figure
 * only when the mouse enters it (the output then changes size), and writes a new PNG of its own
 * into the notebook, which marks it modified and changes it on save.
 *
 * This plugin wraps that renderer: it hands it the output without the stored PNG, so the figure
 * is drawn live as soon as it is shown, at the size its layout gives, and a model whose setData
 * does nothing, so nothing is written back. The notebook on disk stays as it was.
 */
const { IRenderMimeRegistry } = require('@jupyterlab/rendermime');

const MIME = 'application/vnd.plotly.v1+json';
const WRAPPED = Symbol('poe-demo wrapped');

function readOnlyWithoutPreview(model) {
  const data = Object.assign({}, model.data);
  delete data['image/png'];
  return {
    data: data,
    metadata: model.metadata,
    trusted: model.trusted,
    setData: function () {}
  };
}

function wrapped(factory) {
  const wrapper = {
    safe: factory.safe,
    mimeTypes: factory.mimeTypes,
    defaultRank: factory.defaultRank,
    createRenderer: function (options) {
      const renderer = factory.createRenderer(options);
      const render = renderer.renderModel.bind(renderer);
      renderer.renderModel = function (model) {
        return render(readOnlyWithoutPreview(model));
      };
      return renderer;
    }
  };
  wrapper[WRAPPED] = true;
  return wrapper;
}

function wrapPlotly(rendermime) {
  const factory = rendermime.getFactory(MIME);
  if (factory && !factory[WRAPPED]) {
    rendermime.addFactory(wrapped(factory), rendermime.getRank(MIME));
  }
}

module.exports = [
  {
    id: 'poe-demo-plotly:live-figures',
    description: 'Draw plotly figures live when shown and never write a preview back into the notebook.',
    autoStart: true,
    requires: [IRenderMimeRegistry],
    activate: function (app, rendermime) {
      // jupyterlab-plotly may register its renderer before or after this plugin starts
      wrapPlotly(rendermime);
      app.started.then(function () {
        wrapPlotly(rendermime);
      });
    }
  }
];
