// What the saved widgets need on this book's pages that their packages do not provide.
// Loaded before require.js and @jupyter-widgets/html-manager on every page with widgets; its
// script tag names the folder of html-manager's embed-amd.js (data-html-manager, relative to
// this file or absolute).

// 1. Each module in embed-amd.js finds its fonts (Font Awesome) next to its own require.js
//    module name, which require.js resolves against the page: a 404 on every page. Map those
//    names to the folder the bundle came from (require.js reads a `require` object defined
//    before it loads as its configuration).
(() => {
  const shim = document.currentScript;
  const folder = new URL(shim.dataset.htmlManager, shim.src).href.replace(/\/$/, "");
  const config = {
    paths: { "@jupyter-widgets/html-manager/dist": folder, "@jupyter-widgets": folder },
  };
  if (typeof window.require === "function") {
    window.require.config(config);
  } else {
    window.require = config;
  }
})();

// 2. @jupyter-widgets/base typesets widget labels with MathJax 2 (MathJax.Hub.Queue); the book
//    loads MathJax 3, which has no Hub. MathJax is a deferred script, so it has replaced its
//    configuration object by DOMContentLoaded, and the widgets render later, on load.
document.addEventListener("DOMContentLoaded", () => {
  const mathjax = window.MathJax;
  if (!mathjax || mathjax.Hub) return;
  mathjax.Hub = {
    Queue(...jobs) {
      const elements = jobs
        .filter((job) => Array.isArray(job) && job[0] === "Typeset")
        .map((job) => job[2]);
      if (mathjax.startup && elements.length) {
        mathjax.startup.promise.then(() => mathjax.typesetPromise(elements));
      }
    },
  };
});
