// The graph's layout: dagre (npm `@dagrejs/dagre`, pinned) over the page's JSON
// description (rankdir, spacing, node and edge-label sizes) → positions as JSON.
// One file for both places it runs: on the page (small graphs, synchronously)
// and as a classic Web Worker (big graphs, so a structural edit never blocks a
// keystroke). The worker receives {dagre} once (the content-hashed URL), then
// {seq, input}, and answers {seq, out}.
(function () {
  function layout(input) {
    const d = self.dagre;
    if (!d) return null;
    const spec = JSON.parse(input);
    const g = new d.graphlib.Graph({ multigraph: true });
    g.setGraph({ rankdir: spec.rankdir, nodesep: spec.nodesep, ranksep: spec.ranksep, edgesep: 14, marginx: 10, marginy: 10 });
    g.setDefaultEdgeLabel(() => ({}));
    for (const n of spec.nodes) g.setNode(n.id, { width: n.w, height: n.h });
    spec.edges.forEach((e, i) => g.setEdge(e.from, e.to, { width: e.lw, height: e.lh, labelpos: 'c' }, 'e' + i));
    d.layout(g);
    const out = { width: g.graph().width || 0, height: g.graph().height || 0, nodes: [], edges: [] };
    for (const n of spec.nodes) { const v = g.node(n.id); out.nodes.push({ x: v.x, y: v.y }); }
    spec.edges.forEach((e, i) => {
      const v = g.edge({ v: e.from, w: e.to, name: 'e' + i });
      out.edges.push({ points: v.points.map(p => [p.x, p.y]), x: v.x, y: v.y });
    });
    return JSON.stringify(out);
  }
  self.specstudioLayout = layout;
  if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope) {
    self.onmessage = (event) => {
      const m = event.data;
      if (m.dagre) {
        try { importScripts(m.dagre); } catch (e) { self.postMessage({ failed: String(e) }); }
        return;
      }
      let out = null;
      try { out = layout(m.input); } catch (e) { out = null; }
      self.postMessage({ seq: m.seq, out });
    };
  }
})();
