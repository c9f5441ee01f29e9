// jsdom has no Clipboard API; @jupyterlab/apputils warns about it on import.
// A stub keeps the test output quiet (no test uses the clipboard).
if (typeof navigator !== 'undefined' && !navigator.clipboard) {
  Object.defineProperty(navigator, 'clipboard', {
    configurable: true,
    value: {
      read: () => Promise.resolve([]),
      readText: () => Promise.resolve(''),
      write: () => Promise.resolve(),
      writeText: () => Promise.resolve()
    }
  });
}

/* global window, HTMLCanvasElement */

// uPlot draws on a canvas; jsdom has neither a 2D context nor Path2D
// (@jupyterlab/testing's shim adds matchMedia, and a ResizeObserver that
// does nothing, replaced below by one tests can trigger). These stubs draw
// nothing but record the text drawn since the canvas was last cleared
// (`canvas.__drawnText`) and its colour (`canvas.__textColours`), so tests
// can read what a chart shows.
if (typeof window !== 'undefined') {
  if (typeof window.Path2D === 'undefined') {
    window.Path2D = class Path2D {};
    for (const name of [
      'addPath',
      'arc',
      'arcTo',
      'bezierCurveTo',
      'closePath',
      'ellipse',
      'lineTo',
      'moveTo',
      'quadraticCurveTo',
      'rect',
      'roundRect'
    ]) {
      window.Path2D.prototype[name] = () => undefined;
    }
  }

  // Tests call the callbacks in `window.__resizeObservers` to resize.
  if (!window.__resizeObservers) {
    window.__resizeObservers = new Set();
    window.ResizeObserver = class ResizeObserver {
      constructor(callback) {
        this.callback = callback;
        this.targets = new Set();
      }
      observe(target) {
        this.targets.add(target);
        window.__resizeObservers.add(this);
      }
      unobserve(target) {
        this.targets.delete(target);
      }
      disconnect() {
        this.targets.clear();
        window.__resizeObservers.delete(this);
      }
    };
  }

  HTMLCanvasElement.prototype.getContext = function getContext(kind) {
    if (kind !== '2d') {
      return null;
    }
    this.__context = this.__context ?? fakeContext(this);
    return this.__context;
  };
}

/** A 2D context that draws nothing and records the text it is given. */
function fakeContext(canvas) {
  canvas.__drawnText = [];
  canvas.__textColours = new Map();
  const state = {
    canvas,
    fillStyle: '#000',
    font: '10px sans-serif',
    globalAlpha: 1,
    lineWidth: 1,
    strokeStyle: '#000',
    textAlign: 'start',
    textBaseline: 'alphabetic'
  };
  const methods = {
    clearRect: () => {
      canvas.__drawnText = [];
      canvas.__textColours = new Map();
    },
    fillText: text => {
      canvas.__drawnText.push(String(text));
      canvas.__textColours.set(String(text), state.fillStyle);
    },
    getLineDash: () => [],
    measureText: text => ({
      width: String(text).length * 6,
      actualBoundingBoxAscent: 8,
      actualBoundingBoxDescent: 2
    })
  };
  return new Proxy(state, {
    get: (target, name) =>
      name in target ? target[name] : (methods[name] ?? (() => undefined)),
    set: (target, name, value) => {
      target[name] = value;
      return true;
    }
  });
}
